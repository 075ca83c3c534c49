"""Pixels of each advertiser (``/pixel/list/``), with their events as a nested array.

Full table: pixels have no modification time and the endpoint no time filter. The list comes
under ``data.pixels`` (not ``data.list``) in pages of at most 20.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_tiktok_ads.dates import epoch_to_rfc3339
from tap_tiktok_ads.streams.base import EntitySchemaStream
from tap_tiktok_ads.streams.permissions import PermissionAwareStream

PATH = "/pixel/list/"
MAX_PAGE_SIZE = 20  # TikTok's cap for this endpoint
EPOCH_MS_DIGITS = 13  # "1581679723600": epoch milliseconds


def pixel_time(value: Any) -> str | None:
    """``create_time`` as RFC 3339: TikTok documents epoch milliseconds, and sends
    ``YYYY-MM-DD HH:MM:SS`` (UTC) as well; both are read."""
    text = str(value).strip() if value is not None else ""
    if text.isdigit() and len(text) >= EPOCH_MS_DIGITS:
        return epoch_to_rfc3339(int(text) / 1000)
    return epoch_to_rfc3339(value)


def pixel_record(row: dict[str, Any], advertiser_id: str) -> dict[str, Any]:
    record = dict(row)
    record["advertiser_id"] = advertiser_id
    record["pixel_id"] = str(record["pixel_id"])
    record["create_time"] = pixel_time(record.get("create_time"))
    record["events"] = [
        {**event, "event_id": None if event.get("event_id") is None else str(event["event_id"])}
        for event in record.get("events") or []
    ]
    return record


class PixelsStream(PermissionAwareStream, EntitySchemaStream):
    name = "pixels"
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "pixel_id"]

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if context is None:  # no readable advertiser, so no partition
            return
        yield from self.guarded(lambda: self.prefetched(context, self.listing), context)

    def listing(self, context: Context) -> list[dict[str, Any]]:
        """Every pixel of one advertiser, page after page, in creation order."""
        advertiser_id = str(context["advertiser_id"])
        records: dict[str, dict[str, Any]] = {}  # by id: a page that shifted repeats a pixel
        page, total_pages = 1, 1
        while page <= total_pages:
            data = self.client.get(
                PATH,
                {
                    "advertiser_id": advertiser_id,
                    "order_by": "EARLIEST_CREATE",
                    "page": page,
                    "page_size": MAX_PAGE_SIZE,
                },
                advertiser_id=advertiser_id,
            )
            for row in data.get("pixels") or []:
                record = pixel_record(row, advertiser_id)
                records.setdefault(record["pixel_id"], record)
            total_pages = int((data.get("page_info") or {}).get("total_page") or 0)
            page += 1
        return list(records.values())
