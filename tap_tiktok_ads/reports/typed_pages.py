"""Report pages decoded straight from the answer's bytes into typed rows, on the request worker.

The general path decodes a page into dicts and types each value later. Here one msgspec call
(lax mode: ``"4486"`` -> 4486) turns the page into one struct per row, with each row's identity
(the hash of its dimension values, as ``row_key`` makes it) computed in the same pass, so the
thread that writes records only builds and encodes them (:meth:`FastRecords.encode_typed`).

This path only takes a page it can read exactly as the general path would; for anything else
(an error code, a row the row key would refuse, a value msgspec would read differently, such
as a metric sent as a JSON number) :meth:`PageDecoder.decode` returns None and the page is
decoded into dicts as before, so every check and message of the general path still applies.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from operator import attrgetter, itemgetter
from typing import Annotated, Any, Literal

import msgspec

from tap_tiktok_ads.dates import TIME_LENGTHS
from tap_tiktok_ads.paging import DecodedPage, KeyedRows
from tap_tiktok_ads.reports.fast_records import BoundedInteger

# Metrics stay as TikTok wrote them here (its placeholders "-" and "" included), typed per
# column by the batch encoder as the general path types them (integers too, on a page whose
# integers are not read on the worker: see INTEGER_READ). msgspec would read texts
# differently: typed as Decimal it also takes a JSON number and reads 1.10 as Decimal("1.10")
# where the general path reads the float 1.1. An integer sent as a JSON number is read as the
# general path reads it.
METRIC_TYPES: dict[str, Any] = {
    "integer": str | int | None,
    "number": str | None,
    "string": str | None,
}
# Integer metrics are read on the worker, as numbers (no text held per value), where msgspec's
# lax reading is exact: a text of digits alone ("4486", "-0"), read as int() reads it. A text
# with a point or an exponent ("1.0000000000000001") it would read through a double, rounded
# onto a whole number where the general path finds none: such a text (or a JSON number with
# a point) is read as a float, which no float satisfies (above 1 and below 0), so the page
# fails, and is decoded again with its integers as text. So does a number out of a target's
# range, NaN or infinity. "null" is null to both, and the placeholders stay as text.
_NO_FLOAT = Annotated[float, msgspec.Meta(gt=1, lt=0)]
INTEGER_READ: Any = BoundedInteger | _NO_FLOAT | Literal["-", ""] | None


# A time dimension must have one of the lengths the row key accepts (dates.TIME_LENGTHS) and
# "-" after the year: any other value is left to the general path, which names the problem.
_year_end = itemgetter(slice(4, 5))


class PageDecoder:
    """Decodes the report pages of one request shape (dimensions and metrics)."""

    def __init__(self, dimensions: Sequence[str], metrics: Sequence[tuple[str, str]]) -> None:
        self.dimensions = tuple(dimensions)
        dimension_fields = [(name, str) for name in self.dimensions]
        # Rows hold only text and numbers, so never a reference cycle: untracked by the garbage
        # collector (gc=False), a page's thousand rows do not prompt collections, which would
        # walk every object of the process once they outlive a young generation.
        key_type = msgspec.defstruct("ReportKey", dimension_fields, frozen=True, gc=False)
        # Two decoders: integers read on this worker (the usual page), else kept as text for
        # the batch encoder to read. The rows' metrics type says which they hold.
        self._decode_read = self._decoder(key_type, metrics, read=True)
        self._decode_texts = self._decoder(key_type, metrics, read=False)
        self._dimensions_of = attrgetter("dimensions")
        self._times = [
            (attrgetter(name), TIME_LENGTHS[name])
            for name in self.dimensions
            if name in TIME_LENGTHS
        ]

    @staticmethod
    def _decoder(
        key_type: Any, metrics: Sequence[tuple[str, str]], *, read: bool
    ) -> Callable[[bytes], Any]:
        types = {**METRIC_TYPES, "integer": INTEGER_READ} if read else METRIC_TYPES
        metric_fields = [(name, types[kind], None) for name, kind in metrics]
        values_type = msgspec.defstruct(
            "ReportMetrics", metric_fields, gc=False, namespace={"INTEGERS_READ": read}
        )
        row_type = msgspec.defstruct(
            "ReportRow", [("dimensions", key_type), ("metrics", values_type)], gc=False
        )
        data_type = msgspec.defstruct(
            "ReportData",
            [("list", list[row_type] | None, None), ("page_info", Any, None)],  # type: ignore[valid-type]
        )
        envelope = msgspec.defstruct(
            "ReportEnvelope",
            [("code", Any), ("data", data_type | None, None), ("request_id", Any, None)],
        )
        return msgspec.json.Decoder(envelope, strict=False).decode

    def decode(self, body: bytes) -> DecodedPage | None:
        """The page, or None when the general path must read it."""
        try:
            envelope: Any = self._decode_read(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            try:
                envelope = self._decode_texts(body)
            except (msgspec.ValidationError, msgspec.DecodeError):
                return None
        data = envelope.data
        # Only a success with its usual fields is read here: the general path says what any
        # other answer means.
        if type(envelope.code) is not int or envelope.code != 0 or envelope.request_id is None:
            return None
        if data is None or data.list is None or data.page_info is None:
            return None
        rows = data.list
        keys = list(map(self._dimensions_of, rows))
        for value_of, lengths in self._times:
            times = list(map(value_of, keys))
            if not set(map(len, times)) <= lengths or not set(map(_year_end, times)) <= {"-"}:
                return None
        identities = list(map(hash, map(msgspec.structs.astuple, keys)))
        page = {"page_info": data.page_info}
        return DecodedPage(page, envelope.request_id, KeyedRows(rows, identities))


@functools.lru_cache(maxsize=256)
def page_decoder(dimensions: tuple[str, ...], metrics: tuple[tuple[str, str], ...]) -> PageDecoder:
    """The decoder of one request shape, made once per run rather than per advertiser."""
    return PageDecoder(dimensions, metrics)
