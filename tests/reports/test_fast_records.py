"""The fast path (reports/fast_records.py) writes the general path's RECORD lines, byte for byte.

Every batch it takes must come out as RecordBuilder + singer-sdk's writer would have written it;
a batch it cannot type exactly must be left to the general path (``encode`` returns None), so a
malformed value is handled as it always was. Both are checked on chosen values, on generated
ones, and through whole syncs with and without a stream map (which turns the fast path off).
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from decimal import Decimal
from itertools import product
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.metrics import Metric as Metric_
from singer_sdk.metrics import Point
from singer_sdk.singerlib import RecordMessage

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.reports.catalog import Metric
from tap_tiktok_ads.reports.definitions import ReportDefinition, predefined_reports
from tap_tiktok_ads.reports.fast_records import FastRecords
from tap_tiktok_ads.reports.records import RecordBuilder
from tap_tiktok_ads.streams.report_top_view import TOP_VIEW_KEY
from tests.conftest import EMULATOR_TODAY, run_tap, tap_config

STREAM = "ad_performance_daily"
ADVERTISER = "7000000000000000001"
TIME_EXTRACTED = re.compile(rb',"time_extracted":"[^"]*"')


def definition(name: str = STREAM) -> ReportDefinition:
    return next(d for d in predefined_reports() if d.name == name)


def default_metrics(report: ReportDefinition) -> list[Metric]:
    return [m for m in report.available_metrics() if m.default]


def typed(kind: str) -> str:
    """A default metric of ad_performance_daily of one JSON type."""
    return next(m.name for m in default_metrics(definition()) if m.json_type == kind)


INTEGER, NUMBER, STRING = typed("integer"), typed("number"), typed("string")


def encoders(report: ReportDefinition | None = None) -> tuple[RecordBuilder, FastRecords]:
    report = report or definition()
    metrics = default_metrics(report)
    builder = RecordBuilder(report, metrics, ZoneInfo("America/Los_Angeles"))
    return builder, FastRecords(builder, metrics, report.name, TOP_VIEW_KEY, None)


def general_lines(builder: RecordBuilder, rows: list[dict[str, Any]], top_view: bool) -> bytes:
    """What RecordBuilder and singer-sdk's msgspec writer write for ``rows``."""
    writer = MsgSpecWriter()
    lines = b""
    for row in rows:
        record = builder.build(row, ADVERTISER)
        record[TOP_VIEW_KEY] = top_view
        lines += bytes(writer.format_message(RecordMessage(stream=STREAM, record=record)))
    return lines


def typical_metrics() -> dict[str, Any]:
    """Every default metric as TikTok writes a typical value: "1", "12.345", a name."""
    kinds = {"integer": "1", "number": "12.345", "string": "Skincare Reach #1"}
    return {m.name: kinds[m.json_type] for m in default_metrics(definition())}


TYPICAL = typical_metrics()


def row(
    day: int = 1, metrics: dict[str, Any] | None = None, ad_id: str = "1700000000000000001"
) -> dict[str, Any]:
    dimensions = {"ad_id": ad_id, "stat_time_day": f"2026-11-{day:02d} 00:00:00"}
    return {"dimensions": dimensions, "metrics": {**TYPICAL, **(metrics or {})}}


DEFAULT_ENCODERS = encoders()


def assert_same_or_declined(rows: list[dict[str, Any]], top_view: bool = False) -> bytes | None:
    builder, fast = DEFAULT_ENCODERS
    lines = fast.encode(rows, ADVERTISER, top_view)
    if lines is not None:
        assert TIME_EXTRACTED.sub(b"", lines) == general_lines(builder, rows, top_view)
    return lines


def test_a_page_as_tiktok_writes_it_is_typed_like_the_general_path() -> None:
    rows = [
        row(1),
        row(2, {INTEGER: "-", NUMBER: "-", STRING: "-"}),
        row(3, {INTEGER: None, NUMBER: None, STRING: None}),
        row(4, {INTEGER: "", NUMBER: "", STRING: ""}),
        row(5, {INTEGER: str(2**63 - 1), NUMBER: "179769313486231570000000" + "0" * 285}),
        row(6, {INTEGER: "-9223372036854775807", NUMBER: "-0.000"}),
        row(7, {INTEGER: 4486, NUMBER: 20, STRING: 'quote " backslash \\ newline \n é'}),
        row(8, {INTEGER: "1e3", NUMBER: "3920.000"}),
    ]
    assert assert_same_or_declined(rows) is not None
    assert assert_same_or_declined(rows, top_view=True) is not None


