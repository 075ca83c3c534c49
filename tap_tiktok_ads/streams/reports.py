"""Report streams, generated from :class:`ReportDefinition` objects.

Each advertiser is a partition. A run covers the selected dates in the advertiser's own time
zone, starting no earlier than ``bookmark - attribution_window_days`` so that revised
conversions are read again; the window is cut into requests TikTok accepts (30 days daily,
1 day hourly) and the bookmark moves only after a whole window has been emitted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date, datetime, timezone
from operator import itemgetter
from typing import Any

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context
from singer_sdk.singerlib import MetadataMapping, RecordMessage

from tap_tiktok_ads.client import (
    Answer,
    FatalAPIError,
    MalformedRow,
    QueryTooLargeError,
    RequestTimeoutError,
    TikTokAPIError,
    show,
)
from tap_tiktok_ads.dates import halve_window, incremental_start, split_windows, today_in
from tap_tiktok_ads.reports.catalog import Metric, api_data_level
from tap_tiktok_ads.reports.definitions import MAX_WINDOW_DAYS, ReportDefinition
from tap_tiktok_ads.reports.records import RecordBuilder, build_schema
from tap_tiktok_ads.streams.base import TikTokStream

REPORT_PATH = "/report/integrated/get/"
INVALID_PARAMETERS_CODE = 40002
STATUS_FILTER_FIELD = {
    "campaign": "campaign_status",
    "ad_group": "adgroup_status",
    "ad": "ad_status",
}


class ReportStream(TikTokStream):
    """One ``/report/integrated/get/`` report, partitioned by advertiser."""

    # Records are typed by RecordBuilder with converters chosen from the catalog.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    is_sorted = False

    def __init__(self, tap: Any, definition: ReportDefinition) -> None:
        self.definition = definition
        super().__init__(tap=tap, schema=build_schema(definition), name=definition.name)
        self.primary_keys = definition.primary_keys
        self.row_key = row_key(definition)
        self.replication_key = definition.time_dimension  # type: ignore[assignment]

    # -- catalog ----------------------------------------------------------------------------

    @property
    def metadata(self) -> MetadataMapping:
        """Only the catalog's default metrics are selected unless the user picks others."""
        if self._metadata is not None:
            return self._metadata
        metadata = super().metadata
        if self._tap_input_catalog is None or not self._tap_input_catalog.get_stream(self.name):
            defaults = {m.name for m in self.definition.available_metrics() if m.default}
            dimension_names = {"advertiser_id", *self.definition.dimensions}
            for name in self.schema["properties"]:
                if name in dimension_names:
                    continue
                entry = metadata[("properties", name)]
                entry.selected_by_default = name in defaults
                if self._tap_input_catalog is None:
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

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        assert context is not None
        try:
            yield from self._records(context)
        except FatalAPIError as error:
            if error.code != INVALID_PARAMETERS_CODE or not self.settings.skip_rejected_reports:
                raise error.add_context(f"stream {self.name}") from None
            self.logger.warning(
                "Skipping %s for advertiser %s: TikTok refused it (%s)",
                self.name,
                context["advertiser_id"],
                error.message,
            )

    def _records(self, context: Context) -> Iterator[dict[str, Any]]:
        advertiser_id = str(context["advertiser_id"])
        timezone = self.tiktok_tap.advertiser_timezone(advertiser_id)
        metrics = self.selected_metrics()
        builder = RecordBuilder(self.definition, metrics, timezone)
        base = self.base_params(advertiser_id, metrics)
        if self.definition.is_lifetime:
            for row in self.fetch(base, advertiser_id):
                yield builder.build(row, advertiser_id)
            return
        windows = self.windows(context, today_in(timezone, self.client.now()))
        ahead: dict[int, Future[Any]] = {}
        for index, (start, end) in enumerate(windows):
            # Page 1 of the next windows is requested while this one is emitted.
            for upcoming in range(
                index, min(len(windows), index + self.settings.max_concurrent_requests)
            ):
                if upcoming not in ahead:
                    ahead[upcoming] = self.client.submit_get(
                        REPORT_PATH,
                        self.page_params(base, *windows[upcoming]),
                        advertiser_id=advertiser_id,
                    )
            count = 0
            first = ahead.pop(index)
            for row in self.fetch_window(base, advertiser_id, start, end, first):
                count += 1
                yield builder.build(row, advertiser_id)
            self.logger.info(
                "%s: advertiser %s, %s..%s: %d rows", self.name, advertiser_id, start, end, count
            )
            self.advance_bookmark(context, end)

    def windows(self, context: Context, today: date) -> list[tuple[date, date]]:
        first, last = self.settings.dates.resolve(today)
        first = incremental_start(
            first, self.bookmark(context), self.settings.attribution_window_days
        )
        size = min(self.settings.report_window_days, MAX_WINDOW_DAYS[self.definition.granularity])
        return split_windows(first, last, size)

    def base_params(self, advertiser_id: str, metrics: list[Metric]) -> dict[str, Any]:
        definition = self.definition
        service_type = definition.service_type or self.settings.service_type
        params: dict[str, Any] = {
            "advertiser_id": advertiser_id,
            "report_type": definition.report_type,
            "data_level": api_data_level(definition.level, service_type),
            "dimensions": list(definition.dimensions),
            "metrics": [metric.name for metric in metrics],
        }
        if definition.report_type == "BASIC":
            params["service_type"] = service_type
        if definition.is_lifetime:
            params["query_lifetime"] = True
        status_field = STATUS_FILTER_FIELD.get(definition.level)
        if self.settings.include_deleted and status_field:
            params["filtering"] = [
                {"field_name": status_field, "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
            ]
        return params

    def page_params(self, base: dict[str, Any], start: date, end: date) -> dict[str, Any]:
        """Page 1 of a window, exactly as :meth:`fetch` asks for it."""
        return {
            **base,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "page": 1,
            "page_size": self.settings.page_size,
        }

    def fetch_window(
        self,
        base: dict[str, Any],
        advertiser_id: str,
        start: date,
        end: date,
        first: Future[Answer] | None = None,
        timeouts: TimeoutBudget | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Rows of one date window.

        When TikTok finds the query too large (40067) or it keeps timing out, the window is
        halved rather than sent again unchanged (TikTok penalises repeated timeouts). The
        window and its halves share ``max_timeouts_per_window`` timed-out requests.
        """
        if timeouts is None:
            timeouts = TimeoutBudget(self.settings.max_timeouts_per_window)
        params = {**base, "start_date": start.isoformat(), "end_date": end.isoformat()}
        try:
            yield from self.fetch(params, advertiser_id, first, timeouts.left)
        except (QueryTooLargeError, RequestTimeoutError) as error:
            halves = halve_window(start, end)
            if isinstance(error, RequestTimeoutError):
                timeouts.left -= error.timed_out_requests
                if timeouts.left <= 0:
                    error.setting = "request_timeout / max_timeouts_per_window"
                    halves = None
            if halves is None:
                raise error.add_context(f"window {start}..{end}") from None
            self.logger.warning(
                "%s: %s..%s failed (%s), splitting the window", self.name, start, end, error.message
            )
            for half_start, half_end in halves:
                yield from self.fetch_window(
                    base, advertiser_id, half_start, half_end, timeouts=timeouts
                )
        except TikTokAPIError as error:
            raise error.add_context(f"window {start}..{end}") from None

    def fetch(
        self,
        params: dict[str, Any],
        advertiser_id: str,
        first: Future[Answer] | None = None,
        max_timeouts: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        pages = self.client.get_pages(
            REPORT_PATH,
            params,
            page_size=self.settings.page_size,
            advertiser_id=advertiser_id,
            key=self.row_key,
            first=first,
            max_timeouts=max_timeouts,
        )
        for page in pages:
            yield from page

    # -- state ------------------------------------------------------------------------------

    def bookmark(self, context: Context) -> date | None:
        """The last report day a previous run completed for this advertiser."""
        state = self.get_context_state(context)
        value = state.get("replication_key_value")
        if not value or state.get("replication_key") != self.replication_key:
            return None
        return date.fromisoformat(str(value)[:10])

    def advance_bookmark(self, context: Context, day: date) -> None:
        """Claim ``day`` once every record up to it has been emitted, and say so in STATE."""
        state = self.get_context_state(context)
        current = state.get("replication_key_value")
        value = day.isoformat()
        if current and str(current)[:10] > value:
            value = str(current)[:10]
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = value
        state.pop("progress_markers", None)
        self._write_state_message()

    def _generate_record_messages(self, record: dict[str, Any]) -> Iterator[Any]:
        """The per-record hot path, without the SDK's property pruning and type conformance.

        Records hold only selected properties (only those metrics are requested) and are typed
        by RecordBuilder; skipping both passes saves about a quarter of the tap's CPU per record
        (measured with benchmarks/run.py). Stream maps still apply.
        """
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=datetime.now(timezone.utc),
                )

    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Context | None = None
    ) -> None:
        """Bookmarks move per window in :meth:`advance_bookmark`, not per record."""


@dataclass
class TimeoutBudget:
    """Timed-out requests a date window (halves included) may still make."""

    left: int


# Lengths of TikTok's time dimensions: "2026-11-19 00:00:00" (or "2026-11-19"), an hour's label.
TIME_LENGTHS = {"stat_time_day": (10, 19), "stat_time_hour": (19,)}


def _looks_like_time(name: str, value: Any) -> bool:
    """A cheap shape check (it runs once per row); dates.py parses the value itself."""
    return type(value) is str and len(value) in TIME_LENGTHS[name] and value[4:5] == "-"


def row_key(definition: ReportDefinition) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A report row's identity: its values of every requested dimension, in order.

    A row missing one (or holding a list, an object or null) would be written with a hole in
    its primary key, or dropped as a duplicate of another: :class:`MalformedRow` instead.
    """
    names = definition.dimensions
    pick = itemgetter(*names) if len(names) > 1 else (lambda d: (d[names[0]],))
    time_name = definition.time_dimension
    lengths = TIME_LENGTHS.get(time_name or "")

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        dimensions = row.get("dimensions")
        try:
            values = pick(dimensions)
            hash(values)  # fails for a list or an object in a dimension
        except (KeyError, TypeError):
            raise MalformedRow(_key_problem(dimensions, names, time_name)) from None
        if None in values:
            raise MalformedRow(_key_problem(dimensions, names, time_name))
        if lengths is not None:
            moment = dimensions[time_name]
            if type(moment) is not str or len(moment) not in lengths or moment[4:5] != "-":
                raise MalformedRow(_key_problem(dimensions, names, time_name))
        return values

    return key


def _key_problem(dimensions: Any, names: tuple[str, ...], time_name: str | None) -> str:
    """What is wrong with a row's dimensions, for the error message."""
    if type(dimensions) is not dict:
        return f"has `dimensions` {show(dimensions)}, not an object"
    for name in names:
        if name not in dimensions:
            return f"has no dimension `{name}`"
        value = dimensions[name]
        bad_time = name == time_name and not _looks_like_time(name, value)
        if type(value) not in (str, int) or bad_time:
            return f"has {show(value)} for dimension `{name}`"
    return "has dimensions the tap cannot read"
