"""RECORD lines of a batch of report rows, typed and encoded by msgspec in a few C calls.

:class:`RecordBuilder` converts each value in Python (about 11 us per row with the default
metrics) and singer-sdk then writes each record on its own (about as much again). Here a batch
of rows is typed by ``msgspec.convert`` (lax mode: ``"4486"`` -> 4486, ``"3920.000"`` ->
Decimal) into one struct per record and encoded as RECORD lines in one call.
Rows decoded into typed structs on the request worker (typed_pages.py) skip the dicts: their
records are built column by column (:meth:`FastRecords.encode_typed`).

The result must equal the general path's, value for value. So this path only takes a batch it
can type exactly as :class:`RecordBuilder` would; anything else (a metric msgspec cannot type,
a number beyond the range a target stores, NaN, a list where a number belongs) and the caller
builds that batch with :class:`RecordBuilder`, which decides what to write and what to warn
about, as it always has.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from itertools import chain, repeat
from operator import attrgetter, itemgetter
from typing import Annotated, Any, cast

import msgspec

from tap_tiktok_ads.dates import DAY_LENGTH, day_part
from tap_tiktok_ads.placeholders import MISSING
from tap_tiktok_ads.reports.catalog import Metric
from tap_tiktok_ads.reports.records import MAX_INTEGER, MAX_NUMBER, RecordBuilder, to_string

# Integers a target stores; beyond them the general path writes null and warns.
BoundedInteger = Annotated[int, msgspec.Meta(ge=-MAX_INTEGER, le=MAX_INTEGER)]
FIELD_TYPES: dict[str, Any] = {
    "integer": BoundedInteger | None,
    "number": Decimal | None,
    "string": str | None,
}
NUMBERS = list[Decimal | None]
# Number texts that a Decimal writes as they are (str(Decimal(text)) == text), one a line: no sign
# but "-", no leading zero, no exponent, at most six decimals (a seventh makes str() write 1E-7),
# and at most 300 digits before the point (far below the largest double, about 1.8e308). TikTok
# writes its money and rates this way ("35.600", "2.20"). Possessive quantifiers: the match never
# backtracks, which halves its time.
_WRITTEN_NUMBER = r"-?(?:0|[1-9][0-9]{0,299}+)(?:\.[0-9]{1,6}+)?+"
AS_WRITTEN = re.compile(f"{_WRITTEN_NUMBER}(?:\n{_WRITTEN_NUMBER})*+")
# Integer texts that int() reads exactly and the general path writes back unchanged, one a
# line: no sign but "-", no leading zero, no "-0", at most 19 digits (MAX_INTEGER's range is
# checked when they are read).
_WRITTEN_INTEGER = r"(?:-?[1-9][0-9]{0,18}+|0)"
AS_WRITTEN_INTEGERS = re.compile(f"{_WRITTEN_INTEGER}(?:\n{_WRITTEN_INTEGER})*+")
INTEGERS = list[BoundedInteger | None]
# For _numbers_as_written: each digit as "0", and 301 of them.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_TOO_LONG = b"0" * 301
_raw_numbers = msgspec.json.Decoder(list[msgspec.Raw]).decode
# The placeholders a typed row may hold (a null is one already).
PLACEHOLDERS = frozenset(value for value in MISSING if value is not None)
_encoder = msgspec.json.Encoder(decimal_format="number")
_day_of = itemgetter(slice(0, DAY_LENGTH))
_dimensions_of = attrgetter("dimensions")
_metrics_of = attrgetter("metrics")
# msgspec reads the text "-0" as Decimal 0 (as an integer first), where Decimal("-0") keeps the
# sign that the general path writes: the one text it types otherwise (found by the differential
# test in tests/reports/test_fast_records.py).
NEGATIVE_ZERO = "-0"


class FastRecords:
    """Encodes the RECORD lines of one stream's rows for one request shape (its metrics).

    Field order follows :meth:`RecordBuilder.build`: dimensions, metrics, ``advertiser_id``
    (unless a dimension), then the pass key, so the lines are byte for byte the SDK's.
    """

    def __init__(
        self,
        builder: RecordBuilder,
        metrics: Sequence[Metric],
        stream_name: str,
        pass_key: str,
        version: int | None,
    ) -> None:
        self.builder = builder
        # Dimensions by how RecordBuilder converts them: the day cut from TikTok's time, text
        # ("-" and "" are null), and any other (an hour in the advertiser's time zone).
        self._dimension_kinds = (
            [name for name, convert in builder.dimensions if convert is day_part],
            [name for name, convert in builder.dimensions if convert is to_string],
            [(n, c) for n, c in builder.dimensions if c is not day_part and c is not to_string],
        )
        self.pass_key = pass_key
        types = {metric.name: FIELD_TYPES[metric.json_type] for metric in metrics}
        dimensions = [name for name, _ in builder.dimensions]
        fields: list[tuple[str, Any, None]] = [(name, str | None, None) for name in dimensions]
        fields += [(name, types[name], None) for name, _ in builder.metrics]
        if "advertiser_id" not in dimensions:
            fields.append(("advertiser_id", str, None))
        fields.append((pass_key, bool, None))
        self.record_type, self._records_type = _record_types(tuple(fields))
        self.numbers = [name for name, _ in builder.metrics if types[name] is FIELD_TYPES["number"]]
        self._dimension_names = tuple(dimensions)
        # Typed rows hold each dimension as text the row key accepts, never a placeholder: a
        # text dimension is written as it is, the day is cut from TikTok's time, any other
        # is converted as RecordBuilder converts it.
        self._typed_dimension_converters = [
            (index, _day_of if convert is day_part else convert)
            for index, (_, convert) in enumerate(builder.dimensions)
            if convert is not to_string
        ]
        self._metric_names = tuple(name for name, _ in builder.metrics)
        self._number_positions = [
            i for i, (name, _) in enumerate(builder.metrics) if name in set(self.numbers)
        ]
        self._integer_positions = [
            i
            for i, (name, _) in enumerate(builder.metrics)
            if types[name] is FIELD_TYPES["integer"]
        ]
        self._other_positions = [
            i
            for i in range(len(builder.metrics))
            if i not in self._number_positions and i not in self._integer_positions
        ]
        self._partition_position = (
            dimensions.index("advertiser_id") if "advertiser_id" in dimensions else None
        )
        self._numbers_of = attrgetter(*self.numbers) if self.numbers else None
        self.stream_name = stream_name
        self.version = version
        self._message_type = _message_type(self.record_type, version is not None)

    def encode(
        self, rows: Sequence[dict[str, Any]], advertiser_id: str, top_view: bool
    ) -> bytes | None:
        """The RECORD lines of ``rows``, or None when the general path must build them."""
        merged = self._merged(rows, advertiser_id, top_view)
        if merged is None:
            return None
        try:
            records = msgspec.convert(merged, self._records_type, strict=False)
        except msgspec.ValidationError:
            return None
        if not records or not self._numbers_in_range(records):
            return None if records else b""
        return self._lines(records)

    def encode_typed(self, rows: Sequence[Any], advertiser_id: str, top_view: bool) -> bytes | None:
        """The RECORD lines of rows decoded by :class:`PageDecoder` for this request shape, or
        None when the general path must build them (see :func:`as_dicts`).

        Built column by column (a value's conversion is the same for a whole column), so no
        Python code runs per row: TikTok's placeholders made null in the columns that hold
        any, the dimension columns converted as RecordBuilder converts them, the integers as
        the page decoder read them (or, on a page it left them as text, read here), the number
        columns written as TikTok's texts when a Decimal writes them unchanged, else typed by
        msgspec from them, then one struct per record.
        """
        if not rows:
            return b""
        metric_rows = list(map(_metrics_of, rows))
        types = set(map(type, metric_rows))
        metrics_type = type(metric_rows[0])
        if (
            len(types) != 1
            or type(rows[0].dimensions).__struct_fields__ != self._dimension_names
            or metrics_type.__struct_fields__ != self._metric_names
        ):
            return None
        astuple = msgspec.structs.astuple
        count = len(rows)
        dimensions: list[Iterable[Any]] = [
            _placeholder_null(column)
            for column in zip(*map(astuple, map(_dimensions_of, rows)), strict=True)
        ]
        for index, convert in self._typed_dimension_converters:
            dimensions[index] = map(convert, dimensions[index])
        metrics: list[Any] = list(zip(*map(astuple, metric_rows), strict=True))
        for index in self._other_positions:
            metrics[index] = _placeholder_null(metrics[index])
        if metrics_type.INTEGERS_READ:  # read by the page decoder, where exact, and in range
            for index in self._integer_positions:
                metrics[index] = _placeholder_null(metrics[index])
        elif self._integer_positions:
            integers = _integers(
                [_placeholder_null(metrics[i]) for i in self._integer_positions], count
            )
            if integers is None:
                return None
            for index, read in zip(self._integer_positions, integers, strict=True):
                metrics[index] = read
        positions = self._number_positions
        written = _numbers_as_written([metrics[index] for index in positions])
        if written is not None:  # the usual batch: every number as TikTok wrote it
            for index, column in zip(positions, written, strict=True):
                metrics[index] = column
        elif not self._numbers_by_column(metrics):
            return None
        partition: list[Iterable[Any]] = [repeat(advertiser_id, count)]
        if self._partition_position is not None:
            dimensions[self._partition_position] = partition.pop()
        columns = [*dimensions, *metrics, *partition, repeat(top_view, count)]
        return self._lines(list(map(self.record_type, *columns)))

    def _numbers_by_column(self, metrics: list[Any]) -> bool:
        """Each number column of ``metrics`` (texts, TikTok's placeholders among them) written
        as its texts where a Decimal writes them unchanged, else typed as Decimal by msgspec;
        False when one cannot be typed exactly (the general path must build the batch)."""
        numbers: list[list[Any]] = []
        for index in self._number_positions:
            # A placeholder fails the written-as-is match ("" is left out with the nulls).
            column: list[Any] | None = _as_written(metrics[index])
            if column is None:
                texts = _placeholder_null(metrics[index])
                if NEGATIVE_ZERO in texts:
                    return False
                try:
                    column = msgspec.convert(texts, NUMBERS, strict=False)
                except msgspec.ValidationError:
                    return False
                numbers.append(column)
            metrics[index] = column
        return _in_range(numbers)

    def _merged(
        self, rows: Sequence[dict[str, Any]], advertiser_id: str, top_view: bool
    ) -> list[dict[str, Any]] | None:
        """Each row's metrics, converted dimensions, advertiser id and pass, in one dict.

        TikTok's "no value" placeholders ("-", "") become null first: msgspec cannot type them
        as numbers, and the general path writes them as null whatever the metric's type.
        """
        days, strings, others = self._dimension_kinds
        partition = {"advertiser_id": advertiser_id, self.pass_key: top_view}
        merged: list[dict[str, Any]] = []
        append = merged.append
        for row in rows:
            metrics = row.get("metrics") or {}
            if type(metrics) is not dict:
                return None  # the general path says what is wrong with it
            values = metrics.values()
            if NEGATIVE_ZERO in values:
                return None
            if "-" in values or "" in values:
                metrics = {key: _no_placeholder(value) for key, value in metrics.items()}
            record = dict(metrics)
            keys = row["dimensions"]  # checked by the stream's row key before it got here
            for name in days:
                value = keys.get(name)
                record[name] = value[:DAY_LENGTH] if type(value) is str else day_part(value)
            for name in strings:
                value = keys.get(name)
                if type(value) is str:
                    record[name] = None if value in MISSING else value
                else:
                    record[name] = to_string(value)
            for name, convert in others:
                record[name] = convert(keys.get(name))
            record.update(partition)
            append(record)
        return merged

    def _numbers_in_range(self, records: list[Any]) -> bool:
        """No NaN or infinity, nothing a double cannot hold: else the general path decides."""
        if self._numbers_of is None:
            return True
        values = list(map(self._numbers_of, records))  # a value, or a tuple of them, per record
        return _in_range([values] if len(self.numbers) == 1 else values)

    def _lines(self, records: list[Any]) -> bytes:
        """One RECORD line per record, each record in a message struct written as the SDK
        writes its RECORD messages (the time as the SDK's encoder writes it)."""
        moment = msgspec.json.decode(_encoder.encode(datetime.now(timezone.utc)))
        count = len(records)
        fields = [repeat("RECORD", count), repeat(self.stream_name, count), records]
        if self.version is not None:
            fields.append(repeat(self.version, count))
        fields.append(repeat(moment, count))
        return _encoder.encode_lines(list(map(self._message_type, *fields)))


def _as_written(column: Sequence[str | None]) -> list[msgspec.Raw | None] | None:
    """A number column whose every text is written as the general path writes its Decimal,
    as those texts, or None (then typed as Decimal): checked in one match over the column."""
    nulls = None in column  # placeholders are null already
    texts: Sequence[str] = list(filter(None, column)) if nulls else cast(Sequence[str], column)
    if not texts:
        return [None] * len(column)
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1 or not AS_WRITTEN.fullmatch(joined):
        return None  # a text holds a newline, or is not one the Decimal writes as it is
    if not nulls:
        return list(map(msgspec.Raw, texts))
    # "" was left out with the nulls (a placeholder): null, as in the general path
    return [msgspec.Raw(text) if text else None for text in column]


def _numbers_as_written(columns: list[Sequence[Any]]) -> list[list[msgspec.Raw]] | None:
    """Number columns whose every value is a text the general path's Decimal writes as it is,
    as those texts, or None (then each column is looked at on its own). One check and one
    decoding for all of them: the texts, between commas, must be JSON numbers (one leading
    "-", no leading zero, digits on both sides of a point), with no exponent, no more than
    six decimals and no more than 300 digits before the point, which is AS_WRITTEN's language;
    msgspec reads them as raw JSON numbers, written back as they are."""
    if not columns:
        return []
    texts = list(chain.from_iterable(columns))
    try:
        joined = ",".join(texts)
    except TypeError:  # nulls (placeholders are text still), or numbers sent as JSON numbers
        return None
    shape = joined.encode().translate(_DIGITS_AS_ZERO)
    if (
        joined.count(",") != len(texts) - 1  # a text holds a comma
        or shape.translate(None, b"-0.,")  # a character no such text has (an exponent...)
        or b".0000000" in shape  # a seventh decimal
        or _TOO_LONG in shape  # more than 300 digits (before the point: at most six after)
    ):
        return None
    try:
        raws = _raw_numbers(f"[{joined}]")  # JSON's grammar of numbers; "" and "-" fail it
    except msgspec.DecodeError:
        return None
    count = len(columns[0])
    return [raws[start : start + count] for start in range(0, len(raws), count)]


def _integers(columns: list[Sequence[Any]], count: int) -> list[list[int | None]] | None:
    """Integer columns of ``count`` values read as whole numbers, when each text is one that
    the general path reads and writes back unchanged and each number is in a target's range;
    else None. One match and one conversion for all of them: per column, the calls cost more
    than the work."""
    values = list(chain.from_iterable(columns))
    try:
        texts: Sequence[str] = values
        joined = "\n".join(texts)
    except TypeError:  # nulls, or integers sent as JSON numbers
        texts = [value for value in values if type(value) is str]
        joined = "\n".join(texts)
    if texts and (
        joined.count("\n") != len(texts) - 1 or not AS_WRITTEN_INTEGERS.fullmatch(joined)
    ):
        return None
    try:
        read = msgspec.convert(values, INTEGERS, strict=False)
    except msgspec.ValidationError:
        return None
    return [read[start : start + count] for start in range(0, len(read), count)]


def _placeholder_null(column: Sequence[Any]) -> Sequence[Any]:
    """A column with TikTok's placeholders written as null (most columns hold none)."""
    return column if PLACEHOLDERS.isdisjoint(column) else list(map(_no_placeholder, column))


def _in_range(columns: Iterable[Iterable[Any]]) -> bool:
    """No NaN or infinity in these numbers (columns, or rows of them), nothing a double cannot
    hold (else the general path decides); zeros and nulls are left out before comparing."""
    values = list(filter(None, chain.from_iterable(columns)))
    if not values:
        return True
    try:
        return bool(min(values) >= -MAX_NUMBER and max(values) <= MAX_NUMBER)
    except InvalidOperation:  # NaN does not compare
        return False


def as_dicts(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """Typed rows as the general path reads rows, for a batch :meth:`FastRecords.encode_typed`
    leaves to it: every metric as the text TikTok wrote, but integers the page decoder read
    (which the general path reads as it reads their texts)."""
    to_builtins = msgspec.to_builtins
    return [
        {"dimensions": to_builtins(row.dimensions), "metrics": to_builtins(row.metrics)}
        for row in rows
    ]


@functools.lru_cache(maxsize=256)
def _record_types(fields: tuple[tuple[str, Any, None], ...]) -> tuple[Any, Any]:
    """The record struct of these fields and the list of them, made once per request shape
    rather than per advertiser (a run may read thousands)."""
    # Untracked by the garbage collector, as typed rows are (reports/typed_pages.py): a record
    # holds only text, numbers and booleans.
    record_type = msgspec.defstruct("ReportRecord", fields, gc=False)
    return record_type, list[record_type]  # type: ignore[valid-type]


@functools.lru_cache(maxsize=256)
def _message_type(record_type: Any, versioned: bool) -> Any:
    """A RECORD message of these records, its fields in the order the SDK writes them."""
    fields: list[tuple[str, Any]] = [("type", str), ("stream", str), ("record", record_type)]
    if versioned:
        fields.append(("version", int))
    fields.append(("time_extracted", str))
    return msgspec.defstruct("RecordMessage", fields, gc=False)


def _no_placeholder(value: Any) -> Any:
    return None if value in MISSING else value
