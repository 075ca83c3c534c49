"""Campaigns, ad groups and ads: incremental on ``modify_time``, one partition per advertiser."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ClassVar

from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_tiktok_ads.bookmarks import entity_instant, saved_value
from tap_tiktok_ads.dates import tiktok_utc_to_rfc3339
from tap_tiktok_ads.paging import Answer
from tap_tiktok_ads.sdk_compat import BookmarkValueHook
from tap_tiktok_ads.streams.base import EntitySchemaStream

TIME_FIELDS = ("create_time", "modify_time", "schedule_start_time", "schedule_end_time")
# TikTok's buying types. Without ``filtering.buying_types`` the three /<entity>/get/ endpoints
# list AUCTION and RESERVATION_RF only: TopView entities come back only when asked for alone
# (asking for it with another type is refused with 40002).
BUYING_TYPES = ("AUCTION", "RESERVATION_RF", "RESERVATION_TOP_VIEW")
TOP_VIEW = "RESERVATION_TOP_VIEW"
TOP_VIEW_MAX_PAGE_SIZE = 100  # TikTok's cap on /adgroup/get/ with TopView; kept for all three


class EntityStream(BookmarkValueHook, EntitySchemaStream):
    """One management endpoint (``/<entity>/get/``) read page by page.

    Only ``/ad/get/`` filters by modification time on the server (``modified_after``); for the
    others every page is read and rows older than the bookmark are dropped here. The first
    sync reads every entity whatever ``start_date`` says: these are dimension tables that
    report rows join to.

    Request plan: one listing per buying type and advertiser, ``filtering.buying_types`` set
    to that type alone. TopView needs a listing of its own anyway; splitting TikTok's default
    (AUCTION + RESERVATION_RF) in two costs at most one request more per advertiser (the
    usually empty Reach & Frequency page), reads no row twice, and lets TikTok's own filter say
    which buying type each record belongs to (no entity field says it). All listings of an
    advertiser are read inside its partition, so its bookmark covers every buying type.

    Page 1 of each listing is requested while earlier advertisers are written
    (:meth:`started_ahead`); the rest of a listing is read as it is written, page by page, so
    an advertiser with many entities is never held whole.
    """

    path: ClassVar[str]
    id_field: ClassVar[str]
    server_side_modified_filter: ClassVar[bool] = False

    replication_key = "modify_time"
    bookmark_kind = "instant"  # how tap_tiktok_ads.bookmarks checks saved values
    is_sorted = False
    derived_properties = frozenset({"is_deleted", "buying_type"})
    requests_started_per_partition = len(BUYING_TYPES)

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if context is None:  # no readable advertiser, so no partition
            return
        advertiser_id = str(context["advertiser_id"])
        bookmark = self.bookmark(context, settle=True)
        for row in self.rows(context):
            record = to_record(row, advertiser_id)
            if bookmark and record["modify_time"] and _instant(record["modify_time"]) < bookmark:
                continue
            yield record

    def rows(self, context: Context) -> Iterable[dict[str, Any]]:
        """Every row TikTok lists for one advertiser since its bookmark, of every buying type,
        page by page. Each row carries ``buying_type``: the one its listing asked for."""
        first_pages: FirstPages = self.started_ahead(context, self.first_pages)
        return self.listing_rows(context, first_pages.futures)

    def first_pages(self, context: Context) -> FirstPages:
        """Page 1 of each of the advertiser's listings, requested on the run's scheduler."""
        advertiser_id = str(context["advertiser_id"])
        return FirstPages(
            [
                self.client.submit_get(
                    self.path,
                    {**query, "page": 1, "page_size": page_size},
                    advertiser_id=advertiser_id,
                )
                for _, query, page_size in self.listings(advertiser_id, self.bookmark(context))
            ]
        )

    def listings(
        self, advertiser_id: str, bookmark: datetime | None
    ) -> list[tuple[str, dict[str, Any], int]]:
        """(buying type, params, page size) of each listing of one advertiser."""
        params = self.request_params(advertiser_id, bookmark)
        return by_buying_type(params, self.settings.page_size)

    def listing_rows(
        self, context: Context, first_pages: list[Future[Answer]] | None = None
    ) -> Iterator[dict[str, Any]]:
        """The listings' rows, each entity once: an entity has one buying type, and the first
        listing that shows it wins."""
        advertiser_id = str(context["advertiser_id"])
        seen: set[Any] = set()
        listings = self.listings(advertiser_id, self.bookmark(context))
        for index, (buying_type, query, page_size) in enumerate(listings):
            pages = self.client.get_pages(
                self.path,
                query,
                page_size=page_size,
                advertiser_id=advertiser_id,
                key=lambda row: row.get(self.id_field),
                first=first_pages[index] if first_pages else None,
            )
            for page in pages:
                for row in page:
                    key = row.get(self.id_field)
                    if key not in seen:
                        seen.add(key)
                        row["buying_type"] = buying_type
                        yield row

    def listing(self, context: Context) -> list[dict[str, Any]]:
        """Every row of one advertiser's listings, held whole (for a listing read ahead)."""
        return list(self.listing_rows(context))

    def bookmark(self, context: Context, *, settle: bool = False) -> datetime | None:
        """The ``modify_time`` saved by the previous run for this advertiser, as an instant.

        Never after this run's start: a bookmark in the future would skip every change.
        ``settle`` (on the partition's own thread) also saves it back in UTC, so that the
        SDK's comparisons of later values, made on text, stay right, and says when it was
        pulled back.
        """
        advertiser_id = str(context["advertiser_id"])
        state = self.get_context_state(context) if settle else self.saved_state(context)
        value = saved_value(state, self.replication_key)
        moment = entity_instant(value, self.name, advertiser_id)
        if moment is None:
            return None
        started = self.get_replication_key_signpost(context)
        if isinstance(started, datetime) and moment > started:
            if settle:
                self.logger.warning(
                    "%s: advertiser %s: the bookmark %s is after this run's start; using %s",
                    self.name,
                    advertiser_id,
                    value,
                    started.isoformat(),
                )
            moment = started
        if settle:
            self.get_context_state(context)["replication_key_value"] = moment.isoformat()
        return moment

    @override
    def bookmark_record(self, record: dict[str, Any], context: Context | None) -> dict[str, Any]:
        """A ``modify_time`` after the run's start (a bad row, a skewed clock) is saved as the
        start: a bookmark in the future would skip every later change."""
        started = self.get_replication_key_signpost(context)
        value = record.get(self.replication_key)
        if value and isinstance(started, datetime) and _instant(value) > started:
            return {**record, self.replication_key: started.isoformat()}
        return record

    def request_params(self, advertiser_id: str, bookmark: datetime | None) -> dict[str, Any]:
        filtering: dict[str, Any] = {}
        if self.settings.include_deleted:
            filtering["primary_status"] = "STATUS_ALL"
        if bookmark and self.server_side_modified_filter:
            filtering["modified_after"] = to_tiktok_utc(bookmark)
        params: dict[str, Any] = {"advertiser_id": advertiser_id}
        if filtering:
            params["filtering"] = filtering
        fields = self.requested_fields(
            always=(
                self.id_field,
                "advertiser_id",
                "create_time",
                "modify_time",
                "secondary_status",
            )
        )
        if fields is not None:
            params["fields"] = fields
        return params


