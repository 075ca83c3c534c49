"""One test per singer-sdk contract that tap_tiktok_ads.sdk_compat relies on.

Each runs a tiny tap on the installed singer-sdk (no TikTok, no emulator) and fails the day an
upgrade renames, re-signs or changes the behaviour of one of those private names.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import io
import json
import logging
import pkgutil
import signal
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

import pytest
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers import _state as sdk_state
from singer_sdk.helpers.types import Context, TapState
from singer_sdk.singerlib import RecordMessage

import tap_tiktok_ads
from tap_tiktok_ads.sdk_compat import (
    BookmarksSetByStream,
    BookmarkValueHook,
    ConfigCheckHook,
    EnvironmentConfigHook,
    MessageWriter,
    PreparedRecordMessages,
    StateWriterBase,
    StateWriterHook,
    StopSignalHook,
    config_input,
    record_line_writer,
    sdk_environment_settings,
    set_bookmark,
    stream_version,
    write_state,
)
from tap_tiktok_ads.state_pacing import EVERY_STATE, FIRST_AND_LAST, PacedStateTap, PacedStateWriter
from tap_tiktok_ads.writer import BufferedMsgSpecWriter

SCHEMA = th.PropertiesList(
    th.Property("id", th.IntegerType),
    th.Property("day", th.StringType),
    th.Property("note", th.StringType),
).to_dict()
ROWS = [
    {"id": 1, "day": "2026-01-03", "note": "a"},
    {"id": 2, "day": "2026-01-05", "note": "b"},
    {"id": 3, "day": "2026-01-04", "note": "c"},
]


class DayStream(Stream):
    """Incremental on ``day``; yields ROWS."""

    name = "days"
    schema: ClassVar[dict[str, Any]] = SCHEMA
    replication_key = "day"
    is_sorted = False

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        yield from (dict(row) for row in ROWS)


def mini_tap(stream_classes: tuple[type[Stream], ...], tap_base: type[Tap]) -> type[Tap]:
    """A tap of ``tap_base`` with no settings whose streams are ``stream_classes``."""

    class MiniTap(tap_base):  # type: ignore[valid-type,misc]
        name = "tap-mini"
        config_jsonschema: ClassVar[dict[str, Any]] = th.PropertiesList().to_dict()

        def discover_streams(self) -> list[Stream]:
            return [stream_class(tap=self) for stream_class in stream_classes]

    return MiniTap


def sync(
    *stream_classes: type[Stream],
    catalog: dict[str, Any] | None = None,
    out: io.StringIO | None = None,
    tap_base: type[Tap] = Tap,
) -> list[dict]:
    """The messages a tap of ``stream_classes`` prints in one sync (also left in ``out``)."""

    MiniTap = mini_tap(stream_classes, tap_base)

    out = io.StringIO() if out is None else out
    with contextlib.redirect_stdout(out):
        tap = MiniTap(config={}, catalog=catalog)
        if isinstance(tap, PacedStateTap):
            tap.sync_and_write_last_state()
        else:
            tap.sync_all()
    return [json.loads(line) for line in out.getvalue().splitlines() if line]


def final_bookmark(messages: list[dict[str, Any]], stream: str = "days") -> dict[str, Any]:
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return states[-1]["bookmarks"][stream]


def test_write_state_emits_the_tap_state_between_records() -> None:
    assert list(inspect.signature(Stream._write_state_message).parameters) == ["self"]

    class WindowStream(BookmarksSetByStream, DayStream):
        def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
            yield dict(ROWS[0])
            set_bookmark(self.get_context_state(context), "day", "2026-01-03")
            write_state(self)
            yield dict(ROWS[1])

    kinds = [m["type"] for m in sync(WindowStream)]
    assert kinds[:4] == ["SCHEMA", "RECORD", "STATE", "RECORD"]
    messages = sync(WindowStream)
    middle = messages[2]["value"]["bookmarks"]["days"]
    assert middle["replication_key_value"] == "2026-01-03"


def test_the_per_record_increment_is_the_method_switched_off() -> None:
    parameters = inspect.signature(Stream._increment_stream_state).parameters
    assert list(parameters) == ["self", "latest_record", "context"]
    assert parameters["context"].kind is inspect.Parameter.KEYWORD_ONLY

    # The SDK moves the bookmark per record through _increment_stream_state...
    assert final_bookmark(sync(DayStream))["replication_key_value"] == "2026-01-05"

    # ...so switching that method off leaves it where the stream puts it.
    class WindowStream(BookmarksSetByStream, DayStream):
        pass

    assert "replication_key_value" not in final_bookmark(sync(WindowStream))


def test_the_bookmark_moves_to_the_value_the_hook_chooses() -> None:
    class ClampedStream(BookmarkValueHook, DayStream):
        def bookmark_record(
            self, record: dict[str, Any], context: Context | None
        ) -> dict[str, Any]:
            return {**record, "day": min(record["day"], "2026-01-04")}

    messages = sync(ClampedStream)
    assert final_bookmark(messages)["replication_key_value"] == "2026-01-04"
    assert max(m["record"]["day"] for m in messages if m["type"] == "RECORD") == "2026-01-05"


def test_a_bookmark_set_directly_is_not_overwritten_by_progress_markers() -> None:
    marker = {"replication_key": "day", "replication_key_value": "2026-01-05"}
    # The SDK promotes a partition's progress markers over its bookmark when it finishes...
    promoted: dict[str, Any] = {"replication_key": "day", "replication_key_value": "2026-01-09"}
    promoted[sdk_state.PROGRESS_MARKERS] = {**marker, sdk_state.PROGRESS_MARKER_NOTE: "x"}
    sdk_state.finalize_state_progress_markers(promoted)
    assert promoted["replication_key_value"] == "2026-01-05"

    # ...so set_bookmark drops them.
    state: dict[str, Any] = {sdk_state.PROGRESS_MARKERS: {**marker}}
    set_bookmark(state, "day", "2026-01-09")
    sdk_state.finalize_state_progress_markers(state)
    assert state == {"replication_key": "day", "replication_key_value": "2026-01-09"}


def test_record_messages_come_from_the_prepared_records_with_the_stream_version() -> None:
    assert list(inspect.signature(Stream._generate_record_messages).parameters) == [
        "self",
        "record",
    ]

    class FullTable(DayStream):
        replication_key = None  # type: ignore[assignment]
        emit_activate_version_messages = True

    class PreparedFullTable(PreparedRecordMessages, FullTable):
        pass

    catalog = deselecting_note(FullTable)
    # The SDK prunes a deselected property itself...
    pruned = [m["record"] for m in sync(FullTable, catalog=catalog) if m["type"] == "RECORD"]
    assert len(pruned) == len(ROWS)
    assert all("note" not in record for record in pruned)

    # ...and the prepared path leaves records as given (the tap requests selected fields only),
    # stamped with the version the SDK activated.
    messages = sync(PreparedFullTable, catalog=catalog)
    records = [m for m in messages if m["type"] == "RECORD"]
    assert [m["record"] for m in records] == ROWS
    (activate,) = [m for m in messages if m["type"] == "ACTIVATE_VERSION"]
    assert {m["version"] for m in records} == {activate["version"]}


class PreflightError(Exception):
    pass


def test_the_signpost_is_asked_before_a_stream_writes_or_reports_anything(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """TikTokStream resolves the run's advertisers (the token check) in its signpost."""
    asked: list[str] = []

    class Checked(DayStream):
        def get_replication_key_signpost(self, context: Context | None = None) -> Any:
            asked.append(self.name)
            raise PreflightError("bad token")

    out = io.StringIO()
    with pytest.raises(PreflightError):
        sync(Checked, out=out)
    assert asked == ["days"]
    assert out.getvalue() == ""  # no SCHEMA (nor anything else) before the check
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []  # the SDK's own "unhandled error" report comes later in sync()


