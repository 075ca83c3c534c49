"""The garbage collector pause around the tap's start leaves the collector as it found it."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tap_tiktok_ads.gc_pause import collector_paused


@pytest.fixture
def collector_on() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        gc.unfreeze()  # this test process's objects back in the collector's reach
        if not was_enabled:
            gc.disable()


def test_paused_inside_and_back_on_after(collector_on: None) -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_back_on_after_an_error_or_an_exit(collector_on: None) -> None:
    with pytest.raises(ValueError, match="boom"), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()
    with pytest.raises(SystemExit), collector_paused():
        sys.exit(0)
    assert gc.isenabled()


def test_what_is_alive_at_the_end_is_frozen_out_of_later_collections(collector_on: None) -> None:
    gc.unfreeze()
    with collector_paused():
        kept = [[index] for index in range(1000)]
        assert gc.get_freeze_count() == 0
    assert gc.get_freeze_count() >= len(kept)
    gc.collect()  # frozen objects are neither walked nor collected
    assert kept[999] == [999]


def test_a_collector_already_off_stays_off(collector_on: None) -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_importing_the_tap_leaves_the_collector_on_and_the_imports_frozen() -> None:
    # A fresh interpreter: in this one the tap is imported already.
    code = (
        "import gc; import tap_tiktok_ads.tap; "
        "print(gc.isenabled(), gc.get_freeze_count() > 10_000)"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert answer.stdout.strip() == "True True"


@pytest.mark.parametrize("command", ["--about", "--version", "--discover"])
def test_the_commands_run_with_the_collector_back_on_after(command: str, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"access_token": "x", "advertiser_ids": ["1"], "start_date": "2026-01-01"}')
    args = ["--config", str(config), "--discover"] if command == "--discover" else [command]
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: sys.stderr.write(f'collector on: {gc.isenabled()}'))\n"
        "from tap_tiktok_ads.tap import TapTikTokAds\n"
        "TapTikTokAds.cli()\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stderr.endswith("collector on: True")
