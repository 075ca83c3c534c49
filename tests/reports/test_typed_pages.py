"""Report pages decoded from their bytes into typed rows (reports/typed_pages.py) and encoded
by FastRecords.encode_typed come out as the general path writes them, byte for byte.

The general path here is what the tap does without a page decoder: the body decoded into dicts,
each row built by RecordBuilder and written by singer-sdk's msgspec writer. A page the decoder
cannot read exactly is left to it (``decode`` returns None); a batch the encoder cannot type
exactly goes to the general path as dicts (``as_dicts``), which must change nothing either.
"""

from __future__ import annotations

import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_tiktok_ads.reports.fast_records import FastRecords, as_dicts
from tap_tiktok_ads.reports.records import RecordBuilder
from tap_tiktok_ads.reports.typed_pages import PageDecoder
from tap_tiktok_ads.streams.report_rows import row_key
from tap_tiktok_ads.streams.report_top_view import TOP_VIEW_KEY
from tests.reports.test_fast_records import (
    ADVERTISER,
    ARABIC_FIVE,
    INTEGER,
    NUMBER,
    STRING,
    TIME_EXTRACTED,
    TYPICAL,
    default_metrics,
    definition,
    general_lines,
)


def decoder_and_encoders(name: str = "ad_performance_daily") -> tuple[Any, ...]:
    report = definition(name)
    metrics = default_metrics(report)
    builder = RecordBuilder(report, metrics, ZoneInfo("America/Los_Angeles"))
    fast = FastRecords(builder, metrics, report.name, TOP_VIEW_KEY, None)
    shape = [(m.name, m.json_type) for m in metrics if m.name not in report.dimensions]
    return PageDecoder(report.dimensions, shape), builder, fast, report


DECODER, BUILDER, FAST, REPORT = decoder_and_encoders()


class Raw:
    """A JSON token written as it is (a number as a server may spell it: ``1.10``, ``1E5``)."""

    def __init__(self, text: str) -> None:
        self.text = text


def token(value: Any) -> str:
    return value.text if isinstance(value, Raw) else json.dumps(value)


def body(rows: list[dict[str, Any]], **envelope: Any) -> bytes:
    """A report answer holding ``rows``, each value written with :func:`token`."""
    items = []
    for row in rows:
        parts = []
        for part in ("dimensions", "metrics"):
            if part in row:
                fields = ",".join(f"{json.dumps(k)}:{token(v)}" for k, v in row[part].items())
                parts.append(f'"{part}":{{{fields}}}')
        items.append("{" + ",".join(parts) + "}")
    head = {"code": 0, "message": "OK", "request_id": "2026112012000000", **envelope}
    page_info = {"page": 1, "page_size": 1000, "total_number": len(rows), "total_page": 1}
    text = json.dumps(head)[:-1] + ',"data":{"list":[' + ",".join(items) + "],"
    return (text + '"page_info":' + json.dumps(page_info) + "}}").encode()


def row(day: int = 1, metrics: dict[str, Any] | None = None, ad_id: Any = "1700000000000000001"):
    dimensions = {"ad_id": ad_id, "stat_time_day": f"2026-11-{day:02d} 00:00:00"}
    return {"dimensions": dimensions, "metrics": {**TYPICAL, **(metrics or {})}}


def general(page: bytes, top_view: bool = False) -> bytes:
    rows = msgspec.json.decode(page)["data"]["list"]
    return general_lines(BUILDER, rows, top_view)


def typed(page: bytes, top_view: bool = False) -> bytes | None:
    """What the typed path writes for ``page`` (a batch it declines as dicts, through the
    general path), or None when the decoder leaves the page to the general decoding."""
    decoded = DECODER.decode(page)
    if decoded is None:
        return None
    rows = decoded.rows.rows
    lines = FAST.encode_typed(rows, ADVERTISER, top_view)
    if lines is None:
        return general_lines(BUILDER, as_dicts(rows), top_view)
    return TIME_EXTRACTED.sub(b"", lines)


def assert_same(page: bytes, top_view: bool = False) -> bytes | None:
    lines = typed(page, top_view)
    if lines is not None:
        assert lines == general(page, top_view)
    return lines


def test_a_page_as_tiktok_writes_it_is_decoded_typed_and_written_as_the_general_path() -> None:
    page = body(
        [
            row(1),
            row(2, {INTEGER: "-", NUMBER: "-", STRING: "-"}),
            row(3, {INTEGER: None, NUMBER: None, STRING: None}),
            row(4, {INTEGER: "", NUMBER: "", STRING: ""}),
            row(5, {INTEGER: str(2**63 - 1), NUMBER: "179769313486231570000000" + "0" * 285}),
            row(6, {INTEGER: "-9223372036854775807", NUMBER: "-0.000"}),
            row(7, {INTEGER: 4486, STRING: 'quote " backslash \\ newline \n é'}),
            row(8, {INTEGER: "1000", NUMBER: "3920.000"}),
            row(9, ad_id="-"),
        ]
    )
    assert DECODER.decode(page) is not None
    assert FAST.encode_typed(DECODER.decode(page).rows.rows, ADVERTISER, False) is not None
    assert assert_same(page) is not None
    assert assert_same(page, top_view=True) is not None


