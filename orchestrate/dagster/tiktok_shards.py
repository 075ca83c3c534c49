"""Dagster: tap-tiktok-ads as N advertiser shards, N independent `meltano run` jobs in one job.

    pip install dagster dagster-webserver
    SHARDS=3 MELTANO_PROJECT_ROOT=/path/to/meltano/project dagster dev -f tiktok_shards.py

Each op is an ordinary Meltano run of one shard, with that shard's own saved state
(``--state-id-suffix shard-i``) and ``TAP_TIKTOK_ADS_ADVERTISER_SHARD=i/N``. The ops do not
depend on each other: they run in parallel, a failed shard is retried alone (its RetryPolicy,
or "Re-execute from failure" in the UI), and the other shards' loads stand.

``max_requests_per_second`` is per process: give each shard its share of the app's budget
(TAP_TIKTOK_ADS_MAX_REQUESTS_PER_SECOND), or its own app and token through per-shard
environment variables (see ``shard_env``).
"""

from __future__ import annotations

import os
import subprocess

from dagster import Definitions, Failure, OpDefinition, RetryPolicy, ScheduleDefinition, job, op

SHARDS = int(os.environ.get("SHARDS", "3"))
PROJECT = os.environ.get("MELTANO_PROJECT_ROOT", ".")
MELTANO = os.environ.get("MELTANO_EXECUTABLE", "meltano")
PIPELINE = ("tap-tiktok-ads", os.environ.get("TIKTOK_TARGET", "target-postgres"))


def shard_env(index: int, count: int) -> dict[str, str]:
    """The shard's environment; SHARD_<i>_ACCESS_TOKEN, if set, gives it its own token."""
    env = {**os.environ, "TAP_TIKTOK_ADS_ADVERTISER_SHARD": f"{index}/{count}"}
    own_token = os.environ.get(f"SHARD_{index}_ACCESS_TOKEN")
    if own_token:
        env["TAP_TIKTOK_ADS_ACCESS_TOKEN"] = own_token
    return env


def shard_op(index: int, count: int) -> OpDefinition:
    @op(
        name=f"tiktok_ads_shard_{index}_of_{count}",
        retry_policy=RetryPolicy(max_retries=2, delay=300),
    )
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
