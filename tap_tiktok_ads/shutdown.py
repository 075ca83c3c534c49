"""Stopping a sync on SIGTERM or SIGINT: within seconds, with a non-zero exit, nothing lost.

The signal raises :class:`Interrupted` in the main thread, which does no request itself and only
waits on the scheduler's futures, in short slices (see ``scheduler.wait_for``), so the tap stops
within a fraction of a second and never waits for the request in flight. The tap
then writes out the records it buffered and a last STATE (bookmarks only ever cover whole date
windows, so resuming from it re-reads the window that was cut short) and exits 128 + the signal
number, like a shell reports a process killed by that signal.

A message is never cut in half: a signal that arrives while the main thread is writing one is
delivered again a moment later.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import CodeType, FrameType

from tap_tiktok_ads.writer import BufferedMsgSpecWriter

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
REDELIVERY_SECONDS = 0.05
# Code the main thread must not leave halfway through: writing Singer messages (one, or the
# report streams' batches of RECORD lines).
_WRITING: frozenset[CodeType] = frozenset(
    {
        BufferedMsgSpecWriter.write_message.__code__,
        BufferedMsgSpecWriter.write_record_lines.__code__,
        BufferedMsgSpecWriter.flush.__code__,
    }
)

log = logging.getLogger("tap-tiktok-ads")


class Interrupted(BaseException):
    """A stop signal arrived. A BaseException, like KeyboardInterrupt, so that no ``except
    Exception`` on the way (logging's own error handling included) swallows it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _writing(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code in _WRITING:
            return True
        frame = frame.f_back
    return False


def on_signal(signum: int, frame: FrameType | None) -> None:
    """The handler of SIGTERM and SIGINT (main thread): raise :class:`Interrupted` there."""
    if _writing(frame):
        threading.Timer(REDELIVERY_SECONDS, os.kill, (os.getpid(), signum)).start()
        return
    for stop_signal in STOP_SIGNALS:  # a second signal stops the process at once
        signal.signal(stop_signal, signal.SIG_DFL)
    raise Interrupted(signum)


def exit_after(stop: Interrupted) -> None:
    """Say why, flush what was written, and exit with ``stop.exit_code`` right away.

    ``os._exit``: a normal exit waits for the scheduler's requests in flight, each up to
    ``request_timeout``.
    """
    log.error(
        "Stopped by %s. The last STATE covers every record before it; run again with it to resume.",
        signal.Signals(stop.signum).name,
    )
    for handler in logging.getLogger().handlers + log.handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(stop.exit_code)
