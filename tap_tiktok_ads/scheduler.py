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

import heapq
import itertools
import threading
import weakref
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import CancelledError, Future
from contextlib import contextmanager
from contextvars import ContextVar
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


#: When the work submitted now will be needed, as positions in the order the thread that
#: writes records goes through it (a partition's, then one of its date windows', then a page's):
#: the smallest first; () is what that thread reads now. Work inherits the rank of the task
#: that submits it.
Rank = tuple[int, ...]
_rank: ContextVar[Rank] = ContextVar("tap_tiktok_ads_rank", default=())


def current_rank() -> Rank:
    """The rank work submitted now is given."""
    return _rank.get()


@contextmanager
def ranked(rank: Rank) -> Iterator[None]:
    """Work submitted in this block is given ``rank`` (see :data:`Rank`)."""
    token = _rank.set(rank)
    try:
        yield
    finally:
        _rank.reset(token)


class Cancellable(Protocol):
    def cancel(self) -> bool: ...


W = TypeVar("W", bound=Cancellable)


def _run(future: Future[T], task: Callable[[], T]) -> None:
    if future.set_running_or_notify_cancel():  # else cancelled while it waited
        _run_started(future, task)


def _run_started(future: Future[T], task: Callable[[], T]) -> None:
    """Run ``task`` for ``future``, already marked running."""
    try:
        result = task()
    except BaseException as error:
        future.set_exception(error)
    else:
        future.set_result(result)


class Task(Future[T]):
    """A task's future: waiting for it while it is still queued makes it urgent."""

    def __init__(self, scheduler: Scheduler, rank: Rank) -> None:
        super().__init__()
        self.scheduler = scheduler
        self.rank = rank
        self.urgent = False

    def needed(self) -> None:
        """Someone waits for this task: it runs next, whatever the answers held."""
        if not (self.urgent or self.running() or self.done()):
            self.scheduler.promote(self)


def wait_for(future: Future[Any]) -> None:
    """Return once ``future`` is done (a result, an exception or cancelled), handling a stop
    signal within :data:`SIGNAL_CHECK_SECONDS` meanwhile."""
    if isinstance(future, Task):
        future.needed()
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
    """At most ``workers`` tasks at once, the most urgent first: a task submitted ``first`` or
    waited for, then by :data:`Rank`, then in the order they were submitted.

    Answers decoded ahead cost memory until the thread that writes records is done with them
    (:meth:`hold`): while those held weigh ``hold_limit`` or more, only urgent tasks start. When
    the writer outpaces the network, little is held and work starts as it comes; when the
    network outpaces the writer, what is held is bounded, and the work the writer waits for
    still starts at once.

    Workers are daemon threads started as work arrives: a run that ends (or is stopped) while a
    request is in flight does not wait for its answer, which may take ``request_timeout``.
    """

    def __init__(
        self, workers: int, *, name: str = "tiktok-request", hold_limit: float = float("inf")
    ) -> None:
        if workers < 1:
            raise ValueError(f"a scheduler needs at least one worker, not {workers}")
        self.workers = workers
        self.hold_limit = hold_limit
        self._name = name
        # (not urgent, rank, order, task's future, task); an entry whose future has started
        # or was cancelled is skipped (a task made urgent is queued again).
        self._queue: list[tuple[bool, Rank, int, Task[Any], Callable[[], Any]]] = []
        self._order = itertools.count()
        self._ready = threading.Condition()  # reentrant: a held answer may be let go inside
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._held = 0.0
        self._local = threading.local()

    def submit(
        self, task: Callable[[], T], *, first: bool = False, detached: bool = False
    ) -> Future[T]:
        """Run ``task`` on a worker; the future holds its result or its exception.

        ``first``: before the tasks already waiting (the writer waits for this one now).
        ``detached``: queued even when submitted from a worker, for work that worker does not
        wait for (so it cannot deadlock the pool), such as pages requested ahead.
        """
        future: Task[T] = Task(self, current_rank())
        if self.on_worker() and not detached:
            _run(future, task)
            return future
        future.urgent = first
        with self._ready:
            if self._closed:
                raise SchedulerClosed("the run's request scheduler is shut down")
            self._push(future, task)
            if len(self._threads) < self.workers:
                self._start_worker()
            self._ready.notify()
        return future

    def promote(self, future: Task[Any]) -> None:
        """Queue ``future``'s task again as urgent, if it has not started."""
        with self._ready:
            for entry in self._queue:
                if entry[3] is future:
                    break
            else:
                return
            if future.urgent or future.running() or future.done():
                return
            future.urgent = True
            self._push(future, entry[4])
            self._ready.notify()

    def hold(self, answer: object, weight: float) -> None:
        """Count ``answer`` (a decoded page, say) as held until it is let go (collected)."""
        with self._ready:
            self._held += weight
        weakref.finalize(answer, self._let_go, weight).atexit = False

    def _let_go(self, weight: float) -> None:
        with self._ready:
            self._held -= weight
            self._ready.notify_all()

    def _push(self, future: Task[Any], task: Callable[[], Any]) -> None:
        entry = (not future.urgent, future.rank, next(self._order), future, task)
        heapq.heappush(self._queue, entry)

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
            queued, self._queue = self._queue, []
            for entry in queued:
                entry[3].cancel()
            self._ready.notify_all()

    def _start_worker(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"{self._name}-{len(self._threads) + 1}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _next(self) -> tuple[Task[Any], Callable[[], Any]] | None:
        """The next task to run, waiting while only tasks the held answers keep back are
        queued; None once shut down."""
        with self._ready:
            while True:
                queue = self._queue
                while queue and (queue[0][3].done() or queue[0][3].running()):
                    heapq.heappop(queue)  # cancelled, or queued again as urgent and run
                if self._closed and not queue:
                    return None
                if queue and (queue[0][3].urgent or self._held < self.hold_limit):
                    _, _, _, future, task = heapq.heappop(queue)
                    if future.set_running_or_notify_cancel():
                        return future, task
                    continue
                self._ready.wait()

    def _work(self) -> None:
        self._local.worker = True
        while True:
            picked = self._next()
            if picked is None:
                return
            future, task = picked
            token = _rank.set(future.rank)
            try:
                _run_started(future, task)
            finally:
                _rank.reset(token)


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
        for offset, next_key in enumerate(upcoming):
            if next_key in self._started:
                continue
            rank = current_rank() if index is None else (index + offset,)
            try:
                with ranked(rank):  # the next keys' work after this key's
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
