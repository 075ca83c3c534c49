"""STATE output with many advertisers: singer-sdk's writer (every STATE) against the paced one.

    python benchmarks/state_size.py [ADVERTISERS ...]     (default: 200 400)

The tap runs in-process against an in-process emulator (loopback, no latency, no rate limit):
the four entity streams plus ad_performance_daily over 3 days, one-day report windows (a STATE
offered per advertiser per day). Prints, per run, the STATE messages and their bytes, all
output bytes, and the seconds taken. Output is counted as it is written, never kept.

Measured (2 shared cores, 2026-12-02): doubling the advertisers quadruples singer-sdk's STATE
output and only doubles the paced one.

    advertisers  writer  STATEs  STATE MB  all MB  seconds
            200  sdk        605     24.17    32.0     20.9
            200  paced        4      0.26     8.1     19.2
            400  sdk       1205     95.73   111.4   50-55
            400  paced        4      0.51    16.2   18-20
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
from datetime import date
from typing import Any

from singer_sdk.helpers._state import StateWriter

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.state_pacing import DEFAULT_PACING, PacedStateWriter
from tap_tiktok_ads.tap import TapTikTokAds

TODAY = date(2026, 11, 20)
STATE_PREFIX = b'{"type":"STATE"'
STREAMS = ("advertisers", "campaigns", "ad_groups", "ads", "ad_performance_daily")


class CountingSink(io.RawIOBase):
    """Counts output bytes, and the lines (and bytes) of STATE messages."""

    def __init__(self) -> None:
        self.total = 0
        self.states = 0
        self.state_bytes = 0
        self._line_start = True
        self._in_state = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        data = bytes(data)
        self.total += len(data)
        for line in data.splitlines(keepends=True):
            if self._line_start:
                self._in_state = line.startswith(STATE_PREFIX)
                self.states += self._in_state
            if self._in_state:
                self.state_bytes += len(line)
            self._line_start = line.endswith(b"\n")
        return len(data)


def measure(config: dict[str, Any], chosen: dict[str, Any], paced: bool) -> dict[str, Any]:
    sink = CountingSink()
    stdout = io.TextIOWrapper(io.BufferedWriter(sink), encoding="utf-8")
    original = PacedStateWriter.write_state
    if not paced:  # singer-sdk's own writer: every STATE, a deep copy of the state each time
        PacedStateWriter.write_state = StateWriter.write_state  # type: ignore[method-assign]
    PacedStateWriter.pacing = DEFAULT_PACING
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(stdout):
            TapTikTokAds(config=config, catalog=chosen).sync_and_write_last_state()
            stdout.flush()
    finally:
        PacedStateWriter.write_state = original  # type: ignore[method-assign]
    seconds = time.perf_counter() - started
    return {
        "states": sink.states,
        "state_mb": sink.state_bytes / 1e6,
        "all_mb": sink.total / 1e6,
        "seconds": seconds,
    }


def main(counts: list[int]) -> None:
    print("advertisers  writer  STATEs  STATE MB  all MB  seconds")
    for count in counts:
        with Emulator(
            seed=7, advertisers=count, campaigns=1, adgroups=1, ads=2, today=TODAY
        ) as emu:
            config = {
                "access_token": emu.access_token,
                "api_url": emu.base_url,
                "advertiser_ids": [a["advertiser_id"] for a in emu.world.advertisers],
                "start_days_back": 4,
                "end_days_back": 2,
                "report_window_days": 1,
                "max_requests_per_second": 1000,
                "max_clock_skew_hours": 876_000,  # the emulator's clock is pinned to TODAY
            }
            chosen = catalog_selecting(config, STREAMS)
            for paced in (False, True):
                r = measure(config, chosen, paced)
                name = "paced" if paced else "sdk"
                print(
                    f"{count:11}  {name:6}  {r['states']:6}  {r['state_mb']:8.2f}  "
                    f"{r['all_mb']:6.1f}  {r['seconds']:7.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [200, 400])
