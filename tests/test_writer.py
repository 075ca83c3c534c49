"""The buffered message writer: records wait in a buffer, any other message flushes it."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from singer_sdk.singerlib import RecordMessage, StateMessage

from tap_tiktok_ads.writer import BufferedMsgSpecWriter


def test_records_wait_for_a_state_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "stdout"
    raw = io.FileIO(target, "wb")  # what stdout's binary layer is under PYTHONUNBUFFERED
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, write_through=True))
    writer = BufferedMsgSpecWriter()

    def lines() -> int:
        return len(target.read_bytes().splitlines())

    writer.write_message(RecordMessage(stream="s", record={"a": 1}))
    writer.write_message(RecordMessage(stream="s", record={"a": 2}))
    assert lines() == 0  # buffered: no system call per record
    writer.write_message(StateMessage(value={"bookmarks": {}}))
    assert lines() == 3  # the state never overtakes the records it covers
    writer.write_message(RecordMessage(stream="s", record={"a": 3}))
    assert lines() == 3
    writer.flush()
    assert lines() == 4
