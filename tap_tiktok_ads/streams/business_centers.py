"""Business Centers: the ``business_centers`` stream, and their ad accounts for the sync.

``/bc/get/`` lists the Business Centers the token's user belongs to; ``/bc/asset/get/`` with
``asset_type=ADVERTISER`` lists a Business Center's ad accounts. The ``business_center_ids``
setting adds those accounts to the advertisers synced, so an agency's new clients are picked
up without editing the configuration.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_tiktok_ads.errors import ConfigError, RefusedAPIError
from tap_tiktok_ads.streams.base import EntitySchemaStream
from tap_tiktok_ads.streams.permissions import PermissionAwareStream

if TYPE_CHECKING:
    from tap_tiktok_ads.client import TikTokClient

BC_PATH = "/bc/get/"
ASSETS_PATH = "/bc/asset/get/"
MAX_PAGE_SIZE = 50  # TikTok's cap for both endpoints
# Asset links that give no access to the account (yet, or any more).
UNUSABLE_RELATIONS = frozenset({"UNBOUND", "PENDING", "REJECTED"})
SETTING = "business_center_ids"

log = logging.getLogger("tap_tiktok_ads.business_centers")


def list_business_centers(client: TikTokClient) -> list[dict[str, Any]]:
    """Every Business Center the token can see, as TikTok lists them."""
    pages = client.get_pages(
        BC_PATH,
        {},
        page_size=MAX_PAGE_SIZE,
        key=lambda row: (row.get("bc_info") or {}).get("bc_id"),
    )
    return [row for page in pages for row in page]


def business_center_advertiser_ids(
    client: TikTokClient, business_center_ids: tuple[str, ...] | str
) -> tuple[str, ...]:
    """The ad accounts of the configured Business Centers (``"all"``: every visible one)."""
    if not business_center_ids:
        return ()
    try:
        if business_center_ids == "all":
            centers = list_business_centers(client)
            bc_ids = tuple(str(row["bc_info"]["bc_id"]) for row in centers)
        else:
            bc_ids = tuple(business_center_ids)
    except RefusedAPIError as error:
        raise ConfigError(SETTING, f"cannot list Business Centers: {error}") from None
    ids: list[str] = []
    for bc_id in bc_ids:
        ids += _advertisers_of(client, bc_id)
    unique = tuple(dict.fromkeys(ids))
    log.info("Business Center(s) %s hold %d advertiser(s).", ", ".join(bc_ids), len(unique))
    return unique


def _advertisers_of(client: TikTokClient, bc_id: str) -> list[str]:
    try:
        pages = client.get_pages(
            ASSETS_PATH,
            {"bc_id": bc_id, "asset_type": "ADVERTISER"},
            page_size=MAX_PAGE_SIZE,
            key=lambda row: row.get("asset_id"),
        )
        assets = [row for page in pages for row in page]
    except RefusedAPIError as error:
        raise ConfigError(
            SETTING, f"cannot read the ad accounts of Business Center {bc_id}: {error}"
        ) from None
    return [
        str(asset["asset_id"])
        for asset in assets
        if asset.get("relation_status") not in UNUSABLE_RELATIONS
    ]


def business_center_record(row: dict[str, Any]) -> dict[str, Any]:
    """``bc_info`` flattened, next to the user's roles in that Business Center."""
    record = {key: value for key, value in row.items() if key != "bc_info"}
    record.update(row.get("bc_info") or {})
    record["bc_id"] = str(record["bc_id"])
    return record


class BusinessCentersStream(PermissionAwareStream, EntitySchemaStream):
    """Full table: every Business Center the token's user can see (not per advertiser)."""

    name = "business_centers"
    primary_keys: ClassVar[list[str]] = ["bc_id"]

    @property
    @override
    def partitions(self) -> list[dict[str, Any]] | None:
        return None

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if not self.advertisers.ids:  # checks the token first; no advertiser, nothing synced
            return
        yield from self.guarded(
            lambda: [business_center_record(row) for row in list_business_centers(self.client)],
            context,
        )
