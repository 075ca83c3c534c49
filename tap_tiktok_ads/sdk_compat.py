"""The singer-sdk internals this tap relies on, fenced in one module.

singer-sdk 0.54 offers no public hook for these; each entry says which private contract it
relies on and why the tap needs it. ``tests/test_sdk_compat.py`` checks every contract against
the installed singer-sdk, so an upgrade that changes one fails there, by name, instead of
quietly changing bookmarks or records. The streams touch no other private SDK name; the tap's
config readers (``_env_var_config``, ``_validate_config`` in tap.py) are the ones left outside.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime, timezone
from types import FrameType
from typing import Any

from singer_sdk import Stream, Tap
from singer_sdk.helpers.types import Context
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib import RecordMessage
from typing_extensions import override

from tap_tiktok_ads.state_pacing import PacedStateWriter
from tap_tiktok_ads.writer import BufferedMsgSpecWriter

#: The key under which singer-sdk keeps a partition's unfinished bookmark.
PROGRESS_MARKERS_KEY = "progress_markers"


def write_state(stream: Stream) -> None:
    """Write a STATE message now, if the state changed since the last one.

    Contract: ``Stream._write_state_message()`` writes the whole tap state through the tap's
    state writer unless ``state_manager.is_flushed`` (no record since the last STATE). Report
    streams move a bookmark when a date window is complete, between two of the SDK's own STATE
    messages, and offer it at once so that a failure later in the run does not read the window
    again (:class:`PacedStateTap` writes it, or a later state, within its pause).
    """
    stream._write_state_message()


def set_bookmark(state: dict[str, Any], replication_key: str | None, value: str) -> None:
    """Save ``value`` as the bookmark of one partition state, as the SDK would.

    Contract: a partition's bookmark is ``replication_key`` / ``replication_key_value`` in its
    state, and a ``progress_markers`` entry left there would be promoted over it when the SDK
    finalizes the partition. Report bookmarks are set here directly (they move per window, not
    per record), so any marker goes.
    """
    state["replication_key"] = replication_key
    state["replication_key_value"] = value
    state.pop(PROGRESS_MARKERS_KEY, None)


class BookmarksSetByStream(Stream):
    """A stream whose bookmarks move when it says so (:func:`set_bookmark`), never per record.

    Contract: ``Stream._sync_records`` calls ``_increment_stream_state(record, context=...)``
    after every record it writes, and that call is what advances the replication key. Report
    rows of a window arrive in no order of day, and the bookmark may move only once the whole
    window is emitted, so the per-record increment is switched off.
    """

    @override
    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Context | None = None
    ) -> None:
        return None


class BookmarkValueHook(Stream):
    """A stream that chooses the bookmark value each record offers (:meth:`bookmark_record`).

    Contract: as for :class:`BookmarksSetByStream`, ``_increment_stream_state`` receives each
    written record and saves its replication key value. Entity streams clamp a ``modify_time``
    after the run's start (a bad row, a skewed clock): saved as is, it would skip every later
    change.
    """

    def bookmark_record(self, record: dict[str, Any], context: Context | None) -> dict[str, Any]:
        """The record whose replication key the bookmark may move to (``record`` by default)."""
        return record

    @override
    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Context | None = None
    ) -> None:
        super()._increment_stream_state(
            self.bookmark_record(latest_record, context), context=context
        )


class PreparedRecordMessages(Stream):
    """RECORD messages without the SDK's per-record property pruning and type conformance.

    Contract: ``Stream._write_record_message`` turns each record into messages with
    ``_generate_record_messages(record)``, which prunes deselected properties and conforms
    types before applying the stream maps, and stamps ``_stream_version``. Report records
    already hold only the selected properties (only those metrics are requested), typed by
    their builder; skipping both passes saves about a quarter of the tap's CPU per record
    (measured with benchmarks/run.py). Stream maps still apply.
    """

    @override
    def _generate_record_messages(
        self, record: dict[str, Any]
    ) -> Generator[RecordMessage, None, None]:
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=datetime.now(timezone.utc),
                )


class StopSignalHook(Tap):
    """A tap that handles SIGTERM / SIGINT itself (:meth:`on_stop_signal`).

    Contract: ``Tap.__init__`` installs ``_handle_termination(signum, frame)`` as the handler of
    both signals (in the main thread); singer-sdk's own writes the state and exits 0 at once,
    which would report a stopped run as a successful one.
    """

    def on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        """What a stop signal does (the SDK's default behaviour unless overridden)."""
        super()._handle_termination(signum, frame)

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        self.on_stop_signal(signum, frame)


class PacedStateTap(Tap):
    """A tap whose STATE messages are paced by :class:`PacedStateWriter`.

    Contract: ``Tap.__init__`` sets ``_state_writer`` (the ``state_writer`` every stream's
    ``_write_state_message`` and ``Tap.sync_all`` write through) to a
    ``singer_sdk.helpers._state.StateWriter`` of the tap's message writer, and nothing writes a
    STATE before ``sync_all``. The STATE held back last is written when ``sync_all`` ends,
    whether the sync succeeded or failed, so the last STATE of a run is never lost.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._state_writer = PacedStateWriter(self.message_writer)

    @override
    def sync_all(self) -> None:
        try:
            super().sync_all()
        finally:
            self.paced_state_writer.flush()

    @property
    def paced_state_writer(self) -> PacedStateWriter:
        assert isinstance(self._state_writer, PacedStateWriter)
        return self._state_writer


def record_line_writer(stream: Stream) -> Callable[[bytes], None] | None:
    """A function writing encoded RECORD lines of ``stream`` as the SDK would write its records,
    or None when the stream's records must go through the SDK one by one.

    Contract: ``Stream._sync_records`` writes each record with ``_write_record_message``, which
    applies the stream maps (the default: one ``SameRecordTransform`` under the stream's own
    name, flattening off, returns the record unchanged), writes through the tap's message writer
    and sets ``state_manager.is_flushed = False``; a dry run (``ABORT_AT_RECORD_COUNT``) counts
    the records it lets through. Report streams write whole batches of records already encoded
    (``tap_tiktok_ads.reports.fast_records``), which is only the same output when the maps are
    the default, no dry-run limit is set, and the tap's writer is this tap's buffered writer.
    """
    maps = stream.stream_maps
    default_map = (
        len(maps) == 1
        and type(maps[0]) is SameRecordTransform
        and maps[0].stream_alias == stream.name
        and not maps[0].flattening_enabled
    )
    writer = stream._tap.message_writer
    if not default_map or stream.ABORT_AT_RECORD_COUNT is not None:
        return None
    if not isinstance(writer, BufferedMsgSpecWriter):
        return None
    manager = stream.state_manager

    def write(lines: bytes) -> None:
        writer.write_record_lines(lines)
        manager.is_flushed = False

    return write


def stream_version(stream: Stream) -> int | None:
    """The ``version`` RECORD messages of ``stream`` carry (None for most syncs).

    Contract: ``Stream._generate_record_messages`` stamps ``self._stream_version``, set when the
    sync starts (full-table streams with activate-version messages) and None otherwise.
    """
    return stream._stream_version
