"""Cutting one report query into requests TikTok answers in full.

Two cuts, both joined back so that every row arrives exactly once:

- **Metric groups.** Every metric of a report is about 13.6 KB of query string, more than some
  front ends accept (HTTP 414), and TikTok advises at most 100 metrics per query against
  timeouts. The selected metrics are split into groups, one request series per group, and the
  rows are joined on their dimensions.
- **Entity slices.** When an ad-level query covers 20,000 ads or more, TikTok answers for the
  newest 20,000 only and says so in the ``X-Tt-Ads-Throttle`` header. The query is then asked
  again per batch of campaigns (``campaign_ids`` filter), and a batch still capped is halved,
  down to the ad groups of one campaign (``adgroup_ids``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from tap_tiktok_ads.client import TikTokClient

T = TypeVar("T")

CAMPAIGN_PATH = "/campaign/get/"
ADGROUP_PATH = "/adgroup/get/"
# TikTok recommends at most 30 campaign ids per report filter; an id filter takes at most 100.
CAMPAIGNS_PER_SLICE = 30
ADGROUPS_PER_SLICE = 100
# Listings leave TopView out unless it is asked for alone: the default listing, then TopView.
BUYING_TYPE_FILTERS: tuple[dict[str, Any], ...] = (
    {},
    {"buying_types": ["RESERVATION_TOP_VIEW"]},
)
TOP_VIEW_ADGROUP_PAGE_SIZE = 100  # /adgroup/get/'s page_size cap for TopView

Row = dict[str, Any]
Slice = tuple[str, dict[str, Any]]  # an entity id and the buying-type filter that lists it


def metric_groups(names: Sequence[str], size: int) -> list[list[str]]:
    """``names`` in as few groups of at most ``size`` as possible, of near-equal length."""
    if not names:
        return [[]]
    count = -(-len(names) // size)
    length = -(-len(names) // count)
    return [list(names[i : i + length]) for i in range(0, len(names), length)]


def join_on_dimensions(series: Iterable[Iterable[Row]], key: Any) -> Iterator[Row]:
    """One row per dimension key, holding the metrics of every series that has that row.

    A row missing from one series still comes out, without that series' metrics (the records
    then carry nulls for them). Rows come out in the order they first appeared.
    """
    joined: dict[Any, Row] = {}
    for rows in series:
        for row in rows:
            metrics = row.get("metrics") or {}
            identity = key(row)
            entry = joined.get(identity)
            if entry is None:
                joined[identity] = {"dimensions": row.get("dimensions") or {}, "metrics": metrics}
            else:
                entry["metrics"] = {**entry["metrics"], **metrics}
    yield from joined.values()


def with_id_filter(params: dict[str, Any], field: str, ids: Sequence[str]) -> dict[str, Any]:
    """``params`` narrowed to ``ids`` (``campaign_ids`` / ``adgroup_ids``), other filters kept."""
    condition = {"field_name": field, "filter_type": "IN", "filter_value": json.dumps(list(ids))}
    return {**params, "filtering": [*(params.get("filtering") or []), condition]}


def batches(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def split_in_two(items: Sequence[T]) -> list[Sequence[T]]:
    middle = len(items) // 2
    return [items[:middle], items[middle:]]


def list_campaigns(
    client: TikTokClient, advertiser_id: str, *, include_deleted: bool, page_size: int
) -> list[Slice]:
    """Every campaign a report of this advertiser can cover, of every buying type.

    Deleted campaigns count only with ``include_deleted``: otherwise TikTok's reports leave
    their rows out too.
    """
    found: dict[str, dict[str, Any]] = {}
    for buying in BUYING_TYPE_FILTERS:
        params = {
            "advertiser_id": advertiser_id,
            "fields": ["campaign_id"],
            "filtering": {**buying, **_status(include_deleted)},
        }
        for campaign_id in _ids(client, CAMPAIGN_PATH, params, "campaign_id", page_size):
            found.setdefault(campaign_id, buying)
    return list(found.items())


def list_adgroups(
    client: TikTokClient,
    advertiser_id: str,
    campaign: Slice,
    *,
    include_deleted: bool,
    page_size: int,
) -> list[Slice]:
    """The ad groups of one campaign, listed with the campaign's buying-type filter."""
    campaign_id, buying = campaign
    if buying:
        page_size = min(page_size, TOP_VIEW_ADGROUP_PAGE_SIZE)
    params = {
        "advertiser_id": advertiser_id,
        "fields": ["adgroup_id"],
        "filtering": {"campaign_ids": [campaign_id], **buying, **_status(include_deleted)},
    }
    return [
        (adgroup_id, buying)
        for adgroup_id in _ids(client, ADGROUP_PATH, params, "adgroup_id", page_size)
    ]


def _status(include_deleted: bool) -> dict[str, str]:
    return {"primary_status": "STATUS_ALL"} if include_deleted else {}


def _ids(
    client: TikTokClient, path: str, params: dict[str, Any], field: str, page_size: int
) -> list[str]:
    pages = client.get_pages(
        path,
        params,
        page_size=page_size,
        advertiser_id=str(params["advertiser_id"]),
        key=lambda row: row.get(field),
    )
    return list(dict.fromkeys(str(row[field]) for page in pages for row in page))
