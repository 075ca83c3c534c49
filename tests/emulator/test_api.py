"""Accounts, OAuth, entities and audiences over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.emulator.world import parse_time
from tests.conftest import EMULATOR_TODAY
from tests.emulator.helpers import advertiser, call, data

SCHEMAS = Path(__file__).parents[2] / "tap_tiktok_ads" / "schemas"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(seed=21, advertisers=3, campaigns=7, today=EMULATOR_TODAY) as emulator:
        yield emulator


def live(emu: Emulator, table: str, index: int = 0) -> list[dict]:
    """The rows a listing without filters shows: live ones, TopView left out."""
    rows = emu.world.rows(table, advertiser(emu, index))
    return [row for row in rows if emu.world.listed_by_default(row)]


# -- parameters and paging ---------------------------------------------------------------------


def test_malformed_json_and_missing_parameters_are_40002_naming_them(emu: Emulator) -> None:
    bad = requests.get(
        f"{emu.base_url}/campaign/get/",
        params={"advertiser_id": advertiser(emu), "fields": '["campaign_id"'},
        headers={"Access-Token": emu.access_token},
        timeout=5,
    ).json()
    assert bad["code"] == 40002
    assert "fields" in bad["message"]
    assert bad["data"] == {}
    missing = call(emu, "/campaign/get/")
    assert (missing["code"], missing["message"]) == (
        40002,
        "Missing required field(s): advertiser_id",
    )


def test_a_page_past_the_end_is_empty_with_exact_page_info(emu: Emulator) -> None:
    total = len(live(emu, "ads"))
    answer = data(emu, "/ad/get/", advertiser_id=advertiser(emu), page=99, page_size=4)
    assert answer["list"] == []
    assert answer["page_info"] == {
        "page": 99,
        "page_size": 4,
        "total_number": total,
        "total_page": -(-total // 4),
    }
    assert call(emu, "/ad/get/", advertiser_id=advertiser(emu), page=0)["code"] == 40002


def test_paging_across_pages_returns_each_ad_once_in_id_order(emu: Emulator) -> None:
    seen: list[str] = []
    expected = sorted(row["ad_id"] for row in live(emu, "ads"))
    for page in range(1, -(-len(expected) // 5) + 1):
        answer = data(emu, "/ad/get/", advertiser_id=advertiser(emu), page=page, page_size=5)
        assert len(answer["list"]) == min(5, len(expected) - 5 * (page - 1))
        seen += [row["ad_id"] for row in answer["list"]]
    assert seen == expected


def test_fields_returns_only_those_keys_and_null_fields_can_be_excluded(emu: Emulator) -> None:
    rows = data(
        emu, "/campaign/get/", advertiser_id=advertiser(emu), fields=["campaign_id", "budget"]
    )["list"]
    assert rows
    assert all(set(row) == {"campaign_id", "budget"} for row in rows)
    full = data(emu, "/adgroup/get/", advertiser_id=advertiser(emu), page_size=1)["list"][0]
    trimmed = data(
        emu,
        "/adgroup/get/",
        advertiser_id=advertiser(emu),
        page_size=1,
        exclude_field_types_in_response=["NULL_FIELD"],
    )["list"][0]
    assert None in full.values()
    assert trimmed == {k: v for k, v in full.items() if v is not None}


# -- advertisers, auth and OAuth ---------------------------------------------------------------


def test_advertiser_info(emu: Emulator) -> None:
    ids = [a["advertiser_id"] for a in emu.world.advertisers]
    rows = data(emu, "/advertiser/info/", advertiser_ids=ids)["list"]
    assert [row["advertiser_id"] for row in rows] == ids
    assert len({row["timezone"] for row in rows}) == 3
    assert all(isinstance(row["create_time"], int) for row in rows)
    assert all("company_name_editable" not in row for row in rows)  # not a default field
    lone = data(
        emu, "/advertiser/info/", advertiser_ids=ids[:1], fields=["name", "company_name_editable"]
    )["list"]
    assert lone == [{"advertiser_id": ids[0], "company_name_editable": False}]
    some = data(emu, "/advertiser/info/", advertiser_ids=ids, fields=["currency", "timezone"])
    assert all(set(row) == {"currency", "timezone"} for row in some["list"])
    too_many = call(emu, "/advertiser/info/", advertiser_ids=[str(i) for i in range(101)])
    assert too_many["code"] == 40002


def test_forbidden_advertisers_are_listed_but_not_readable() -> None:
    with Emulator(seed=2, advertisers=2, today=EMULATOR_TODAY) as probe:
        forbidden = advertiser(probe, 1)
    with Emulator(
        seed=2, advertisers=2, today=EMULATOR_TODAY, forbidden_advertisers=[forbidden]
    ) as emu:
        assert call(emu, "/campaign/get/", advertiser_id=forbidden)["code"] == 40001
        assert call(emu, "/campaign/get/", advertiser_id=advertiser(emu, 0))["code"] == 0
        listed = data(emu, "/oauth2/advertiser/get/", app_id=emu.app_id, secret=emu.secret)
        assert forbidden in {row["advertiser_id"] for row in listed["list"]}


def test_authorized_advertisers_need_the_app_credentials(emu: Emulator) -> None:
    listed = data(emu, "/oauth2/advertiser/get/", app_id=emu.app_id, secret=emu.secret)["list"]
    assert listed == [
        {"advertiser_id": a["advertiser_id"], "advertiser_name": a["name"]}
        for a in emu.world.advertisers
    ]
    wrong_app = call(emu, "/oauth2/advertiser/get/", app_id="other", secret=emu.secret)
    wrong_secret = call(emu, "/oauth2/advertiser/get/", app_id=emu.app_id, secret="x")
    assert (wrong_app["code"], wrong_secret["code"]) == (40101, 40113)
    assert call(emu, "/oauth2/advertiser/get/", token=None, app_id=emu.app_id)["code"] == 40104


def exchange(emu: Emulator, code: str) -> dict:
    body = {"app_id": emu.app_id, "secret": emu.secret, "auth_code": code}
    response = requests.post(f"{emu.base_url}/oauth2/access_token/", json=body, timeout=5)
    assert response.status_code == 200
    return response.json()


def test_an_auth_code_works_once_and_expires_after_an_hour() -> None:
    with Emulator(seed=1, advertisers=2, today=EMULATOR_TODAY) as emu:
        code = emu.issue_auth_code()
        granted = exchange(emu, code)
        assert granted["code"] == 0
        assert granted["data"]["access_token"] == emu.access_token
        assert granted["data"]["advertiser_ids"] == [advertiser(emu, 0), advertiser(emu, 1)]
        assert exchange(emu, code)["code"] == 40110  # used
        assert exchange(emu, "never-issued")["code"] == 40110
        late = emu.issue_auth_code()
        emu.set_now(emu.now + timedelta(hours=1, seconds=1))
        assert exchange(emu, late)["code"] == 40110  # expired
        fresh = emu.issue_auth_code()
        emu.set_now(emu.now + timedelta(minutes=59))
        assert exchange(emu, fresh)["code"] == 0


def test_the_portal_redirects_with_a_usable_code(emu: Emulator) -> None:
    response = requests.get(
        f"{emu.root_url}/portal/auth",
        params={"app_id": emu.app_id, "redirect_uri": "http://localhost:9/cb", "state": "s1"},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302
    target = urlparse(response.headers["Location"])
    query = parse_qs(target.query)
    assert (target.netloc, target.path, query["state"]) == ("localhost:9", "/cb", ["s1"])
    assert query["auth_code"] == query["code"]
    assert exchange(emu, query["auth_code"][0])["code"] == 0


# -- entities ----------------------------------------------------------------------------------


def test_rows_have_tiktok_shapes(emu: Emulator) -> None:
    now = emu.now
    every_id: list[str] = []
    for table in ("campaigns", "adgroups", "ads"):
        id_key = f"{table[:-1]}_id"
        for row in getattr(emu.world, table):
            assert row[id_key].isdigit()
            assert 16 <= len(row[id_key]) <= 19
            created = parse_time(row["create_time"])
            assert created <= parse_time(row.get("modify_time", row["create_time"])) <= now
            every_id.append(row[id_key])
    every_id += [a["advertiser_id"] for a in emu.world.advertisers]
    assert len(every_id) == len(set(every_id))
    assert all(len(a["advertiser_id"]) == 19 for a in emu.world.advertisers)


@pytest.mark.parametrize(
    ("table", "schema"),
    [
        ("campaigns", "campaigns"),
        ("adgroups", "ad_groups"),
        ("ads", "ads"),
        ("advertisers", "advertisers"),
    ],
)
def test_rows_are_rich_and_documented(emu: Emulator, table: str, schema: str) -> None:
    documented = set(json.loads((SCHEMAS / f"{schema}.json").read_text())["properties"])
    for row in getattr(emu.world, table):
        assert set(row) <= documented, set(row) - documented
        assert len(row) >= 0.8 * len(documented - {"is_deleted"}) - 1


def test_deleted_campaigns_take_their_children_with_them(emu: Emulator) -> None:
    deleted = {c["campaign_id"] for c in emu.world.campaigns if emu.world.is_deleted(c)}
    assert deleted
    children = [a for a in emu.world.ads if a["campaign_id"] in deleted]
    assert children
    assert all(emu.world.is_deleted(a) for a in children)
    shown = data(
        emu,
        "/ad/get/",
        advertiser_id=advertiser(emu),
        page_size=1000,
        filtering={"primary_status": "STATUS_DELETE"},
    )["list"]
    assert shown
    assert all(row["secondary_status"] == "AD_STATUS_DELETE" for row in shown)
    every = data(
        emu,
        "/adgroup/get/",
        advertiser_id=advertiser(emu),
        page_size=1000,
        filtering={"secondary_status": "ADGROUP_STATUS_ALL"},
    )
    shown_by_default = [
        row
        for row in emu.world.rows("adgroups", advertiser(emu))
        if emu.world.buying_type(row) != "RESERVATION_TOP_VIEW"
    ]
    assert every["page_info"]["total_number"] == len(shown_by_default)


def test_smart_plus_ads_lack_modify_time_and_modified_after_uses_create_time(
    emu: Emulator,
) -> None:
    rows = data(emu, "/ad/get/", advertiser_id=advertiser(emu), page_size=1000)["list"]
    smart = [row for row in rows if "modify_time" not in row]
    assert smart, "the world should hold Smart+ ads"
    campaigns = emu.world.by_id["campaigns"]
    automation = {campaigns[row["campaign_id"]]["campaign_automation_type"] for row in smart}
    assert automation == {"SMART_PLUS"}
    cut = min(row["create_time"] for row in smart)
    after = data(
        emu,
        "/ad/get/",
        advertiser_id=advertiser(emu),
        page_size=1000,
        filtering={"modified_after": cut},
    )["list"]
    expected = {r["ad_id"] for r in rows if r.get("modify_time", r["create_time"]) >= cut}
    assert {r["ad_id"] for r in after} == expected
    assert {r["ad_id"] for r in smart if r["create_time"] >= cut} <= expected


def test_modified_after_finds_touched_ads_only_on_the_ad_endpoint() -> None:
    with Emulator(seed=4, advertisers=2, today=EMULATOR_TODAY) as emu:
        emu.set_now(emu.now + timedelta(days=1))
        since = (emu.now - timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
        touched = emu.touch("ad", count=2)
        assert len(touched) == 4
        found = data(
            emu, "/ad/get/", advertiser_id=advertiser(emu), filtering={"modified_after": since}
        )["list"]
        assert {row["ad_id"] for row in found} == set(touched[:2])
        assert all(row["ad_name"].endswith("(edit 1)") for row in found)
        campaigns = data(
            emu,
            "/campaign/get/",
            advertiser_id=advertiser(emu),
            filtering={"modified_after": since},
        )
        assert campaigns["page_info"]["total_number"] == len(live(emu, "campaigns"))
        bad = call(
            emu, "/ad/get/", advertiser_id=advertiser(emu), filtering={"modified_after": "2026-11"}
        )
        assert bad["code"] == 40002


def test_touch_moves_modify_time_name_and_budget() -> None:
    with Emulator(seed=4, advertisers=2, today=EMULATOR_TODAY) as emu:
        before = {c["campaign_id"]: dict(c) for c in emu.world.campaigns}
        ids = emu.touch("campaign", count=2)
        assert len(ids) == 4
        for campaign_id in ids:
            row = emu.world.by_id["campaigns"][campaign_id]
            assert row["modify_time"] == emu.now.strftime("%Y-%m-%d %H:%M:%S")
            assert row["campaign_name"] != before[campaign_id]["campaign_name"]
            assert row["budget"] > before[campaign_id]["budget"]


def test_id_filters_and_buying_types(emu: Emulator) -> None:
    ads = live(emu, "ads")[:3]
    wanted = [ad["ad_id"] for ad in ads]
    found = data(emu, "/ad/get/", advertiser_id=advertiser(emu), filtering={"ad_ids": wanted})
    assert sorted(r["ad_id"] for r in found["list"]) == sorted(wanted)
    campaign_id = ads[0]["campaign_id"]
    groups = data(
        emu,
        "/adgroup/get/",
        advertiser_id=advertiser(emu),
        filtering={"campaign_ids": [campaign_id]},
    )["list"]
    assert groups
    assert {g["campaign_id"] for g in groups} == {campaign_id}
    top_view = {"buying_types": ["RESERVATION_TOP_VIEW"]}
    capped = call(
        emu, "/adgroup/get/", advertiser_id=advertiser(emu), filtering=top_view, page_size=101
    )
    assert capped["code"] == 40002


@pytest.mark.parametrize(
    ("path", "table", "id_key"),
    [
        ("/campaign/get/", "campaigns", "campaign_id"),
        ("/adgroup/get/", "adgroups", "adgroup_id"),
        ("/ad/get/", "ads", "ad_id"),
    ],
)
def test_top_view_is_listed_only_when_asked_for_alone(
    emu: Emulator, path: str, table: str, id_key: str
) -> None:
    account = advertiser(emu)
    world = emu.world
    by_type: dict[str, set[str]] = {}
    for row in world.rows(table, account):
        if not world.is_deleted(row):
            by_type.setdefault(world.buying_type(row), set()).add(row[id_key])
    assert set(by_type) == {"AUCTION", "RESERVATION_RF", "RESERVATION_TOP_VIEW"}
    assert len(by_type["RESERVATION_TOP_VIEW"]) == 1  # one per advertiser and level

    def listed(**filtering: object) -> set[str]:
        rows = data(emu, path, advertiser_id=account, page_size=100, filtering=filtering)["list"]
        return {row[id_key] for row in rows}

    assert listed() == by_type["AUCTION"] | by_type["RESERVATION_RF"]
    for kind, ids in by_type.items():
        assert listed(buying_types=[kind]) == ids
    assert listed(buying_types=["AUCTION", "RESERVATION_RF"]) == listed()
    for mixed in (["RESERVATION_TOP_VIEW", "AUCTION"], ["RESERVATION_RF", "RESERVATION_TOP_VIEW"]):
        refused = call(emu, path, advertiser_id=account, filtering={"buying_types": mixed})
        assert refused["code"] == 40002
        assert "RESERVATION_TOP_VIEW" in refused["message"]
    unknown = call(emu, path, advertiser_id=account, filtering={"buying_types": ["AUCTIONS"]})
    assert unknown["code"] == 40002


# -- audiences ---------------------------------------------------------------------------------


def test_custom_audiences_list_and_get(emu: Emulator) -> None:
    own = emu.world.rows("audiences", advertiser(emu))
    listed = data(emu, "/dmp/custom_audience/list/", advertiser_id=advertiser(emu), page_size=100)
    assert listed["page_info"]["total_number"] == len(own)
    lookalikes = [a for a in listed["list"] if a["audience_type"] == "Lookalike Audience"]
    assert lookalikes
    assert all(isinstance(a["lookalike_spec"], dict) for a in lookalikes)
    assert all(a["lookalike_spec"] is None for a in listed["list"] if a not in lookalikes)
    ids = [a["audience_id"] for a in own]
    got = data(
        emu,
        "/dmp/custom_audience/get/",
        advertiser_id=advertiser(emu),
        custom_audience_ids=ids,
        history_size=1,
    )["list"]
    assert [g["audience_details"]["audience_id"] for g in got] == ids
    assert all(len(g["audience_history"]) == 1 for g in got)
    assert all("type" in g["audience_details"] for g in got)
    path = "/dmp/custom_audience/get/"
    assert call(emu, path, advertiser_id=advertiser(emu))["code"] == 40002
    many = [str(i) for i in range(101)]
    assert call(emu, path, advertiser_id=advertiser(emu), custom_audience_ids=many)["code"] == 40002
    size = call(emu, path, advertiser_id=advertiser(emu), custom_audience_ids=ids, history_size=0)
    assert size["code"] == 40002


# -- the world ---------------------------------------------------------------------------------


def test_same_seed_same_answers_other_seed_other_world() -> None:
    params = {"page_size": 100}
    with (
        Emulator(seed=9, today=EMULATOR_TODAY) as one,
        Emulator(seed=9, today=EMULATOR_TODAY) as two,
        Emulator(seed=10, today=EMULATOR_TODAY) as other,
    ):
        for path in ("/campaign/get/", "/adgroup/get/", "/ad/get/", "/dmp/custom_audience/list/"):
            assert data(one, path, advertiser_id=advertiser(one), **params) == data(
                two, path, advertiser_id=advertiser(two), **params
            )
        assert one.world.advertisers == two.world.advertisers
        assert one.world.audience_history == two.world.audience_history
        assert advertiser(one) != advertiser(other)


def test_large_worlds_are_built() -> None:
    big = Emulator(seed=1, advertisers=1, campaigns=10, adgroups=10, ads=20, today=EMULATOR_TODAY)
    wide = Emulator(seed=1, advertisers=20, campaigns=5, adgroups=4, ads=5, today=EMULATOR_TODAY)
    for world, advertisers in ((big.world, 1), (wide.world, 20)):
        auction = [ad for ad in world.ads if world.buying_type(ad) == "AUCTION"]
        assert len(auction) == 2000
        assert len(world.ads) - len(auction) == 2 * advertisers  # one R&F, one TopView ad each
    for emulator in (big, wide):
        emulator.stop()
