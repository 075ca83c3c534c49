"""The singer-sdk internals this tap relies on, fenced in one module.

singer-sdk 0.54 offers no public hook for these; each entry says which private contract it
relies on and why the tap needs it. ``tests/test_sdk_compat.py`` checks every contract against
the installed singer-sdk, so an upgrade that changes one fails there, by name, instead of
quietly changing bookmarks or records. No other module of the tap touches a private SDK name,
and none overrides a method singer-sdk marks ``@final`` (``tests/test_sdk_compat.py`` checks
both).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Generator
from datetime import datetime, timezone
from types import FrameType
from typing import Any

from singer_sdk import Stream, Tap
from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.helpers._state import StateWriter
from singer_sdk.helpers.types import Context
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.plugin_base import _ConfigInput
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from typing_extensions import override

from tap_tiktok_ads.writer import BufferedMsgSpecWriter

#: The tap's Singer message writer (strings or bytes).
MessageWriter = GenericSingerWriter[Any, Any]

#: The key under which singer-sdk keeps a partition's unfinished bookmark.
PROGRESS_MARKERS_KEY = "progress_markers"


def write_state(stream: Stream) -> None:
    """Write a STATE message now, if the state changed since the last one.

    Contract: ``Stream._write_state_message()`` writes the whole tap state through the tap's
    state writer unless ``state_manager.is_flushed`` (no record since the last STATE). Report
    streams move a bookmark when a date window is complete, between two of the SDK's own STATE
    messages, and offer it at once so that a failure later in the run does not read the window
    again (``state_pacing.PacedStateWriter`` writes it, or a later state, within its pause).
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


class StateWriterBase(StateWriter):
    """singer-sdk's STATE writer, as the base of a writer that chooses when a STATE goes out.

    Contract: ``StateWriter(message_writer)`` keeps the tap's message writer as
    ``_message_writer``, and ``write_state(state)`` is called with the tap's live state each
    time the tap or a stream offers a STATE (see :class:`StateWriterHook`).
    """

    @property
    def message_writer(self) -> MessageWriter:
        return self._message_writer


class StateWriterHook(Tap):
    """A tap whose STATE messages go through the writer :meth:`create_state_writer` makes.

    Contract: ``Tap.__init__`` sets ``_state_writer`` (the ``state_writer`` every stream's
    ``_write_state_message`` and ``Tap.sync_all`` write through) to a ``StateWriter`` of the
    tap's message writer, and nothing writes a STATE before ``sync_all``: a writer set once
    ``__init__`` is done sees every STATE of the run.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._state_writer = self.create_state_writer(self.message_writer)

    def create_state_writer(self, message_writer: MessageWriter) -> StateWriterBase:
        """The STATE writer of this tap (singer-sdk's own by default)."""
        return StateWriterBase(message_writer)


def sdk_environment_settings(schema: dict[str, Any], prefix: str) -> dict[str, Any]:
    """singer-sdk's reading of settings from environment variables (and a ``.env`` file).

    Contract: ``parse_environment_config(schema, prefix)`` reads the variable ``prefix`` + the
    upper-cased name of each property of ``schema``: integers and booleans ("true", "1",
    "yes", "on") converted, arrays and objects from JSON, anything else as its text; a property
    without a variable is left out.
    """
    return parse_environment_config(schema, prefix)


class EnvironmentConfigHook(Tap):
    """A tap that reads its settings from environment variables itself.

    Contract: with ``parse_env_config``, ``PluginBase.__init__`` updates the config with the
    class property ``_env_var_config`` (a dict of settings), and ``_env_var_prefix`` is the
    variables' prefix (``TAP_MINI_`` for ``tap-mini``). singer-sdk's reader leaves a malformed
    value (a list setting that is not JSON) for the schema check to quote, secrets included.
    """

    @classmethod
    def config_from_environment(cls, prefix: str) -> dict[str, Any]:
        """The settings in the variables named ``prefix`` + setting (singer-sdk's by default)."""
        settings: dict[str, Any] = super()._env_var_config
        return settings

    @classproperty
    def _env_var_config(cls) -> dict[str, Any]:
        return cls.config_from_environment(cls._env_var_prefix)


class ConfigCheckHook(Tap):
    """A tap that checks its config itself (:meth:`check_config`).

    Contract: ``PluginBase.__init__`` keeps the config (files, then environment) as the dict
    ``_config`` that ``config`` shows, then calls ``_validate_config(raise_errors=...)``
    (``raise_errors`` is the ``validate_config`` argument): it returns the errors, raising
    ``ConfigValidationError`` with them when ``raise_errors``. singer-sdk's own check quotes
    the offending values, a secret's included.
    """

    @abstractmethod
    def check_config(self, config: dict[str, Any], schema: dict[str, Any]) -> list[str]:
        """The problems of ``config`` against ``schema``; may normalize ``config`` in place."""

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        schema = self.config_jsonschema
        self.append_builtin_config(schema)
        errors = self.check_config(self._config, schema)
        if errors and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=errors, schema=schema)
        for error in errors:
            self.logger.warning("Config validation: %s", error)
        return errors


#: What ``--config`` parses to (see :func:`config_input`).
ConfigInput = _ConfigInput


def config_input(value: ConfigInput | None) -> tuple[dict[str, Any], bool]:
    """What ``--config`` read: the settings of its files, and whether ``ENV`` was given.

    Contract: ``Tap.cb_config`` (the ``--config`` callback) returns a ``_ConfigInput`` whose
    ``config`` merges the files (a later one wins) and whose ``parse_env`` says whether ``ENV``
    was one of the values; ``Tap.invoke`` receives it as ``config``.
    """
    if value is None:
        return {}, False
    return value.config, value.parse_env


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
    With a ``batch_config``, the SDK reads the records into BATCH files instead
    (``_sync_records(write_messages=False)``): they must reach it as records.
    """
    if stream.get_batch_config(stream.config) is not None:
        return None
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
