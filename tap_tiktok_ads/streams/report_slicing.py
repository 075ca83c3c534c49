"""Cutting one report query into requests TikTok answers in full.

Two cuts, both joined back so that every row arrives exactly once:

- **Metric groups.** Every metric of a report is about 13.6 KB of query string, more than some
  front ends accept (HTTP 414), and TikTok advises at most 100 metrics per query against
  timeouts. The selected metrics are split into groups, one request series per group, and the
  rows are joined on their dimensions.
  When TikTok still finds a one-day query too large (40067), the groups are halved again.
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
from tap_tiktok_ads.streams.entities import TOP_VIEW, by_buying_type

T = TypeVar("T")

CAMPAIGN_PATH = "/campaign/get/"
ADGROUP_PATH = "/adgroup/get/"
# TikTok recommends at most 30 campaign ids per report filter; an id filter takes at most 100.
CAMPAIGNS_PER_SLICE = 30
ADGROUPS_PER_SLICE = 100

Row = dict[str, Any]
Slice = tuple[str, str]  # an entity id and its buying type (the listing that returned it)


def metric_groups(names: Sequence[str], size: int) -> list[list[str]]:
    """``names`` in as few groups of at most ``size`` as possible, of near-equal length."""
    if not names:
        return [[]]
    count = -(-len(names) // size)
    length = -(-len(names) // count)
    return [list(names[i : i + length]) for i in range(0, len(names), length)]


def halve_groups(groups: Sequence[Sequence[str]]) -> list[list[str]] | None:
    """Each metric group cut in two (TikTok 40067: too much data per query), or None when every
    group is down to one metric and cannot shrink."""
    if all(len(group) <= 1 for group in groups):
        return None
    return [list(half) for group in groups for half in split_in_two(group) if half]


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


def split_in_two(items: Sequence[T]) -> list[Sequence[T]]:
    middle = len(items) // 2
    return [items[:middle], items[middle:]]


def list_campaigns(
    client: TikTokClient,
    advertiser_id: str,
    *,
    include_deleted: bool,
    page_size: int,
    top_view: bool = False,
) -> list[Slice]:
    """Every campaign one report pass can cover: the TopView ones for the TopView pass, those
    of every other buying type for the default pass (its rows hold no TopView campaign).

    Deleted campaigns count only with ``include_deleted``: otherwise TikTok's reports leave
    their rows out too.
    """
    params = {
        "advertiser_id": advertiser_id,
        "fields": ["campaign_id"],
        "filtering": _status(include_deleted),
    }
    found: dict[str, str] = {}
    for buying_type, query, size in by_buying_type(params, page_size):
        if (buying_type == TOP_VIEW) != top_view:
            continue
        for campaign_id in _ids(client, CAMPAIGN_PATH, query, "campaign_id", size):
            found.setdefault(campaign_id, buying_type)
    return list(found.items())


def list_adgroups(
    client: TikTokClient,
    advertiser_id: str,
    campaign: Slice,
    *,
    include_deleted: bool,
    page_size: int,
) -> list[Slice]:
    """The ad groups of one campaign, listed with the campaign's buying type."""
    campaign_id, buying_type = campaign
    params = {
        "advertiser_id": advertiser_id,
        "fields": ["adgroup_id"],
        "filtering": {"campaign_ids": [campaign_id], **_status(include_deleted)},
    }
    query, size = next(
        (query, size)
        for kind, query, size in by_buying_type(params, page_size)
        if kind == buying_type
    )
    return [
        (adgroup_id, buying_type)
        for adgroup_id in _ids(client, ADGROUP_PATH, query, "adgroup_id", size)
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
