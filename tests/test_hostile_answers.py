"""Hostile answers over real HTTP on loopback: the tap reads every row or fails clearly, never
exits 0 with rows missing, never moves a bookmark over a window it did not read whole, and
never hangs or swallows a huge body."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.client import TikTokClient
from tap_tiktok_ads.emulator import Emulator, Faults
from tap_tiktok_ads.errors import (
    MalformedAnswerError,
    RefusedAPIError,
    RequestTimeoutError,
    TransientAPIError,
)
from tap_tiktok_ads.tap import TapTikTokAds
from tests.conftest import EMULATOR_TODAY, TapRun, is_default_pass, tap_config
from tests.hostile_server import HostileServer, Reply, page_number

REPORT_PATH = "/report/integrated/get/"
STREAM = "ad_performance_daily"
DAYS = ("2026-11-17", "2026-11-18", "2026-11-19")
BROKEN_DAY = DAYS[1]  # the second of three one-day windows


# -- helpers ---------------------------------------------------------------------------------


def sync(
    config: dict[str, Any], catalog: dict[str, Any] | None = None
) -> tuple[TapRun, BaseException | None]:
    """Sync in-process; the messages written before a failure are kept, with the error."""
    buffer = io.BytesIO()
    stdout = io.TextIOWrapper(buffer, encoding="utf-8")
    error: BaseException | None = None
    with contextlib.redirect_stdout(stdout):
        try:
            TapTikTokAds(config=config, catalog=catalog).sync_and_write_last_state()
        except Exception as failure:
            error = failure
        stdout.flush()
    run = TapRun(
        messages=[json.loads(line, parse_float=Decimal) for line in buffer.getvalue().splitlines()]
    )
    for message in run.messages:
        if message["type"] == "RECORD":
            run.records[message["stream"]].append(message["record"])
        elif message["type"] == "STATE":
            run.states.append(message["value"])
    return run, error


def bookmarks(run: TapRun, stream: str = STREAM) -> list[str]:
    """Every report bookmark the run's STATE messages claimed for ``stream``."""
    return [
        partition.get("replication_key_value")
        for state in run.states
        for partition in state.get("bookmarks", {}).get(stream, {}).get("partitions", [])
        if partition.get("replication_key_value")
    ]


def report_config(emu: Emulator, **overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    settings: dict[str, Any] = {
        # DAYS as a relative range: fixed dates would leave no bookmark to check.
        "start_days_back": (EMULATOR_TODAY - date.fromisoformat(DAYS[0])).days,
        "end_days_back": (EMULATOR_TODAY - date.fromisoformat(DAYS[-1])).days,
        "report_window_days": 1,
        "page_size": 5,
        "retry_backoff_seconds": 0.01,
    }
    if "start_date" in overrides:
        del settings["start_days_back"], settings["end_days_back"]
    config = tap_config(emu, **{**settings, **overrides})
    return config, catalog_selecting(config, {STREAM: None})


def on_reports(
    emu: Emulator, change: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
) -> None:
    """Let ``change(params, data)`` rewrite the emulator's report answers of BROKEN_DAY."""
    original = emu.answer

    def answer(method: str, path: str, params: dict[str, Any], token: str | None) -> Any:
        data = original(method, path, params, token)
        if path == REPORT_PATH and params.get("start_date") == BROKEN_DAY:
            return change(params, data)
        return data

    emu.answer = answer  # type: ignore[method-assign]


def report_requests(emu: Emulator) -> list[dict[str, Any]]:
    return [r for r in emu.requests() if r["path"] == REPORT_PATH and is_default_pass(r)]


def client_for(server: HostileServer, **options: Any) -> TikTokClient:
    settings: dict[str, Any] = {
        "access_token": "hostile-test-token",
        "api_url": server.base_url,
        "max_tries": 3,
        "backoff_base_seconds": 0.001,
        "backoff_max_seconds": 0.002,
        "max_requests_per_second": 1000,
    }
    return TikTokClient(**{**settings, **options})


@pytest.fixture(scope="module")
def clean() -> TapRun:
    """The rows of a run that meets no hostile answer."""
    with Emulator(seed=5, advertisers=1, today=EMULATOR_TODAY) as emu:
        config, catalog = report_config(emu)
        run, error = sync(config, catalog)
    assert error is None
    assert len(run.records[STREAM]) > 3 * 5, "each window should need several pages"
    return run


def same_rows(run: TapRun, clean: TapRun) -> bool:
    def key(record: dict[str, Any]) -> str:
        return json.dumps(record, sort_keys=True, default=str)

    return sorted(map(key, run.records[STREAM])) == sorted(map(key, clean.records[STREAM]))


# -- 5 and 13: page_info that disagrees with the rows ---------------------------------------


def with_page_info(**fields: Any) -> Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]:
    def change(params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        info = {k: v for k, v in data["page_info"].items() if k not in fields}
        info.update({k: v for k, v in fields.items() if v is not DROP})
        return {**data, "page_info": info}

    return change


DROP = object()


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"total_page": 1}, id="total_page-too-small"),
        pytest.param({"total_page": DROP}, id="total_page-missing"),
        pytest.param({"total_page": -1}, id="total_page-negative"),
        pytest.param({"total_page": DROP, "total_number": DROP}, id="no-counts"),
        pytest.param({"total_page": 10**9}, id="total_page-a-billion"),
    ],
)
def test_page_info_that_does_not_add_up_loses_no_row(fields: dict, clean: TapRun) -> None:
    with Emulator(seed=5, advertisers=1, today=EMULATOR_TODAY) as emu:
        config, catalog = report_config(emu)
        on_reports(emu, with_page_info(**fields))
        run, error = sync(config, catalog)
        broken = [r for r in report_requests(emu) if r["params"]["start_date"] == BROKEN_DAY]
    assert error is None
    assert same_rows(run, clean)
    assert bookmarks(run)[-1] == DAYS[-1]
    # Read until a short page: the pages the rows need, and at most one more.
    rows = sum(1 for r in clean.records[STREAM] if r["stat_time_day"] == BROKEN_DAY)
    assert len(broken) <= rows // 5 + 1


