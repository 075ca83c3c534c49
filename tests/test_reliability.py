"""Faults, interruptions and hostile input: the sync either equals a clean run or fails clearly."""

from __future__ import annotations

import functools
import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator, Faults
from tap_tiktok_ads.emulator.faults import KINDS
from tap_tiktok_ads.emulator.server import ApiError
from tap_tiktok_ads.errors import ConfigError
from tap_tiktok_ads.reports.catalog import METRICS
from tap_tiktok_ads.reports.definitions import predefined_reports
from tap_tiktok_ads.reports.records import RecordBuilder, build_schema
from tap_tiktok_ads.settings import Settings
from tap_tiktok_ads.tap import TapTikTokAds
from tests.conftest import EMULATOR_TODAY, TapRun, is_default_pass, run_tap, tap_config

SOAK_STREAMS: dict[str, list[str] | None] = {
    "advertisers": None,
    "campaigns": None,
    "ad_groups": None,
    "ads": None,
    "custom_audiences": None,
    "custom_audience_details": None,
    "ad_performance_daily": None,
    "campaign_audience_age_gender_daily": None,
    "ad_group_performance_hourly": None,
    "advertiser_performance_lifetime": None,
}


def keyed(run: TapRun) -> dict[tuple, str]:
    """Records as {(stream, primary key): record}, the way an upserting target keeps them."""
    keys = {
        name: stream.primary_keys
        for name, stream in TapTikTokAds(
            config={"access_token": "x", "start_date": "2026-01-01"}
        ).streams.items()
    }
    table: dict[tuple, str] = {}
    for message in run.messages:
        if message["type"] == "RECORD":
            record = message["record"]
            pk = tuple(record[k] for k in keys[message["stream"]])
            table[(message["stream"], *pk)] = json.dumps(record, sort_keys=True, default=str)
    return table


def soak_config(emu: Emulator, **overrides: Any) -> dict[str, Any]:
    return tap_config(
        emu,
        start_date="2026-11-15",
        page_size=40,
        max_retries=10,
        retry_backoff_seconds=0.01,
        request_timeout=0.5,
        **overrides,
    )


def test_fault_soak_gives_the_clean_runs_records() -> None:
    rates = {kind: 0.2 / len(KINDS) for kind in KINDS}
    with Emulator(seed=77, advertisers=2, campaigns=5, audiences=6, today=EMULATOR_TODAY) as emu:
        config = soak_config(emu)
        catalog = catalog_selecting(config, SOAK_STREAMS)
        clean = run_tap(config, catalog=catalog)
        assert sum(len(r) for r in clean.records.values()) > 2000

        emu.faults = Faults(rates=rates, seed=5, timeout_seconds=1.0)
        emu.clear_requests()
        faulty = run_tap(config, catalog=catalog)
        faults = [
            r.get("fault") or r["code"] for r in emu.requests() if r.get("fault") or r["code"]
        ]
        assert len(faults) > 30, "the soak should have met many faults"
        assert len(emu.requests()) < 5000
    assert keyed(faulty) == keyed(clean)
    assert set(faulty.records) == set(clean.records)


