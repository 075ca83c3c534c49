"""The emulator's reports hide TopView like TikTok's: without ``buying_type`` =
RESERVATION_TOP_VIEW in ``filtering`` no TopView delivery is reported; with it, only TopView's.
An advertiser's rows of both kinds add up to all its campaigns."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tap_tiktok_ads.emulator import Emulator
from tests.conftest import EMULATOR_TODAY
from tests.emulator.helpers import REPORT, advertiser, call, report_rows

TOP_VIEW = "RESERVATION_TOP_VIEW"
DAYS = {"start_date": "2026-11-10", "end_date": "2026-11-16"}
ALL_STATUSES = {
    "field_name": "campaign_status",
    "filter_type": "IN",
    "filter_value": '["STATUS_ALL"]',
}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(
        seed=41, advertisers=1, campaigns=3, adgroups=1, ads=2, today=EMULATOR_TODAY
    ) as e:
        yield e


def buying(*types: str) -> dict[str, str]:
    return {"field_name": "buying_type", "filter_type": "IN", "filter_value": json.dumps(types)}


def report(emu: Emulator, level: str, dimension: str, *filters: dict[str, str]) -> list[dict]:
    return report_rows(
        emu,
        advertiser_id=advertiser(emu),
        report_type="BASIC",
        data_level=level,
        dimensions=[dimension, "stat_time_day"],
        metrics=["spend"],
        filtering=list(filters),
        **DAYS,
    )


def campaigns_of(rows: list[dict[str, Any]]) -> set[str]:
    return {r["dimensions"]["campaign_id"] for r in rows}


def test_topview_rows_appear_only_when_asked_for_and_then_alone(emu: Emulator) -> None:
    top_view = {
        c["campaign_id"] for c in emu.world.campaigns if emu.world.buying_type(c) == TOP_VIEW
    }
    assert top_view
    default = report(emu, "AUCTION_CAMPAIGN", "campaign_id", ALL_STATUSES)
    only = report(emu, "AUCTION_CAMPAIGN", "campaign_id", ALL_STATUSES, buying(TOP_VIEW))
    assert campaigns_of(default)
    assert not campaigns_of(default) & top_view
    assert campaigns_of(only) == top_view
    ads = report(emu, "AUCTION_AD", "ad_id", buying(TOP_VIEW))
    top_view_ads = {a["ad_id"] for a in emu.world.ads if a["campaign_id"] in top_view}
    assert {r["dimensions"]["ad_id"] for r in ads} == top_view_ads


def test_advertiser_rows_of_both_kinds_add_up_to_every_campaign(emu: Emulator) -> None:
    campaigns: dict[tuple[str, bool], Decimal] = defaultdict(Decimal)
    advertisers: dict[tuple[str, bool], Decimal] = {}
    top_view = {
        c["campaign_id"] for c in emu.world.campaigns if emu.world.buying_type(c) == TOP_VIEW
    }
    for is_top_view, filters in ((False, ()), (True, (buying(TOP_VIEW),))):
        for row in report(emu, "AUCTION_CAMPAIGN", "campaign_id", ALL_STATUSES, *filters):
            assert (row["dimensions"]["campaign_id"] in top_view) == is_top_view
            day = row["dimensions"]["stat_time_day"]
            campaigns[day, is_top_view] += Decimal(row["metrics"]["spend"])
        for row in report(emu, "AUCTION_ADVERTISER", "advertiser_id", *filters):
            day = row["dimensions"]["stat_time_day"]
            advertisers[day, is_top_view] = Decimal(row["metrics"]["spend"])
    assert advertisers == dict(campaigns)
    assert any(spend for (_, is_top_view), spend in advertisers.items() if is_top_view)


@pytest.mark.parametrize(
    ("types", "needle"),
    [
        ((TOP_VIEW, "AUCTION"), "cannot be combined"),
        (("RESERVATION_RF", TOP_VIEW), "cannot be combined"),
        (("TOPVIEW",), "invalid value"),
    ],
)
def test_a_buying_type_filter_topview_cannot_share_is_refused(
    emu: Emulator, types: tuple[str, ...], needle: str
) -> None:
    answer = call(
        emu,
        REPORT,
        advertiser_id=advertiser(emu),
        report_type="BASIC",
        data_level="AUCTION_CAMPAIGN",
        dimensions=["campaign_id"],
        filtering=[buying(*types)],
        **DAYS,
    )
    assert answer["code"] == 40002
    assert needle in answer["message"]