def deselecting_note(stream_class: type[Stream]) -> dict[str, Any]:
    class MiniTap(Tap):
        name = "tap-mini"
        config_jsonschema: ClassVar[dict[str, Any]] = th.PropertiesList().to_dict()

        def discover_streams(self) -> list[Stream]:
            return [stream_class(tap=self)]

    catalog = MiniTap(config={}).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = True
            elif item["breadcrumb"][-1] == "note":
                item["metadata"]["selected"] = False
    return catalog


def test_the_stop_signal_handler_is_the_hook() -> None:
    stops: list[int] = []

    class StoppableTap(StopSignalHook, Tap):
        name = "tap-mini"
        config_jsonschema: ClassVar[dict[str, Any]] = th.PropertiesList().to_dict()

        def discover_streams(self) -> list[Stream]:
            return []

        def on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
            stops.append(signum)

    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        StoppableTap(config={})
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            handler = signal.getsignal(stop_signal)
            assert callable(handler)
            assert list(inspect.signature(handler).parameters) == ["signum", "frame"]
            handler(stop_signal, None)
    finally:
        for stop_signal, handler in before.items():
            signal.signal(stop_signal, handler)
    assert stops == [signal.SIGTERM, signal.SIGINT]


def test_every_state_goes_through_the_state_writer_the_paced_tap_installs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class WindowStream(BookmarksSetByStream, DayStream):
        def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
            for day, row in enumerate(ROWS, start=3):
                yield dict(row)
                set_bookmark(self.get_context_state(context), "day", f"2026-01-0{day}")
                write_state(self)

    def states(messages: list[dict]) -> list[dict]:
        return [m["value"] for m in messages if m["type"] == "STATE"]

    unpaced = states(sync(WindowStream))
    assert len(unpaced) == len(ROWS) + 1  # one per window, and the SDK's at the end
    monkeypatch.setattr(PacedStateWriter, "pacing", EVERY_STATE)
    assert states(sync(WindowStream, tap_base=PacedStateTap)) == unpaced
    monkeypatch.setattr(PacedStateWriter, "pacing", FIRST_AND_LAST)
    assert states(sync(WindowStream, tap_base=PacedStateTap)) == [unpaced[0], unpaced[-1]]


