"""`meltano run tap-tiktok-ads target-postgres|target-csv` against the emulator."""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import subprocess
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest

from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.reports.catalog import LEVEL_ID_DIMENSION, DataLevel, api_data_level
from tests.conftest import PINNED_CLOCK_SKEW_HOURS
from tests.e2e.conftest import MELTANO, ROOT, Postgres, meltano_env

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("meltano_installed")]

TODAY = date(2026, 11, 20)
FIRST_DAY = TODAY - timedelta(days=9)
ATTRIBUTION_DAYS = 3
PERFORMANCE = {f"{level}_performance_daily": level for level in LEVEL_ID_DIMENSION}


def tap_env(emu: Emulator) -> dict[str, Any]:
    return {
        "TAP_TIKTOK_ADS_API_URL": emu.base_url,
        "TAP_TIKTOK_ADS_ACCESS_TOKEN": emu.access_token,
        "TAP_TIKTOK_ADS_ADVERTISER_IDS": json.dumps(
            [a["advertiser_id"] for a in emu.world.advertisers]
        ),
        "TAP_TIKTOK_ADS_START_DATE": FIRST_DAY.isoformat(),
        "TAP_TIKTOK_ADS_ATTRIBUTION_WINDOW_DAYS": ATTRIBUTION_DAYS,
        "TAP_TIKTOK_ADS_MAX_REQUESTS_PER_SECOND": 1000,
        "TAP_TIKTOK_ADS_MAX_CLOCK_SKEW_HOURS": PINNED_CLOCK_SKEW_HOURS,
    }


def postgres_env(pg: Postgres, schema: str) -> dict[str, Any]:
    return {
        "TARGET_POSTGRES_HOST": "127.0.0.1",
        "TARGET_POSTGRES_PORT": pg.port,
        "TARGET_POSTGRES_USER": "postgres",
        "TARGET_POSTGRES_PASSWORD": "trust-auth-ignores-it",
        "TARGET_POSTGRES_DATABASE": "tiktok_ads",
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
    }