class CampaignsStream(EntityStream):
    name = "campaigns"
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "campaign_id"]
    path = "/campaign/get/"
    id_field = "campaign_id"


class AdGroupsStream(EntityStream):
    name = "ad_groups"
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "adgroup_id"]
    path = "/adgroup/get/"
    id_field = "adgroup_id"


class AdsStream(EntityStream):
    name = "ads"
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "ad_id"]
    path = "/ad/get/"
    id_field = "ad_id"
    server_side_modified_filter = True


@dataclass(frozen=True)
class FirstPages:
    """Page 1 of each listing of one advertiser, requested ahead."""

    futures: list[Future[Answer]]

    def cancel(self) -> bool:
        cancelled = [future.cancel() for future in self.futures]  # each one, not the first
        return all(cancelled)


def by_buying_type(params: dict[str, Any], page_size: int) -> list[tuple[str, dict[str, Any], int]]:
    """(buying type, params, page size) of the listings that together show every entity.

    For any reader of ``/campaign/get/``, ``/adgroup/get/`` or ``/ad/get/`` that must miss
    nothing: each listing asks for one buying type, inside the ``filtering`` already set.
    """
    filtering = params.get("filtering") or {}
    return [
        (
            buying_type,
            {**params, "filtering": {**filtering, "buying_types": [buying_type]}},
            min(page_size, TOP_VIEW_MAX_PAGE_SIZE) if buying_type == TOP_VIEW else page_size,
        )
        for buying_type in BUYING_TYPES
    ]


def to_record(row: dict[str, Any], advertiser_id: str) -> dict[str, Any]:
    """TikTok's row as a Singer record: RFC 3339 times, ``advertiser_id``, ``is_deleted``.

    Smart+ ads can come without ``modify_time``; their ``create_time`` stands in so the row
    is kept and the bookmark still moves.
    """
    record = dict(row)
    for name, value in row.items():  # v1.3 ids are strings, but some (page_id) arrive as numbers
        if name.endswith("_id") and isinstance(value, int) and not isinstance(value, bool):
            record[name] = str(value)
    record["advertiser_id"] = str(record.get("advertiser_id") or advertiser_id)
    for name in TIME_FIELDS:
        if name in record:
            record[name] = tiktok_utc_to_rfc3339(record[name])
    if not record.get("modify_time"):
        record["modify_time"] = record.get("create_time")
    status = str(record.get("secondary_status") or record.get("primary_status") or "")
    record["is_deleted"] = status.endswith("_DELETE") or status == "STATUS_DELETE"
    return record


def to_tiktok_utc(moment: datetime | str) -> str:
    """``2024-05-01T10:00:00+00:00`` -> ``2024-05-01 10:00:00`` (UTC), TikTok's filter format."""
    return _instant(moment).strftime("%Y-%m-%d %H:%M:%S")


def _instant(value: datetime | str) -> datetime:
    """An aware UTC instant; text is RFC 3339, and a time without offset is UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(_z(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _z(text: str) -> str:
    return text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
