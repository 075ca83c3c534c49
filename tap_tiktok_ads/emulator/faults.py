"""Fault injection for the emulator: random faults by rate, scripted ones, and a QPS limit."""

from __future__ import annotations

import random
import threading
import time
from bisect import bisect_right, insort
from collections import deque
from dataclasses import dataclass, field

# Envelope codes with the messages TikTok's documentation gives for them.
CODE_MESSAGES = {
    40100: "Requests made too frequently, please try again later.",
    40133: "Advertiser's QPS reaches QPS limit for current path, request is restricted.",
    40016: "Requests too frequent.",
    61000: "Too many requests.",
    50000: "System error",
    50002: "Error processing request on TikTok side. Please see error message for details.",
    51000: "RPC error in downstream service.",
    60001: "System maintenance in progress.",
    40067: (
        "Your query is too large, please reduce the query size (e.g. fewer metrics or time "
        "range) and retry after a while."
    ),
}
HTTP_KINDS = {"http500": 500, "http502": 502, "http503": 503, "http504": 504}
# slow_body: the real answer, sent in small pieces spread over ``timeout_seconds``.
TRANSPORT_KINDS = ("drop", "timeout", "not_json", "truncated", "slow_body")
# empty_page: a paged answer whose list comes back empty although page_info says rows remain;
# page_info_off: the real rows, with a ``total_page`` of a billion.
PAGING_KINDS = ("empty_page", "page_info_off")
KINDS = (
    tuple(str(code) for code in CODE_MESSAGES) + tuple(HTTP_KINDS) + TRANSPORT_KINDS + PAGING_KINDS
)


@dataclass
class Faults:
    """Random faults: ``rates`` maps a kind (``"40100"``, ``"http503"``, ``"drop"``...) to a
    probability per API request. Deterministic for a seed and a request order."""

    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    timeout_seconds: float = 30.0
    paths: tuple[str, ...] = ()  # restrict to these paths; empty = every API path

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}; known: {KINDS}")
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self, path: str) -> str | None:
        if self.paths and path not in self.paths:
            return None
        with self._lock:
            roll = self._rng.random()
        cumulative = 0.0
        for kind, rate in self.rates.items():
            cumulative += rate
            if roll < cumulative:
                return kind
        return None


class Script:
    """Scripted faults per path, consumed in order before any random fault."""

    def __init__(self) -> None:
        self._queue: dict[str, deque[str]] = {}
        self._lock = threading.Lock()

    def add(self, path: str, kind: str, times: int = 1) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._queue.setdefault(path, deque()).extend([kind] * times)

    def take(self, path: str) -> str | None:
        with self._lock:
            queue = self._queue.get(path)
            return queue.popleft() if queue else None


# TikTok's QPS limit counts the requests that arrived in any one second.
WINDOW_SECONDS = 1.0


class QpsLimiter:
    """Refuses requests above ``qps`` in any one-second sliding window, like TikTok's 40100."""

    def __init__(self, qps: float | None) -> None:
        self.qps = qps
        self._times: list[float] = []  # arrivals of allowed requests, in order of arrival
        self._lock = threading.Lock()

    @staticmethod
    def clock() -> float:
        """The time a request arrives, as :meth:`allow` takes it."""
        return time.monotonic()

    def allow(self, arrived: float) -> bool:
        """Whether a request that arrived at ``arrived`` is within the limit: fewer than
        ``qps`` allowed requests arrived in the second before it. Requests are handled in
        parallel, so they may be checked a little out of the order they arrived in."""
        if not self.qps:
            return True
        with self._lock:
            times = self._times
            # Two windows of history: enough for a request checked a little late.
            del times[: bisect_right(times, arrived - 2 * WINDOW_SECONDS)]
            in_window = bisect_right(times, arrived) - bisect_right(times, arrived - WINDOW_SECONDS)
            if in_window >= self.qps:
                return False
            insort(times, arrived)
            return True