def run_until_killed(
    config_path: Path, catalog_path: Path, state_path: Path | None, stop_after: int | None
) -> list[dict]:
    """Run the tap as a subprocess; SIGKILL it after ``stop_after`` output lines."""
    command = [
        str(Path(sys.executable).parent / "tap-tiktok-ads"),
        "--config",
        str(config_path),
        "--catalog",
        str(catalog_path),
    ]
    if state_path:
        command += ["--state", str(state_path)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    messages = []
    for line in process.stdout:
        messages.append(json.loads(line, parse_float=Decimal))
        if stop_after is not None and len(messages) >= stop_after:
            process.kill()
            break
    process.wait(timeout=60)
    return messages


@dataclass
class CleanRun:
    """A world, the files to sync it, and what an uninterrupted sync of it printed."""

    config_path: Path
    catalog_path: Path
    messages: list[dict]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CleanRun]:
    """Shared by the kill-and-resume cases: the world and so the clean sync are the same."""
    streams = {k: v for k, v in SOAK_STREAMS.items() if k != "ad_group_performance_hourly"}
    folder = tmp_path_factory.mktemp("clean-run")
    with Emulator(seed=78, advertisers=3, campaigns=3, today=EMULATOR_TODAY) as emu:
        config = tap_config(emu, start_date="2026-10-27", report_window_days=7)  # 4 windows
        config_path = folder / "config.json"
        config_path.write_text(json.dumps(config))
        catalog_path = folder / "catalog.json"
        catalog_path.write_text(json.dumps(catalog_selecting(config, streams)))
        messages = run_until_killed(config_path, catalog_path, None, None)
        yield CleanRun(config_path, catalog_path, messages)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_and_resume_converges_to_the_clean_run(
    seed: int, clean_run: CleanRun, tmp_path: Path
) -> None:
    clean = clean_run.messages
    stop = random.Random(seed).randrange(len(clean) // 10, len(clean) * 9 // 10)
    first = run_until_killed(clean_run.config_path, clean_run.catalog_path, None, stop)
    assert len(first) == stop
    states = [m["value"] for m in first if m["type"] == "STATE"]
    state_path = tmp_path / "state.json"
    state_path.write_text(json.dumps(states[-1] if states else {}, default=str))
    resumed = run_until_killed(clean_run.config_path, clean_run.catalog_path, state_path, None)
    assert keyed(TapRun(messages=first + resumed)) == keyed(TapRun(messages=clean))


def test_a_window_that_keeps_timing_out_is_split() -> None:
    with Emulator(seed=3, advertisers=1, today=EMULATOR_TODAY) as emu:
        config = tap_config(
            emu,
            start_date="2026-11-01",
            end_date="2026-11-20",
            request_timeout=0.3,
            retry_backoff_seconds=0.01,
        )
        emu.faults = Faults(timeout_seconds=0.6)
        emu.fail_next("/report/integrated/get/", "timeout", times=3)
        catalog = catalog_selecting(config, {"advertiser_performance_daily": ["spend"]})
        run = run_tap(config, catalog=catalog)
        windows = report_windows_once_logged(emu, ("2026-11-01", "2026-11-20"), times=3)
        assert windows.count(("2026-11-01", "2026-11-20")) == 3  # the original, retried twice
        assert ("2026-11-01", "2026-11-10") in windows
        assert ("2026-11-11", "2026-11-20") in windows
        records = run.records["advertiser_performance_daily"]
        assert len([r for r in records if not r["is_top_view"]]) == 20


def report_windows_once_logged(
    emu: Emulator, window: tuple[str, str], times: int
) -> list[tuple[str, str]]:
    """The report windows requested, once ``window`` is logged ``times`` times.

    The emulator logs a timed-out request when its handler wakes up, which on a busy machine can
    be well after the tap has moved on; waiting for the entries, not for a fixed time, keeps the
    test independent of the machine's speed (the generous limit is only there against a hang).
    """
    give_up = time.monotonic() + 60
    while True:
        windows = [
            (r["params"]["start_date"], r["params"]["end_date"])
            for r in emu.requests()
            # TikTok's default pass; the TopView pass comes after it
            if r["path"] == "/report/integrated/get/" and is_default_pass(r)
        ]
        if windows.count(window) >= times or time.monotonic() > give_up:
            return windows
        time.sleep(0.05)


def test_a_refused_report_fails_naming_it_or_is_skipped() -> None:
    with Emulator(seed=3, advertisers=1, today=EMULATOR_TODAY) as emu:
        config = tap_config(emu, date="2026-11-19")
        catalog = catalog_selecting(config, {"ad_performance_daily": ["spend"], "campaigns": None})
        original = emu.answer

        def refuse(method: str, path: str, params: dict, token: str | None) -> Any:
            if path == "/report/integrated/get/":
                raise ApiError(40002, "metrics: 'spend' is not supported here")
            return original(method, path, params, token)

        emu.answer = refuse  # type: ignore[method-assign]
        with pytest.raises(
            Exception, match=r"ad_performance_daily.*window 2026-11-19\.\.2026-11-19.*'spend'"
        ):
            run_tap(config, catalog=catalog)
        run = run_tap({**config, "skip_rejected_reports": True}, catalog=catalog)
        assert run.records["campaigns"]
        assert "ad_performance_daily" not in run.records


ODD_VALUES = st.one_of(
    st.none(),
    st.just("-"),
    st.just(""),
    st.just("<5"),
    st.just("1,234"),
    st.just("NaN"),
    st.just("Infinity"),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
REPORTS = [r for r in predefined_reports() if r.granularity != "lifetime"][:6]


@functools.cache
def schema_validator(report_index: int) -> jsonschema.Draft7Validator:
    """One validator per report: building one checks the whole schema, the slow part."""
    schema = build_schema(REPORTS[report_index])
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


@functools.cache
def odd_metric_values(report_index: int) -> st.SearchStrategy[dict[str, Any]]:
    """Any of the report's metrics, each missing or with an odd value: drawn in one go."""
    metrics = REPORTS[report_index].available_metrics()
    return st.fixed_dictionaries({}, optional={m.name: ODD_VALUES for m in metrics})


@settings(max_examples=150)
@given(report_index=st.integers(0, len(REPORTS) - 1), data=st.data())
def test_odd_api_values_never_break_the_schema(report_index: int, data: st.DataObject) -> None:
    report = REPORTS[report_index]
    metrics = report.available_metrics()
    builder = RecordBuilder(report, metrics, timezone.utc)
    dimensions = {name: f"v{i}" for i, name in enumerate(report.dimensions)}
    if report.time_dimension == "stat_time_day":
        dimensions["stat_time_day"] = "2026-11-19 00:00:00"
    elif report.time_dimension:
        dimensions["stat_time_hour"] = "2026-11-19 13:00:00"
    values = data.draw(odd_metric_values(report_index), label="metrics")
    record = builder.build({"dimensions": dimensions, "metrics": values}, "123")
    schema_validator(report_index).validate(record)
    for metric in metrics:
        assert metric.name in record
        assert METRICS[metric.name].json_type in ("integer", "number", "string")


CONFIG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5000),
    st.text(max_size=12),
    st.lists(st.text(max_size=4), max_size=3),
    st.floats(allow_nan=False),
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "advertiser_ids",
                "start_date",
                "end_date",
                "date",
                "days_back",
                "start_days_back",
                "end_days_back",
                "date_period",
                "week_start_day",
                "page_size",
                "api_url",
                "request_timeout",
                "attribution_window_days",
                "report_window_days",
                "max_requests_per_second",
            ]
        ),
        CONFIG_VALUES,
    )
)
def test_any_config_is_accepted_or_refused_with_a_config_error(config: dict) -> None:
    error = None
    try:
        Settings.from_config({"access_token": "x", **config})
    except ConfigError as refused:  # anything else escapes and fails the test
        error = refused
    if error is not None:
        assert "\n" not in str(error)
        assert error.setting in {*config, "start_date", "end_date"}


def test_config_dates_are_checked_before_any_request(tmp_path: Path) -> None:
    with Emulator(seed=1, advertisers=1, today=date(2026, 11, 20)) as emu:
        config = tap_config(emu, start_date="2026-11-10", end_date="2026-11-01")
        with pytest.raises(ConfigError, match=r"^end_date"):
            run_tap(config)
        assert emu.requests() == []