def test_metrics_missing_from_a_row_are_null_as_in_the_general_path() -> None:
    rows = [{"dimensions": row()["dimensions"], "metrics": {}}, {**row(2), "metrics": None}]
    assert assert_same_or_declined(rows) is not None


@pytest.mark.parametrize(
    ("metric", "value"),
    [
        (INTEGER, "abc"),
        (INTEGER, "12.5"),
        (INTEGER, "1,234"),
        (INTEGER, " 5"),
        (INTEGER, str(2**63)),
        (INTEGER, 2**70),
        (INTEGER, "1e400"),
        (INTEGER, True),
        (INTEGER, [1]),
        (INTEGER, {"value": 1}),
        (NUMBER, "-0"),  # msgspec reads it as 0; the general path keeps the sign
        (NUMBER, "NaN"),
        (NUMBER, "Infinity"),
        (NUMBER, "-inf"),
        (NUMBER, "1e400"),
        (NUMBER, "-1e400"),
        (NUMBER, "1,234.5"),
        (NUMBER, "abc"),
        (NUMBER, False),
        (NUMBER, [1]),
        (STRING, 5),
        (STRING, True),
        (STRING, ["a"]),
    ],
)
def test_a_value_it_cannot_type_exactly_leaves_the_batch_to_the_general_path(
    metric: str, value: Any
) -> None:
    """The general path decides: null, a warning, a number read another way."""
    assert assert_same_or_declined([row(1), row(2, {metric: value})]) is None


def test_metrics_that_are_not_an_object_are_left_to_the_general_path() -> None:
    assert assert_same_or_declined([{**row(), "metrics": ["1"]}]) is None


ARABIC_FIVE = "\u0665"  # int() reads it as 5
NUMBERISH = st.sampled_from(
    [
        *("-", "", "0", "-0", "1e3", "1E3", "1.5e1", "12.0", "0.0e5", "+5", "00012", "5_000"),
        *("1,234", "NaN", "-Infinity", "sNaN", " 1 ", "1e-2", ARABIC_FIVE, "0x10", "null"),
        "9223372036854775807",
    ]
)
VALUES = st.one_of(
    st.none(),
    NUMBERISH,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.booleans(),
    st.text(max_size=6),
    st.lists(st.integers(), max_size=1),
)


@settings(deadline=None, max_examples=1000)
@given(st.lists(st.tuples(VALUES, VALUES, VALUES), min_size=1, max_size=4))
def test_generated_values_come_out_as_the_general_path_writes_them(
    values: list[tuple[Any, Any, Any]],
) -> None:
    rows = [
        row(day, {INTEGER: integer, NUMBER: number, STRING: string})
        for day, (integer, number, string) in enumerate(values, start=1)
    ]
    assert_same_or_declined(rows)


NUMBER_TEXT = "0123456789-+.eE_ ,nNI" + ARABIC_FIVE


def test_every_short_number_text_comes_out_as_the_general_path_writes_it() -> None:
    """Each text of up to three characters that numbers are made of, in an integer and in a
    number metric (a row each, so that one declined value does not hide the others)."""
    texts = ["".join(chars) for n in (1, 2, 3) for chars in product(NUMBER_TEXT, repeat=n)]
    for text in texts:
        assert_same_or_declined([row(1, {INTEGER: text})])
        assert_same_or_declined([row(1, {NUMBER: text})])


def test_advertiser_reports_keep_the_partitions_advertiser_id_first() -> None:
    report = definition("advertiser_performance_daily")
    builder, fast = encoders(report)
    rows = [
        {
            "dimensions": {"advertiser_id": "999", "stat_time_day": "2026-11-01 00:00:00"},
            "metrics": {"spend": "3920.000", "impressions": "4486", "ctr": "-"},
        }
    ]
    lines = fast.encode(rows, ADVERTISER, False)
    assert lines is not None
    expected = general_lines(builder, rows, False).replace(
        b'"stream":"ad_performance_daily"', b'"stream":"advertiser_performance_daily"'
    )
    assert TIME_EXTRACTED.sub(b"", lines) == expected
    assert lines.startswith(b'{"type":"RECORD","stream":"advertiser_performance_daily","record"')


# -- whole syncs: fast path against the general path (a stream map turns the fast path off) --