REGION_SCHEMA = th.PropertiesList(th.Property("region", th.StringType)).to_dict()


def test_the_environment_settings_come_from_the_hook() -> None:
    asked: list[str] = []

    class EnvironmentTap(EnvironmentConfigHook, Tap):
        name = "tap-mini"
        config_jsonschema: ClassVar[dict[str, Any]] = REGION_SCHEMA

        def discover_streams(self) -> list[Stream]:
            return []

        @classmethod
        def config_from_environment(cls, prefix: str) -> dict[str, Any]:
            asked.append(prefix)
            return {"region": "from-the-hook"}

    tap = EnvironmentTap(config={"region": "from-the-file"}, parse_env_config=True)
    assert tap.config["region"] == "from-the-hook"
    assert asked == ["TAP_MINI_"]
    assert EnvironmentTap(config={"region": "from-the-file"}).config["region"] == "from-the-file"
    assert asked == ["TAP_MINI_"]  # not asked without parse_env_config


def test_the_default_environment_reader_is_singer_sdks(monkeypatch: pytest.MonkeyPatch) -> None:
    class EnvironmentTap(EnvironmentConfigHook, Tap):
        name = "tap-mini"
        config_jsonschema: ClassVar[dict[str, Any]] = REGION_SCHEMA

        def discover_streams(self) -> list[Stream]:
            return []

    monkeypatch.setenv("TAP_MINI_REGION", "eu")
    assert EnvironmentTap(config={}, parse_env_config=True).config["region"] == "eu"


def test_the_config_check_is_the_hook(caplog: pytest.LogCaptureFixture) -> None:
    class CheckedTap(ConfigCheckHook, Tap):
        name = "tap-mini"
        config_jsonschema: ClassVar[dict[str, Any]] = REGION_SCHEMA

        def discover_streams(self) -> list[Stream]:
            return []

        def check_config(self, config: dict[str, Any], schema: dict[str, Any]) -> list[str]:
            assert schema["properties"]["region"] == REGION_SCHEMA["properties"]["region"]
            config["region"] = config["region"].strip()
            return [] if config["region"] else ["region: must not be blank"]

    # The hook sees the config the tap keeps: a value it normalizes is the one the tap uses.
    assert CheckedTap(config={"region": " eu "}).config["region"] == "eu"
    with pytest.raises(ConfigValidationError) as raised:
        CheckedTap(config={"region": " "})
    assert raised.value.errors == ["region: must not be blank"]
    caplog.clear()
    CheckedTap(config={"region": " "}, validate_config=False)  # warned about, not raised
    assert "region: must not be blank" in caplog.text


def test_config_input_is_what_the_config_option_reads(tmp_path: Path) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text('{"region": "eu", "page_size": 5}')
    second.write_text('{"region": "us"}')
    both = Tap.cb_config(None, None, (str(first), "ENV", str(second)))  # type: ignore[arg-type]
    assert config_input(both) == ({"region": "us", "page_size": 5}, True)
    one = Tap.cb_config(None, None, (str(first),))  # type: ignore[arg-type]
    assert config_input(one) == ({"region": "eu", "page_size": 5}, False)
    assert config_input(None) == ({}, False)
    assert "config" in inspect.signature(Tap.invoke).parameters  # where the CLI hands it over


