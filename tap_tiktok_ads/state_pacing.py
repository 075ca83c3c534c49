"""STATE messages paced by time, so their output grows linearly with the advertisers.

Every STATE carries every advertiser's bookmarks, and the streams offer one per partition (and
report streams one per date window): written as offered, a run's STATE output grows with the
square of the advertisers (a 1,000-advertiser run wrote 512 MB of STATE for 50k records), and
Meltano stores every one it sees. :class:`PacedStateWriter` writes an offered STATE only when
the last one is old enough; one held back is replaced by the next offer and written at the first
offer after the pause, and always at the end of the sync, failed or not (see
:meth:`PacedStateTap.sync_and_write_last_state`) and on SIGTERM / SIGINT.

What a held STATE costs: a ``kill -9`` (or a crash that writes nothing more) resumes from the
older STATE written before it. That is correct, only slower: bookmarks move only after whole
date windows, and every record covered by the older STATE was written before it, so the resumed
run reads again the windows the held STATE covered, at most ``hold_seconds`` of work.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from singer_sdk.singerlib import StateMessage
from typing_extensions import override

from tap_tiktok_ads.sdk_compat import MessageWriter, StateWriterBase, StateWriterHook


@dataclass(frozen=True)
class StatePacing:
    """How long a written STATE holds back the next one.

    ``min_seconds`` at least, and longer for a large state so that STATE output stays under
    ``max_bytes_per_second``: with a fixed pause the bytes per second would grow with the state,
    that is with the advertisers, and a run's length grows with them too.
    """

    min_seconds: float
    max_bytes_per_second: float

    def hold_seconds(self, state_bytes: int) -> float:
        return max(self.min_seconds, state_bytes / self.max_bytes_per_second)


#: 5 s keeps a resume close to where a killed run was; 64 KB/s of STATE is noise next to
#: the records (a 1,000-advertiser state of about 1 MB goes out every ~16 s).
DEFAULT_PACING = StatePacing(min_seconds=5.0, max_bytes_per_second=64_000.0)
#: Tests: every STATE offered is written (the unpaced behaviour).
EVERY_STATE = StatePacing(min_seconds=0.0, max_bytes_per_second=math.inf)
#: Tests: only the first STATE and the one at the end of the sync are written.
FIRST_AND_LAST = StatePacing(min_seconds=math.inf, max_bytes_per_second=math.inf)


class PacedStateWriter(StateWriterBase):
    """singer-sdk's state writer, writing at most one STATE per pause (:class:`StatePacing`).

    The state offered is the tap's live state dict; one held back is written as it is when
    written, which is the state the SDK would offer at that point: never ahead of the records
    written before it (the message writer flushes records on every STATE).
    """

    #: Injectable for tests (never a wall-clock race): the pacing and the clock it reads.
    pacing: ClassVar[StatePacing] = DEFAULT_PACING
    clock: ClassVar[Callable[[], float]] = time.monotonic

    def __init__(self, message_writer: MessageWriter) -> None:
        super().__init__(message_writer)
        self._held: Mapping[str, Any] | None = None
        self._last_bytes: bytes | str | None = None
        self._next_due = -math.inf  # the first STATE goes out at once

    @override
    def write_state(self, state: Mapping[str, Any]) -> None:
        if type(self).clock() < self._next_due:
            self._held = state  # no copy, no comparison: a held offer costs nothing
            return
        self.write_now(state)

    def flush(self) -> None:
        """Write the STATE held back, if any (the end of a sync)."""
        if self._held is not None:
            self.write_now(self._held)

    def write_now(self, state: Mapping[str, Any], *, even_if_unchanged: bool = False) -> None:
        """Write ``state`` whatever the pause, unless it is the one written last.

        ``even_if_unchanged``: a STATE also writes out the records buffered before it, which
        a stop signal needs even when no bookmark moved since the last STATE.
        """
        self._held = None
        message = StateMessage(value=state)
        encoded = self.message_writer.format_message(message)  # str, or bytes with msgspec
        if isinstance(encoded, bytearray):  # msgspec's writer reuses one buffer: keep a copy
            encoded = bytes(encoded)
        # singer-sdk's writer skips an unchanged state too
        if encoded == self._last_bytes and not even_if_unchanged:
            return
        self.message_writer.write_message(message)
        self._last_bytes = encoded
        self._next_due = type(self).clock() + type(self).pacing.hold_seconds(len(encoded))


class PacedStateTap(StateWriterHook):
    """A tap whose STATE messages are paced by :class:`PacedStateWriter`.

    singer-sdk's ``Tap.sync_all`` is ``@final``: a sync runs through
    :meth:`sync_and_write_last_state`, which writes the STATE held back last when ``sync_all``
    ends, whether it succeeded or failed, so the last STATE of a run is never lost.
    """

    @override
    def create_state_writer(self, message_writer: MessageWriter) -> PacedStateWriter:
        return PacedStateWriter(message_writer)

    def sync_and_write_last_state(self) -> None:
        """``sync_all``, then the STATE held back, however the sync ends."""
        try:
            self.sync_all()
        finally:
            self.paced_state_writer.flush()

    @property
    def paced_state_writer(self) -> PacedStateWriter:
        writer = self.state_writer
        assert isinstance(writer, PacedStateWriter)
        return writer