def test_a_billion_pages_full_of_the_same_rows_stop_at_total_number() -> None:
    """A server that answers every page with the same full page, forever."""
    rows = [{"id": str(i)} for i in range(2)]
    info = {"page": 1, "page_size": 2, "total_number": 6, "total_page": 10**9}
    answer = Reply.envelope({"list": rows, "page_info": info})
    with HostileServer(lambda path, params: answer) as server:
        client = client_for(server)
        with pytest.raises(MalformedAnswerError, match=r"page 4 is still full.*6 rows"):
            list(client.get_pages("/ad/get/", {}, page_size=2, key=lambda row: row["id"]))
    assert len(server.seen) == 4


def test_an_empty_page_ends_a_listing_without_counts() -> None:
    def answer(path: str, params: dict[str, str]) -> Reply:
        page = page_number(params)
        rows = [{"id": f"{page}-{i}"} for i in range(2)] if page <= 3 else []
        return Reply.envelope({"list": rows, "page_info": {"total_page": 10**9}})

    with HostileServer(answer) as server:
        client = client_for(server)
        pages = list(client.get_pages("/ad/get/", {}, page_size=2, key=lambda row: row["id"]))
    assert [len(page) for page in pages] == [2, 2, 2, 0]
    assert [page_number(seen.params) for seen in server.seen] == [1, 2, 3, 4]


# -- 6 and 21: report rows the tap cannot key --------------------------------------------------