def final_overrides(classes: Iterable[type]) -> list[str]:
    """``module.Class.method`` for each method of ``classes`` that singer-sdk marks final."""
    return [
        f"{cls.__module__}.{cls.__qualname__}.{name}"
        for cls in classes
        for name in vars(cls)
        if any(
            base.__module__.startswith("singer_sdk") and _is_final(vars(base).get(name))
            for base in cls.__mro__[1:]
        )
    ]


def _is_final(attribute: Any) -> bool:
    """``typing.final`` sets ``__final__`` on the function (under a classmethod or property)."""
    for candidate in (attribute, getattr(attribute, "__func__", None)):
        if getattr(candidate, "__final__", False):
            return True
    return getattr(getattr(attribute, "fget", None), "__final__", False) is True


def tap_classes() -> list[type]:
    """Every class defined in a module of the tap (``__main__`` modules would run a command)."""
    classes: list[type] = []
    for module_info in pkgutil.walk_packages(tap_tiktok_ads.__path__, "tap_tiktok_ads."):
        if module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        classes += [
            value
            for value in vars(module).values()
            if isinstance(value, type) and value.__module__ == module.__name__
        ]
    return classes


def test_no_class_of_the_tap_overrides_a_method_singer_sdk_marks_final() -> None:
    if not _is_final(vars(Tap)["sync_all"]):
        pytest.skip("typing.final marks the methods it decorates from Python 3.11")

    class SyncAllOverride(Tap):  # the check finds an override...
        def sync_all(self) -> None:  # type: ignore[misc]
            pass

    assert final_overrides([SyncAllOverride]) == [
        f"{__name__}.{SyncAllOverride.__qualname__}.sync_all"
    ]
    classes = tap_classes()
    assert any(issubclass(cls, Tap) for cls in classes)
    assert any(issubclass(cls, Stream) for cls in classes)
    assert final_overrides(classes) == []  # ...and the tap has none


def test_every_state_goes_through_the_writer_the_hook_makes() -> None:
    offered: list[dict[str, Any]] = []

    class Recording(StateWriterBase):
        def write_state(self, state: TapState) -> None:
            offered.append(json.loads(json.dumps(state)))
            super().write_state(state)

    class RecordingTap(StateWriterHook, Tap):
        def create_state_writer(self, message_writer: MessageWriter) -> StateWriterBase:
            assert message_writer is self.message_writer
            writer = Recording(message_writer)
            assert writer.message_writer is message_writer
            return writer

    class WindowStream(BookmarksSetByStream, DayStream):
        def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
            for day, row in enumerate(ROWS, start=3):
                yield dict(row)
                set_bookmark(self.get_context_state(context), "day", f"2026-01-0{day}")
                write_state(self)

    written = [
        m["value"] for m in sync(WindowStream, tap_base=RecordingTap) if m["type"] == "STATE"
    ]
    assert len(written) == len(ROWS) + 1  # one per window, and the SDK's at the end
    # singer-sdk's writer skips a state equal to the one it wrote last; nothing else is lost.
    changed = [s for i, s in enumerate(offered) if i == 0 or s != offered[i - 1]]
    assert written == changed


def test_environment_settings_are_read_from_prefixed_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schema = {
        "properties": {
            "region": {"type": ["string"]},
            "retries": {"type": ["integer"]},
            "dry_run": {"type": ["boolean"]},
            "ids": {"type": ["array"], "items": {"type": ["string"]}},
            "extra": {"type": ["object"]},
            "unset": {"type": ["string"]},
        }
    }
    monkeypatch.delenv("TAP_MINI_UNSET", raising=False)
    for name, value in {
        "REGION": "eu",
        "RETRIES": "3",
        "DRY_RUN": "yes",
        "IDS": '["a", "b"]',
        "EXTRA": '{"k": 1}',
    }.items():
        monkeypatch.setenv(f"TAP_MINI_{name}", value)
    assert sdk_environment_settings(schema, "TAP_MINI_") == {
        "region": "eu",
        "retries": 3,
        "dry_run": True,
        "ids": ["a", "b"],
        "extra": {"k": 1},
    }


def private_singer_sdk_imports(path: Path) -> list[str]:
    """``file:line`` of each import of a singer-sdk module or name starting with ``_``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("singer_sdk"):
            parts = [*(node.module or "").split("."), *(alias.name for alias in node.names)]
        elif isinstance(node, ast.Import):
            parts = [
                part
                for alias in node.names
                if alias.name.startswith("singer_sdk")
                for part in alias.name.split(".")
            ]
        else:
            continue
        if any(part.startswith("_") for part in parts):
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_only_sdk_compat_imports_private_singer_sdk_names() -> None:
    package = Path(tap_tiktok_ads.__file__).parent
    assert private_singer_sdk_imports(package / "sdk_compat.py")  # the check finds them...
    others = [path for path in sorted(package.rglob("*.py")) if path.name != "sdk_compat.py"]
    assert [found for path in others for found in private_singer_sdk_imports(path)] == []


# -- encoded RECORD lines (the report streams' fast path) ---------------------------------------


class BufferedTap(Tap):
    """A tap writing through this tap's buffered writer, which takes encoded lines."""

    message_writer_class = BufferedMsgSpecWriter


