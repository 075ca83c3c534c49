"""The rate limiter, on a fake clock: how many requests a second holds, and when each may go."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tap_tiktok_ads.rate_limit import (
    ARRIVAL_MARGIN_SECONDS,
    LIMIT_WINDOW_SECONDS,
    RateLimiter,
)


class FakeTime:
    """A clock that only moves when the limiter sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


def limiter_on(fake: FakeTime, rate: float) -> RateLimiter:
    return RateLimiter(rate, clock=fake.clock, sleep=fake.sleep)


def sends(limiter: RateLimiter, fake: FakeTime, count: int) -> list[float]:
    """When each of ``count`` requests, all waiting, was let go."""
    times = []
    for _ in range(count):
        limiter.acquire()
        times.append(fake.now)
    return times


def most_in_a_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


def test_a_second_holds_the_limit_evenly_spaced_and_the_next_request_waits_for_the_margin() -> None:
    fake = FakeTime()
    times = sends(limiter_on(fake, 10), fake, 11)
    gaps = [b - a for a, b in pairwise(times)]
    assert gaps[:9] == pytest.approx([0.1] * 9)  # no burst
    assert times[10] - times[0] == pytest.approx(LIMIT_WINDOW_SECONDS + ARRIVAL_MARGIN_SECONDS)


def test_a_long_run_keeps_to_the_limit_in_every_window_with_the_margin() -> None:
    fake = FakeTime()
    times = sends(limiter_on(fake, 10), fake, 200)
    window = LIMIT_WINDOW_SECONDS + ARRIVAL_MARGIN_SECONDS
    assert most_in_a_window(times, window - 1e-9) == 10
    # Only the margin is lost: 20 windows' worth of requests take 20 windows and a bit.
    assert times[-1] - times[0] < 20 * window


def test_after_a_quiet_second_a_request_goes_at_once() -> None:
    fake = FakeTime()
    limiter = limiter_on(fake, 10)
    sends(limiter, fake, 10)
    fake.now += 2
    before = fake.now
    limiter.acquire()
    assert fake.now == before


def test_a_slowed_rate_allows_fewer_requests_a_second() -> None:
    fake = FakeTime()
    limiter = limiter_on(fake, 10)
    sends(limiter, fake, 10)
    limiter.slow_down()  # 8 a second
    times = sends(limiter, fake, 40)
    assert most_in_a_window(times, LIMIT_WINDOW_SECONDS) == 8


def test_a_rate_below_one_a_second_spaces_single_requests() -> None:
    fake = FakeTime()
    times = sends(limiter_on(fake, 0.5), fake, 3)
    assert [b - a for a, b in pairwise(times)] == pytest.approx([2 + ARRIVAL_MARGIN_SECONDS] * 2)


def test_a_rate_recovered_after_refusals_allows_its_whole_count_again() -> None:
    fake = FakeTime()
    limiter = limiter_on(fake, 10)
    limiter.slow_down()
    limiter.slow_down()
    for _ in range(2):  # two quiet minutes: back to 10, maybe as 9.999...
        fake.now += 60
        limiter.acquire()
    fake.now += 2
    times = sends(limiter, fake, 30)
    assert most_in_a_window(times, LIMIT_WINDOW_SECONDS) == 10


@given(
    rate=st.sampled_from([0.5, 1, 2.5, 6.4, 10, 50]),
    pauses=st.lists(st.floats(min_value=0, max_value=1.5), min_size=1, max_size=120),
)
def test_requests_asked_at_any_moments_never_exceed_the_limit(
    rate: float, pauses: list[float]
) -> None:
    """Whatever moments the requests are asked at, no second (plus the margin) holds more of
    them than the rate allows, they are never closer than ``1 / rate``, and a request that
    breaks neither rule is not held back."""
    fake = FakeTime()
    limiter = limiter_on(fake, rate)
    allowed = max(1, int(rate))
    window = max(LIMIT_WINDOW_SECONDS, allowed / rate) + ARRIVAL_MARGIN_SECONDS
    times: list[float] = []
    for pause in pauses:
        fake.now += pause
        asked = fake.now
        limiter.acquire()
        if times:
            assert fake.now - times[-1] >= 1 / rate - 1e-9
        earlier = times[-allowed:] if len(times) >= allowed else []
        if earlier:
            assert fake.now - earlier[0] >= window - 1e-9
        could_go = asked - times[-1] >= 1 / rate if times else True
        could_go = could_go and (not earlier or asked - earlier[0] >= window)
        if could_go:
            assert fake.now == asked
        times.append(fake.now)
