"""Custom audiences: the list per advertiser, and the details of the audiences it found.

The list endpoint pages at most 100 audiences, which is also the most ``/dmp/custom_audience/get/``
takes in one call, so each list page becomes one details request (a child context).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_tiktok_ads.dates import tiktok_utc_to_rfc3339
from tap_tiktok_ads.streams.base import EntitySchemaStream

LIST_PATH = "/dmp/custom_audience/list/"
GET_PATH = "/dmp/custom_audience/get/"
MAX_PAGE_SIZE = 100  # TikTok's cap for both endpoints
AUDIENCE_TIMES = ("create_time", "expired_time")


def audience_record(row: dict[str, Any], advertiser_id: str) -> dict[str, Any]:
    record = dict(row)
    if "type" in record and "audience_type" not in record:  # the details call names it `type`
        record["audience_type"] = record.pop("type")
    record["advertiser_id"] = advertiser_id
    record["audience_id"] = str(record["audience_id"])
    for name in AUDIENCE_TIMES:
        if name in record:
            record[name] = tiktok_utc_to_rfc3339(record[name])
    return record


class CustomAudiencesStream(EntitySchemaStream):
    """Full table: TikTok offers no modification time to filter audiences by."""

    name = "custom_audiences"
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "audience_id"]
    _page_ids: tuple[str, ...] = ()  # ids of the list page being emitted

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if context is None:  # no readable advertiser, so no partition
            return
        advertiser_id = str(context["advertiser_id"])
        page_size = min(self.settings.page_size, MAX_PAGE_SIZE)
        pages = self.client.get_pages(
            LIST_PATH,
            {"advertiser_id": advertiser_id},
            page_size=page_size,
            advertiser_id=advertiser_id,
        )
        for page in pages:
            records = [audience_record(row, advertiser_id) for row in page]
            self._page_ids = tuple(r["audience_id"] for r in records)
            yield from records

    @override
    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        """One details request per list page: sent after the page's last audience."""
        if self._page_ids and record["audience_id"] == self._page_ids[-1]:
            yield {"advertiser_id": record["advertiser_id"], "audience_ids": self._page_ids}


class CustomAudienceDetailsStream(EntitySchemaStream):
    """Each audience's details flattened, with its change history as an array."""

    name = "custom_audience_details"
    parent_stream_type = CustomAudiencesStream
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "audience_id"]
    state_partitioning_keys: ClassVar[list[str]] = ["advertiser_id"]

    @property
    @override
    def partitions(self) -> list[dict[str, Any]] | None:
        return None  # contexts come from the parent, one per list page

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        assert context is not None
        advertiser_id = str(context["advertiser_id"])
        ids = list(context["audience_ids"])
        data = self.client.get(
            GET_PATH,
            {"advertiser_id": advertiser_id, "custom_audience_ids": ids},
            advertiser_id=advertiser_id,
        )
        for item in data.get("list") or []:
            record = audience_record(item.get("audience_details") or {}, advertiser_id)
            record["audience_history"] = [
                {**entry, "opt_time": tiktok_utc_to_rfc3339(entry.get("opt_time"))}
                for entry in item.get("audience_history") or []
            ]
            yield record
