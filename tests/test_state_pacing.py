"""STATE messages are paced: their number stays bounded as advertisers grow, the last one of a
run (successful or failed) is the one an unpaced run ends with, and none precedes its records.

The pacing is injected (never a race against the wall clock): EVERY_STATE writes each STATE the
streams offer, FIRST_AND_LAST holds every one after the first until the sync ends.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from singer_sdk.singerlib.encoding.base import GenericSingerWriter

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.state_pacing import (
    EVERY_STATE,
    FIRST_AND_LAST,
    PacedStateWriter,
    StatePacing,
)
from tap_tiktok_ads.tap import TapTikTokAds
from tests.conftest import EMULATOR_TODAY, TapRun, bookmark_values, tap_config

ADVERTISERS = 12
REPORT = "ad_performance_daily"
STREAMS: dict[str, list[str] | None] = {
    "advertisers": None,
    "campaigns": None,
    "ad_groups": None,
    "ads": None,
    REPORT: ["spend", "clicks"],
}


def sync(
    config: dict[str, Any], catalog: dict[str, Any], pacing: StatePacing
) -> tuple[TapRun, Exception | None]:
    """Sync in-process with ``pacing``; what was written before a failure is kept."""
    buffer = io.BytesIO()
    stdout = io.TextIOWrapper(buffer, encoding="utf-8")
    error: Exception | None = None
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(stdout):
        patch.setattr(PacedStateWriter, "pacing", pacing)
        try:
            TapTikTokAds(config=config, catalog=catalog).sync_and_write_last_state()
        except Exception as failure:
            error = failure
        stdout.flush()
    lines = buffer.getvalue().splitlines()
    run = TapRun(messages=[json.loads(line, parse_float=Decimal) for line in lines if line])
    for message in run.messages:
        if message["type"] == "RECORD":
            run.records[message["stream"]].append(message["record"])
        elif message["type"] == "STATE":
            run.states.append(message["value"])
    return run, error


@pytest.fixture(scope="module")
def many() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    with Emulator(
        seed=21, advertisers=ADVERTISERS, campaigns=1, adgroups=1, ads=2, today=EMULATOR_TODAY
    ) as emu:
        # Relative days: fixed dates leave no report bookmark.
        config = tap_config(emu, start_days_back=5, end_days_back=2, report_window_days=1)
        yield config, catalog_selecting(config, STREAMS)


def test_many_advertisers_write_a_bounded_number_of_states_ending_on_the_same_one(
    many: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    config, catalog = many
    unpaced, error = sync(config, catalog, EVERY_STATE)
    assert error is None
    paced, error = sync(config, catalog, FIRST_AND_LAST)
    assert error is None
    assert len(unpaced.states) > ADVERTISERS * 4  # one per advertiser per day at least
    assert len(paced.states) == 2  # the first STATE offered, and the last
    assert paced.final_state == unpaced.final_state
    assert paced.records == unpaced.records
    assert paced.messages[-1]["type"] == "STATE"  # no record after the bookmark covering it


def test_a_failed_sync_still_writes_the_state_held_back() -> None:
    with Emulator(seed=22, advertisers=4, today=EMULATOR_TODAY) as emu:
        config = tap_config(emu, start_days_back=5, end_days_back=2, max_paging_restarts=1)
        catalog = catalog_selecting(config, STREAMS)
        runs = []
        for pacing in (EVERY_STATE, FIRST_AND_LAST):
            # Every report page comes back empty, so the first advertiser's window fails
            # whichever report requests (the next advertisers' page 1, requested ahead) TikTok
            # answers first.
            emu.fail_next("/report/integrated/get/", "empty_page", times=1000)
            runs.append(sync(config, catalog, pacing))
    (unpaced, unpaced_error), (paced, paced_error) = runs
    assert unpaced_error is not None
    assert paced_error is not None
    assert unpaced.final_state["bookmarks"]["ad_groups"]  # synced before the report failed
    assert len(paced.states) == 2  # the first STATE offered, and the held one on failure
    # The live state the paced writer writes at the end also holds the failed stream's empty
    # partition entry (the SDK created it without offering a STATE); the bookmarks are the same.
    assert bookmark_values(paced.final_state) == bookmark_values(unpaced.final_state)
    TapTikTokAds(config=config, catalog=catalog, state=paced.final_state)  # a valid --state


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Collect(GenericSingerWriter[bytes, Any]):
    """A message writer that keeps what it is given."""

    def __init__(self) -> None:
        self.values: list[dict[str, Any]] = []

    def serialize_message(self, message: Any) -> bytes:
        return json.dumps(message.to_dict()).encode()

    def write_message(self, message: Any) -> None:
        self.values.append(json.loads(json.dumps(message.value)))


def test_a_held_state_goes_out_with_the_first_offer_after_the_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(PacedStateWriter, "clock", clock)
    monkeypatch.setattr(PacedStateWriter, "pacing", StatePacing(10, float("inf")))
    sink = Collect()
    writer = PacedStateWriter(sink)
    state: dict[str, Any] = {}
    for now, step in [(0, 1), (1, 2), (9.9, 3), (10, 4), (12, 5), (19, 6)]:
        clock.now = now
        state["step"] = step
        writer.write_state(state)
    assert [v["step"] for v in sink.values] == [1, 4]
    writer.flush()
    assert [v["step"] for v in sink.values] == [1, 4, 6]
    writer.flush()  # nothing held any more
    writer.write_now(state)  # unchanged: not written again
    assert len(sink.values) == 3
    writer.write_now(state, even_if_unchanged=True)
    assert len(sink.values) == 4


def test_a_large_state_waits_longer() -> None:
    pacing = StatePacing(min_seconds=5, max_bytes_per_second=1000)
    assert pacing.hold_seconds(100) == 5
    assert pacing.hold_seconds(60_000) == 60
