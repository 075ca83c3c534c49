"""The emulator over real HTTP: envelope, auth, paging, filters, reports rules, faults."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from tap_tiktok_ads.emulator import Emulator, Faults, faults
from tests.conftest import EMULATOR_TODAY
from tests.emulator.helpers import DEFAULT, advertiser, call


@pytest.fixture(scope="module")
def emu() -> Any:
    with Emulator(seed=31, advertisers=2, campaigns=7, today=EMULATOR_TODAY) as emulator:
        yield emulator


def test_envelope_and_auth_codes(emu: Emulator) -> None:
    ok = call(emu, "/user/info/")
    assert (ok["code"], ok["message"]) == (0, "OK")
    assert ok["request_id"]
    assert call(emu, "/user/info", token=None)["code"] == 40104
    assert call(emu, "/user/info/", token="nope")["code"] == 40105
    assert call(emu, "/campaign/get/", advertiser_id="123")["code"] == 40001
    assert requests.get(f"{emu.base_url}/nowhere/", timeout=5).status_code == 404


def test_paging_is_exact(emu: Emulator) -> None:
    live = [
        c
        for c in emu.world.campaigns
        if c["advertiser_id"] == advertiser(emu) and emu.world.listed_by_default(c)
    ]
    seen: list[str] = []
    for page in (1, 2, 3, 4):
        data = call(emu, "/campaign/get/", advertiser_id=advertiser(emu), page=page, page_size=2)[
            "data"
        ]
        assert data["page_info"] == {
            "page": page,
            "page_size": 2,
            "total_number": len(live),
            "total_page": (len(live) + 1) // 2,
        }
        seen += [c["campaign_id"] for c in data["list"]]
    assert seen == sorted((c["campaign_id"] for c in live), reverse=True)


def test_page_size_caps(emu: Emulator) -> None:
    assert call(emu, "/ad/get/", advertiser_id=advertiser(emu), page_size=1001)["code"] == 40002
    list_path = "/dmp/custom_audience/list/"
    assert call(emu, list_path, advertiser_id=advertiser(emu), page_size=101)["code"] == 40002
    assert call(emu, list_path, advertiser_id=advertiser(emu), page_size=100)["code"] == 0


def test_deleted_rows_need_a_status_filter(emu: Emulator) -> None:
    default = call(emu, "/campaign/get/", advertiser_id=advertiser(emu), page_size=100)["data"]
    everything = call(
        emu,
        "/campaign/get/",
        advertiser_id=advertiser(emu),
        page_size=100,
        filtering={"primary_status": "STATUS_ALL"},
    )["data"]
    deleted = call(
        emu,
        "/campaign/get/",
        advertiser_id=advertiser(emu),
        page_size=100,
        filtering={"secondary_status": "CAMPAIGN_STATUS_DELETE"},
    )["data"]
    assert deleted["list"]
    assert len(everything["list"]) == len(default["list"]) + len(deleted["list"])


def test_fields_and_modified_after(emu: Emulator) -> None:
    data = call(emu, "/ad/get/", advertiser_id=advertiser(emu), fields=["ad_id", "ad_name"])["data"]
    assert all(set(row) == {"ad_id", "ad_name"} for row in data["list"])
    recent = call(
        emu,
        "/ad/get/",
        advertiser_id=advertiser(emu),
        page_size=1000,
        filtering={"modified_after": "2026-11-19 00:00:00"},
    )["data"]["list"]
    assert all((r.get("modify_time") or r["create_time"]) >= "2026-11-19 00:00:00" for r in recent)
    campaigns = call(
        emu,
        "/campaign/get/",
        advertiser_id=advertiser(emu),
        page_size=1000,
        filtering={"modified_after": "2030-01-01 00:00:00"},
    )["data"]["list"]
    assert campaigns  # only ads are filtered by modification time


def test_same_seed_same_world() -> None:
    with (
        Emulator(seed=5, today=EMULATOR_TODAY) as one,
        Emulator(seed=5, today=EMULATOR_TODAY) as two,
    ):
        assert one.world.ads == two.world.ads
        params: dict[str, Any] = {
            "advertiser_id": advertiser(one),
            "report_type": "BASIC",
            "data_level": "AUCTION_AD",
            "dimensions": ["ad_id", "stat_time_day"],
            "start_date": "2026-11-01",
            "end_date": "2026-11-20",
            "page_size": 1000,
        }
        assert (
            call(one, "/report/integrated/get/", **params)["data"]
            == call(two, "/report/integrated/get/", **params)["data"]
        )


REPORT: dict[str, Any] = {"report_type": "BASIC", "data_level": "AUCTION_AD", "page_size": 1000}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {
                "dimensions": ["ad_id", "stat_time_day"],
                "start_date": "2026-10-01",
                "end_date": "2026-10-31",
            },
            "max time span is 30 days when use stat_time_day",
        ),
        (
            {
                "dimensions": ["ad_id", "stat_time_hour"],
                "start_date": "2026-11-01",
                "end_date": "2026-11-02",
            },
            "max time span is 1 day when use stat_time_hour",
        ),
        (
            {
                "report_type": "AUDIENCE",
                "dimensions": ["ad_id", "stat_time_hour", "age"],
                "start_date": "2026-11-01",
                "end_date": "2026-11-01",
            },
            "Conflict occurs",
        ),
        (
            {
                "report_type": "AUDIENCE",
                "dimensions": ["ad_id", "stat_time_day", "age", "country_code"],
                "start_date": "2026-11-01",
                "end_date": "2026-11-01",
            },
            "Only one audience dimension",
        ),
        (
            {
                "dimensions": ["ad_id", "stat_time_day"],
                "metrics": ["cash_spend"],
                "start_date": "2026-11-01",
                "end_date": "2026-11-01",
            },
            "cash_spend",
        ),
    ],
)
def test_report_rules(emu: Emulator, params: dict, message: str) -> None:
    answer = call(
        emu, "/report/integrated/get/", advertiser_id=advertiser(emu), **{**REPORT, **params}
    )
    assert answer["code"] == 40002
    assert message in answer["message"]


def test_lifetime_ignores_dates_and_lists_idle_entities(emu: Emulator) -> None:
    answer = call(
        emu,
        "/report/integrated/get/",
        advertiser_id=advertiser(emu),
        **REPORT,
        dimensions=["ad_id"],
        query_lifetime=True,
        start_date="1999-01-01",
        end_date="1999-01-01",
    )
    live_ads = [  # TopView's only with a buying_type filter
        a
        for a in emu.world.ads
        if a["advertiser_id"] == advertiser(emu) and emu.world.listed_by_default(a)
    ]
    assert answer["data"]["page_info"]["total_number"] == len(live_ads)


def test_metrics_are_strings(emu: Emulator) -> None:
    rows = call(
        emu,
        "/report/integrated/get/",
        advertiser_id=advertiser(emu),
        **REPORT,
        dimensions=["ad_id", "stat_time_day"],
        metrics=["spend", "impressions", "ctr", "tt_app_id"],
        start_date="2026-11-10",
        end_date="2026-11-10",
    )["data"]["list"]
    assert rows
    for row in rows:
        assert row["dimensions"]["stat_time_day"] == "2026-11-10 00:00:00"
        assert isinstance(row["metrics"]["spend"], str)
        assert row["metrics"]["tt_app_id"] == 0


def test_conversions_are_revised_when_the_clock_moves() -> None:
    with Emulator(seed=6, advertisers=1, today=EMULATOR_TODAY) as emu:
        params = {
            **REPORT,
            "advertiser_id": advertiser(emu),
            "data_level": "AUCTION_ADVERTISER",
            "dimensions": ["advertiser_id", "stat_time_day"],
            "metrics": ["conversion", "impressions"],
            "start_date": "2026-11-15",
            "end_date": "2026-11-15",
        }
        before = call(emu, "/report/integrated/get/", **params)["data"]["list"][0]["metrics"]
        emu.set_now(emu.now + timedelta(days=5))
        after = call(emu, "/report/integrated/get/", **params)["data"]["list"][0]["metrics"]
        assert after["impressions"] == before["impressions"]
        assert int(after["conversion"]) > int(before["conversion"])


@pytest.mark.parametrize(
    "kind", ["40100", "40133", "40016", "61000", "50000", "50002", "51000", "60001"]
)
def test_code_faults(kind: str) -> None:
    with Emulator(seed=1, advertisers=1, today=EMULATOR_TODAY) as emu:
        emu.fail_next("/user/info/", kind)
        assert call(emu, "/user/info/")["code"] == int(kind)
        assert call(emu, "/user/info/")["code"] == 0  # scripted faults are consumed


@pytest.mark.parametrize(
    "kind", ["http500", "http502", "http503", "http504", "not_json", "drop", "truncated"]
)
def test_transport_faults(kind: str) -> None:
    with Emulator(seed=1, advertisers=1, today=EMULATOR_TODAY) as emu:
        emu.fail_next("/user/info/", kind)
        headers = {"Access-Token": emu.access_token}

        def fetch() -> None:
            response = requests.get(f"{emu.base_url}/user/info/", headers=headers, timeout=5)
            response.raise_for_status()
            response.json()

        with pytest.raises((requests.RequestException, ValueError)):
            fetch()


def test_random_faults_follow_their_rate() -> None:
    with Emulator(
        seed=1, advertisers=1, today=EMULATOR_TODAY, faults=Faults({"50002": 0.3}, seed=4)
    ) as emu:
        codes = [call(emu, "/user/info/")["code"] for _ in range(200)]
        assert 30 <= codes.count(50002) <= 90


def test_qps_limit_answers_40100(monkeypatch: pytest.MonkeyPatch) -> None:
    # The limiter's clock stands still while the requests go out, however slow the machine.
    clock = [1000.0]
    monkeypatch.setattr(faults, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    with Emulator(seed=1, advertisers=1, today=EMULATOR_TODAY, qps=5) as emu:
        codes = [call(emu, "/user/info/")["code"] for _ in range(12)]
        assert codes == [0] * 5 + [40100] * 7
        clock[0] += 0.99
        assert call(emu, "/user/info/")["code"] == 40100
        clock[0] += 0.02  # the one-second window has moved past the first five
        assert call(emu, "/user/info/")["code"] == 0


def test_touch_and_request_log_redaction(emu: Emulator) -> None:
    touched = emu.touch("campaign", count=1)
    assert len(touched) == len(emu.world.advertisers)
    emu.clear_requests()
    call(emu, "/oauth2/advertiser/get/", app_id=emu.app_id, secret=emu.secret)
    entry = emu.requests()[0]
    assert entry["params"]["secret"] == "***"
    assert emu.secret not in json.dumps(emu.requests())


def test_money_over_money_ratios_are_not_scaled_by_cents() -> None:
    from tap_tiktok_ads.emulator.report_rules import METRICS
    from tap_tiktok_ads.emulator.report_values import _ratio_formatter

    roas = next(
        m
        for m in METRICS.values()
        if m.kind == "ratio"
        and m.numerator is not None
        and m.denominator is not None
        and METRICS[m.numerator].kind == "money"
        and METRICS[m.denominator].kind == "money"
    )
    values = {roas.numerator: 30000, roas.denominator: 10000}  # 300.00 over 100.00
    assert float(_ratio_formatter(roas)(values.__getitem__, {})) == pytest.approx(3 * roas.scale)


def test_kept_answers_are_replayed_bounded_and_dropped_when_the_world_changes() -> None:
    """Benchmarks keep encoded answers (response_cache): a kept answer is sent again byte for
    byte (its request_id too), only to the right token, the oldest beyond the bound is dropped,
    and a change to the world drops them all."""
    with Emulator(seed=5, advertisers=3, today=EMULATOR_TODAY, response_cache=2) as emu:

        def request_id(index: int, token: str | None = DEFAULT) -> str:
            answer = call(emu, "/campaign/get/", token=token, advertiser_id=advertiser(emu, index))
            return str(answer["request_id"]) if answer["code"] == 0 else str(answer["code"])

        first = request_id(0)
        assert request_id(0) == first
        assert request_id(0, token="nope") == "40105"
        second, third = request_id(1), request_id(2)
        assert request_id(2) == third
        assert request_id(1) == second
        assert request_id(0) != first  # the oldest of three was dropped
        emu.touch("campaign")
        assert request_id(1) != second
