"""A stop signal never cuts a Singer message in half (tap_tiktok_ads.shutdown)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from singer_sdk.singerlib import StateMessage

from tap_tiktok_ads import shutdown
from tap_tiktok_ads.writer import BufferedMsgSpecWriter


class Watching:
    """An output that notes, at each write, whether the writer's caller counts as writing."""

    def __init__(self) -> None:
        self.seen: list[bool] = []

    def write(self, data: bytes) -> int:
        self.seen.append(shutdown._writing(sys._getframe(1)))
        return len(data)

    def flush(self) -> None:
        self.seen.append(shutdown._writing(sys._getframe(1)))


@pytest.mark.parametrize(
    "write",
    [
        lambda writer: writer.write_message(StateMessage(value={})),
        lambda writer: writer.write_record_lines(b'{"type":"RECORD"}\n'),
        lambda writer: writer.flush(),
    ],
    ids=["message", "record lines", "flush"],
)
def test_a_signal_while_writing_is_delivered_again_later(
    write: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = Watching()
    writer = BufferedMsgSpecWriter()
    monkeypatch.setattr(writer, "_out", lambda: out)
    writer._buffer = out  # type: ignore[assignment]
    monkeypatch.setattr(sys, "stdout", type("Stdout", (), {"flush": lambda self: None})())
    write(writer)
    assert out.seen
    assert all(out.seen)


def test_elsewhere_a_signal_is_handled_at_once() -> None:
    assert not shutdown._writing(sys._getframe())
