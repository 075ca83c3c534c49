"""Client-side rate limiting: at most so many requests in any second, slowed after a refusal.

One limiter is shared by every thread of a run, so all its requests together keep under the
app's limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

# TikTok counts an app's requests in any one-second window, as they arrive: N requests sent
# within a second of each other are refused (40100) above a limit of N. So the limiter keeps a
# log of its last sends and lets a request go when the one sent N requests before it is at
# least a second (plus ARRIVAL_MARGIN_SECONDS) old. The margin is for arrival jitter: a request
# delayed a few milliseconds more on the way (the network, a busy machine) than the one sent N
# requests later would otherwise arrive less than a second before it. Every refusal slows the
# run down for a while, so the margin is wider than the delays usually seen.
LIMIT_WINDOW_SECONDS = 1.0
ARRIVAL_MARGIN_SECONDS = 0.05
# After a refusal (40100) the pace drops to this share of what it was, and it takes one step
# back after each RECOVERY_SECONDS without another refusal.
SLOW_DOWN_FACTOR = 0.8
RECOVERY_SECONDS = 60.0


class RateLimiter:
    """At most ``rate`` requests in any window of a second (plus the arrival margin), shared by
    all threads; ``slow_down`` lowers the rate after a refusal, and each minute without another
    refusal takes back one step, up to the configured rate.

    Requests are also spaced at least ``1 / rate`` apart, so that a run never sends a burst:
    at the limit, a second holds ``rate`` evenly spaced requests and the next one waits for the
    margin.
    """

    def __init__(
        self,
        requests_per_second: float,
        *,
        minimum: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = float(requests_per_second)
        self.rate = self.limit
        self.minimum = min(minimum, self.rate)
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()  # the last sends' times, oldest first
        self._last_change = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                self._recover(now)
                wait = self._wait(now)
                if wait <= 0:
                    self._sent.append(now)
                    return
            self._sleep(wait)

    def slow_down(self, factor: float = SLOW_DOWN_FACTOR) -> None:
        with self._lock:
            self.rate = max(self.minimum, self.rate * factor)
            self._last_change = self._clock()

    def _wait(self, now: float) -> float:
        """Seconds until a request may be sent: ``1 / rate`` after the last one, and a window
        after the one sent ``count`` requests before it, where ``count`` requests are allowed
        in each window (a rate below one a second allows one request in a longer window)."""
        # Rounded first: a rate slowed down and recovered (10 * 0.8 / 0.8) may be 9.999...
        count = max(1, math.floor(round(self.rate, 9)))
        window = max(LIMIT_WINDOW_SECONDS, count / self.rate)
        while len(self._sent) > count:
            self._sent.popleft()
        if not self._sent:
            return 0.0
        wait = self._sent[-1] + 1 / self.rate - now
        if len(self._sent) == count:
            wait = max(wait, self._sent[0] + window + ARRIVAL_MARGIN_SECONDS - now)
        return wait

    def _recover(self, now: float) -> None:
        """One step back towards the limit per quiet interval: a refusal caused by a moment of
        jitter (or by another job on the same app, now finished) does not slow a long run
        for good; if the refusals were real, the next one steps down again."""
        if self.rate < self.limit and now - self._last_change >= RECOVERY_SECONDS:
            self.rate = min(self.limit, self.rate / SLOW_DOWN_FACTOR)
            self._last_change = now
