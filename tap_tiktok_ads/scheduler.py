"""The run's one pool of request workers, shared by everything that works ahead.

Three things overlap requests: the later pages of one listing (``TikTokClient.get_pages``),
page 1 of the next report windows and of the next advertisers' listings and reports (stream
lookahead, :class:`Lookahead`), and whole small listings of the next advertisers (pixels,
creatives). They all run on one :class:`Scheduler`, owned by the client, so at most
``max_concurrent_requests`` tasks run at once whatever overlaps, and ending the run
(:meth:`Scheduler.shutdown`) ends them all.

A task that submits more work while it runs on a worker (a listing loaded ahead reading its
later pages) runs that work itself, at once, unless the work is ``detached`` (requested ahead,
never waited for by that worker): a worker never waits for a task queued behind it, so the
bounded pool cannot deadlock. A worker may wait for a task already running (a page requested
ahead and then needed), which ends on its own.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import CancelledError, Future
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

#: How long the thread that writes records waits on a future before looking again. A stop
#: signal's handler runs in that thread, but a wait without a timeout can miss the signal: one
#: the kernel hands to a worker thread, or one that arrives just before the wait begins, does not
#: interrupt it, and the run would hang until the request answers. A bounded wait returns to the
#: interpreter, which runs the handler.
SIGNAL_CHECK_SECONDS = 0.1


class SchedulerClosed(RuntimeError):
    """Work was submitted after the run's scheduler was shut down."""


class Cancellable(Protocol):
    def cancel(self) -> bool: ...


W = TypeVar("W", bound=Cancellable)


def _run(future: Future[T], task: Callable[[], T]) -> None:
    if not future.set_running_or_notify_cancel():
        return  # cancelled while it waited
    try:
        result = task()
    except BaseException as error:
        future.set_exception(error)
    else:
        future.set_result(result)


def wait_for(future: Future[Any]) -> None:
    """Return once ``future`` is done (a result, an exception or cancelled), handling a stop
    signal within :data:`SIGNAL_CHECK_SECONDS` meanwhile."""
    while True:
        try:  # exception(), not result(): a task's own TimeoutError is returned, not raised
            future.exception(timeout=SIGNAL_CHECK_SECONDS)
        except TimeoutError:
            continue
        except CancelledError:
            return
        return


def result_of(future: Future[T]) -> T:
    """``future.result()``, waited for as :func:`wait_for` does."""
    wait_for(future)
    return future.result()


class Scheduler:
    """At most ``workers`` tasks at once, started in the order they were submitted (a task
    submitted ``first`` before those waiting).

    Workers are daemon threads started as work arrives: a run that ends (or is stopped) while a
    request is in flight does not wait for its answer, which may take ``request_timeout``.
    """

    def __init__(self, workers: int, *, name: str = "tiktok-request") -> None:
        if workers < 1:
            raise ValueError(f"a scheduler needs at least one worker, not {workers}")
        self.workers = workers
        self._name = name
        self._queue: deque[tuple[Future[Any], Callable[[], Any]]] = deque()
        self._ready = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._local = threading.local()

    def submit(
        self, task: Callable[[], T], *, first: bool = False, detached: bool = False
    ) -> Future[T]:
        """Run ``task`` on a worker; the future holds its result or its exception.

        ``first``: before the tasks already waiting (the writer waits for this one now).
        ``detached``: queued even when submitted from a worker, for work that worker does not
        wait for (so it cannot deadlock the pool), such as pages requested ahead.
        """
        future: Future[T] = Future()
        if self.on_worker() and not detached:
            _run(future, task)
            return future
        with self._ready:
            if self._closed:
                raise SchedulerClosed("the run's request scheduler is shut down")
            if first:
                self._queue.appendleft((future, task))
            else:
                self._queue.append((future, task))
            if len(self._threads) < self.workers:
                self._start_worker()
            self._ready.notify()
        return future

    def in_order(self, tasks: Iterable[Callable[[], T]], *, ahead: int) -> InOrder[T]:
        """Each task's result, in the order of ``tasks``, with up to ``ahead`` of them started
        before their result is taken; the first ones are started at once, not when the first
        result is asked for (the caller has other work to do meanwhile, such as the rows of
        the page that said how many pages follow).

        A task's exception is raised here, at its turn. Leaving the loop early (``close``)
        cancels the tasks that have not started.
        """
        return InOrder(self, tasks, ahead)

    def on_worker(self) -> bool:
        """Whether the calling thread is one of this scheduler's workers."""
        return bool(getattr(self._local, "worker", False))

    def shutdown(self) -> None:
        """End the run's work: tasks not started are cancelled, workers stop after the task
        they are running, and nothing more may be submitted. Does not wait."""
        with self._ready:
            self._closed = True
            while self._queue:
                future, _ = self._queue.popleft()
                future.cancel()
            self._ready.notify_all()

    def _start_worker(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"{self._name}-{len(self._threads) + 1}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        self._local.worker = True
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if not self._queue:
                    return
                future, task = self._queue.popleft()
            _run(future, task)


class InOrder(Iterator[T]):
    """The results of :meth:`Scheduler.in_order`: an iterator that keeps up to ``ahead`` tasks
    started, from the moment it is made."""

    def __init__(self, scheduler: Scheduler, tasks: Iterable[Callable[[], T]], ahead: int) -> None:
        self._scheduler = scheduler
        self._source: Iterator[Callable[[], T]] = iter(tasks)
        self._ahead = max(1, ahead)
        self._pending: deque[Future[T]] = deque()
        self._start()

    def __next__(self) -> T:
        self._start()
        if not self._pending:
            raise StopIteration
        try:
            return result_of(self._pending.popleft())
        except BaseException:
            self.close()  # as a generator would end: the tasks after it are moot
            raise

    def close(self) -> None:
        """Cancel the tasks not started; nothing more is started."""
        self._source = iter(())
        while self._pending:
            self._pending.popleft().cancel()

    def _start(self) -> None:
        while len(self._pending) < self._ahead:
            task = next(self._source, None)
            if task is None:
                return
            self._pending.append(self._scheduler.submit(task))


class Lookahead(Generic[K, W]):
    """Work for the next keys of a known order (a stream's partitions), started before their
    turn, so that the requests of the next advertisers overlap the one being written.

    :meth:`take` is called in order from the thread that writes records; ``start`` runs there
    too and returns what it started (futures, or an object that cancels them). At most
    ``depth`` keys, the one taken included, have work started.
    """

    def __init__(self, depth: int) -> None:
        self.depth = max(1, depth)
        self._started: dict[K, W] = {}
        self._position = 0

    def take(self, key: K, order: Sequence[K], start: Callable[[K], W]) -> W:
        """The work for ``key``, started now if it was not; the next keys' work is started."""
        index = self._index(key, order)
        upcoming = order[index : index + self.depth] if index is not None else (key,)
        for later in self._started.keys() - set(upcoming):  # keys skipped: their work is moot
            self._started.pop(later).cancel()
        for next_key in upcoming:
            if next_key in self._started:
                continue
            try:
                self._started[next_key] = start(next_key)
            except Exception:
                if next_key == key:
                    raise
                # Said at the key's own turn, when it is started again, not in another's.
        return self._started.pop(key)

    def _index(self, key: K, order: Sequence[K]) -> int | None:
        """Where ``key`` is in ``order``, looked up from the last position first: keys come in
        order, and a run may have thousands of them."""
        for start in (self._position, 0):
            try:
                self._position = order.index(key, start)
            except ValueError:
                continue
            return self._position
        return None
