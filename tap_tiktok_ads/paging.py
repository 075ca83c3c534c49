"""TikTok's page-number listings: answers and their rows, page_info checked, pages counted.

A listing is read page by page; when a later page disagrees with what page 1's ``page_info``
promised, the listing changed while it was read (:class:`PagingShifted`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tap_tiktok_ads.errors import show

# A listing whose page_info cannot be trusted is read page by page up to this bound, whatever
# it claims: 10,000 pages of 1,000 rows is far beyond any one report window TikTok answers.
MAX_PAGES = 10_000


class MalformedRow(ValueError):
    """Raised by a ``key`` function of :meth:`TikTokClient.get_pages` for a row it cannot use;
    the client turns it into a :class:`MalformedAnswerError` naming the request."""


@dataclass(frozen=True)
class KeyedRows:
    """A page's rows as a caller's page decoder typed them, with each row's identity (the hash
    of what its ``key`` would return), computed where the page was decoded."""

    rows: list[Any]
    identities: list[int]

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class DecodedPage:
    """A successful answer read by a page decoder: ``data`` without its ``list``, which is in
    ``rows``."""

    data: dict[str, Any]
    request_id: Any
    rows: KeyedRows


# Reads a successful answer's body straight into typed rows, or returns None to leave the body
# to the general decoding (any other answer, or one it cannot read exactly as that would).
PageDecode = Callable[[bytes], DecodedPage | None]
Rows = list[dict[str, Any]] | KeyedRows


@dataclass(frozen=True)
class Answer:
    """A successful envelope: its ``data`` object and TikTok's ``request_id`` (and the rows,
    when a page decoder read them)."""

    data: dict[str, Any]
    request_id: str | None
    rows: KeyedRows | None = None


class PagingShifted(Exception):
    """The listing changed between two pages of one read."""


def _count(value: Any) -> int | None:
    """A page_info count, or None when it is missing, negative or not a whole number."""
    return value if type(value) is int and value >= 0 else None


@dataclass(frozen=True)
class PageShape:
    """page_info's ``total_number`` and ``total_page`` (None when unusable)."""

    total_number: int | None
    total_page: int | None

    def pages(self, page_size: int) -> int | None:
        """The number of pages, when page_info agrees with itself; else None."""
        if self.total_number is None or self.total_page is None:
            return None
        needed = -(-self.total_number // page_size)
        return needed if max(needed, 1) == max(self.total_page, 1) else None


def later_pages(answer: Answer, page_size: int) -> int:
    """How many pages follow ``answer``, page 1 of a listing, when its page_info adds up and it
    holds as many rows as that promises; else 0, as then the listing is read one page at a
    time or again from page 1, and pages requested ahead would be wasted."""
    info = answer.data.get("page_info")
    if not isinstance(info, dict):
        return 0
    shape = PageShape(_count(info.get("total_number")), _count(info.get("total_page")))
    pages = shape.pages(page_size)
    rows = answer.rows if answer.rows is not None else answer.data.get("list")
    if pages is None or shape.total_number is None or not isinstance(rows, (list, KeyedRows)):
        return 0
    return pages - 1 if len(rows) == min(page_size, shape.total_number) else 0


def page_shape(answer: Answer, malformed: Callable[[str, Answer], Exception]) -> PageShape:
    """The answer's page_info counts; ``malformed`` makes the error when it is not an object."""
    info = answer.data.get("page_info")
    if info is None:
        return PageShape(None, None)
    if not isinstance(info, dict):
        raise malformed(f"`page_info` is {show(info)}, not an object", answer)
    return PageShape(_count(info.get("total_number")), _count(info.get("total_page")))


def page_rows(answer: Answer, malformed: Callable[[str, Answer], Exception]) -> Rows:
    """The answer's rows; ``malformed`` makes the error when ``list`` is not a list of objects."""
    if answer.rows is not None:
        return answer.rows
    rows = answer.data.get("list")
    if rows is None:
        return []
    if not isinstance(rows, list):
        raise malformed(f"`list` is {show(rows)}, not a list", answer)
    for row in rows:
        if type(row) is not dict:
            raise malformed(f"`list` holds {show(row)}, not an object", answer)
    return rows


def checked_rows(
    rows: Rows, shape: PageShape, page: int, page_size: int, first_shape: PageShape
) -> Rows:
    """The page's rows, or PagingShifted if the listing changed since page 1."""
    if shape != first_shape:
        raise PagingShifted(
            f"page {page} reports {shape.total_number} rows, page 1 said {first_shape.total_number}"
        )
    promised = min(page_size, (shape.total_number or 0) - (page - 1) * page_size)
    if len(rows) < promised:
        raise PagingShifted(f"page {page} held {len(rows)} of {promised} rows")
    return rows


def read_until_short(
    fetch: Callable[[int], Answer],
    malformed: Callable[[str, Answer], Exception],
    rows: Rows,
    shape: PageShape,
    page_size: int,
) -> Iterator[tuple[Answer, Rows]]:
    """Pages 2, 3... until one holds fewer than ``page_size`` rows (an empty one included).

    A ``total_number`` that is usable still bounds the pages (one more than it needs) and
    must be reached: a short page before it means the listing shifted.
    """
    total = shape.total_number
    limit = MAX_PAGES if total is None else min(MAX_PAGES, -(-total // page_size) + 1)
    read, page = len(rows), 1
    while len(rows) >= page_size:
        page += 1
        answer = fetch(page)
        rows = page_rows(answer, malformed)
        if page >= limit and len(rows) >= page_size:
            raise malformed(
                f"page {page} is still full although page_info counts {total} rows"
                if total is not None
                else f"{MAX_PAGES} full pages and no end; raise `page_size`",
                answer,
            )
        read += len(rows)
        yield answer, rows
    if total is not None and read < total:
        raise PagingShifted(f"the pages held {read} rows, page_info said {total}")