def rows_changed(fix: Callable[[dict[str, Any]], None]) -> Callable[..., dict[str, Any]]:
    def change(params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        if int(params.get("page", 1)) != 2:
            return data
        rows = json.loads(json.dumps(data["list"]))
        for row in rows:
            fix(row)
        return {**data, "list": rows}

    return change


@pytest.mark.parametrize(
    ("fix", "problem"),
    [
        pytest.param(lambda row: row.pop("dimensions"), "`dimensions` null", id="no-dimensions"),
        pytest.param(
            lambda row: row["dimensions"].pop("stat_time_day"),
            "no dimension `stat_time_day`",
            id="no-stat_time_day",
        ),
        pytest.param(
            lambda row: row["dimensions"].pop("ad_id"), "no dimension `ad_id`", id="no-ad_id"
        ),
        pytest.param(
            lambda row: row["dimensions"].update(ad_id=["1", "2"]),
            "a JSON list for dimension `ad_id`",
            id="list-valued-dimension",
        ),
        pytest.param(
            lambda row: row["dimensions"].update(stat_time_day="yesterday"),
            "'yesterday' for dimension `stat_time_day`",
            id="garbled-day",
        ),
    ],
)
def test_a_row_without_its_key_fails_naming_stream_window_and_request(
    fix: Callable[[dict[str, Any]], None], problem: str, clean: TapRun
) -> None:
    with Emulator(seed=5, advertisers=1, today=EMULATOR_TODAY) as emu:
        config, catalog = report_config(emu)
        on_reports(emu, rows_changed(fix))
        run, error = sync(config, catalog)
    assert isinstance(error, MalformedAnswerError)
    message = str(error)
    assert problem in message
    assert f"stream {STREAM}" in message
    assert f"window {BROKEN_DAY}..{BROKEN_DAY}" in message
    assert REPORT_PATH in message
    assert "request_id " in message
    assert error.request_id
    assert "\n" not in message
    assert bookmarks(run) == [DAYS[0]]  # never over the window that was not read whole
    for record in run.records[STREAM]:
        assert None not in (record["ad_id"], record["stat_time_day"])


def test_an_hourly_row_without_stat_time_hour_fails_clearly() -> None:
    stream = "ad_group_performance_hourly"
    with Emulator(seed=5, advertisers=1, today=EMULATOR_TODAY) as emu:
        config, _ = report_config(emu)
        catalog = catalog_selecting(config, {stream: None})
        on_reports(emu, rows_changed(lambda row: row["dimensions"].pop("stat_time_hour")))
        run, error = sync(config, catalog)
    assert isinstance(error, MalformedAnswerError)
    assert "no dimension `stat_time_hour`" in str(error)
    assert f"stream {stream}" in str(error)
    assert bookmarks(run, stream) == [DAYS[0]]


# -- 21: malformed envelopes ---------------------------------------------------------------


def page(rows: Any = (), info: Any = None) -> dict[str, Any]:
    return {"list": list(rows) if isinstance(rows, tuple) else rows, "page_info": info or {}}


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        pytest.param(Reply.envelope({}, code="abc"), "`code` is 'abc'", id="code-abc"),
        pytest.param(Reply.envelope({}, code=None), "`code` is null", id="code-null"),
        pytest.param(Reply.envelope({}, code=1.5), "`code` is 1.5", id="code-float"),
        pytest.param(Reply.envelope([1, 2]), "`data` is a JSON list", id="data-list"),
        pytest.param(Reply.envelope("x"), "`data` is 'x'", id="data-string"),
        pytest.param(Reply.envelope(page("abc")), "`list` is 'abc'", id="list-string"),
        pytest.param(Reply.envelope(page([1, 2])), "`list` holds 1", id="rows-ints"),
        pytest.param(
            Reply.envelope({"list": [], "page_info": "1 of 1"}),
            "`page_info` is '1 of 1'",
            id="page_info-string",
        ),
        pytest.param(
            Reply.envelope({"list": [], "page_info": [1]}),
            "`page_info` is a JSON list",
            id="page_info-list",
        ),
    ],
)
def test_a_malformed_answer_is_one_clear_error(reply: Reply, problem: str) -> None:
    with HostileServer(lambda path, params: reply) as server:
        client = client_for(server)
        with pytest.raises(MalformedAnswerError) as caught:
            list(client.get_pages("/campaign/get/", {}, page_size=10, advertiser_id="42"))
    message = str(caught.value)
    assert problem in message
    assert "/campaign/get/" in message
    assert "request_id req-hostile-1" in message
    assert "advertiser 42" in message
    assert "\n" not in message
    assert len(server.seen) == 1  # the same answer again would not help


def test_a_malformed_report_page_fails_the_tap_naming_the_stream(clean: TapRun) -> None:
    with Emulator(seed=5, advertisers=1, today=EMULATOR_TODAY) as emu:
        config, catalog = report_config(emu)
        on_reports(emu, lambda params, data: {**data, "list": "rows"})
        run, error = sync(config, catalog)
    assert isinstance(error, MalformedAnswerError)
    assert f"stream {STREAM}" in str(error)
    assert "`list` is 'rows'" in str(error)
    assert bookmarks(run) == [DAYS[0]]


# -- 11: a total deadline per request -------------------------------------------------------


