"""The Dagster recipe (orchestrate/dagster/tiktok_shards.py) run by Dagster against the emulator.

Dagster lives in a virtualenv of its own (`.venv-dagster`, made on first use), as it would on an
orchestrator's workers; the recipe's ops run this project's Meltano into PostgreSQL. One shard
is given a token TikTok refuses: it fails after its retry while the other two load and save
their state, and re-executing that shard alone completes the tables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.sharding import Shard
from tests.e2e.conftest import MELTANO, ROOT, Postgres, private_system_dir
from tests.e2e.test_shards import TODAY, pipeline_env, saved_state, saved_states, worker_project

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("meltano_installed")]

RECIPE = ROOT / "orchestrate" / "dagster" / "tiktok_shards.py"
DAGSTER_VENV = ROOT / ".venv-dagster"
SHARDS = 3
FAILING = 2
OP = "tiktok_ads_shard_{}_of_3"

# Runs the recipe's job in Dagster's own process; prints each op's outcome as JSON.
DRIVER = """
import json, runpy, sys
job = runpy.run_path(sys.argv[1])["tiktok_ads_shards"]
selection = sys.argv[2:] or None
result = job.execute_in_process(raise_on_error=False, op_selection=selection)
outcome = {event.step_key: event.event_type_value for event in result.all_events
           if event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE")}
retries = [event.step_key for event in result.all_events
           if event.event_type_value == "STEP_UP_FOR_RETRY"]
print(json.dumps({"outcome": outcome, "retries": retries}))
"""


@pytest.fixture(scope="session")
def dagster_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a virtualenv with Dagster, installed once (about 20 s from a warm cache)."""
    python = DAGSTER_VENV / "bin" / "python"
    shared = tmp_path_factory.getbasetemp().parent
    with FileLock(shared / "dagster-install.lock"):
        ready = (
            python.exists()
            and subprocess.run(
                [str(python), "-c", "import dagster"], capture_output=True
            ).returncode
            == 0
        )
        if not ready:
            subprocess.run([sys.executable, "-m", "venv", str(DAGSTER_VENV)], check=True)
            installed = subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "dagster"],
                capture_output=True,
                text=True,
            )
            if installed.returncode != 0:
                pytest.fail(f"pip install dagster failed:\n{installed.stderr[-3000:]}")
    return python


@pytest.fixture
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tap-tiktok-dagster-") as folder:
        yield Path(folder)


def run_job(python: Path, env: dict[str, str], *ops: str) -> dict[str, object]:
    done = subprocess.run(
        [str(python), "-c", DRIVER, str(RECIPE), *ops],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def loaded_advertisers(pg: Postgres, table: str) -> set[str]:
    rows = pg.psql(f'SELECT DISTINCT advertiser_id FROM "dagster"."{table}"')
    return {row[0] for row in rows}


def test_dagster_recipe_loads_every_shard_and_retries_a_failed_shard_alone(
    dagster_python: Path, postgres: Postgres, workdir: Path
) -> None:
    world: dict[str, Any] = {"campaigns": 1, "adgroups": 1, "ads": 2, "audiences": 0}
    with Emulator(seed=71, advertisers=6, history_days=5, today=TODAY, **world) as emu:
        everyone = [a["advertiser_id"] for a in emu.world.advertisers]
        shards = {i: set(Shard(i, SHARDS).select(everyone)) for i in range(1, SHARDS + 1)}
        assert all(shards.values()), "every shard should hold an advertiser in this world"
        project = worker_project(workdir / "project")
        env = pipeline_env(emu, postgres, "dagster", workdir / "system.db")
        env.pop("MELTANO_SYS_DIR_ROOT")  # the recipe gives each shard its own
        admin = {**env, "MELTANO_SYS_DIR_ROOT": str(private_system_dir(workdir / "admin"))}
        saved_states(admin)  # the system database exists before the shards run together
        job_env = {
            **env,
            "SHARDS": str(SHARDS),
            "MELTANO_PROJECT_ROOT": str(project),
            "MELTANO_EXECUTABLE": str(MELTANO),
            "SHARD_MAX_RETRIES": "1",
            "SHARD_RETRY_DELAY_SECONDS": "0",
            f"SHARD_{FAILING}_ACCESS_TOKEN": "a-token-tiktok-refuses",
            "DAGSTER_HOME": str(workdir / "dagster-home"),
        }
        os.makedirs(job_env["DAGSTER_HOME"])
        (workdir / "dagster-home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

        first = run_job(dagster_python, job_env)
        assert first["outcome"] == {
            OP.format(1): "STEP_SUCCESS",
            OP.format(2): "STEP_FAILURE",
            OP.format(3): "STEP_SUCCESS",
        }
        assert first["retries"] == [OP.format(FAILING)]
        assert loaded_advertisers(postgres, "ad_performance_daily") == shards[1] | shards[3]
        listed = saved_states(admin)
        state_id = "dev:tap-tiktok-ads-to-target-postgres:shard-{}"
        assert state_id.format(1) in listed
        assert state_id.format(3) in listed
        assert state_id.format(FAILING) not in listed
        kept = {i: saved_state(admin, state_id.format(i)) for i in (1, 3)}

        # The token is mended; the failed shard alone runs again and completes the tables.
        del job_env[f"SHARD_{FAILING}_ACCESS_TOKEN"]
        again = run_job(dagster_python, job_env, OP.format(FAILING))
        assert again["outcome"] == {OP.format(FAILING): "STEP_SUCCESS"}
        for table in ("advertisers", "ad_performance_daily"):
            assert loaded_advertisers(postgres, table) == set(everyone), table
        duplicates = postgres.scalar(
            "SELECT count(*) - count(DISTINCT (advertiser_id, ad_id, stat_time_day)) "
            'FROM "dagster"."ad_performance_daily"'
        )
        assert duplicates == "0"
        assert {i: saved_state(admin, state_id.format(i)) for i in (1, 3)} == kept
        assert state_id.format(FAILING) in saved_states(admin)