@pytest.mark.parametrize(
    "text",
    [
        "abc",
        "1e3",
        "1.0",
        "1.0000000000000001",  # 1 through a float; not a whole number to the general path
        "0.99999999999999999",
        "1e-400",  # 0 through a float
        "9007199254740993.0",  # a float would make it ...992
        "-0",
        "-0.0",
        "007",
        " 5",
        "+5",
        "null",
        "9223372036854775808",  # one more than a target's largest integer
        "-9223372036854775808",
    ],
)
def test_an_integer_text_the_general_path_reads_its_own_way_is_written_as_it_writes_it(
    text: str,
) -> None:
    """Whichever path takes it: the page decoded as dicts, the batch given to the general path,
    or the text read by the page decoder where it reads it exactly."""
    page = body([row(1, {INTEGER: text}), row(2)])
    assert assert_same(page) is not None or DECODER.decode(page) is None


@pytest.mark.parametrize(
    "text",
    [
        "1.0000000000000001",
        "0.99999999999999999",
        "1.0",
        "9007199254740993.0",
        "1e-400",
        "1E3",
        "NaN",
        "9223372036854775808",
        "1\\u002e0000000000000001",  # the point escaped
    ],
)
def test_a_page_with_an_integer_text_a_double_could_round_keeps_its_integers_as_text(
    text: str,
) -> None:
    page = body([row(1), row(2, {INTEGER: Raw(f'"{text}"')})])
    decoded = DECODER.decode(page)
    assert decoded is not None
    assert not type(decoded.rows.rows[0].metrics).INTEGERS_READ
    assert assert_same(page) is not None


def test_a_page_as_tiktok_writes_it_has_its_integers_read_by_the_decoder() -> None:
    rows = [row(1), row(2, {INTEGER: "-", NUMBER: "1234567.123456", STRING: "Q1 é e5"})]
    rows += [row(3, {INTEGER: "null"}), row(4, {INTEGER: "-0"}), row(5, {INTEGER: None})]
    page = body(rows)
    decoded = DECODER.decode(page)
    assert decoded is not None
    assert type(decoded.rows.rows[0].metrics).INTEGERS_READ
    assert assert_same(page) is not None


def test_an_empty_text_beside_nulls_in_a_number_column_is_null() -> None:
    """Found by the generated pages: "" was written as nothing ("spend":,) when the column
    also held a null and texts written as they are."""
    page = body([row(1, {NUMBER: None}), row(2, {NUMBER: ""}), row(3, {NUMBER: "0"})])
    lines = assert_same(page)
    assert lines is not None
    assert all(json.loads(line)["record"][NUMBER] is None for line in lines.splitlines()[:2])


def test_rows_missing_metrics_are_null_as_in_the_general_path() -> None:
    page = body([{"dimensions": row()["dimensions"], "metrics": {}}])
    assert assert_same(page) is not None


@pytest.mark.parametrize(
    "page",
    [
        body([row()], code=40002),
        body([row()], code="0"),  # the general path reads it; this one leaves it to it
        body([row()], request_id=None),
        body([row(metrics={NUMBER: Raw("1.10")})]),  # msgspec would keep the trailing zero
        body([row(metrics={STRING: 5})]),
        body([row(metrics={INTEGER: True})]),
        body([row(metrics={INTEGER: Raw("1e30")})]),  # a JSON number no integer holds
        body([row(ad_id=17)]),
        body([row(ad_id=None)]),
        body([{"dimensions": {"ad_id": "1", "stat_time_day": "2026-11-1"}, "metrics": {}}]),
        body([{"dimensions": {"ad_id": "1", "stat_time_day": "2026/11/01"}, "metrics": {}}]),
        body([{"dimensions": {"ad_id": "1"}, "metrics": {}}]),
        body([{"dimensions": row()["dimensions"]}]),
        b'{"code":0,"message":"OK","request_id":"1","data":{"list":"-","page_info":{}}}',
        b'{"code":0,"message":"OK","request_id":"1","data":"-"}',
        b"not json",
    ],
)
def test_a_page_it_cannot_read_exactly_is_left_to_the_general_decoding(page: bytes) -> None:
    assert DECODER.decode(page) is None


@pytest.mark.parametrize(
    "value", ["NaN", "Infinity", "-inf", "1e400", "-1e400", "1,234.5", "abc", " 1 "]
)
def test_a_number_it_cannot_type_exactly_leaves_the_batch_to_the_general_path(value: str) -> None:
    page = body([row(1), row(2, {NUMBER: value})])
    decoded = DECODER.decode(page)
    assert decoded is not None
    if value != " 1 ":
        assert FAST.encode_typed(decoded.rows.rows, ADVERTISER, False) is None
    assert assert_same(page) is not None