def test_a_slow_drip_body_times_out_at_request_timeout() -> None:
    body = Reply.envelope({"list": []}).body
    drip = Reply(body, chunk=1, pause=0.5)  # about a minute for the whole answer
    with HostileServer(lambda path, params: drip) as server:
        client = client_for(server, request_timeout=1.5, max_tries=5)
        with pytest.raises(RequestTimeoutError) as caught:
            client.get("/user/info/")
    assert "did not arrive whole within 1.5s" in str(caught.value)
    assert len(server.seen) == 3  # timed-out requests are retried twice, then given up


# -- 12: body size ------------------------------------------------------------------------


def test_a_gzip_bomb_is_refused_without_inflating_it() -> None:
    padding = b" " * (64 << 20)  # 64 MiB of JSON whitespace: about 256 KiB gzipped
    bomb = Reply.gzipped(b'{"code": 0, "data": {}' + padding + b"}")
    with HostileServer(lambda path, params: bomb) as server:
        client = client_for(server, max_response_mb=2)
        with pytest.raises(RefusedAPIError) as caught:
            client.get("/user/info/")
    assert "larger than 2 MB once decoded" in str(caught.value)
    assert "max_response_mb" in str(caught.value)
    assert len(server.seen) == 1


def test_a_huge_plain_body_is_refused() -> None:
    huge = Reply(b'{"code": 0, "data": {"x": "' + b"y" * (5 << 20) + b'"}}')
    with HostileServer(lambda path, params: huge) as server:
        client = client_for(server, max_response_mb=1)
        with pytest.raises(RefusedAPIError, match="larger than 1 MB"):
            client.get("/user/info/")


def test_a_gzipped_answer_under_the_cap_is_read() -> None:
    answer = Reply.gzipped(Reply.envelope({"list": [{"id": "1"}] * 1000}).body)
    with HostileServer(lambda path, params: answer) as server:
        assert len(client_for(server, max_response_mb=1).get("/x/")["list"]) == 1000


@pytest.mark.parametrize("value", [0, 4097, "big"])
def test_max_response_mb_is_checked(value: Any) -> None:
    from tap_tiktok_ads.errors import ConfigError
    from tap_tiktok_ads.settings import Settings

    with pytest.raises(ConfigError, match=r"^max_response_mb"):
        Settings.from_config({"access_token": "x", "date": "2026-11-01", "max_response_mb": value})


# -- 14: absurd numbers ---------------------------------------------------------------------


