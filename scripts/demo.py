"""The main job: `meltano run tap-tiktok-ads target-csv`, on the bundled emulator by default.

With TAP_TIKTOK_ADS_ACCESS_TOKEN in the environment the same pipeline runs against TikTok;
otherwise the Business API emulator starts on a loopback port and stands in for it.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "output" / "csv"
BIN = Path(sys.executable).parent


def meltano(*args: str, env: dict[str, str]) -> None:
    command = [str(BIN / "meltano"), *args]
    subprocess.run(command, cwd=ROOT, env=env, check=True)


def emulator_env(stack: ExitStack) -> dict[str, str]:
    from tap_tiktok_ads.emulator import Emulator

    today = datetime.now(timezone.utc).date()
    emu = stack.enter_context(Emulator(seed=2026, advertisers=3, today=today))
    ids = [str(a["advertiser_id"]) for a in emu.world.advertisers]
    print(f"No TikTok credentials given: using the bundled emulator at {emu.base_url}")
    return {
        "TAP_TIKTOK_ADS_API_URL": emu.base_url,
        "TAP_TIKTOK_ADS_ACCESS_TOKEN": emu.access_token,
        "TAP_TIKTOK_ADS_ADVERTISER_IDS": json.dumps(ids),
        "TAP_TIKTOK_ADS_START_DATE": (today - timedelta(days=30)).isoformat(),
    }


def summarise(started: float) -> None:
    files = sorted(OUTPUT.glob("*.csv"))
    print(f"\nDone in {time.monotonic() - started:.0f}s. {len(files)} streams written to {OUTPUT}:")
    total = 0
    for path in files:
        with path.open(newline="") as handle:
            rows = max(sum(1 for _ in csv.reader(handle)) - 1, 0)
        total += rows
        print(f"  {path.name:<45} {rows:>8} rows")
    print(f"  {'total':<45} {total:>8} rows")


def main() -> int:
    started = time.monotonic()
    env = dict(os.environ)
    env.setdefault("MELTANO_SEND_ANONYMOUS_USAGE_STATS", "false")
    env["TARGET_CSV_OUTPUT_PATH"] = str(OUTPUT)
    run = ["run", "tap-tiktok-ads", "target-csv"]
    with ExitStack() as stack:
        if not env.get("TAP_TIKTOK_ADS_ACCESS_TOKEN"):
            env.update(emulator_env(stack))
            # Each demo starts a new synthetic world: the last run's bookmarks mean nothing here.
            run.append("--full-refresh")
        shutil.rmtree(OUTPUT, ignore_errors=True)
        OUTPUT.mkdir(parents=True, exist_ok=True)
        meltano("install", env=env)
        meltano(*run, env=env)
    summarise(started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
