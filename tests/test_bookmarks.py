"""Bookmarks: explicit backfills, instants, future and malformed values, clocks, advertisers."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import responses

from tap_tiktok_ads.bookmarks import entity_instant, report_day
from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.client import TikTokClient
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.errors import ConfigError
from tests.conftest import EMULATOR_TODAY, TapRun, is_default_pass, run_tap, tap_config

REPORT_PATH = "/report/integrated/get/"
DAILY = "advertiser_performance_daily"
BIN = Path(sys.executable).parent
EMULATOR_NOON = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(seed=31, advertisers=1, today=EMULATOR_TODAY) as emulator:
        yield emulator


def advertiser_id(emu: Emulator) -> str:
    return emu.world.advertisers[0]["advertiser_id"]


def state_with(stream: str, context_id: str, key: str, value: Any) -> dict[str, Any]:
    partition = {
        "context": {"advertiser_id": context_id},
        "replication_key": key,
        "replication_key_value": value,
    }
    return {"bookmarks": {stream: {"partitions": [partition]}}}


def report_state(emu: Emulator, value: Any) -> dict[str, Any]:
    return state_with(DAILY, advertiser_id(emu), "stat_time_day", value)


def sync_daily(emu: Emulator, state: dict[str, Any] | None, **options: Any) -> TapRun:
    config = tap_config(emu, **options)
    emu.clear_requests()
    return run_tap(config, catalog=catalog_selecting(config, {DAILY: ["spend"]}), state=state)


def windows(emu: Emulator) -> list[tuple[str, str]]:
    return sorted(
        (r["params"]["start_date"], r["params"]["end_date"])
        for r in emu.requests()
        if r["path"] == REPORT_PATH and r["code"] == 0 and is_default_pass(r)
    )


def saved_day(run: TapRun) -> str:
    (partition,) = run.final_state["bookmarks"][DAILY]["partitions"]
    return partition["replication_key_value"]


# -- 7: explicit dates are a backfill; open-ended ones resume from the bookmark -----------------


@pytest.mark.parametrize(
    ("options", "first", "last"),
    [
        ({"date": "2026-11-02"}, 2, 2),
        ({"start_date": "2026-11-01", "end_date": "2026-11-03"}, 1, 3),
    ],
)
def test_fixed_dates_are_read_whatever_the_bookmark(
    emu: Emulator, options: dict[str, str], first: int, last: int, caplog: Any
) -> None:
    caplog.set_level(logging.INFO)
    run = sync_daily(emu, report_state(emu, "2026-11-19"), **options)
    assert windows(emu) == [(f"2026-11-{first:02d}", f"2026-11-{last:02d}")]
    days = {r["stat_time_day"] for r in run.records[DAILY]}
    assert days == {f"2026-11-{day:02d}" for day in range(first, last + 1)}
    assert saved_day(run) == "2026-11-19"  # a backfill never moves the bookmark back
    assert "though the bookmark is 2026-11-19" in caplog.text


@pytest.mark.parametrize(
    ("bookmark", "options", "saved"),
    [
        (None, {"date": "2026-11-10"}, None),  # nothing before it was read
        ("2026-11-01", {"date": "2026-11-10"}, "2026-11-01"),  # 2..9 were not read
        ("2026-11-01", {"start_date": "2026-11-02", "end_date": "2026-11-05"}, "2026-11-05"),
        ("2026-11-03", {"start_date": "2026-10-30", "end_date": "2026-11-05"}, "2026-11-05"),
    ],
)
def test_fixed_dates_move_the_bookmark_only_when_they_continue_it(
    emu: Emulator, bookmark: str | None, options: dict[str, str], saved: str | None
) -> None:
    state = report_state(emu, bookmark) if bookmark else None
    run = sync_daily(emu, state, **options)
    assert run.records[DAILY]
    partitions = run.final_state.get("bookmarks", {}).get(DAILY, {}).get("partitions", [])
    assert [p.get("replication_key_value") for p in partitions if p.get("replication_key")] == (
        [saved] if saved else []
    )


@pytest.mark.parametrize(
    "options",
    [{"start_date": "2026-11-01"}, {"start_days_back": 20}, {"date_period": "this_month"}],
)
def test_open_and_relative_dates_resume_from_the_bookmark(
    emu: Emulator, options: dict[str, Any]
) -> None:
    run = sync_daily(emu, report_state(emu, "2026-11-18"), attribution_window_days=2, **options)
    assert windows(emu) == [("2026-11-16", "2026-11-20")]
    assert saved_day(run) == "2026-11-20"


# -- 8: entity bookmarks are instants -----------------------------------------------------------


def test_entity_bookmarks_compare_as_instants_not_text() -> None:
    with Emulator(seed=32, advertisers=1, today=EMULATOR_TODAY) as emu:
        advertiser = advertiser_id(emu)
        campaign = emu.world.rows("campaigns", advertiser)[0]
        campaign["modify_time"] = "2026-11-19 16:31:00"  # UTC, after the bookmark below
        # Midnight in Tokyo on the 20th is 15:00 UTC on the 19th.
        state = state_with("campaigns", advertiser, "modify_time", "2026-11-20T00:00:00+09:00")
        config = tap_config(emu)
        run = run_tap(config, catalog=catalog_selecting(config, {"campaigns": None}), state=state)
        emitted = {r["campaign_id"] for r in run.records["campaigns"]}
        assert campaign["campaign_id"] in emitted
        (partition,) = run.final_state["bookmarks"]["campaigns"]["partitions"]
        saved = partition["replication_key_value"]
        assert saved.endswith("+00:00")
        assert saved >= "2026-11-19T16:31:00+00:00"


# -- 9: bookmarks in the future -----------------------------------------------------------------


def test_a_report_bookmark_in_the_future_is_pulled_back_to_today(
    emu: Emulator, caplog: Any
) -> None:
    run = sync_daily(emu, report_state(emu, "2100-01-01"), attribution_window_days=3)
    assert windows(emu) == [("2026-11-17", "2026-11-20")]
    assert run.records[DAILY]
    assert saved_day(run) == "2026-11-20"
    assert "the bookmark 2100-01-01 is after TikTok's today there (2026-11-20)" in caplog.text


def test_an_entity_bookmark_in_the_future_is_pulled_back_to_the_run_start(
    emu: Emulator, caplog: Any
) -> None:
    state = state_with("campaigns", advertiser_id(emu), "modify_time", "2999-01-01T00:00:00Z")
    config = tap_config(emu)
    started = datetime.now(timezone.utc)
    run = run_tap(config, catalog=catalog_selecting(config, {"campaigns": None}), state=state)
    (partition,) = run.final_state["bookmarks"]["campaigns"]["partitions"]
    saved = datetime.fromisoformat(partition["replication_key_value"])
    assert started - timedelta(minutes=5) <= saved <= datetime.now(timezone.utc)
    assert "is after this run's start" in caplog.text


def test_an_entity_modified_in_year_2999_does_not_poison_the_bookmark() -> None:
    with Emulator(seed=33, advertisers=1, today=EMULATOR_TODAY) as emu:
        campaign = emu.world.rows("campaigns", advertiser_id(emu))[0]
        campaign["modify_time"] = "2999-01-01 00:00:00"
        config = tap_config(emu)
        run = run_tap(config, catalog=catalog_selecting(config, {"campaigns": None}))
        assert campaign["campaign_id"] in {r["campaign_id"] for r in run.records["campaigns"]}
        (partition,) = run.final_state["bookmarks"]["campaigns"]["partitions"]
        saved = datetime.fromisoformat(partition["replication_key_value"])
        assert saved <= datetime.now(timezone.utc)


def test_a_server_clock_far_from_ours_is_not_believed(monkeypatch: pytest.MonkeyPatch) -> None:
    # TikTok (the emulator) says it is 2100; this machine says 20 November 2026.
    monkeypatch.setattr("tap_tiktok_ads.client.local_now", lambda: EMULATOR_NOON)
    with Emulator(seed=34, advertisers=1, now=datetime(2100, 1, 1, tzinfo=timezone.utc)) as emu:
        config = tap_config(emu, days_back=0)
        del config["max_clock_skew_hours"]  # the default: one day
        emu.clear_requests()
        state = run_tap(config, catalog=catalog_selecting(config, {DAILY: ["spend"]}))
        assert windows(emu) == [("2026-11-20", "2026-11-20")]
        assert saved_day(state) == "2026-11-20"


@responses.activate
def test_the_client_warns_once_and_keeps_the_last_believable_clock(
    monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    monkeypatch.setattr("tap_tiktok_ads.client.local_now", lambda: EMULATOR_NOON)
    api = "https://business-api.tiktok.com/open_api/v1.3"
    body = {"code": 0, "message": "OK", "request_id": "r", "data": {}}
    for date_header in (
        "Fri, 20 Nov 2026 12:00:05 GMT",
        "Fri, 01 Jan 2100 00:00:00 GMT",
        "Sat, 01 Jan 2000 00:00:00 GMT",
    ):
        responses.get(f"{api}/user/info/", json=body, headers={"Date": date_header})
    client = TikTokClient(access_token="t", max_tries=1)
    for _ in range(3):
        client.get("/user/info/")
    assert client.now() == datetime(2026, 11, 20, 12, 0, 5, tzinfo=timezone.utc)
    assert caplog.text.count("off this machine's") == 1


# -- 10: malformed bookmarks --------------------------------------------------------------------

MALFORMED = ["garbage", "2026/03/05", {"x": 1}, "0001-01-03", 20261105]


@pytest.mark.parametrize("value", MALFORMED)
@pytest.mark.parametrize(("stream", "key"), [(DAILY, "stat_time_day"), ("ads", "modify_time")])
def test_malformed_bookmarks_are_one_config_error_naming_stream_and_state(
    emu: Emulator, stream: str, key: str, value: Any
) -> None:
    state = state_with(stream, advertiser_id(emu), key, value)
    config = tap_config(emu)
    emu.clear_requests()
    with pytest.raises(ConfigError) as refused:
        run_tap(config, catalog=catalog_selecting(config, {stream: None}), state=state)
    assert str(refused.value).startswith(f"--state: stream {stream}, advertiser ")
    assert "\n" not in str(refused.value)
    assert not [r for r in emu.requests() if r["path"] != "/advertiser/info/"]


@pytest.mark.parametrize(
    ("make_state", "needle"),
    [
        (
            lambda emu: report_state(emu, "garbage"),
            "--state: stream advertiser_performance_daily, advertiser",
        ),
        (
            lambda emu: {"bookmarks": {"ads": {"partitions": {"x": 1}}}},
            "--state: stream ads: `partitions`",
        ),
        (
            lambda emu: {"bookmarks": {"ads": 5}},
            "--state: stream ads: its bookmark must be an object",
        ),
    ],
)
def test_malformed_state_files_exit_1_with_one_line(
    emu: Emulator, tmp_path: Path, make_state: Callable[[Emulator], Any], needle: str
) -> None:
    state = make_state(emu)
    config = tap_config(emu)
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "state.json").write_text(json.dumps(state))
    result = subprocess.run(
        [
            str(BIN / "tap-tiktok-ads"),
            *("--config", str(tmp_path / "config.json")),
            *("--state", str(tmp_path / "state.json")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr[-2000:]
    assert needle in errors[0]
    assert "Traceback" not in result.stderr
    assert '"RECORD"' not in result.stdout


def test_bookmark_readers_accept_what_the_tap_writes() -> None:
    assert report_day("2026-11-05", "s", "1") == date(2026, 11, 5)
    assert report_day("2026-11-05T00:00:00+00:00", "s", "1") == date(2026, 11, 5)
    assert entity_instant("2026-11-05T10:00:00+00:00", "s", "1") == datetime(
        2026, 11, 5, 10, tzinfo=timezone.utc
    )
    assert entity_instant("2026-11-05T19:00:00+09:00", "s", "1") == datetime(
        2026, 11, 5, 10, tzinfo=timezone.utc
    )
    assert report_day(None, "s", "1") is None


# -- 18: no readable advertiser -----------------------------------------------------------------


def test_no_readable_advertiser_left_is_a_warning_and_schemas_only(caplog: Any) -> None:
    with Emulator(seed=35, advertisers=2, today=EMULATOR_TODAY) as emu:
        emu.forbidden_advertisers = {a["advertiser_id"] for a in emu.world.advertisers}
        config = tap_config(emu, skip_unauthorized_advertisers=True)
        catalog = catalog_selecting(config, {"campaigns": None, DAILY: ["spend"]})
        run = run_tap(config, catalog=catalog)
        assert set(run.schemas) == {"campaigns", DAILY}
        assert not run.records
        assert "No advertiser is readable" in caplog.text


# -- 19: fixed days after TikTok's today --------------------------------------------------------


@pytest.mark.parametrize("setting", ["date", "start_date"])
def test_a_day_after_tiktoks_today_is_a_warning_naming_the_setting(
    setting: str, caplog: Any
) -> None:
    # 23:30 UTC: already the 21st in Tokyo, still the 20th in Los Angeles.
    now = datetime(2026, 11, 20, 23, 30, tzinfo=timezone.utc)
    with Emulator(seed=4, advertisers=2, now=now) as emu:
        los_angeles = next(
            a["advertiser_id"]
            for a in emu.world.advertisers
            if a["display_timezone"] == "America/Los_Angeles"
        )
        config = tap_config(emu, **{setting: "2026-11-21"})
        run = run_tap(config, catalog=catalog_selecting(config, {DAILY: ["spend"]}))
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        late = [w for w in warnings if "after TikTok's today" in w]
        assert len(late) == 1
        assert late[0].startswith(f"{setting}: 2026-11-21 is after TikTok's today")
        assert los_angeles in late[0]
        assert {r["advertiser_id"] for r in run.records[DAILY]} != {los_angeles}


# -- 20: unknown advertiser ids -----------------------------------------------------------------


def test_many_unknown_advertisers_are_found_by_halving_and_listed_briefly() -> None:
    with Emulator(seed=36, advertisers=2, today=EMULATOR_TODAY) as emu:
        known = [a["advertiser_id"] for a in emu.world.advertisers]
        unknown = [str(9_000_000_000_000 + i) for i in range(300)]
        config = tap_config(emu, advertiser_ids=known + unknown)
        emu.clear_requests()
        with pytest.raises(ConfigError) as refused:
            run_tap(config, catalog=catalog_selecting(config, {DAILY: ["spend"]}))
        message = str(refused.value)
        assert message.startswith("advertiser_ids: the token cannot read 10 or more advertisers")
        assert sum(i in message for i in unknown) == 10
        assert len(emu.requests()) <= 40


def test_a_few_unreadable_advertisers_among_many_cost_few_requests(caplog: Any) -> None:
    with Emulator(seed=37, advertisers=100, campaigns=1, today=EMULATOR_TODAY) as emu:
        ids = [a["advertiser_id"] for a in emu.world.advertisers]
        emu.forbidden_advertisers = {ids[17], ids[60]}
        config = tap_config(emu, skip_unauthorized_advertisers=True)
        emu.clear_requests()
        tap_run = run_tap(config, catalog=catalog_selecting(config, {"advertisers": None}))
        info_calls = [r for r in emu.requests() if r["path"] == "/advertiser/info/"]
        assert len(info_calls) - 1 <= 2 * 2 * 7  # the advertisers stream's own call aside
        readable = {r["advertiser_id"] for r in tap_run.records["advertisers"]}
        assert readable == set(ids) - {ids[17], ids[60]}
        assert "Skipping 2 advertiser(s) the token cannot read" in caplog.text


def test_a_token_authorized_for_no_advertiser_syncs_schemas_only(caplog: Any) -> None:
    with Emulator(seed=38, advertisers=0, today=EMULATOR_TODAY) as emu:
        config = tap_config(emu, app_id=emu.app_id, secret=emu.secret)
        del config["advertiser_ids"]
        run = run_tap(config, catalog=catalog_selecting(config, {"ads": None, DAILY: ["spend"]}))
        assert set(run.schemas) == {"ads", DAILY}
        assert not run.records
        assert "No advertiser is readable" in caplog.text
