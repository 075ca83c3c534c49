"""Dagster: tap-tiktok-ads as N advertiser shards, N independent `meltano run` jobs in one job.

    pip install dagster dagster-webserver
    SHARDS=3 MELTANO_PROJECT_ROOT=/path/to/meltano/project dagster dev -f tiktok_shards.py

Each op is an ordinary Meltano run of one shard, with that shard's own saved state
(``--state-id-suffix shard-i``) and ``TAP_TIKTOK_ADS_ADVERTISER_SHARD=i/N``. The ops do not
depend on each other: they run in parallel, a failed shard is retried alone (its RetryPolicy,
or "Re-execute from failure" in the UI), and the other shards' loads stand.

Meltano hands the saved state and the catalog to the tap through fixed file names under its
system directory (``.meltano/run/``), so each shard gets a system directory of its own, linked
to the project's installed plugins, while all shards keep their state in the project's one
system database (``MELTANO_DATABASE_URI``; a PostgreSQL database suits parallel jobs better
than the default SQLite file). Before the shards first run together, create that database
(``meltano state list``) and let one shard finish alone, so they do not race on creating the
target's tables.

``max_requests_per_second`` is per process: give each shard its share of the app's budget
(TAP_TIKTOK_ADS_MAX_REQUESTS_PER_SECOND), or its own app and token through per-shard
environment variables (see ``shard_env``).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dagster import Definitions, Failure, OpDefinition, RetryPolicy, ScheduleDefinition, job, op

SHARDS = int(os.environ.get("SHARDS", "3"))
PROJECT = Path(os.environ.get("MELTANO_PROJECT_ROOT", ".")).resolve()
MELTANO = os.environ.get("MELTANO_EXECUTABLE", "meltano")
PIPELINE = ("tap-tiktok-ads", os.environ.get("TIKTOK_TARGET", "target-postgres"))
RETRY = RetryPolicy(
    max_retries=int(os.environ.get("SHARD_MAX_RETRIES", "2")),
    delay=float(os.environ.get("SHARD_RETRY_DELAY_SECONDS", "300")),
)
SYSTEM_DIR = Path(os.environ.get("MELTANO_SYS_DIR_ROOT", PROJECT / ".meltano"))
INSTALLED = ("extractors", "loaders", "mappers", "utilities")


def shard_system_dir(index: int) -> Path:
    """The shard's own Meltano system directory, with the project's installed plugins linked in."""
    own = SYSTEM_DIR / "shards" / f"shard-{index}"
    own.mkdir(parents=True, exist_ok=True)
    for kind in INSTALLED:
        link, installed = own / kind, SYSTEM_DIR / kind
        if installed.is_dir() and not link.exists():
            link.symlink_to(installed, target_is_directory=True)
    return own


def shard_env(index: int, count: int) -> dict[str, str]:
    """The shard's environment; SHARD_<i>_ACCESS_TOKEN, if set, gives it its own token."""
    env = {
        # The project's system database, wherever the shard's own system directory is.
        "MELTANO_DATABASE_URI": f"sqlite:///{SYSTEM_DIR / 'meltano.db'}",
        **os.environ,
        "MELTANO_SYS_DIR_ROOT": str(shard_system_dir(index)),
        "TAP_TIKTOK_ADS_ADVERTISER_SHARD": f"{index}/{count}",
    }
    own_token = os.environ.get(f"SHARD_{index}_ACCESS_TOKEN")
    if own_token:
        env["TAP_TIKTOK_ADS_ACCESS_TOKEN"] = own_token
    return env


def shard_op(index: int, count: int) -> OpDefinition:
    @op(name=f"tiktok_ads_shard_{index}_of_{count}", retry_policy=RETRY)
    def run_shard() -> None:
        command = [MELTANO, "run", "--state-id-suffix", f"shard-{index}", *PIPELINE]
        done = subprocess.run(command, cwd=PROJECT, env=shard_env(index, count), check=False)
        if done.returncode != 0:
            raise Failure(f"shard {index}/{count}: `meltano run` exited {done.returncode}")

    return run_shard


@job
def tiktok_ads_shards() -> None:
    for index in range(1, SHARDS + 1):
        shard_op(index, SHARDS)()


defs = Definitions(
    jobs=[tiktok_ads_shards],
    schedules=[ScheduleDefinition(job=tiktok_ads_shards, cron_schedule="0 6 * * *")],
)
