"""The run's one pool of request workers: bounded, ordered, cancellable, failures surface."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future
from contextlib import contextmanager
from functools import partial

import pytest

from tap_tiktok_ads.scheduler import (
    Lookahead,
    Scheduler,
    SchedulerClosed,
    current_rank,
    ranked,
    result_of,
    wait_for,
)

WAIT = 10  # seconds: only reached when something is broken


class Gate:
    """Tasks that block until released, counting how many run at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.started = threading.Semaphore(0)

    def task(self, value: int) -> Callable[[], int]:
        def run() -> int:
            with self._lock:
                self.running += 1
                self.most = max(self.most, self.running)
            self.started.release()
            self.release.wait(WAIT)
            with self._lock:
                self.running -= 1
            return value

        return run


def test_no_more_tasks_run_at_once_than_workers() -> None:
    scheduler = Scheduler(3)
    gate = Gate()
    futures = [scheduler.submit(gate.task(i)) for i in range(10)]
    for _ in range(3):
        assert gate.started.acquire(timeout=WAIT)
    assert not gate.started.acquire(timeout=0.2)  # the fourth waits for a free worker
    gate.release.set()
    assert [f.result(WAIT) for f in futures] == list(range(10))
    assert gate.most == 3
    scheduler.shutdown()


def test_results_come_in_the_order_of_the_tasks() -> None:
    scheduler = Scheduler(8)
    done_in_reverse = [threading.Event() for _ in range(8)]

    def task(index: int) -> Callable[[], int]:
        def run() -> int:  # later tasks finish first
            if index + 1 < len(done_in_reverse):
                done_in_reverse[index + 1].wait(WAIT)
            done_in_reverse[index].set()
            return index

        return run

    assert list(scheduler.in_order((task(i) for i in range(8)), ahead=8)) == list(range(8))
    scheduler.shutdown()


def test_in_order_starts_at_most_ahead_tasks_before_they_are_taken() -> None:
    scheduler = Scheduler(8)
    started: list[int] = []

    def task(index: int) -> Callable[[], int]:
        def run() -> int:
            started.append(index)
            return index

        return run

    results = scheduler.in_order((task(i) for i in range(20)), ahead=3)
    assert next(results) == 0
    assert len(started) <= 3
    assert list(results) == list(range(1, 20))
    scheduler.shutdown()


def test_in_order_starts_its_first_tasks_before_the_first_result_is_asked_for() -> None:
    scheduler = Scheduler(4)
    gate = Gate()
    results = scheduler.in_order((gate.task(i) for i in range(6)), ahead=3)
    for _ in range(3):  # the caller is busy elsewhere: its pages are on their way meanwhile
        assert gate.started.acquire(timeout=WAIT)
    assert not gate.started.acquire(timeout=0.2)  # no more than ahead
    gate.release.set()
    assert list(results) == list(range(6))
    scheduler.shutdown()


def test_closing_an_ordered_loop_never_iterated_cancels_its_tasks() -> None:
    scheduler = Scheduler(1)
    gate = Gate()
    results = scheduler.in_order((gate.task(i) for i in range(4)), ahead=3)
    assert gate.started.acquire(timeout=WAIT)  # the first runs; the others wait
    results.close()
    gate.release.set()
    assert scheduler.submit(lambda: "free").result(WAIT) == "free"
    assert gate.most == 1
    assert not gate.started.acquire(timeout=0.2)  # none of the others ran
    scheduler.shutdown()


def test_a_failing_task_raises_in_the_consumer_at_its_turn() -> None:
    scheduler = Scheduler(2)

    def fail() -> int:
        raise ValueError("answer 3 was malformed")

    tasks = [lambda: 1, lambda: 2, fail, lambda: 4]
    results = scheduler.in_order(tasks, ahead=4)
    assert [next(results), next(results)] == [1, 2]
    with pytest.raises(ValueError, match="answer 3 was malformed"):
        next(results)
    scheduler.shutdown()