@pytest.mark.parametrize(
    "value",
    [
        *("-0", "-0.000", "0.000000", "0.0000000", "0.0000001", "1.1234567", "12.000"),
        *("007", "+5", ".5", "5.", "1E+2", "1\n2", "9" * 301, "9" * 302, ARABIC_FIVE),
    ],
)
def test_number_texts_written_as_they_are_or_typed_come_out_as_the_general_path(
    value: str,
) -> None:
    """A column of texts a Decimal writes unchanged is written as those texts; any other text
    in it makes the column typed as Decimal (or leaves it to the general path)."""
    assert assert_same(body([row(1), row(2, {NUMBER: value}), row(3, {NUMBER: "-"})])) is not None


def test_identities_are_the_hashes_of_the_row_key() -> None:
    """The client drops rows already read by these identities on typed pages and by the row
    key's hash on pages read as dicts: both must name a row alike."""
    rows = [row(1), row(2), row(2, ad_id="17")]
    page = body(rows)
    decoded = DECODER.decode(page)
    assert decoded is not None
    key = row_key(REPORT)
    assert decoded.rows.identities == [hash(key(r)) for r in rows]


def assert_typed_as_general(
    decoder: Any, builder: Any, fast: Any, page: bytes, stream: str
) -> None:
    """``page`` of another report than the module's is typed, and written as the general path
    writes it (whose helper names the module's stream)."""
    decoded = decoder.decode(page)
    assert decoded is not None
    lines = fast.encode_typed(decoded.rows.rows, ADVERTISER, False)
    assert lines is not None
    expected = general_lines(builder, msgspec.json.decode(page)["data"]["list"], False)
    expected = expected.replace(b'"stream":"ad_performance_daily"', f'"stream":"{stream}"'.encode())
    assert TIME_EXTRACTED.sub(b"", lines) == expected


def test_advertiser_reports_write_the_partitions_advertiser_id() -> None:
    decoder, builder, fast, _ = decoder_and_encoders("advertiser_performance_daily")
    page = body(
        [
            {
                "dimensions": {"advertiser_id": "999", "stat_time_day": "2026-11-01 00:00:00"},
                "metrics": {"spend": "3920.000", "impressions": "4486", "ctr": "-"},
            }
        ]
    )
    assert_typed_as_general(decoder, builder, fast, page, "advertiser_performance_daily")


def test_hourly_reports_write_the_hour_in_the_advertisers_time_zone() -> None:
    decoder, builder, fast, _ = decoder_and_encoders("ad_performance_hourly")
    page = body(
        [
            {
                "dimensions": {"ad_id": "1", "stat_time_hour": "2026-11-01 01:00:00"},
                "metrics": {"spend": "3.5", "impressions": "44"},
            }
        ]
    )
    assert_typed_as_general(decoder, builder, fast, page, "ad_performance_hourly")


NUMBER_TEXTS = st.sampled_from(
    [
        *("0.0000001", "0.000000", "1.1234567", "-0.000", "007", "1\n2", ".5", "5."),
        "1.10",
        "1E5",
        "1e400",
        "-0",
        "-0.0",
        "0",
        "5",
        "5.0",
        "3920.000",
        "1e-7",
        "123456789012345678901234",
    ]
)
VALUES = st.one_of(
    st.none(),
    st.sampled_from(["-", "", "0", "-0", "1e3", "12.0", "+5", "00012", "5_000", "1,234", "NaN"]),
    st.sampled_from(["-Infinity", "sNaN", " 1 ", "1e-2", ARABIC_FIVE, "0x10", "null"]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    NUMBER_TEXTS,
    NUMBER_TEXTS.map(Raw),
    st.from_regex(r"-?[0-9]{1,3}(\.[0-9]{0,8})?", fullmatch=True),
    st.booleans(),
    st.text(max_size=6),
    st.lists(st.integers(), max_size=1),
    # Texts a double would round: the integer metrics read on the worker must not take them.
    st.from_regex(r"-?[0-9]{1,17}(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,3})?", fullmatch=True),
    st.sampled_from(["1.0000000000000001", "0.99999999999999999", "9007199254740993.0"]),
    st.sampled_from(["1e-400", str(2**63 - 1), str(-(2**63) + 1), str(2**63), "NULL", "-0.0"]),
    st.sampled_from(['"\\u0031"', '"1\\u002e0000000000000001"', '"\\u002d"', "1.0", "-0"]).map(Raw),
)


@settings(deadline=None, max_examples=1000)
@given(st.lists(st.tuples(VALUES, VALUES, VALUES), min_size=1, max_size=4), st.booleans())
def test_generated_pages_come_out_as_the_general_path_writes_them(
    values: list[tuple[Any, Any, Any]], top_view: bool
) -> None:
    rows = [
        row(day, {INTEGER: integer, NUMBER: number, STRING: string})
        for day, (integer, number, string) in enumerate(values, start=1)
    ]
    assert_same(body(rows), top_view)


def test_the_time_extracted_is_the_only_difference_left_out() -> None:
    lines = FAST.encode_typed(DECODER.decode(body([row()])).rows.rows, ADVERTISER, False)
    assert lines is not None
    assert len(re.findall(rb'"time_extracted":"', lines)) == 1
