"""Compare the Singer output of this tree's tap with another git revision's, on one emulator.

    .venv/bin/python scripts/compare_outputs.py [--ref main] [--advertisers 3] [--seed 2026]
        [--select ad_performance_daily,ads]

Both versions run as ``python -m tap_tiktok_ads`` against the same seeded emulator with a pinned
day (started here, from this tree): a first sync with the demo's settings and every stream in
its default selection (or, with ``--select``, the whole discovered catalog with only those
streams selected, as Meltano hands it over), then a second sync resuming from the first one's
final state. Messages are compared in order, wall-clock values (``time_extracted``, signposts)
aside. STATE messages are paced by the clock (at most one every few seconds), so how many there
are and where they fall differs between any two runs: they are left out of that comparison and
each run's final STATE is compared on its own. The exit status is 0 when both runs of both
versions match, 1 otherwise (the first differences are printed). A refactor that must keep
behaviour identical should pass it against the revision it started from.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PINNED_DAY = date(2026, 11, 20)
# Lets the tap believe an emulator whose clock is pinned far from this machine's.
PINNED_CLOCK_SKEW_HOURS = 876_000
SHOWN_DIFFERENCES = 10


def export_revision(ref: str, into: Path) -> Path:
    """The ``tap_tiktok_ads`` package of ``ref``, written under ``into``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "tap_tiktok_ads"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_tap(
    source: Path,
    workdir: Path,
    config: dict[str, Any],
    state: dict[str, Any] | None,
    catalog: Path | None = None,
):
    """The messages one sync printed, with the package imported from ``source``."""
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(config))
    args = [sys.executable, "-m", "tap_tiktok_ads", "--config", str(config_path)]
    if catalog is not None:
        args += ["--catalog", str(catalog)]
    if state is not None:
        state_path = workdir / "state.json"
        state_path.write_text(json.dumps(state))
        args += ["--state", str(state_path)]
    env = {**os.environ, "PYTHONPATH": str(source)}
    result = subprocess.run(args, cwd=workdir, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"the tap from {source} failed:\n{result.stderr[-2000:]}")
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    for message in messages:
        message.pop("time_extracted", None)  # wall-clock times differ between any two runs
        if message["type"] == "STATE":
            _drop_signposts(message["value"])
    return messages


def _drop_signposts(value: Any) -> None:
    """The SDK saves the run's start (wall-clock) as a signpost: not part of the comparison."""
    if isinstance(value, dict):
        value.pop("replication_key_signpost", None)
        for item in value.values():
            _drop_signposts(item)
    elif isinstance(value, list):
        for item in value:
            _drop_signposts(item)


def final_state(messages: list[dict[str, Any]]) -> dict[str, Any]:
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return states[-1] if states else {}


def differences(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    found = [f"final STATE: {line}" for line in _paths(final_state(before), final_state(after))]
    before, after = _without_states(before), _without_states(after)
    if len(before) != len(after):
        found.append(f"{len(before)} messages before, {len(after)} after")
    for index, (old, new) in enumerate(zip(before, after, strict=False)):
        if old != new:
            found += [f"message {index} ({old['type']}): {line}" for line in _paths(old, new)]
    return found


def _without_states(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [message for message in messages if message["type"] != "STATE"]


def _paths(old: Any, new: Any, where: str = "") -> list[str]:
    """Where two JSON values differ, as ``path: before != after`` lines."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            line
            for key in dict.fromkeys([*old, *new])
            for line in _paths(old.get(key), new.get(key), f"{where}.{key}")
        ]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        pairs = enumerate(zip(old, new, strict=True))
        return [line for i, pair in pairs for line in _paths(*pair, f"{where}[{i}]")]
    return [] if old == new else [f"{where or '.'}: {old!r:.200} != {new!r:.200}"]


def summary(messages: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for message in messages:
        key = message["type"] if message["type"] != "RECORD" else "RECORD"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default="main", help="git revision to compare with")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--advertisers", type=int, default=3)
    parser.add_argument("--days", type=int, default=30, help="start_date this many days back")
    parser.add_argument("--select", help="comma-separated streams to select in a full catalog")
    options = parser.parse_args()

    from tap_tiktok_ads.emulator import Emulator

    with (
        tempfile.TemporaryDirectory() as tmp,
        Emulator(seed=options.seed, advertisers=options.advertisers, today=PINNED_DAY) as emu,
    ):
        config = {
            "access_token": emu.access_token,
            "api_url": emu.base_url,
            "advertiser_ids": [a["advertiser_id"] for a in emu.world.advertisers],
            "start_date": (PINNED_DAY - timedelta(days=options.days)).isoformat(),
            "max_requests_per_second": 1000,
            "max_clock_skew_hours": PINNED_CLOCK_SKEW_HOURS,
        }
        old_source = export_revision(options.ref, Path(tmp) / "ref")
        catalog = None
        if options.select:
            catalog = Path(tmp) / "catalog.json"
            selected = options.select.split(",")
            from tap_tiktok_ads.catalog_selection import catalog_selecting

            catalog.write_text(json.dumps(catalog_selecting(config, selected)))
        failed = False
        old_state: dict[str, Any] | None = None
        new_state: dict[str, Any] | None = None
        for run in ("first sync", "resumed sync"):
            old = run_tap(old_source, Path(tmp), config, old_state, catalog)
            new = run_tap(ROOT, Path(tmp), config, new_state, catalog)
            found = differences(old, new)
            print(f"{run}: {options.ref}: {summary(old)}; this tree: {summary(new)}")
            for line in found[:SHOWN_DIFFERENCES]:
                print(line)
            failed = failed or bool(found)
            old_state, new_state = final_state(old), final_state(new)
    print("different" if failed else "identical")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
