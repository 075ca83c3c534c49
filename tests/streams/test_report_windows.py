"""Page 1 of report windows requested ahead: handed over once, and let go with its windows."""

from __future__ import annotations

import gc
from concurrent.futures import Future
from datetime import date
from typing import Any, cast

import pytest

from tap_tiktok_ads.paging import Answer
from tap_tiktok_ads.scheduler import wait_for
from tap_tiktok_ads.streams.report_windows import REPORT_PATH, WindowsAhead

WINDOWS = [(date(2026, 1, 1), date(2026, 1, 30)), (date(2026, 1, 31), date(2026, 3, 1))]


class Client:
    def __init__(self) -> None:
        self.released: list[tuple[str, dict[str, Any]]] = []

    def release_started(self, path: str, params: dict[str, Any]) -> None:
        self.released.append((path, params))


class Stream:
    """What WindowsAhead asks of its report stream."""

    def __init__(self) -> None:
        self.client = Client()

    def page_params(self, base: dict[str, Any], start: date, end: date) -> dict[str, Any]:
        return {**base, "start_date": start.isoformat(), "end_date": end.isoformat(), "page": 1}

    def first_page(self, base: dict[str, Any], advertiser_id: str, window: Any) -> Future[Answer]:
        future: Future[Answer] = Future()
        future.set_result(Answer({"list": [], "start": window[0].isoformat()}, "req"))
        return future


def windows_ahead(stream: Stream) -> WindowsAhead:
    return WindowsAhead(cast(Any, stream), "1", {"advertiser_id": "1"}, date(2026, 3, 1), WINDOWS)


def test_windows_done_with_let_go_the_pages_started_ahead_for_them() -> None:
    stream = Stream()
    ahead = windows_ahead(stream)
    ahead.start(0, 2)
    assert stream.client.released == []
    del ahead  # the advertiser's reading ended (or failed): its windows are done with
    gc.collect()
    assert stream.client.released == [
        (REPORT_PATH, stream.page_params({"advertiser_id": "1"}, *window)) for window in WINDOWS
    ]


def test_windows_cancelled_let_go_the_pages_started_ahead_for_them() -> None:
    stream = Stream()
    ahead = windows_ahead(stream)
    ahead.start(0, 1)
    ahead.cancel()  # the advertiser was skipped
    assert [params["start_date"] for _, params in stream.client.released] == ["2026-01-01"]


def test_page_1_is_handed_over_once() -> None:
    stream = Stream()
    ahead = windows_ahead(stream)
    ahead.start(0, 1)
    first = ahead.first_page(0, top_view=False)
    assert first is not None
    wait_for(first)
    assert first.result().data["start"] == "2026-01-01"
    with pytest.raises(RuntimeError, match="once"):
        first.result()  # let go: the reading's callers keep the future, not the page
    assert ahead.first_page(0, top_view=False) is None