def test_shutdown_cancels_work_not_started_and_refuses_more() -> None:
    scheduler = Scheduler(1)
    gate = Gate()
    running = scheduler.submit(gate.task(1))
    assert gate.started.acquire(timeout=WAIT)
    waiting = [scheduler.submit(gate.task(i)) for i in range(2, 5)]
    scheduler.shutdown()
    assert all(future.cancelled() for future in waiting)
    with pytest.raises(CancelledError):
        waiting[0].result(WAIT)
    with pytest.raises(SchedulerClosed):
        scheduler.submit(gate.task(5))
    gate.release.set()
    assert running.result(WAIT) == 1  # the one running finishes; nothing else starts
    assert gate.most == 1


def test_leaving_an_ordered_loop_early_cancels_what_has_not_started() -> None:
    scheduler = Scheduler(1)
    gate = Gate()
    results = scheduler.in_order((gate.task(i) for i in range(5)), ahead=5)
    gate.release.set()
    assert next(results) == 0
    results.close()
    gate.release.clear()
    follow_up = scheduler.submit(lambda: "free")
    assert follow_up.result(WAIT) == "free"  # no cancelled page kept the worker
    scheduler.shutdown()


def test_work_submitted_from_a_worker_runs_there_so_the_pool_cannot_deadlock() -> None:
    scheduler = Scheduler(1)

    def listing() -> list[int]:  # a task reading its later pages through the same pool
        return list(scheduler.in_order((partial(int, page) for page in range(3)), ahead=3))

    assert scheduler.submit(listing).result(WAIT) == [0, 1, 2]
    scheduler.shutdown()


class Started:
    def __init__(self, key: str) -> None:
        self.key = key
        self.cancelled = False

    def cancel(self) -> bool:
        self.cancelled = True
        return True


def test_lookahead_starts_the_next_keys_once_and_in_order() -> None:
    order = ["a", "b", "c", "d", "e"]
    started: list[str] = []

    def start(key: str) -> Started:
        started.append(key)
        return Started(key)

    lookahead: Lookahead[str, Started] = Lookahead(3)
    taken = [lookahead.take(key, order, start).key for key in order]
    assert taken == order
    assert started == order  # each key's work started once, in the keys' order
    lookahead_two: Lookahead[str, Started] = Lookahead(3)
    started.clear()
    lookahead_two.take("a", order, start)
    assert started == ["a", "b", "c"]


def test_lookahead_cancels_the_work_of_keys_skipped() -> None:
    order = ["a", "b", "c", "d"]
    made: dict[str, Started] = {}

    def start(key: str) -> Started:
        made[key] = Started(key)
        return made[key]

    lookahead: Lookahead[str, Started] = Lookahead(2)
    lookahead.take("a", order, start)
    lookahead.take("c", order, start)  # "b" was skipped
    assert made["b"].cancelled
    assert not made["c"].cancelled
    assert not made["d"].cancelled  # started ahead, still to come


def test_lookahead_reports_a_failure_to_start_at_the_key_that_failed() -> None:
    order = ["a", "b"]

    def start(key: str) -> Future[str]:
        if key == "b":
            raise ValueError("b cannot start")
        future: Future[str] = Future()
        future.set_result(key)
        return future

    lookahead: Lookahead[str, Future[str]] = Lookahead(2)
    assert lookahead.take("a", order, start).result() == "a"
    with pytest.raises(ValueError, match="b cannot start"):
        lookahead.take("b", order, start)


class Stopped(Exception):
    pass


def start_and_wait(sender: threading.Thread, future: Future[int]) -> int:
    sender.start()
    return result_of(future)


def test_a_signal_another_thread_receives_is_handled_while_waiting_on_a_future() -> None:
    """The kernel may hand a process's signal to any of its threads. Python runs the handler
    in the main thread when that thread next looks, which a wait without a timeout never does:
    a SIGTERM would wait for the request in flight. The handler must run during the wait."""
    never: Future[int] = Future()
    done_when_handled: list[bool] = []

    def handler(signum: int, frame: object) -> None:
        done_when_handled.append(never.done())
        raise Stopped

    previous = signal.signal(signal.SIGUSR1, handler)

    def send_from_this_thread() -> None:
        # After a pause, so that the main thread is most likely waiting already (were it not,
        # the handler would run all the same: the test cannot fail on a slow machine).
        time.sleep(0.2)
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)

    sender = threading.Thread(target=send_from_this_thread)
    give_up = threading.Timer(WAIT, never.set_result, (0,))  # only reached when broken
    give_up.start()
    try:
        with pytest.raises(Stopped):
            start_and_wait(sender, never)
    finally:
        give_up.cancel()
        sender.join()
        signal.signal(signal.SIGUSR1, previous)
    assert done_when_handled == [False]


