"""Faults, the QPS limiter, latency, the request log, control routes and the CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tap_tiktok_ads.emulator import Emulator, Faults
from tap_tiktok_ads.emulator.faults import QpsLimiter
from tests.conftest import EMULATOR_TODAY
from tests.emulator.helpers import REPORT, advertiser, call


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(seed=1, advertisers=1, today=EMULATOR_TODAY) as emulator:
        yield emulator


def test_scripted_failures_are_consumed_in_order_per_path(emu: Emulator) -> None:
    emu.fail_next("/campaign/get", "40100", times=2)
    emu.fail_next("/campaign/get/", "50002")
    account = advertiser(emu)
    assert call(emu, "/ad/get/", advertiser_id=account)["code"] == 0  # other paths untouched
    codes = [call(emu, "/campaign/get/", advertiser_id=account)["code"] for _ in range(4)]
    assert codes == [40100, 40100, 50002, 0]


def test_the_timeout_fault_answers_late(emu: Emulator) -> None:
    emu.faults = Faults(timeout_seconds=1.0)
    emu.fail_next("/user/info/", "timeout")
    headers = {"Access-Token": emu.access_token}
    with pytest.raises(requests.Timeout):
        requests.get(f"{emu.base_url}/user/info/", headers=headers, timeout=0.3)
    assert call(emu, "/user/info/")["code"] == 0


def test_40067_and_empty_page_apply_where_they_mean_something(emu: Emulator) -> None:
    emu.fail_next("/user/info/", "40067")
    assert call(emu, "/user/info/")["code"] == 0  # a report-only fault
    emu.fail_next(REPORT, "40067")
    refused = call(emu, REPORT, advertiser_id=advertiser(emu))
    assert refused["code"] == 40067
    assert refused["message"].startswith("Your query is too large")
    emu.fail_next("/campaign/get/", "empty_page")
    empty = call(emu, "/campaign/get/", advertiser_id=advertiser(emu))["data"]
    assert empty["list"] == []
    assert empty["page_info"]["total_number"] > 0


def test_random_faults_are_deterministic_and_spare_control_routes() -> None:
    def codes(seed: int) -> list[int]:
        faults = Faults({"40100": 0.3, "50000": 0.2}, seed=seed)
        with Emulator(seed=1, advertisers=1, today=EMULATOR_TODAY, faults=faults) as emu:
            return [call(emu, "/user/info/")["code"] for _ in range(40)]

    first = codes(3)
    assert first == codes(3)
    assert first != codes(4)
    assert {40100, 50000, 0} == set(first)
    faults = Faults({"http503": 1.0})
    with Emulator(seed=1, advertisers=1, today=EMULATOR_TODAY, faults=faults) as emu:
        assert requests.get(f"{emu.base_url}/user/info/", timeout=5).status_code == 503
        assert requests.get(f"{emu.root_url}/__emulator/requests", timeout=5).status_code == 200
        assert emu.requests()[0]["http_status"] == 503


def test_the_qps_limit_counts_requests_by_arrival_even_when_checked_out_of_order() -> None:
    limiter = QpsLimiter(2)
    assert limiter.allow(10.0)
    assert limiter.allow(10.5)
    # Arrived before the one at 10.5 but checked after it: one request in the second before.
    assert limiter.allow(10.2)
    assert not limiter.allow(10.9)  # 10.0, 10.2 and 10.5 in the second before
    assert not limiter.allow(11.05)  # 10.2 and 10.5
    assert limiter.allow(11.25)  # 10.5 only
    assert not limiter.allow(11.3)  # 10.5 and 11.25; a refused request is not counted
    assert limiter.allow(11.55)  # 11.25 only: 11.3 was refused
    assert QpsLimiter(None).allow(0.0)


def test_unknown_fault_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        Faults({"http418": 0.5})


def test_latency_delays_every_answer() -> None:
    with Emulator(seed=1, advertisers=1, today=EMULATOR_TODAY, latency_ms=150) as emu:
        started = time.perf_counter()
        call(emu, "/user/info/")
        assert time.perf_counter() - started >= 0.15


def test_the_log_records_decoded_params_and_never_secrets(emu: Emulator) -> None:
    code = emu.issue_auth_code()
    body = {"app_id": emu.app_id, "secret": emu.secret, "auth_code": code}
    requests.post(f"{emu.base_url}/oauth2/access_token/", json=body, timeout=5)
    call(emu, "/campaign/get", advertiser_id=advertiser(emu), fields=["campaign_id"])
    call(emu, "/user/info/", token="wrong-token")
    requests.get(f"{emu.base_url}/nowhere", timeout=5)
    token, campaigns, wrong, missing = emu.requests()
    assert token["method"] == "POST"
    assert token["params"] == {"app_id": emu.app_id, "secret": "***", "auth_code": "***"}
    assert campaigns["path"] == "/campaign/get/"
    assert campaigns["params"] == {"advertiser_id": advertiser(emu), "fields": ["campaign_id"]}
    assert (campaigns["advertiser_id"], campaigns["code"], campaigns["http_status"]) == (
        advertiser(emu),
        0,
        200,
    )
    assert (wrong["code"], wrong["advertiser_id"]) == (40105, None)
    assert (missing["path"], missing["http_status"], missing["code"]) == ("/nowhere/", 404, None)
    assert isinstance(token["time"], float)
    logged = json.dumps(emu.requests())
    for secret in (emu.secret, emu.access_token, code):
        assert secret not in logged
    emu.clear_requests()
    assert emu.requests() == []


def test_control_routes(emu: Emulator) -> None:
    root = f"{emu.root_url}/__emulator"
    call(emu, "/user/info/")
    assert [e["path"] for e in requests.get(f"{root}/requests", timeout=5).json()] == [
        "/user/info/"
    ]
    requests.delete(f"{root}/requests", timeout=5)
    config: dict[str, Any] = {
        "now": "2026-12-01T08:00:00+00:00",
        "faults": {"50000": 1.0},
        "fault_seed": 2,
    }
    assert requests.post(f"{root}/config", json=config, timeout=5).status_code == 200
    assert emu.now.isoformat() == "2026-12-01T08:00:00+00:00"
    assert call(emu, "/user/info/")["code"] == 50000
    requests.post(f"{root}/config", json={"faults": {}, "qps": 1, "too_large_days": 3}, timeout=5)
    assert emu.too_large_days == 3
    touched = requests.post(f"{root}/touch", json={"kind": "ad", "count": 1}, timeout=5).json()
    assert len(touched["ids"]) == 1
    assert emu.world.by_id["ads"][touched["ids"][0]]["modify_time"] == "2026-12-01 08:00:00"
    assert requests.post(f"{root}/touch", json={"kind": "pixel"}, timeout=5).status_code == 400
    assert [e["path"] for e in emu.requests()] == ["/user/info/"]  # control calls are not logged


def test_the_cli_prints_the_base_url_and_stops_on_sigterm() -> None:
    command = [
        sys.executable,
        "-m",
        "tap_tiktok_ads.emulator",
        "--port=0",
        "--advertisers=1",
        "--today=2026-11-20",
        "--fault=50002=0",
        "--access-token=cli-token",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            base_url = process.stdout.readline().strip()  # type: ignore[union-attr]
            assert base_url.startswith("http://127.0.0.1:")
            assert base_url.endswith("/open_api/v1.3")
            answer = requests.get(
                f"{base_url}/user/info/", headers={"Access-Token": "cli-token"}, timeout=5
            )
            assert answer.json()["code"] == 0
        finally:
            process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
