"""Report streams, generated from :class:`ReportDefinition` objects.

Each advertiser is a partition. A run covers the selected dates in the advertiser's own time
zone, starting no earlier than ``bookmark - attribution_window_days`` so that revised
conversions are read again; the window is cut into requests TikTok accepts (30 days daily,
1 day hourly) and the bookmark moves only after a whole window has been emitted. Within a
window, large metric selections are read in groups and capped ad reports by campaign or ad
group (``report_slicing``, read by ``report_fetching``); either way each row is emitted once.
Each window is read in TikTok's default pass and, for advertisers with TopView campaigns, a
TopView pass (``report_top_view``); the bookmark moves after both.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future
from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import metrics
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context
from singer_sdk.singerlib import Catalog, MetadataMapping
from typing_extensions import override

from tap_tiktok_ads.bookmarks import report_day, saved_value
from tap_tiktok_ads.dates import incremental_start, split_windows, today_in
from tap_tiktok_ads.error_codes import Skip, skippable
from tap_tiktok_ads.errors import RefusedAPIError, TikTokAPIError
from tap_tiktok_ads.paging import (
    Answer,
    KeyedRows,
    PageDecode,
    Rows,
    later_pages,
)
from tap_tiktok_ads.reports.catalog import Metric, api_data_level
from tap_tiktok_ads.reports.definitions import (
    MAX_WINDOW_DAYS,
    UNDATED_SPAN_DAYS,
    ReportDefinition,
)
from tap_tiktok_ads.reports.fast_records import FastRecords, as_dicts
from tap_tiktok_ads.reports.records import RecordBuilder, build_schema
from tap_tiktok_ads.reports.typed_pages import page_decoder
from tap_tiktok_ads.sdk_compat import (
    BookmarksSetByStream,
    PreparedRecordMessages,
    record_line_writer,
    set_bookmark,
    stream_version,
    write_state,
)
from tap_tiktok_ads.streams.base import StreamServices
from tap_tiktok_ads.streams.report_fetching import REPORT_PATH, ReportFetching
from tap_tiktok_ads.streams.report_rows import dict_rows, row_key, with_pass
from tap_tiktok_ads.streams.report_slicing import metric_groups
from tap_tiktok_ads.streams.report_top_view import (
    TOP_VIEW_KEY,
    TOP_VIEW_KEY_SCHEMA,
    top_view_advertisers,
    top_view_only,
)
from tap_tiktok_ads.streams.report_windows import Window, Windows, WindowsAhead

# Rows typed and encoded together by FastRecords: large enough that the per-batch work (a
# timestamp, a few C calls) is negligible, small enough that a batch's merged dicts, structs
# and encoded lines (about 5 KB a row with the default metrics, held at once) stay a small
# part of the run's memory. 1,000 rows made the peak 4 MB higher, at the same speed.
FAST_BATCH_ROWS = 250
REJECTED_REPORT_CODES = skippable(Skip.REJECTED_REPORT)
STATUS_FILTER_FIELD = {
    "campaign": "campaign_status",
    "ad_group": "adgroup_status",
    "ad": "ad_status",
}


if TYPE_CHECKING:
    from singer_sdk import Tap


class ReportStream(PreparedRecordMessages, BookmarksSetByStream, ReportFetching):
    """One ``/report/integrated/get/`` report, partitioned by advertiser.

    Records are typed by their builder and hold only the selected properties, so they skip
    the SDK's per-record pruning and conformance; bookmarks move per date window
    (:meth:`advance_bookmark`), not per record.
    """

    # Records are typed by RecordBuilder with converters chosen from the catalog.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    is_sorted = False
    # Page 1 of the first windows of each pass is requested ahead for the next advertisers
    # (a 90-day backfill's three windows of 30 days): with one window only, an advertiser
    # reached with nothing on its way waits for each of its windows in turn.
    windows_started_early: ClassVar[int] = 3
    requests_started_per_partition = 2 * windows_started_early
    bookmark_kind = "day"  # how tap_tiktok_ads.bookmarks checks saved values

    def __init__(self, tap: Tap, services: StreamServices, definition: ReportDefinition) -> None:
        self.definition = definition
        self._input_catalog_given = False  # set by apply_catalog
        self._listed_in_input_catalog = False
        self._defaults_applied_to: MetadataMapping | None = None
        self._built_schema: dict[str, Any] | None = None  # see schema
        super().__init__(tap, services, name=definition.name)
        self.primary_keys = [*definition.primary_keys, TOP_VIEW_KEY]
        self.row_key = row_key(definition)
        self._written_in_batches = 0  # records of this sync written by FastRecords
        self._record_counter: metrics.Counter | None = None  # the SDK's, of the running sync
        self.replication_key = definition.time_dimension

    # -- catalog ----------------------------------------------------------------------------

    @property
    @override
    def schema(self) -> dict[str, Any]:
        """Built on first use: a report offers hundreds of metrics, and a sync given a catalog
        never reads the schema of a report it does not sync."""
        if self._built_schema is None:
            schema = build_schema(self.definition)
            schema["properties"][TOP_VIEW_KEY] = TOP_VIEW_KEY_SCHEMA
            self._built_schema = schema
        return self._built_schema

    @override
    def apply_catalog(self, catalog: Catalog) -> None:
        self._input_catalog_given = True
        self._listed_in_input_catalog = catalog.get_stream(self.name) is not None
        super().apply_catalog(catalog)

    @property
    @override
    def metadata(self) -> MetadataMapping:
        """Only the catalog's default metrics are selected unless the user picks others."""
        metadata = super().metadata  # computed once, then kept by the SDK
        if metadata is self._defaults_applied_to:
            return metadata
        self._defaults_applied_to = metadata
        if not self._listed_in_input_catalog:
            defaults = {m.name for m in self.definition.available_metrics() if m.default}
            dimension_names = {"advertiser_id", TOP_VIEW_KEY, *self.definition.dimensions}
            for name in self.schema["properties"]:
                if name in dimension_names:
                    continue
                entry = metadata[("properties", name)]
                entry.selected_by_default = name in defaults
                if not self._input_catalog_given:
                    entry.selected = name in defaults
        return metadata

    def selected_metrics(self) -> list[Metric]:
        dimension_names = set(self.definition.dimensions) | {"advertiser_id"}
        return [
            metric
            for metric in self.definition.available_metrics()
            if metric.name not in dimension_names
            and self.mask.get(("properties", metric.name), False)
        ]

    # -- sync -------------------------------------------------------------------------------

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if context is None:  # no readable advertiser, so no partition
            return
        try:
            yield from self._records(context)
        except RefusedAPIError as error:
            if error.code not in REJECTED_REPORT_CODES or not self.settings.skip_rejected_reports:
                raise error.add_context(f"stream {self.name}") from None
            self.logger.warning(
                "Skipping %s for advertiser %s: TikTok refused it (%s)",
                self.name,
                context["advertiser_id"],
                error.message,
            )

    def _records(self, context: Context) -> Iterator[dict[str, Any]]:
        advertiser_id = str(context["advertiser_id"])
        timezone = self.advertisers.timezone(advertiser_id)
        metrics = self.selected_metrics()
        builder = RecordBuilder(self.definition, metrics, timezone)
        groups = metric_groups([m.name for m in metrics], self.settings.max_metrics_per_request)
        ahead: WindowsAhead = self.started_ahead(
            context, lambda upcoming: self.start_windows(upcoming, early=upcoming != context)
        )
        base = ahead.base  # the first metric group's, as start_windows made them
        passes = self.passes(base, advertiser_id)
        if self.definition.is_lifetime:
            for top_view, query in passes:
                params = self.lifetime_params(query, ahead.today)
                for page in self._fetch_or_fewer_metrics(params, advertiser_id, groups):
                    for row in dict_rows(page):
                        yield with_pass(builder.build(row, advertiser_id), top_view)
            return
        fast = self._fast_records(builder, metrics)
        self.bookmark(context, ahead.today)  # a bookmark after today is pulled back, saying so
        for index, (start, end) in enumerate(ahead.windows):
            # The next windows too; the TopView pass's once a window was read whole (both
            # passes): a default pass that fails before then spends no TopView request.
            ahead.start(index, self.settings.max_concurrent_requests, top_view=index > 0)
            count = 0
            for top_view, query in passes:  # the bookmark moves only after both passes
                first = ahead.first_page(index, top_view)
                pages = self.fetch_window(query, advertiser_id, start, end, first, groups=groups)
                count += yield from self._emit(pages, builder, fast, advertiser_id, top_view)
            self.logger.info(
                "%s: advertiser %s, %s..%s: %d rows", self.name, advertiser_id, start, end, count
            )
            self.advance_bookmark(context, start, end)

    @override
    def get_record_counter(
        self, *, endpoint: str | None = None, log_interval: float = metrics.DEFAULT_LOG_INTERVAL
    ) -> metrics.Counter:
        """The SDK's counter of this sync's records, kept so that records written in batches
        (which do not pass through the SDK's per-record loop) are counted in its metrics too."""
        self._record_counter = super().get_record_counter(
            endpoint=endpoint, log_interval=log_interval
        )
        return self._record_counter

    def _fast_records(self, builder: RecordBuilder, metrics: list[Metric]) -> FastRecords | None:
        """The batch encoder of this request shape, or None when records must go through the
        SDK one by one (a stream map, flattening or a dry-run limit is set)."""
        if record_line_writer(self) is None:
            return None
        return FastRecords(builder, metrics, self.name, TOP_VIEW_KEY, stream_version(self))

    def _page_decode(self) -> PageDecode | None:
        """The decoder reading this stream's report pages into typed rows on the request
        workers, or None when its rows must be dicts: records go through the SDK one by one
        (no batch encoder), the report is read without dates, or its metrics are asked in
        several groups, joined on their dimensions."""
        if self.definition.is_lifetime or record_line_writer(self) is None:
            return None
        metrics = self.selected_metrics()
        names = [metric.name for metric in metrics]
        if len(metric_groups(names, self.settings.max_metrics_per_request)) > 1:
            return None
        dimensions = self.definition.dimensions
        shape = tuple((m.name, m.json_type) for m in metrics if m.name not in dimensions)
        return page_decoder(tuple(dimensions), shape).decode

    def _emit(
        self,
        pages: Iterable[Rows],
        builder: RecordBuilder,
        fast: FastRecords | None,
        advertiser_id: str,
        top_view: bool,
    ) -> Generator[dict[str, Any], None, int]:
        """The records of ``pages``: yielded to the SDK, or written here in batches by ``fast``
        (a batch it cannot type exactly is yielded too). Returns the number of rows."""
        count = 0
        write = None if fast is None else record_line_writer(self)
        for page in pages:
            count += len(page)
            if fast is None or write is None:
                for row in dict_rows(page):
                    yield with_pass(builder.build(row, advertiser_id), top_view)
                continue
            typed = isinstance(page, KeyedRows)
            rows: list[Any] = page.rows if isinstance(page, KeyedRows) else page
            for batch in self._batches_for_state(rows):
                if typed:
                    lines = fast.encode_typed(batch, advertiser_id, top_view)
                    if lines is None:
                        batch = as_dicts(batch)
                        lines = fast.encode(batch, advertiser_id, top_view)
                else:
                    lines = fast.encode(batch, advertiser_id, top_view)
                if lines is None:
                    for row in batch:
                        yield with_pass(builder.build(row, advertiser_id), top_view)
                    continue
                write(lines)
                self._written_in_batches += len(batch)
                if self._record_counter is not None:
                    self._record_counter.increment(len(batch))
                if self._written_in_batches % self.STATE_MSG_FREQUENCY == 0:
                    write_state(self)  # where the SDK offers one after as many records of its own
        return count

    def _batches_for_state(self, rows: list[Any]) -> Iterator[list[Any]]:
        """A page's rows in batches that end where the SDK would offer a STATE (every
        ``STATE_MSG_FREQUENCY`` records); a page is written whole before the next is awaited,
        as one by one it would be."""
        start = 0
        while start < len(rows):
            end = start + self._batch_limit()
            yield rows[start:end]
            start = end

    def _batch_limit(self) -> int:
        until_state = self.STATE_MSG_FREQUENCY - self._written_in_batches % self.STATE_MSG_FREQUENCY
        return min(FAST_BATCH_ROWS, until_state)

    def start_windows(self, context: Context, *, early: bool) -> WindowsAhead:
        """One advertiser's date windows, with page 1 of the first one requested: decided when
        its requests start, maybe while an earlier advertiser is written (``early``).

        Started early, page 1 of its first ``windows_started_early`` windows is requested, of
        the TopView pass too. At the advertiser's own turn the TopView pass waits for the
        default pass, as it did before requests were made ahead: if the default pass fails (a
        window that keeps timing out, say), no request of the TopView pass is spent on it.
        """
        advertiser_id = str(context["advertiser_id"])
        today = today_in(self.advertisers.timezone(advertiser_id), self.client.now())
        metrics = [m.name for m in self.selected_metrics()]
        groups = metric_groups(metrics, self.settings.max_metrics_per_request)
        base = self.base_params(advertiser_id, groups[0])
        windows = [] if self.definition.is_lifetime else self.windows(context, today, settle=False)
        ahead = WindowsAhead(self, advertiser_id, base, today, windows)
        # The later windows when its turn comes.
        ahead.start(0, self.windows_started_early if early else 1, top_view=early)
        return ahead

    def first_page(
        self, base: dict[str, Any], advertiser_id: str, window: Window
    ) -> Future[Answer]:
        """Page 1 of one window of TikTok's default pass, requested on the run's scheduler;
        when it comes, the window's next pages are requested too."""
        params = self.page_params(base, *window)
        decode_page = self._page_decode()
        future = self.client.submit_get(
            REPORT_PATH, params, advertiser_id=advertiser_id, decode_page=decode_page
        )
        future.add_done_callback(
            partial(self._start_later_pages, params, advertiser_id, decode_page)
        )
        return future

    def _start_later_pages(
        self,
        params: dict[str, Any],
        advertiser_id: str,
        decode_page: PageDecode | None,
        first: Future[Answer],
    ) -> None:
        """Pages 2.. of a window whose page 1 was requested ahead (as many as there are
        workers), requested as soon as page 1 tells how many there are: they are on their way
        when the window's turn comes, instead of being asked for then. The window's reading
        takes them as it would have sent them (and judges page 1 as it always does)."""
        if first.cancelled() or first.exception() is not None:
            return
        later = later_pages(first.result(), self.settings.page_size)
        for page in range(2, 2 + min(later, self.settings.max_concurrent_requests)):
            self.client.start_get(
                REPORT_PATH,
                {**params, "page": page},
                advertiser_id=advertiser_id,
                decode_page=decode_page,
            )

    def top_view_first_page(
        self, base: dict[str, Any], advertiser_id: str, window: Window
    ) -> Future[Answer | None]:
        """Page 1 of one window of the TopView pass, or None for an advertiser without
        TopView; whether it has TopView is asked first, on the same worker, once per run."""
        params = self.page_params(top_view_only(base), *window)
        decode_page = self._page_decode()

        def fetch() -> Answer | None:
            try:
                if not top_view_advertisers(self.client).has_top_view(advertiser_id):
                    return None
            except TikTokAPIError:
                return None  # asked again at the advertiser's turn, and reported there
            return self.client.get_answer(
                REPORT_PATH, params, advertiser_id=advertiser_id, decode_page=decode_page
            )

        return self.client.scheduler.submit(fetch)

    def windows(self, context: Context, today: date, *, settle: bool = True) -> Windows:
        """The date windows to request for one advertiser whose local date is ``today``.

        Open and relative ranges resume from the bookmark (less the attribution window);
        fixed days (``date``, ``start_date`` + ``end_date``) are a backfill and are read
        whatever the bookmark says, which they never move back.
        """
        dates = self.settings.dates
        first, last = dates.resolve(today)
        bookmark = self.bookmark(context, today, settle=settle)
        if not dates.fixed:
            first = incremental_start(first, bookmark, self.settings.attribution_window_days)
        elif bookmark is not None and first <= bookmark:
            self.logger.info(
                "%s: advertiser %s: reading the fixed dates %s, though the bookmark is %s",
                self.name,
                context["advertiser_id"],
                dates.describe(),
                bookmark,
            )
        size = min(self.settings.report_window_days, MAX_WINDOW_DAYS[self.definition.granularity])
        return split_windows(first, last, size)

    def passes(self, base: dict[str, Any], advertiser_id: str) -> list[tuple[bool, dict[str, Any]]]:
        """(is TopView, query) of each pass: TikTok's default, which leaves TopView out, and the
        TopView pass for advertisers that have TopView campaigns."""
        passes = [(False, base)]
        if top_view_advertisers(self.client).has_top_view(advertiser_id):
            passes.append((True, top_view_only(base)))
        return passes

    def base_params(self, advertiser_id: str, metrics: list[str]) -> dict[str, Any]:
        """The query of one advertiser, asking for ``metrics`` (the first metric group)."""
        definition = self.definition
        service_type = definition.service_type or self.settings.service_type
        params: dict[str, Any] = {
            "advertiser_id": advertiser_id,
            "report_type": definition.report_type,
            "data_level": api_data_level(definition.level, service_type),
            "dimensions": list(definition.dimensions),
            "metrics": list(metrics),
        }
        if definition.report_type == "BASIC":
            params["service_type"] = service_type
        if definition.queries_lifetime:
            params["query_lifetime"] = True
        status_field = STATUS_FILTER_FIELD.get(definition.level)
        if self.settings.include_deleted and status_field:
            params["filtering"] = [
                {"field_name": status_field, "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
            ]
        return params

    def lifetime_params(self, base: dict[str, Any], today: date) -> dict[str, Any]:
        """BASIC asks for ``query_lifetime``; AUDIENCE has none, so it covers the longest span
        TikTok takes without a time dimension, up to today."""
        if self.definition.queries_lifetime:
            return base
        first = today - timedelta(days=UNDATED_SPAN_DAYS - 1)
        return {**base, "start_date": first.isoformat(), "end_date": today.isoformat()}

    def page_params(self, base: dict[str, Any], start: date, end: date) -> dict[str, Any]:
        """Page 1 of a window, exactly as :meth:`fetch` asks for it."""
        return {
            **base,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "page": 1,
            "page_size": self.settings.page_size,
        }

    # -- state ------------------------------------------------------------------------------

    def bookmark(
        self, context: Context, today: date | None = None, *, settle: bool = True
    ) -> date | None:
        """The last report day a previous run completed for this advertiser.

        Never after ``today`` (TikTok's, for this advertiser): a bookmark in the future would
        skip the advertiser until that day, so it is pulled back, with a warning, and saved
        so unless ``settle`` is false (work started ahead, before the partition's turn).
        """
        advertiser_id = str(context["advertiser_id"])
        state = self.get_context_state(context) if settle else self.saved_state(context)
        day = report_day(saved_value(state, self.replication_key), self.name, advertiser_id)
        if day is not None and today is not None and day > today:
            if not settle:
                return today
            self.logger.warning(
                "%s: advertiser %s: the bookmark %s is after TikTok's today there (%s); "
                "resuming from today",
                self.name,
                advertiser_id,
                day,
                today,
            )
            day = today
            self.get_context_state(context)["replication_key_value"] = day.isoformat()
        return day

    def advance_bookmark(self, context: Context, start: date, end: date) -> None:
        """Claim ``end`` once every record of start..end has been emitted; say so in STATE.

        A backfill of earlier days leaves a later bookmark where it is, and fixed days that
        do not continue the bookmark (no bookmark, or a gap after it) leave it alone too:
        claiming them would skip the days in between when open-ended runs resume.
        """
        current = self.bookmark(context)
        if self.settings.dates.fixed and (current is None or start > current + timedelta(days=1)):
            return
        state = self.get_context_state(context)
        set_bookmark(state, self.replication_key, max(end, current or end).isoformat())
        write_state(self)