ODD_VALUES = ["-", "", None, "abc", "1e400", "NaN", str(2**64), "1,234", "99999999999.999", True]


def sync_records(config: dict[str, Any]) -> list[dict[str, Any]]:
    catalog = catalog_selecting(config, {STREAM: None})
    messages = [m for m in run_tap(config, catalog=catalog).messages if m["type"] != "SCHEMA"]
    for message in messages:
        message.pop("time_extracted", None)  # wall-clock time of each run
    return messages


@pytest.fixture
def odd_emulator() -> Any:
    """An emulator whose report rows carry placeholders and malformed values here and there."""
    with Emulator(seed=3, advertisers=2, today=EMULATOR_TODAY) as emu:
        original = emu.answer

        def answer(method: str, path: str, params: dict[str, Any], token: str | None) -> Any:
            data = original(method, path, params, token)
            if path.startswith("/report/") and isinstance(data, dict):
                for index, item in enumerate(data.get("list") or []):
                    names = sorted(item["metrics"])
                    if index % 7 == 3 and names:
                        name = names[index % len(names)]
                        item["metrics"][name] = ODD_VALUES[index % len(ODD_VALUES)]
            return data

        emu.answer = answer  # type: ignore[method-assign]
        yield emu


@pytest.mark.parametrize(
    "general_settings",
    [{"stream_maps": {STREAM: {}}}, {"flattening_enabled": True, "flattening_max_depth": 1}],
)
def test_a_sync_writes_the_same_messages_on_both_paths(
    odd_emulator: Emulator, general_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    typed_batches: list[int] = []
    for name in ("encode", "encode_typed"):  # batches of dict rows, and of typed pages' rows
        encode = getattr(FastRecords, name)

        def counting(
            self: FastRecords, rows: Any, advertiser_id: str, top_view: bool, encode: Any = encode
        ) -> Any:
            lines = encode(self, rows, advertiser_id, top_view)
            typed_batches.append(lines is not None)
            return lines

        monkeypatch.setattr(FastRecords, name, counting)
    config = tap_config(odd_emulator, start_date="2026-10-15", page_size=50)
    fast = sync_records(config)
    assert True in typed_batches  # some batches were typed here...
    assert False in typed_batches  # ...and some left to the general path
    typed_batches.clear()
    general = sync_records({**config, **general_settings})
    assert typed_batches == []  # no batch went the fast way
    assert [m for m in fast if m["type"] == "RECORD"]
    assert fast == general


def test_records_are_decimal_money_and_integers(emulator: Emulator) -> None:
    config = tap_config(emulator, start_date="2026-11-10")
    records = [m["record"] for m in sync_records(config) if m["type"] == "RECORD"]
    assert records
    assert all(type(r["spend"]) is Decimal and type(r["impressions"]) is int for r in records)


def test_records_written_in_batches_are_counted_in_the_sdks_metrics(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    config = tap_config(emulator, start_date="2026-11-10")
    caplog.set_level(logging.INFO, logger="singer_sdk.metrics")
    records = [m for m in sync_records(config) if m["type"] == "RECORD"]
    counted = 0
    for entry in caplog.records:
        point = entry.args[0] if isinstance(entry.args, tuple) and entry.args else None
        if isinstance(point, Point) and point.metric == Metric_.RECORD_COUNT:
            assert point.tags["stream"] == STREAM
            counted += point.value
    assert records
    assert counted == len(records)


def test_a_batch_config_gets_every_report_record_in_batch_files(
    emulator: Emulator, tmp_path: Path
) -> None:
    """With singer-sdk's ``batch_config`` the records go into BATCH files, not RECORD lines:
    the fast path, which writes RECORD lines itself, stands aside."""
    config = tap_config(emulator, start_date="2026-11-10")
    records = [m["record"] for m in sync_records(config) if m["type"] == "RECORD"]
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": tmp_path.as_uri(), "prefix": "batch-"},
    }
    messages = sync_records({**config, "batch_config": batch_config})
    assert not [m for m in messages if m["type"] == "RECORD"]
    files = [
        urlparse(url).path
        for m in messages
        if m["type"] == "BATCH" and m["stream"] == STREAM
        for url in m["manifest"]
    ]
    batched: list[dict[str, Any]] = []
    for file in files:
        with gzip.open(file, "rt", encoding="utf-8") as lines:
            batched += [json.loads(line, parse_float=Decimal) for line in lines]
    assert records
    assert batched == records