def meltano_run(env: dict[str, str], target: str = "target-postgres") -> subprocess.Popen:
    return subprocess.Popen(
        [MELTANO, "run", "tap-tiktok-ads", target],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, "\n".join(
        line for line in output.splitlines() if "error" in line.lower() or "Error" in line
    )[-6000:]
    return output


TOP_VIEW_FILTER = {
    "field_name": "buying_type",
    "filter_type": "IN",
    "filter_value": '["RESERVATION_TOP_VIEW"]',
}


def expected_rows(emu: Emulator, level: DataLevel, first: date, last: date) -> int:
    """What the emulator holds for a daily performance table over first..last."""
    total = 0
    for advertiser in emu.world.advertisers:
        day = first
        while day <= last:
            end = min(day + timedelta(days=29), last)
            params: dict[str, Any] = {
                "advertiser_id": advertiser["advertiser_id"],
                "report_type": "BASIC",
                "data_level": api_data_level(level),
                "page_size": 1000,
                "dimensions": [LEVEL_ID_DIMENSION[level], "stat_time_day"],
                "start_date": day.isoformat(),
                "end_date": end.isoformat(),
            }
            for filtering in ([], [TOP_VIEW_FILTER]):  # TikTok's default pass, then TopView's
                answer = emu.reports.query({**params, "filtering": filtering}, emu.now)
                total += answer["page_info"]["total_number"]
            day = end + timedelta(days=1)
    return total


def table_rows(pg: Postgres, schema: str, table: str) -> int:
    return int(pg.scalar(f'SELECT count(*) FROM "{schema}"."{table}"'))


def test_full_then_next_day_incremental_into_postgres(postgres: Postgres, tmp_path: Path) -> None:
    schema = "full_sync"
    with Emulator(seed=41, advertisers=2, today=TODAY) as emu:
        env = meltano_env(tmp_path / "meltano.db", **tap_env(emu), **postgres_env(postgres, schema))
        finish(meltano_run(env))

        tables = {
            row[0]
            for row in postgres.psql(
                f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'"
            )
        }
        assert {
            "advertisers",
            "campaigns",
            "ad_groups",
            "ads",
            *PERFORMANCE,
            "campaign_audience_age_gender_daily",
            "ad_audience_platform_daily",
            "campaign_audience_province_daily",
            "advertiser_audience_language_daily",
            "creative_videos",
            "creative_images",
            "pixels",
            "business_centers",
        } <= tables
        unknown_videos = postgres.scalar(
            f'SELECT count(*) FROM "{schema}".ads a WHERE a.video_id IS NOT NULL AND NOT EXISTS '
            f'(SELECT 1 FROM "{schema}".creative_videos v '
            "WHERE v.advertiser_id = a.advertiser_id AND v.video_id = a.video_id)"
        )
        assert int(unknown_videos) == 0
        for table, level in PERFORMANCE.items():
            assert table_rows(postgres, schema, table) == expected_rows(
                emu, level, FIRST_DAY, TODAY
            )
        live_ads = [a for a in emu.world.ads if not emu.world.is_deleted(a)]
        assert table_rows(postgres, schema, "ads") == len(live_ads)

        types = dict(
            postgres.psql(
                "SELECT column_name, data_type FROM information_schema.columns "
                f"WHERE table_schema = '{schema}' AND table_name = 'ad_performance_daily'"
            )
        )
        assert types["stat_time_day"] == "date"
        assert types["impressions"] in ("bigint", "integer")
        assert types["spend"] == "numeric"
        keys = {
            row[0]
            for row in postgres.psql(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indisprimary "
                f'AND i.indrelid = \'"{schema}"."ad_performance_daily"\'::regclass'
            )
        }
        assert keys == {"advertiser_id", "ad_id", "stat_time_day", "is_top_view"}

        # The next day: conversions of recent days are revised by TikTok (the emulator).
        day_before = (TODAY - timedelta(days=1)).isoformat()
        conversions = (
            f'SELECT sum(conversion) FROM "{schema}"."advertiser_performance_daily" '
            f"WHERE stat_time_day = '{day_before}'"
        )
        before = postgres.scalar(conversions)
        emu.set_today(TODAY + timedelta(days=1))
        emu.clear_requests()
        finish(meltano_run(env))

        windows = {
            (r["params"]["start_date"], r["params"]["end_date"])
            for r in emu.requests()
            if r["path"] == "/report/integrated/get/"
        }
        assert windows == {
            (
                (TODAY - timedelta(days=ATTRIBUTION_DAYS)).isoformat(),
                (TODAY + timedelta(days=1)).isoformat(),
            )
        }
        assert postgres.scalar(conversions) != before
        for table, level in PERFORMANCE.items():
            assert table_rows(postgres, schema, table) == expected_rows(
                emu, level, FIRST_DAY, TODAY + timedelta(days=1)
            )
            duplicates = postgres.scalar(
                f'SELECT count(*) - count(DISTINCT (advertiser_id, "{LEVEL_ID_DIMENSION[level]}", '
                f'stat_time_day, is_top_view)) FROM "{schema}"."{table}"'
            )
            assert duplicates == "0"


def test_interrupted_run_converges_to_the_uninterrupted_tables(
    postgres: Postgres, tmp_path: Path
) -> None:
    with Emulator(seed=43, advertisers=3, today=TODAY) as emu:
        reference = meltano_env(
            tmp_path / "ref.db", **tap_env(emu), **postgres_env(postgres, "reference")
        )
        emu.clear_requests()
        finish(meltano_run(reference))
        half = len(emu.requests()) // 2

        env = meltano_env(
            tmp_path / "resumed.db", **tap_env(emu), **postgres_env(postgres, "resumed")
        )
        with stalled_after(emu, half) as stalled:
            process = meltano_run(env)
            assert caught_in_the_middle(process, stalled), "the tap finished before the stall"
            assert kill_taps(process) > 0
            process.communicate(timeout=300)
        finish(meltano_run(env))

        for table in ("ads", "campaigns", *PERFORMANCE, "ad_audience_country_daily"):
            assert postgres.snapshot("resumed", table) == postgres.snapshot("reference", table)


@contextlib.contextmanager
def stalled_after(emu: Emulator, answered: int) -> Iterator[threading.Event]:
    """The emulator holds every request after the first ``answered`` until the block ends.

    The event is set once a request is held: the tap is then certainly in the middle of its
    run, however fast or slow the machine is.
    """
    reached = threading.Event()
    release = threading.Event()
    count = itertools.count(1)
    original = emu.next_fault

    def next_fault(path: str) -> str | None:
        if next(count) > answered:
            reached.set()
            release.wait(timeout=600)
        return original(path)

    emu.next_fault = next_fault  # type: ignore[method-assign]
    try:
        yield reached
    finally:
        emu.next_fault = original  # type: ignore[method-assign]
        release.set()


def caught_in_the_middle(process: subprocess.Popen, stalled: threading.Event) -> bool:
    """Wait until the emulator holds a request, or until the pipeline ends without one."""
    while not stalled.wait(timeout=0.1):
        if process.poll() is not None:
            return False
    return True


def kill_taps(process: subprocess.Popen) -> int:
    """SIGKILL the tap (a grandchild of `meltano run`): an interruption without any goodbye."""
    killed = 0
    for child in psutil.Process(process.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):  # a child may end while it is looked at
            if any("tap-tiktok-ads" in part for part in child.cmdline()[:2]):
                child.kill()
                killed += 1
    return killed


def test_same_pipeline_into_csv(tmp_path: Path) -> None:
    output = tmp_path / "csv"
    with Emulator(seed=41, advertisers=2, today=TODAY) as emu:
        env = meltano_env(tmp_path / "meltano.db", **tap_env(emu), TARGET_CSV_OUTPUT_PATH=output)
        finish(meltano_run(env, "target-csv"))
        files = {path.stem: path for path in output.glob("*.csv")}
        assert {"advertisers", "campaigns", "ads", *PERFORMANCE} <= set(files)
        for table, level in PERFORMANCE.items():
            with files[table].open(newline="") as handle:
                rows = list(csv.DictReader(handle))
            assert len(rows) == expected_rows(emu, level, FIRST_DAY, TODAY)
            assert all(row["advertiser_id"] for row in rows)


def test_fault_soak_into_postgres_matches_a_clean_load(postgres: Postgres, tmp_path: Path) -> None:
    """20% of requests fail in every way the emulator knows; the tables equal a clean load."""
    from tap_tiktok_ads.emulator import Faults
    from tap_tiktok_ads.emulator.faults import KINDS

    resilient = {
        "TAP_TIKTOK_ADS_MAX_RETRIES": 10,
        "TAP_TIKTOK_ADS_RETRY_BACKOFF_SECONDS": 0,  # integer kind in Meltano: 0 = retry at once
        "TAP_TIKTOK_ADS_REQUEST_TIMEOUT": 1,
        "TAP_TIKTOK_ADS_PAGE_SIZE": 200,
    }
    with Emulator(seed=47, advertisers=2, today=TODAY) as emu:
        clean = meltano_env(
            tmp_path / "clean.db",
            **tap_env(emu),
            **resilient,
            **postgres_env(postgres, "soak_clean"),
        )
        finish(meltano_run(clean))
        emu.faults = Faults(
            rates={kind: 0.2 / len(KINDS) for kind in KINDS}, seed=9, timeout_seconds=1.5
        )
        emu.clear_requests()
        faulty = meltano_env(
            tmp_path / "faulty.db",
            **tap_env(emu),
            **resilient,
            **postgres_env(postgres, "soak_faulty"),
        )
        finish(meltano_run(faulty))
        assert sum(1 for r in emu.requests() if r.get("fault") or r["code"]) > 10

    for table, level in PERFORMANCE.items():
        assert postgres.snapshot("soak_faulty", table) == postgres.snapshot("soak_clean", table)
        duplicates = postgres.scalar(
            f'SELECT count(*) - count(DISTINCT (advertiser_id, "{LEVEL_ID_DIMENSION[level]}", '
            f'stat_time_day, is_top_view)) FROM "soak_faulty"."{table}"'
        )
        assert duplicates == "0"
    for table in ("campaigns", "ads", "campaign_audience_age_gender_daily"):
        assert postgres.snapshot("soak_faulty", table) == postgres.snapshot("soak_clean", table)