def test_absurd_metric_values_are_null_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    def absurd(params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        rows = json.loads(json.dumps(data["list"]))
        for row in rows:
            row["metrics"].update(impressions="1e2000000", spend="1e309", clicks="7")
        return {**data, "list": rows}

    with Emulator(seed=5, advertisers=1, today=EMULATOR_TODAY) as emu:
        config, _ = report_config(emu)
        catalog = catalog_selecting(config, {STREAM: ["spend", "impressions", "clicks"]})
        on_reports(emu, absurd)
        with caplog.at_level(logging.WARNING):
            run, error = sync(config, catalog)
    assert error is None
    broken = [r for r in run.records[STREAM] if r["stat_time_day"] == BROKEN_DAY]
    assert broken
    assert all(r["impressions"] is None and r["spend"] is None for r in broken)
    assert all(r["clicks"] == 7 for r in broken)
    assert "1e309 is out of range" in caplog.text
    assert any(r["spend"] is not None for r in run.records[STREAM])


# -- 23: bounded paging restarts and timed-out requests --------------------------------------


def test_paging_restarts_follow_max_paging_restarts() -> None:
    with Emulator(seed=5, advertisers=1, today=EMULATOR_TODAY) as emu:
        config, catalog = report_config(emu, start_date=BROKEN_DAY, end_date=BROKEN_DAY)
        emu.fail_next(REPORT_PATH, "empty_page", times=4)
        run, error = sync({**config, "max_paging_restarts": 4}, catalog)
        assert error is None
        assert run.records[STREAM]
        emu.fail_next(REPORT_PATH, "empty_page", times=4)
        run, error = sync({**config, "max_paging_restarts": 3}, catalog)
    assert isinstance(error, TransientAPIError)
    assert "max_paging_restarts" in str(error)
    assert not bookmarks(run)


def test_a_black_hole_costs_at_most_max_timeouts_per_window_requests() -> None:
    with Emulator(seed=5, advertisers=1, today=EMULATOR_TODAY) as emu:
        config, catalog = report_config(
            emu, start_date="2026-11-01", end_date="2026-11-19", report_window_days=30
        )
        emu.faults = Faults(rates={"timeout": 1.0}, timeout_seconds=3.0, paths=(REPORT_PATH,))
        sent: list[str] = []
        draw = emu.next_fault

        def counted(path: str) -> str | None:
            if path == REPORT_PATH:
                sent.append(path)
            return draw(path)

        emu.next_fault = counted  # type: ignore[method-assign]
        run, error = sync({**config, "request_timeout": 0.3, "max_timeouts_per_window": 4}, catalog)
    assert isinstance(error, RequestTimeoutError)
    assert "max_timeouts_per_window" in str(error)
    assert len(sent) == 4
    assert not bookmarks(run)


# -- 11: SIGTERM / SIGINT ----------------------------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_flushes_records_and_state_and_exits_non_zero(
    stop: signal.Signals, tmp_path: Path
) -> None:
    """Window 2's page 2 never comes: the tap is waiting on it, page 1's records buffered.

    Window 2's page_info leaves its page count open, so the tap asks for page 2 only once it
    has taken page 1's rows (with a count, it would ask for the next pages ahead, before the
    window's turn, and the signal would come earlier than this test means).
    """
    release = threading.Event()
    waiting = threading.Event()
    open_count = with_page_info(total_page=DROP)
    with Emulator(seed=5, advertisers=1, today=EMULATOR_TODAY) as emu:
        config, catalog = report_config(emu)

        def hang(params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
            if int(params.get("page", 1)) >= 2:
                waiting.set()
                release.wait(120)
            return open_count(params, data)

        on_reports(emu, hang)
        config["retry_backoff_seconds"] = 0  # a whole number: the CLI reads 0.01 as a Decimal
        (tmp_path / "config.json").write_text(json.dumps(config))
        (tmp_path / "catalog.json").write_text(json.dumps(catalog))
        command = [
            str(Path(sys.executable).parent / "tap-tiktok-ads"),
            "--config",
            str(tmp_path / "config.json"),
            "--catalog",
            str(tmp_path / "catalog.json"),
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert waiting.wait(60), "the tap never asked for page 2 of the second window"
            process.send_signal(stop)
            stdout, stderr = process.communicate(timeout=60)
        finally:
            release.set()
            if process.poll() is None:
                process.kill()
    assert process.returncode == 128 + stop
    messages = [json.loads(line) for line in stdout.splitlines()]
    assert messages[-1]["type"] == "STATE"
    last_state = messages[-1]["value"]
    partitions = last_state["bookmarks"][STREAM]["partitions"]
    assert [p["replication_key_value"] for p in partitions] == [DAYS[0]]
    # Page 1 of the window that was cut short was written out before the last STATE.
    days = [m["record"]["stat_time_day"] for m in messages if m["type"] == "RECORD"]
    assert days.count(BROKEN_DAY) == 5
    assert f"Stopped by {stop.name}" in stderr
    assert "Traceback" not in stderr


def test_the_emulator_plays_page_info_off_and_slow_body(clean: TapRun) -> None:
    with Emulator(seed=5, advertisers=1, today=EMULATOR_TODAY) as emu:
        config, catalog = report_config(emu, request_timeout=1)
        emu.faults = Faults(timeout_seconds=5.0)  # a slow body takes 5 s in all
        emu.fail_next(REPORT_PATH, "page_info_off", times=3)
        emu.fail_next(REPORT_PATH, "slow_body")
        run, error = sync(config, catalog)
        faults = [r.get("fault") for r in report_requests(emu)]
    assert error is None
    assert same_rows(run, clean)
    assert faults.count("page_info_off") == 3
    assert faults.count("slow_body") == 1
    assert bookmarks(run)[-1] == DAYS[-1]


def test_a_listing_row_without_its_id_fails_instead_of_hiding_the_others() -> None:
    rows = [{"campaign_id": "1"}, {"campaign_name": "no id"}, {"campaign_name": "no id either"}]
    info = {"page": 1, "page_size": 10, "total_number": 3, "total_page": 1}
    answer = Reply.envelope({"list": rows, "page_info": info})
    with HostileServer(lambda path, params: answer) as server:
        client = client_for(server)
        pages = client.get_pages(
            "/campaign/get/", {}, page_size=10, key=lambda row: row.get("campaign_id")
        )
        with pytest.raises(MalformedAnswerError, match=r"req-hostile-1: a row has no id"):
            list(pages)
