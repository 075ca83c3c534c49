"""The tap and the OAuth helper as users run them: subprocesses talking HTTP to the emulator."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import socket
import stat
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.cli import checked_json
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.errors import ConfigError
from tap_tiktok_ads.state_pacing import EVERY_STATE, FIRST_AND_LAST, PacedStateWriter, StatePacing
from tap_tiktok_ads.tap import TapTikTokAds
from tests.conftest import (
    EMULATOR_TODAY,
    PINNED_CLOCK_SKEW_HOURS,
    TapRun,
    bookmark_values,
    tap_config,
)

TOKEN = "tok-9f8e7d6c5b4a-secret"
APP_SECRET = "app-1a2b3c4d5e6f-secret"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def emu() -> Any:
    with Emulator(
        seed=21,
        advertisers=3,
        today=EMULATOR_TODAY,
        access_token=TOKEN,
        secret=APP_SECRET,
        forbidden_advertisers=(),
    ) as emulator:
        yield emulator


def run_tap(tmp_path: Path, config: dict[str, Any], *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [str(BIN / "tap-tiktok-ads"), "--config", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_no_secret(*outputs: str) -> None:
    for output in outputs:
        assert TOKEN not in output
        assert APP_SECRET not in output


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "ERROR" in line]


def base_config(emu: Emulator, **overrides: Any) -> dict[str, Any]:
    return {
        "access_token": TOKEN,
        "api_url": emu.base_url,
        "advertiser_ids": [a["advertiser_id"] for a in emu.world.advertisers],
        "date": "2026-11-19",
        "max_requests_per_second": 1000,
        "max_clock_skew_hours": PINNED_CLOCK_SKEW_HOURS,
        **overrides,
    }


def test_bad_token_fails_at_once_with_one_line(emu: Emulator, tmp_path: Path) -> None:
    emu.clear_requests()
    result = run_tap(tmp_path, base_config(emu, access_token="wrong-token"))
    assert result.returncode == 1
    errors = error_lines(result.stderr)
    assert len(errors) == 1
    assert "40105" in errors[0]
    assert "access_token" in errors[0]
    assert "Traceback" not in result.stderr
    assert not [line for line in result.stdout.splitlines() if '"RECORD"' in line]
    assert len(emu.requests()) == 1  # the token check, nothing after it
    assert_no_secret(result.stdout, result.stderr)


def test_bad_setting_fails_before_any_request(emu: Emulator, tmp_path: Path) -> None:
    emu.clear_requests()
    result = run_tap(tmp_path, base_config(emu, page_size=5000))
    assert result.returncode == 1
    assert "page_size" in error_lines(result.stderr)[0]
    assert emu.requests() == []


def test_unreadable_advertiser_fails_by_default(emu: Emulator, tmp_path: Path) -> None:
    forbidden = emu.world.advertisers[1]["advertiser_id"]
    emu.forbidden_advertisers = {forbidden}
    try:
        result = run_tap(tmp_path, base_config(emu))
        assert result.returncode == 1
        assert forbidden in error_lines(result.stderr)[0]
        assert "skip_unauthorized_advertisers" in error_lines(result.stderr)[0]

        skipped = run_tap(tmp_path, base_config(emu, skip_unauthorized_advertisers=True))
        assert skipped.returncode == 0, skipped.stderr
        assert forbidden in skipped.stderr
        records = [json.loads(line) for line in skipped.stdout.splitlines() if '"RECORD"' in line]
        # Every record but the Business Centers' (which belong to the token) names its advertiser.
        advertisers = {
            m["record"]["advertiser_id"] for m in records if m["stream"] != "business_centers"
        }
        assert forbidden not in advertisers
        assert len(advertisers) == 2
        assert_no_secret(result.stdout, result.stderr, skipped.stdout, skipped.stderr)
    finally:
        emu.forbidden_advertisers = set()


def test_all_authorized_advertisers_with_app_credentials(emu: Emulator, tmp_path: Path) -> None:
    config = base_config(emu, app_id=emu.app_id, secret=APP_SECRET)
    del config["advertiser_ids"]
    result = run_tap(tmp_path, config, "--discover")
    assert result.returncode == 0
    catalog = json.loads(result.stdout)
    select_only(catalog, "advertisers")
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    synced = run_tap(tmp_path, config, "--catalog", str(tmp_path / "catalog.json"))
    assert synced.returncode == 0, synced.stderr
    messages = [json.loads(line) for line in synced.stdout.splitlines()]
    assert {m["stream"] for m in messages if m["type"] == "RECORD"} == {"advertisers"}
    ids = {
        json.loads(line)["record"]["advertiser_id"]
        for line in synced.stdout.splitlines()
        if '"RECORD"' in line
    }
    assert ids == {a["advertiser_id"] for a in emu.world.advertisers}
    assert_no_secret(synced.stdout, synced.stderr)
    calls = [r for r in emu.requests() if r["path"] == "/oauth2/advertiser/get/"]
    assert all(c["params"]["secret"] == "***" for c in calls)


def select_only(catalog: dict[str, Any], stream: str) -> None:
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if not item["breadcrumb"]:
                item["metadata"]["selected"] = entry["tap_stream_id"] == stream


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def auth(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "tap-tiktok-ads-auth"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TIKTOK_APP_SECRET": APP_SECRET, **(env or {})},
        **kwargs,
    )


def test_oauth_flow_from_url_to_config_file(emu: Emulator, tmp_path: Path) -> None:
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    config_path = tmp_path / "tiktok.json"
    process = auth(
        "--api-url",
        emu.base_url,
        "listen",
        "--app-id",
        emu.app_id,
        "--redirect-uri",
        redirect,
        "--portal-url",
        f"{emu.root_url}/portal/auth",
        "--write-config",
        str(config_path),
        "--timeout",
        "30",
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    assert url.startswith(f"{emu.root_url}/portal/auth?")
    assert "state=" in url

    # The user's browser: the portal redirects to the loopback listener with the code.
    for _ in range(50):
        try:
            response = requests.get(url, timeout=10)
            break
        except requests.ConnectionError:  # the listener may not be up yet
            time.sleep(0.1)
    assert response.status_code == 200
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr

    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    written = json.loads(config_path.read_text())
    assert written["access_token"] == TOKEN
    assert set(written["advertiser_ids"]) == {a["advertiser_id"] for a in emu.world.advertisers}
    assert_no_secret(url, stdout, stderr)


def test_reused_or_expired_code_is_refused(emu: Emulator) -> None:
    def exchange(code: str) -> tuple[int, str, str]:
        process = auth(
            "--api-url",
            emu.base_url,
            "exchange",
            "--app-id",
            emu.app_id,
            "--auth-code",
            code,
            "--print-env",
        )
        out, err = process.communicate(timeout=30)
        return process.returncode, out, err

    code = emu.issue_auth_code()
    status, out, err = exchange(code)
    assert status == 0, err
    assert f"TAP_TIKTOK_ADS_ACCESS_TOKEN={TOKEN}" in out  # asked for: the user pipes it to Meltano
    assert APP_SECRET not in out + err

    status, out, err = exchange(code)
    assert status == 1
    assert "40110" in err
    assert code not in out + err
    assert_no_secret(out, err)

    stale = emu.issue_auth_code()
    emu.set_now(emu.now + timedelta(hours=2))
    try:
        status, _, err = exchange(stale)
        assert status == 1
        assert "40110" in err
    finally:
        emu.set_today(EMULATOR_TODAY)


def test_listing_advertisers_never_prints_the_secret(emu: Emulator) -> None:
    process = auth(
        "--api-url",
        emu.base_url,
        "advertisers",
        "--app-id",
        emu.app_id,
        env={"TAP_TIKTOK_ADS_ACCESS_TOKEN": TOKEN},
    )
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert len(out.strip().splitlines()) == len(emu.world.advertisers)
    assert_no_secret(out, err)


@pytest.mark.parametrize(
    ("option", "content", "needle"),
    [
        ("--state", "{not json", "--state: the file is not valid JSON"),
        ("--state", "[1, 2]", "--state: the file must hold a JSON object"),
        ("--catalog", '{"streams": [{"no_id": 1}]}', "--catalog: `streams` must be a list"),
    ],
)
def test_malformed_state_or_catalog_is_one_line(
    emu: Emulator, tmp_path: Path, option: str, content: str, needle: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = run_tap(tmp_path, base_config(emu), option, str(bad))
    assert result.returncode == 1
    assert needle in error_lines(result.stderr)[0]
    assert "Traceback" not in result.stderr


def test_discovery_reports_bad_custom_reports_in_one_line(emu: Emulator, tmp_path: Path) -> None:
    custom = [{"name": "x", "data_level": "ad", "metrics": ["nope"]}]
    result = run_tap(tmp_path, base_config(emu, custom_reports=custom), "--discover")
    assert result.returncode == 1
    assert "custom_reports: [0]: unknown metric 'nope'" in error_lines(result.stderr)[0]
    assert "Traceback" not in result.stderr


def test_debug_http_logs_never_show_the_secret(emu: Emulator) -> None:
    """urllib3 logs each request URL at DEBUG level; the app secret travels in one."""
    from tap_tiktok_ads.client import TikTokClient

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    http_logger = logging.getLogger("urllib3.connectionpool")
    old_level = http_logger.level
    http_logger.addHandler(handler)
    http_logger.setLevel(logging.DEBUG)
    try:
        client = TikTokClient(access_token=TOKEN, api_url=emu.base_url, extra_secrets=(APP_SECRET,))
        client.get("/oauth2/advertiser/get/", {"app_id": emu.app_id, "secret": APP_SECRET})
    finally:
        http_logger.removeHandler(handler)
        http_logger.setLevel(old_level)
    logged = stream.getvalue()
    assert "/oauth2/advertiser/get/" in logged  # the URL was logged...
    assert APP_SECRET not in logged  # ...without the secret
    assert "secret=***" in logged


def test_every_record_reaches_stdout_even_without_a_final_state(
    emu: Emulator, tmp_path: Path
) -> None:
    """Records are buffered between STATE messages; the last ones must not stay behind."""
    config = base_config(emu)
    result = run_tap(tmp_path, config, "--discover")
    catalog = json.loads(result.stdout)
    select_only(catalog, "advertisers")  # a full-table stream only: no bookmark to write
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    synced = run_tap(tmp_path, config, "--catalog", str(tmp_path / "catalog.json"))
    assert synced.returncode == 0
    types = [json.loads(line)["type"] for line in synced.stdout.splitlines()]
    assert types.count("RECORD") == len(emu.world.advertisers)


# -- in-process runs of the command: the last STATE, whatever the pacing holds back ----------

PACED_STREAMS: dict[str, list[str] | None] = {
    "advertisers": None,
    "campaigns": None,
    "ad_groups": None,
    "ads": None,
    "ad_performance_daily": ["spend", "clicks"],
}


def run_command(
    tmp_path: Path, config: dict[str, Any], catalog: dict[str, Any], pacing: StatePacing
) -> tuple[TapRun, int]:
    """``tap-tiktok-ads --config --catalog`` in this process: its messages and exit status."""
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    args = ["--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")]
    buffer = io.BytesIO()
    stdout = io.TextIOWrapper(buffer, encoding="utf-8")
    status = 0
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(stdout):
        patch.setattr(PacedStateWriter, "pacing", pacing)
        try:
            TapTikTokAds.cli(args, standalone_mode=False)
        except SystemExit as stop:
            status = int(stop.code or 0)
        stdout.flush()
    run = TapRun(messages=[json.loads(line) for line in buffer.getvalue().splitlines() if line])
    run.states.extend(m["value"] for m in run.messages if m["type"] == "STATE")
    return run, status


@pytest.mark.parametrize("fails", [False, True], ids=["succeeds", "fails"])
def test_the_command_writes_the_state_held_back_when_the_sync_ends(
    tmp_path: Path, fails: bool
) -> None:
    with Emulator(seed=22, advertisers=4, today=EMULATOR_TODAY) as emu:
        config = tap_config(emu, start_days_back=5, end_days_back=2, max_paging_restarts=1)
        catalog = catalog_selecting(config, PACED_STREAMS)
        runs = []
        for pacing in (EVERY_STATE, FIRST_AND_LAST):
            if fails:
                # Every report page comes back empty, so the first advertiser's window fails
                # whichever report requests (the next advertisers' page 1, requested ahead)
                # TikTok answers first.
                emu.fail_next("/report/integrated/get/", "empty_page", times=1000)
            runs.append(run_command(tmp_path, config, catalog, pacing))
    (unpaced, unpaced_status), (paced, paced_status) = runs
    assert unpaced_status == paced_status == (1 if fails else 0)
    if not fails:
        assert len(unpaced.states) > 2  # the pacing held some back
    # FIRST_AND_LAST writes the first STATE offered; the second is the one held back, written
    # when the sync ended (on failure, it also holds the failed stream's new partition entry).
    assert len(paced.states) == 2
    assert paced.messages[-1]["type"] == "STATE"
    assert bookmark_values(paced.final_state) == bookmark_values(unpaced.final_state)


def test_state_and_catalog_files_are_read_as_singer_sdk_reads_them() -> None:
    assert checked_json('{"bookmarks": {}, "x": 1.10}', "state")["x"] == Decimal("1.10")
    assert checked_json("", "catalog") == {}
    with pytest.raises(ConfigError, match=r"--state: the file is not valid JSON .*NaN"):
        checked_json('{"x": NaN}', "state")
