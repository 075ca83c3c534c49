"""Advertiser accounts from ``/advertiser/info/``, up to 100 ids per call."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_tiktok_ads.advertisers import INFO_PATH, MAX_IDS_PER_CALL
from tap_tiktok_ads.dates import epoch_to_rfc3339
from tap_tiktok_ads.sequences import batches
from tap_tiktok_ads.streams.base import EntitySchemaStream

# Asking for this field makes TikTok return only it and the id, so it is never
# requested together with others.
LONE_FIELDS = frozenset({"company_name_editable"})


class AdvertisersStream(EntitySchemaStream):
    """Full table: the account list is small and has no modification time."""

    name = "advertisers"
    primary_keys: ClassVar[list[str]] = ["advertiser_id"]

    @property
    @override
    def partitions(self) -> list[dict[str, Any]] | None:
        return None  # one call covers 100 advertisers; state per advertiser is not needed

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        wanted = self.requested_fields(always=("advertiser_id",)) or self.schema["properties"]
        fields = [f for f in wanted if f not in LONE_FIELDS]
        for batch in batches(self.advertisers.ids, MAX_IDS_PER_CALL):
            data = self.client.get(INFO_PATH, {"advertiser_ids": list(batch), "fields": fields})
            for row in data.get("list") or []:
                record = dict(row)
                record["advertiser_id"] = str(record["advertiser_id"])
                record["create_time"] = epoch_to_rfc3339(record.get("create_time"))
                yield record
