"""Three advertiser shards through Meltano into PostgreSQL equal one unsharded run.

The shards run in parallel, as an orchestrator would start them: `meltano run --state-id-suffix
shard-i` with TAP_TIKTOK_ADS_ADVERTISER_SHARD=i/3, into the same tables and with one Meltano
system database. The next day each shard resumes from its own saved state.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.sharding import Shard
from tests.conftest import PINNED_CLOCK_SKEW_HOURS
from tests.e2e.conftest import MELTANO, ROOT, Postgres, meltano_env, private_system_dir

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("meltano_installed")]

TODAY = date(2026, 11, 20)
FIRST_DAY = TODAY - timedelta(days=4)
ATTRIBUTION_DAYS = 2
SHARDS = 3
TABLES = ("advertisers", "campaigns", "ads", "ad_performance_daily")
# A few streams and metrics keep the test cheap; the keys are always selected.
SELECT = [
    "advertisers.*",
    "campaigns.*",
    "ads.*",
    "ad_performance_daily.spend",
    "ad_performance_daily.impressions",
    "ad_performance_daily.conversion",
]
KEYS = {
    "advertisers": ("advertiser_id",),
    "campaigns": ("campaign_id",),
    "ads": ("ad_id",),
    "ad_performance_daily": ("advertiser_id", "ad_id", "stat_time_day"),
}


def pipeline_env(emu: Emulator, pg: Postgres, schema: str, system_db: Path) -> dict[str, str]:
    return meltano_env(
        system_db,
        TAP_TIKTOK_ADS__SELECT=json.dumps(SELECT),
        TAP_TIKTOK_ADS_API_URL=emu.base_url,
        TAP_TIKTOK_ADS_ACCESS_TOKEN=emu.access_token,
        TAP_TIKTOK_ADS_ADVERTISER_IDS=json.dumps(
            [a["advertiser_id"] for a in emu.world.advertisers]
        ),
        TAP_TIKTOK_ADS_START_DATE=FIRST_DAY.isoformat(),
        TAP_TIKTOK_ADS_ATTRIBUTION_WINDOW_DAYS=ATTRIBUTION_DAYS,
        TAP_TIKTOK_ADS_MAX_REQUESTS_PER_SECOND=1000,
        # The emulator's clock is pinned to another day than this machine's.
        TAP_TIKTOK_ADS_MAX_CLOCK_SKEW_HOURS=PINNED_CLOCK_SKEW_HOURS,
        TARGET_POSTGRES_HOST="127.0.0.1",
        TARGET_POSTGRES_PORT=pg.port,
        TARGET_POSTGRES_USER="postgres",
        TARGET_POSTGRES_PASSWORD="trust-auth-ignores-it",
        TARGET_POSTGRES_DATABASE="tiktok_ads",
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema,
    )


def worker_project(folder: Path) -> Path:
    """A copy of the Meltano project for one parallel job, sharing the installed plugins.

    Meltano hands the saved state and the catalog to the tap through fixed file names in
    `.meltano/run/<plugin>/`, so parallel runs of one plugin in one project folder read each
    other's state; each job needs its own folder (as on separate orchestrator workers).
    """
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "meltano.yml", folder / "meltano.yml")
    (folder / ".meltano").mkdir(exist_ok=True)
    for kind in ("extractors", "loaders"):
        link = folder / ".meltano" / kind
        if not link.exists():
            link.symlink_to(ROOT / ".meltano" / kind)
    return folder


def start(env: dict[str, str], *suffix: str) -> subprocess.Popen:
    project = worker_project(
        Path(env["MELTANO_DATABASE_URI"].removeprefix("sqlite:///")).parent
        / (suffix[-1] if suffix else "unsharded")
    )
    # Its own system directory too: the shared environment names one for all the jobs.
    own = {**env, "MELTANO_SYS_DIR_ROOT": str(private_system_dir(project / ".meltano-system"))}
    return subprocess.Popen(
        [MELTANO, "run", *suffix, "tap-tiktok-ads", "target-postgres"],
        cwd=project,
        env=own,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def saved_states(env: dict[str, str]) -> str:
    """`meltano state list`; the first call also creates the system database."""
    answer = subprocess.run(
        [MELTANO, "state", "list"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    return answer.stdout


def saved_state(env: dict[str, str], state_id: str) -> str:
    answer = subprocess.run(
        [MELTANO, "state", "get", state_id], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    return answer.stdout


def run_all(reference: dict[str, str], sharded: dict[str, str], *, first: bool = False) -> None:
    """The unsharded run and the N shard runs, all at once.

    On the first run, shard 1 creates the tables before the other shards start: parallel first
    loads race on CREATE TABLE in the target (the README says the same).
    """
    processes = [start(reference)]
    for index in range(1, SHARDS + 1):
        env = {**sharded, "TAP_TIKTOK_ADS_ADVERTISER_SHARD": f"{index}/{SHARDS}"}
        processes.append(start(env, "--state-id-suffix", f"shard-{index}"))
        if first and index == 1:
            finish(processes[-1])
    for process in processes:
        finish(process)


def finish(process: subprocess.Popen) -> None:
    output, _ = process.communicate(timeout=600)
    errors = [line for line in output.splitlines() if "rror" in line]
    assert process.returncode == 0, "\n".join(errors)[:4000]


def assert_same_tables(pg: Postgres) -> None:
    for table in TABLES:
        sharded = pg.snapshot("sharded", table)
        assert sharded, table
        assert sharded == pg.snapshot("unsharded", table), table
        keys = ", ".join(f'"{k}"' for k in KEYS[table])
        doubled = pg.scalar(
            f'SELECT count(*) - count(DISTINCT ({keys}, 1)) FROM "sharded"."{table}"'
        )
        assert doubled == "0", table


def assert_shard_states(env: dict[str, str], shards: list[tuple[str, ...]], day: date) -> None:
    """Each shard has its own saved state, with report bookmarks of its advertisers only."""
    listed = saved_states(env)
    for index, advertisers in enumerate(shards, start=1):
        state_id = f"dev:tap-tiktok-ads-to-target-postgres:shard-{index}"
        assert state_id in listed
        bookmarks = json.loads(saved_state(env, state_id))["singer_state"]["bookmarks"]
        partitions = bookmarks["ad_performance_daily"]["partitions"]
        assert {p["context"]["advertiser_id"] for p in partitions} == set(advertisers)
        assert {p["replication_key_value"] for p in partitions} == {day.isoformat()}


def report_windows(emu: Emulator) -> dict[str, set[tuple[str, str]]]:
    """The report date ranges requested, by advertiser."""
    windows: dict[str, set[tuple[str, str]]] = {}
    for entry in emu.requests():
        if entry["path"] == "/report/integrated/get/":
            params = entry["params"]
            windows.setdefault(str(params["advertiser_id"]), set()).add(
                (params["start_date"], params["end_date"])
            )
    return windows


@pytest.fixture
def system_dbs() -> Iterator[Path]:
    """A folder for Meltano's system databases, which hold the saved state.

    Not pytest's tmp_path: other pytest sessions on the machine prune old base folders, and
    this test must find its state again minutes later.
    """
    with tempfile.TemporaryDirectory(prefix="tap-tiktok-shards-") as folder:
        yield Path(folder)


def test_three_shards_equal_one_run_and_each_resumes_from_its_own_state(
    postgres: Postgres, system_dbs: Path
) -> None:
    tmp_path = system_dbs
    world: dict[str, Any] = {"campaigns": 2, "adgroups": 1, "ads": 2, "audiences": 0}
    with Emulator(seed=53, advertisers=7, history_days=10, today=TODAY, **world) as emu:
        everyone = [a["advertiser_id"] for a in emu.world.advertisers]
        shards = [Shard(i, SHARDS).select(everyone) for i in range(1, SHARDS + 1)]
        assert all(shards), "every shard should hold an advertiser in this world"
        reference = pipeline_env(emu, postgres, "unsharded", tmp_path / "unsharded.db")
        sharded = pipeline_env(emu, postgres, "sharded", tmp_path / "sharded.db")
        # Parallel runs share a system database that exists already, as in production
        # (created at the same moment, its migrations would race).
        saved_states(reference)
        saved_states(sharded)
        run_all(reference, sharded, first=True)
        assert_same_tables(postgres)
        assert report_windows(emu)[everyone[0]] == {(FIRST_DAY.isoformat(), TODAY.isoformat())}

        assert_shard_states(sharded, shards, TODAY)

        # The next day TikTok revises recent conversions; every shard resumes from its own
        # state, and the sharded tables still equal the unsharded ones.
        emu.set_today(TODAY + timedelta(days=1))
        emu.clear_requests()
        run_all(reference, sharded)
        assert_same_tables(postgres)
        assert_shard_states(sharded, shards, TODAY + timedelta(days=1))
        resumed_from = (TODAY - timedelta(days=ATTRIBUTION_DAYS)).isoformat()
        for advertiser, windows in report_windows(emu).items():
            assert {first for first, _ in windows} == {resumed_from}, advertiser
        new_day = (TODAY + timedelta(days=1)).isoformat()
        new_rows = postgres.scalar(
            'SELECT count(*) FROM "sharded"."ad_performance_daily" '
            f"WHERE stat_time_day = '{new_day}'"
        )
        assert new_rows != "0"