def test_waiting_for_a_future_ends_with_it_whatever_its_outcome() -> None:
    failed: Future[int] = Future()
    failed.set_exception(TimeoutError("the task's own timeout"))
    cancelled: Future[int] = Future()
    cancelled.cancel()
    answered: Future[int] = Future()
    threading.Timer(0.2, answered.set_result, (7,)).start()
    wait_for(failed)
    wait_for(cancelled)
    assert result_of(answered) == 7
    with pytest.raises(TimeoutError, match="own timeout"):
        result_of(failed)
    with pytest.raises(CancelledError):
        result_of(cancelled)


@contextmanager
def only_worker_busy() -> Iterator[tuple[Scheduler, Callable[[], None]]]:
    """A one-worker scheduler whose worker is taken, and the call that frees it."""
    scheduler = Scheduler(1)
    gate = Gate()
    try:
        busy = scheduler.submit(gate.task(0))
        assert gate.started.acquire(timeout=WAIT)

        def free() -> None:
            gate.release.set()
            busy.result(timeout=WAIT)

        yield scheduler, free
    finally:
        scheduler.shutdown()


def test_work_submitted_first_runs_before_the_work_already_waiting() -> None:
    order: list[str] = []
    with only_worker_busy() as (scheduler, free):
        later = [scheduler.submit(partial(order.append, name)) for name in ("ahead-1", "ahead-2")]
        now = scheduler.submit(partial(order.append, "needed-now"), first=True)
        free()
        for future in [*later, now]:
            future.result(timeout=WAIT)
    assert order == ["needed-now", "ahead-1", "ahead-2"]


def test_work_waiting_starts_in_the_order_it_will_be_needed() -> None:
    order: list[str] = []
    with only_worker_busy() as (scheduler, free):
        waiting = []
        for rank, name in [((2,), "next advertiser"), ((1, 1), "window 2"), ((1,), "window 1")]:
            with ranked(rank):
                waiting.append(scheduler.submit(partial(order.append, name)))
        waiting.append(scheduler.submit(partial(order.append, "read now")))  # rank ()
        free()
        for future in waiting:
            future.result(timeout=WAIT)
    assert order == ["read now", "window 1", "window 2", "next advertiser"]


def test_work_submitted_by_a_task_inherits_its_rank() -> None:
    scheduler = Scheduler(2)
    try:
        with ranked((3, 1)):
            outer = scheduler.submit(
                lambda: scheduler.submit(current_rank, detached=True).result(WAIT)
            )
        assert outer.result(WAIT) == (3, 1)
    finally:
        scheduler.shutdown()


class Page:
    """Something held: a decoded page."""


def test_answers_held_past_the_limit_hold_back_work_until_let_go() -> None:
    scheduler = Scheduler(2, hold_limit=10)
    ran = threading.Event()
    try:
        page = Page()
        scheduler.hold(page, 10)
        ahead = scheduler.submit(ran.set)
        assert not ran.wait(0.2)  # held back while the page is held
        del page  # the writer is done with it
        assert ran.wait(WAIT)
        ahead.result(WAIT)
    finally:
        scheduler.shutdown()


def test_work_waited_for_starts_whatever_is_held() -> None:
    scheduler = Scheduler(1, hold_limit=10)
    page = Page()
    try:
        scheduler.hold(page, 10)
        ahead = scheduler.submit(lambda: "ahead")
        needed = scheduler.submit(lambda: "needed")
        assert result_of(needed) == "needed"  # waited for: started though the page is held
        assert not ahead.done()
        first = scheduler.submit(lambda: "first", first=True)
        assert first.result(WAIT) == "first"
    finally:
        scheduler.shutdown()
    assert page is not None  # held the whole test
