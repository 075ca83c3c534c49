"""Report date windows: page 1 of windows requested ahead, the timeouts a window may spend."""

from __future__ import annotations

import weakref
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from typing_extensions import override

from tap_tiktok_ads.paging import Answer
from tap_tiktok_ads.scheduler import current_rank, ranked, wait_for

if TYPE_CHECKING:
    from tap_tiktok_ads.client import TikTokClient
    from tap_tiktok_ads.streams.reports import ReportStream

Window = tuple[date, date]
Windows = list[Window]
REPORT_PATH = "/report/integrated/get/"


class HandedOver(Future[Answer]):
    """Page 1 of a window, answered, handed to the window's reading once and then let go.

    The reading's callers keep the future they were given until the window is read whole;
    holding the answer itself, it would keep page 1's rows (a thousand of them) that long.
    """

    def __init__(self, answered: Future[Answer]) -> None:
        super().__init__()
        self._answered: Future[Answer] | None = answered

    @override
    def done(self) -> bool:
        return True

    @override
    def exception(self, timeout: float | None = None) -> BaseException | None:
        return None

    @override
    def result(self, timeout: float | None = None) -> Answer:
        answered, self._answered = self._answered, None
        if answered is None:
            raise RuntimeError("page 1 of a window is read once")
        return answered.result()


def _release(client: TikTokClient, listings: list[dict[str, Any]]) -> None:
    """Let go of the pages started ahead for these windows' listings and never taken."""
    for params in listings:
        client.release_started(REPORT_PATH, params)


class WindowsAhead:
    """One advertiser's windows and page 1 of those requested ahead, per pass (the TopView
    pass's page is None when the advertiser has no TopView)."""

    def __init__(
        self,
        stream: ReportStream,
        advertiser_id: str,
        base: dict[str, Any],
        today: date,
        windows: Windows,
    ) -> None:
        self.stream = stream
        self.advertiser_id = advertiser_id
        self.base = base
        self.today = today
        self.windows = windows
        self._first_pages: dict[tuple[int, bool], Future[Any]] = {}
        self._rank = current_rank()  # the advertiser's, when its work is started ahead
        # Page 1 of each window started, as asked: once these windows are done with (read,
        # or never to be: a failed advertiser, a stopped stream), any later page started
        # ahead for them and not taken is let go.
        self._listings: list[dict[str, Any]] = []
        weakref.finalize(self, _release, stream.client, self._listings).atexit = False

    def start(self, index: int, count: int, *, top_view: bool = False) -> None:
        """Request page 1 of windows ``index`` .. ``index + count - 1`` not requested yet, of
        the default pass (and of the TopView pass with ``top_view``)."""
        stream, base, advertiser_id = self.stream, self.base, self.advertiser_id
        for upcoming in range(index, min(len(self.windows), index + count)):
            window = self.windows[upcoming]
            if (upcoming, False) not in self._first_pages:
                with ranked((*self._rank, upcoming, 0)):
                    self._first_pages[upcoming, False] = stream.first_page(
                        base, advertiser_id, window
                    )
                self._listings.append(stream.page_params(base, *window))
            if top_view and (upcoming, True) not in self._first_pages:
                with ranked((*self._rank, upcoming, 1)):  # after the default pass's pages
                    self._first_pages[upcoming, True] = stream.top_view_first_page(
                        base, advertiser_id, window
                    )

    def first_page(self, index: int, top_view: bool) -> Future[Answer] | None:
        """Page 1 of window ``index`` of one pass, if it was requested ahead (once); its
        failure is raised where the window is read."""
        future = self._first_pages.pop((index, top_view), None)
        if future is None:
            return None
        wait_for(future)
        if future.cancelled() or future.exception() is not None:
            return future
        if future.result() is not None:
            return HandedOver(future)
        return None  # no TopView page was asked for: the pass reads its own

    def cancel(self) -> bool:
        cancelled = [future.cancel() for future in self._first_pages.values()]
        _release(self.stream.client, self._listings)
        return all(cancelled)


@dataclass
class TimeoutBudget:
    """Timed-out requests a date window (halves included) may still make."""

    left: int


def window_of(params: dict[str, Any]) -> str:
    """A query's dates, for messages: ``start..end``, or ``lifetime``."""
    if params.get("query_lifetime"):
        return "lifetime"
    return f"{params.get('start_date')}..{params.get('end_date')}"
