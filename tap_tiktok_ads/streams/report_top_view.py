"""TopView in reports: ``/report/integrated/get/`` leaves TopView rows out unless asked.

TikTok's reports, like its entity listings, exclude the RESERVATION_TOP_VIEW buying type unless
the report's ``filtering`` has ``buying_type`` = ``RESERVATION_TOP_VIEW``; then they hold TopView
rows only. A report is therefore read in two passes: TikTok's default (auction and Reach &
Frequency) and, for advertisers that have TopView campaigns, the TopView pass. Records say
which pass they come from (``is_top_view``), so an advertiser-level row of each pass keeps its
own key and their sum is the advertiser's whole delivery.

Whether an advertiser has TopView campaigns is asked once per run: one ``/campaign/get/`` with
page size 1, shared by every report stream.
"""

from __future__ import annotations

import json
import threading
import weakref
from typing import Any

from tap_tiktok_ads.client import TikTokClient
from tap_tiktok_ads.streams.entities import TOP_VIEW, by_buying_type

# The record key telling the TopView pass's rows from the default pass's.
TOP_VIEW_KEY = "is_top_view"
TOP_VIEW_KEY_SCHEMA: dict[str, Any] = {
    "type": "boolean",
    "description": (
        "True for rows of RESERVATION_TOP_VIEW delivery, which TikTok reports only when asked "
        "for TopView alone; false for everything else (auction and Reach & Frequency). Part of "
        "the key: an advertiser-level report has one row of each per time bucket, which add up."
    ),
}
CAMPAIGN_PATH = "/campaign/get/"
REPORT_BUYING_TYPE_FIELD = "buying_type"


def top_view_only(params: dict[str, Any]) -> dict[str, Any]:
    """A report query narrowed to TopView rows, its other filters kept."""
    condition = {
        "field_name": REPORT_BUYING_TYPE_FIELD,
        "filter_type": "IN",
        "filter_value": json.dumps([TOP_VIEW]),
    }
    return {**params, "filtering": [*(params.get("filtering") or []), condition]}


class TopViewAdvertisers:
    """Which advertisers have a TopView campaign, each asked once and remembered for the run.

    Deleted campaigns count too: their delivery still shows in advertiser-level reports, so a
    TopView pass without them could lose spend (it costs only an empty pass when every TopView
    campaign is deleted and deleted entities are not synced).
    """

    def __init__(self, client: TikTokClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._known: dict[str, bool] = {}

    def has_top_view(self, advertiser_id: str) -> bool:
        with self._lock:
            if advertiser_id in self._known:
                return self._known[advertiser_id]
            lock = self._locks.setdefault(advertiser_id, threading.Lock())
        with lock:  # one request per advertiser, even when streams ask at the same moment
            with self._lock:
                if advertiser_id in self._known:
                    return self._known[advertiser_id]
            found = self._ask(advertiser_id)
            with self._lock:
                self._known[advertiser_id] = found
            return found

    def _ask(self, advertiser_id: str) -> bool:
        params = {
            "advertiser_id": advertiser_id,
            "fields": ["campaign_id"],
            "filtering": {"primary_status": "STATUS_ALL"},
        }
        query = next(query for kind, query, _ in by_buying_type(params, 1) if kind == TOP_VIEW)
        data = self.client.get(
            CAMPAIGN_PATH, {**query, "page": 1, "page_size": 1}, advertiser_id=advertiser_id
        )
        data = data or {}
        total = (data.get("page_info") or {}).get("total_number")
        return bool(data.get("list")) or bool(total)


_SHARED: weakref.WeakKeyDictionary[TikTokClient, TopViewAdvertisers] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def top_view_advertisers(client: TikTokClient) -> TopViewAdvertisers:
    """The run's one cache (a run has one client), shared by every report stream."""
    with _SHARED_LOCK:
        found = _SHARED.get(client)
        if found is None:
            found = _SHARED[client] = TopViewAdvertisers(client)
        return found


def asks_for_top_view(params: dict[str, Any]) -> bool:
    """Whether a report query is a TopView pass (its rows are TopView campaigns' only)."""
    return any(
        isinstance(condition, dict) and condition.get("field_name") == REPORT_BUYING_TYPE_FIELD
        for condition in params.get("filtering") or []
    )
