"""Reading one report query whole, whatever TikTok refuses: a date window too large or too slow
is halved, down to one day, then its metric groups are halved; a query capped at the newest
20,000 ads is read again by campaign slices; the rows of several metric groups are joined on
their dimensions. Each row comes out once, however often its query is read again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from datetime import date
from typing import Any

from tap_tiktok_ads.dates import halve_window
from tap_tiktok_ads.errors import (
    AdsCappedError,
    QueryTooLargeError,
    RequestTimeoutError,
    TikTokAPIError,
)
from tap_tiktok_ads.paging import Answer, PageDecode, Rows
from tap_tiktok_ads.sequences import batches
from tap_tiktok_ads.streams.base import TikTokStream
from tap_tiktok_ads.streams.report_rows import rows_of, unseen
from tap_tiktok_ads.streams.report_slicing import (
    ADGROUPS_PER_SLICE,
    CAMPAIGNS_PER_SLICE,
    Slice,
    halve_groups,
    join_on_dimensions,
    list_adgroups,
    list_campaigns,
    split_in_two,
    with_id_filter,
)
from tap_tiktok_ads.streams.report_top_view import asks_for_top_view
from tap_tiktok_ads.streams.report_windows import REPORT_PATH as REPORT_PATH
from tap_tiktok_ads.streams.report_windows import TimeoutBudget, window_of


class ReportFetching(TikTokStream):
    """The reading of a report stream's queries (:class:`ReportStream` is the stream)."""

    #: Given by the report stream: a row's identity, and the decoder of its pages (or None).
    row_key: Callable[[dict[str, Any]], tuple[Any, ...]]
    _page_decode: Callable[[], PageDecode | None]

    def fetch_window(
        self,
        base: dict[str, Any],
        advertiser_id: str,
        start: date,
        end: date,
        first: Future[Answer] | None = None,
        timeouts: TimeoutBudget | None = None,
        *,
        groups: list[list[str]] | None = None,
        emitted: set[int] | None = None,
    ) -> Iterator[Rows]:
        """Pages of rows of one date window, each row once.

        When TikTok finds the query too large (40067) or it keeps timing out, the window is
        halved rather than sent again unchanged (TikTok penalises repeated timeouts); rows
        already emitted before the failure are not emitted again. The window and its halves
        share ``max_timeouts_per_window`` timed-out requests.
        """
        emitted = set() if emitted is None else emitted
        if timeouts is None:
            timeouts = TimeoutBudget(self.settings.max_timeouts_per_window)
        params = {**base, "start_date": start.isoformat(), "end_date": end.isoformat()}
        try:
            yield from self.fetch(
                params,
                advertiser_id,
                first,
                groups=groups,
                emitted=emitted,
                max_timeouts=timeouts.left,
            )
        except (QueryTooLargeError, RequestTimeoutError) as error:
            halves = halve_window(start, end)
            if isinstance(error, RequestTimeoutError):
                timeouts.left -= error.timed_out_requests
                if timeouts.left <= 0:
                    error.setting = "request_timeout / max_timeouts_per_window"
                    raise error.add_context(f"window {start}..{end}") from None
            if halves is None:  # one day still too much: fewer metrics per request
                yield from self._fewer_metrics(
                    params, advertiser_id, groups, emitted, error, timeouts
                )
                return
            self.logger.warning(
                "%s: %s..%s failed (%s), splitting the window", self.name, start, end, error.message
            )
            for half_start, half_end in halves:
                yield from self.fetch_window(
                    base,
                    advertiser_id,
                    half_start,
                    half_end,
                    timeouts=timeouts,
                    groups=groups,
                    emitted=emitted,
                )
        except TikTokAPIError as error:
            raise error.add_context(f"window {start}..{end}") from None

    def _fetch_or_fewer_metrics(
        self, params: dict[str, Any], advertiser_id: str, groups: list[list[str]]
    ) -> Iterator[Rows]:
        """Pages of a query without dates to halve (lifetime): fewer metrics if too large."""
        emitted: set[int] = set()
        try:
            yield from self.fetch(params, advertiser_id, groups=groups, emitted=emitted)
        except (QueryTooLargeError, RequestTimeoutError) as error:
            yield from self._fewer_metrics(params, advertiser_id, groups, emitted, error)

    def _fewer_metrics(
        self,
        params: dict[str, Any],
        advertiser_id: str,
        groups: list[list[str]] | None,
        emitted: set[int],
        error: TikTokAPIError,
        timeouts: TimeoutBudget | None = None,
    ) -> Iterator[Rows]:
        """The pages of a query TikTok finds too large (40067) or too slow with the shortest
        date span: asked again with each metric group halved, the groups joined on their
        dimensions, down to one metric per request; then the run fails naming the query."""
        current = groups or [list(params.get("metrics") or [])]
        while True:
            narrower = halve_groups(current)
            if narrower is None:
                error.add_context(f"window {window_of(params)}, even with one metric per request")
                raise error from None
            self.logger.warning(
                "%s: advertiser %s, %s failed (%s), asking for at most %d metrics per request",
                self.name,
                advertiser_id,
                window_of(params),
                error.message,
                max(len(group) for group in narrower),
            )
            try:
                yield from self.fetch(
                    params,
                    advertiser_id,
                    groups=narrower,
                    emitted=emitted,
                    max_timeouts=None if timeouts is None else timeouts.left,
                )
                return
            except (QueryTooLargeError, RequestTimeoutError) as again:
                if timeouts is not None and isinstance(again, RequestTimeoutError):
                    timeouts.left -= again.timed_out_requests
                    if timeouts.left <= 0:
                        again.setting = "request_timeout / max_timeouts_per_window"
                        raise again.add_context(f"window {window_of(params)}") from None
                current, error = narrower, again

    def fetch(
        self,
        params: dict[str, Any],
        advertiser_id: str,
        first: Future[Answer] | None = None,
        *,
        groups: list[list[str]] | None = None,
        emitted: set[int] | None = None,
        max_timeouts: int | None = None,
    ) -> Iterator[Rows]:
        """Pages of rows of one query, each row once: every metric group joined, and read
        again in entity slices if TikTok capped it at the newest 20,000 ads."""
        emitted = set() if emitted is None else emitted
        try:
            yield from self._joined(params, advertiser_id, first, groups, emitted, max_timeouts)
        except AdsCappedError as capped:
            self.logger.warning(
                "%s: advertiser %s, %s: TikTok answered for the newest 20,000 ads only (%s); "
                "reading it again by campaign",
                self.name,
                advertiser_id,
                window_of(params),
                capped.message,
            )
            campaigns = list_campaigns(
                self.client,
                advertiser_id,
                include_deleted=self.settings.include_deleted,
                page_size=self.settings.page_size,
                top_view=asks_for_top_view(params),
            )
            if not campaigns:  # nothing to slice by: the rows past the cap would be lost
                capped.add_context("no campaign listed")
                raise capped.add_context(f"stream {self.name}") from None
            for batch in batches(campaigns, CAMPAIGNS_PER_SLICE):
                yield from self._slice(
                    params, advertiser_id, "campaign_ids", batch, groups, emitted
                )

    def _slice(
        self,
        params: dict[str, Any],
        advertiser_id: str,
        field: str,
        items: Sequence[Slice],
        groups: list[list[str]] | None,
        emitted: set[int],
    ) -> Iterator[Rows]:
        """Pages of the query narrowed to ``items``; a slice still capped is cut smaller."""
        sliced = with_id_filter(params, field, [entity_id for entity_id, _ in items])
        try:
            yield from self._joined(sliced, advertiser_id, None, groups, emitted)
        except AdsCappedError as capped:
            if len(items) > 1:
                for half in split_in_two(items):
                    yield from self._slice(params, advertiser_id, field, half, groups, emitted)
            elif field == "campaign_ids":
                adgroups = list_adgroups(
                    self.client,
                    advertiser_id,
                    items[0],
                    include_deleted=self.settings.include_deleted,
                    page_size=self.settings.page_size,
                )
                for batch in batches(adgroups, ADGROUPS_PER_SLICE):
                    yield from self._slice(
                        params, advertiser_id, "adgroup_ids", batch, groups, emitted
                    )
            else:  # one ad group over 20,000 ads: no narrower filter is left, fail loudly
                capped.add_context(f"ad group {items[0][0]} alone")
                raise capped.add_context(f"stream {self.name}") from None

    def _joined(
        self,
        params: dict[str, Any],
        advertiser_id: str,
        first: Future[Answer] | None,
        groups: list[list[str]] | None,
        emitted: set[int],
        max_timeouts: int | None = None,
    ) -> Iterator[Rows]:
        """Pages of one query without the rows in ``emitted`` (rows emitted already: a query
        read again after a failure or a cap starts over), which the pages' rows join.

        With several metric groups, one series per group, joined on the dimensions: one page.
        """
        if not groups or len(groups) == 1:
            decode_page = self._page_decode()
            yield from self._pages(params, advertiser_id, first, max_timeouts, decode_page, emitted)
            return
        series = (
            rows_of(
                self._pages(
                    {**params, "metrics": group},
                    advertiser_id,
                    first if i == 0 else None,
                    max_timeouts,
                )
            )
            for i, group in enumerate(groups)
        )
        joined = join_on_dimensions(series, self.row_key)
        yield unseen(joined, self.row_key, emitted)

    def _pages(
        self,
        params: dict[str, Any],
        advertiser_id: str,
        first: Future[Answer] | None = None,
        max_timeouts: int | None = None,
        decode_page: PageDecode | None = None,
        seen: set[int] | None = None,
    ) -> Iterator[Rows]:
        return self.client.get_typed_pages(
            REPORT_PATH,
            params,
            page_size=self.settings.page_size,
            advertiser_id=advertiser_id,
            key=self.row_key,
            first=first,
            max_timeouts=max_timeouts,
            decode_page=decode_page,
            seen=seen,
        )