def sync_binary(
    *stream_classes: type[Stream], tap_base: type[Tap] = BufferedTap, config: Any = None
) -> list[dict]:
    """As :func:`sync`, for a tap whose writer writes to stdout's binary buffer."""

    MiniTap = mini_tap(stream_classes, tap_base)

    out = io.BytesIO()
    text = io.TextIOWrapper(out, encoding="utf-8")
    with contextlib.redirect_stdout(text):
        MiniTap(config=config or {}).sync_all()
        text.flush()
    return [json.loads(line) for line in out.getvalue().splitlines() if line]


def encoded(stream: Stream, records: list[dict[str, Any]]) -> bytes:
    """RECORD lines as singer-sdk's msgspec writer encodes the stream's records."""
    writer = MsgSpecWriter()
    version = stream_version(stream)
    return b"".join(
        bytes(writer.format_message(RecordMessage(stream=stream.name, record=r, version=version)))
        for r in records
    )


def test_encoded_record_lines_are_written_as_the_sdk_writes_records() -> None:
    """Lines go through the tap's writer in order, carry the stream's version, and leave the
    state unflushed (the next STATE offer is written), as ``_write_record_message`` does."""
    flushed: list[bool] = []

    class LinesStream(DayStream):
        replication_key = None  # type: ignore[assignment]
        emit_activate_version_messages = True

        def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
            yield dict(ROWS[0])  # the SDK's way
            write_state(self)
            flushed.append(self.state_manager.is_flushed)
            write = record_line_writer(self)
            assert write is not None
            write(encoded(self, ROWS[1:]))
            flushed.append(self.state_manager.is_flushed)

    messages = sync_binary(LinesStream)
    assert flushed == [True, False]
    kinds = [m["type"] for m in messages if m["type"] != "ACTIVATE_VERSION"]
    assert kinds[:5] == ["SCHEMA", "RECORD", "STATE", "RECORD", "RECORD"]
    records = [m for m in messages if m["type"] == "RECORD"]
    assert [m["record"] for m in records] == ROWS
    (activate,) = [m for m in messages if m["type"] == "ACTIVATE_VERSION"]
    assert {m["version"] for m in records} == {activate["version"]}


class Probe(DayStream):
    """Notes what record_line_writer answers when the sync starts."""

    writers: ClassVar[list[Any]] = []

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        self.writers.append(record_line_writer(self))
        yield from super().get_records(context)


@pytest.mark.parametrize(
    "config",
    [
        {"stream_maps": {"days": {"note": "None"}}},
        {"stream_maps": {"days": {}}},
        {"stream_maps": {"days": {"__alias__": "others"}}},
        {"flattening_enabled": True, "flattening_max_depth": 1},
    ],
)
def test_no_line_writer_when_a_stream_map_or_flattening_is_configured(
    config: dict[str, Any],
) -> None:
    Probe.writers.clear()
    sync_binary(Probe)
    assert Probe.writers[0] is not None  # the default map: lines may be written
    Probe.writers.clear()
    sync_binary(Probe, config=config)
    assert Probe.writers == [None]


def test_no_line_writer_for_a_dry_run_or_another_writer() -> None:
    class Limited(Probe):
        ABORT_AT_RECORD_COUNT = 2

    class PlainWriterTap(Tap):
        message_writer_class = MsgSpecWriter

    Probe.writers.clear()
    with contextlib.suppress(Exception):  # the dry run stops the sync at its limit
        sync_binary(Limited)
    sync_binary(Probe, tap_base=PlainWriterTap)
    assert Probe.writers == [None, None]


def test_no_line_writer_with_a_batch_config(tmp_path: Path) -> None:
    """singer-sdk reads the records into BATCH files (``_sync_records(write_messages=False)``)."""
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": tmp_path.as_uri(), "prefix": "batch-"},
    }
    Probe.writers.clear()
    messages = sync_binary(Probe, config={"batch_config": batch_config})
    assert Probe.writers == [None]
    assert [m["type"] for m in messages if m["type"] in ("RECORD", "BATCH")] == ["BATCH"]
