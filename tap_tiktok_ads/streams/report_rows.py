"""Report rows: each row's identity (its dimension values, checked), rows already emitted
dropped, pages as dicts, and the pass a record comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import Any

from tap_tiktok_ads.dates import TIME_LENGTHS
from tap_tiktok_ads.errors import show
from tap_tiktok_ads.paging import KeyedRows, MalformedRow, Rows
from tap_tiktok_ads.reports.definitions import ReportDefinition
from tap_tiktok_ads.reports.fast_records import as_dicts
from tap_tiktok_ads.streams.report_top_view import TOP_VIEW_KEY


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
        dimensions: Any = row.get("dimensions")  # untrusted: the checks below judge it
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


def unseen(
    rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], Any], emitted: set[int]
) -> list[dict[str, Any]]:
    """Rows not emitted yet, remembered as emitted. Hashes of the row keys, not keys, keep
    100k-row windows small; they are the identities the client drops rows by when it reads a
    query's pages against ``emitted``, so both ways of reading a window agree."""
    fresh = []
    for row in rows:
        identity = hash(key(row))
        if identity not in emitted:
            emitted.add(identity)
            fresh.append(row)
    return fresh


def rows_of(pages: Iterable[Rows]) -> Iterator[dict[str, Any]]:
    """Every row of ``pages``, as dicts."""
    for page in pages:
        yield from dict_rows(page)


def dict_rows(page: Rows) -> list[dict[str, Any]]:
    """A page's rows as dicts (read without a page decoder, they are already)."""
    return as_dicts(page.rows) if isinstance(page, KeyedRows) else page


def with_pass(record: dict[str, Any], top_view: bool) -> dict[str, Any]:
    """The record, saying which pass (TopView or TikTok's default) it comes from."""
    record[TOP_VIEW_KEY] = top_view
    return record
