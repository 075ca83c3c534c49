"""The business_centers stream and the business_center_ids setting, over HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.errors import ConfigError
from tap_tiktok_ads.settings import parse_business_center_ids
from tap_tiktok_ads.streams.permissions import PermissionRefusedError
from tests.conftest import EMULATOR_TODAY, run_tap, tap_config


@pytest.fixture(scope="module")
def agency() -> Iterator[Emulator]:
    """Four advertisers: BC 1 holds the 1st and 3rd, BC 2 the 2nd, 4th and (shared) 1st."""
    with Emulator(
        seed=21, advertisers=4, campaigns=1, adgroups=1, ads=1, today=EMULATOR_TODAY
    ) as emu:
        yield emu


def advertiser(emu: Emulator, index: int) -> str:
    return emu.world.advertisers[index]["advertiser_id"]


def bc_id(emu: Emulator, index: int) -> str:
    return emu.library.business_centers[index]["bc_info"]["bc_id"]


def synced_advertisers(emu: Emulator, **overrides: Any) -> list[str]:
    config = tap_config(emu, **overrides)
    run = run_tap(config, catalog=catalog_selecting(config, {"advertisers": None}))
    return [r["advertiser_id"] for r in run.records["advertisers"]]


def test_the_stream_lists_every_business_center_flattened(agency: Emulator) -> None:
    config = tap_config(agency)
    run = run_tap(config, catalog=catalog_selecting(config, {"business_centers": None}))
    records = run.records["business_centers"]
    assert [r["bc_id"] for r in records] == [bc_id(agency, 0), bc_id(agency, 1)]
    validator = jsonschema.Draft7Validator(run.schemas["business_centers"])
    for record, center in zip(records, agency.library.business_centers, strict=True):
        validator.validate(record)
        assert record["name"] == center["bc_info"]["name"]
        assert record["user_role"] == center["user_role"]
        assert "bc_info" not in record


def test_a_business_center_adds_exactly_its_advertisers(agency: Emulator) -> None:
    ids = synced_advertisers(
        agency, advertiser_ids=[advertiser(agency, 1)], business_center_ids=[bc_id(agency, 0)]
    )
    assert sorted(ids) == sorted(advertiser(agency, i) for i in (1, 0, 2))


def test_shared_advertisers_are_synced_once(agency: Emulator) -> None:
    ids = synced_advertisers(
        agency,
        advertiser_ids=[advertiser(agency, 0)],
        business_center_ids=f"{bc_id(agency, 0)},{bc_id(agency, 1)}",
    )
    assert sorted(ids) == sorted(advertiser(agency, i) for i in range(4))
    assert len(ids) == 4


def test_all_business_centers_need_no_advertiser_ids(agency: Emulator) -> None:
    config = tap_config(agency, business_center_ids="all")
    del config["advertiser_ids"]
    run = run_tap(config, catalog=catalog_selecting(config, {"advertisers": None}))
    ids = [r["advertiser_id"] for r in run.records["advertisers"]]
    assert sorted(ids) == sorted(advertiser(agency, i) for i in range(4))


def test_business_centers_join_the_authorized_list(agency: Emulator) -> None:
    config = tap_config(
        agency, app_id=agency.app_id, secret=agency.secret, business_center_ids=[bc_id(agency, 1)]
    )
    del config["advertiser_ids"]
    run = run_tap(config, catalog=catalog_selecting(config, {"advertisers": None}))
    ids = [r["advertiser_id"] for r in run.records["advertisers"]]
    assert sorted(ids) == sorted(advertiser(agency, i) for i in range(4))


def test_an_unknown_business_center_fails_naming_the_setting(agency: Emulator) -> None:
    with pytest.raises(ConfigError, match="business_center_ids") as failure:
        synced_advertisers(agency, business_center_ids=["7299999999999999999"])
    assert "7299999999999999999" in str(failure.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("all", "all"),
        (" ALL ", "all"),
        (["all"], "all"),  # how Meltano passes it
        ("72001, 72002,72001", ("72001", "72002")),
        (["72001", 72002], ("72001", "72002")),
        (None, ()),
        ([], ()),
    ],
)
def test_the_setting_takes_ids_or_all(value: Any, expected: Any) -> None:
    assert parse_business_center_ids(value) == expected


@pytest.mark.parametrize("value", ["every", ["72001", "bc-2"], {"id": "1"}])
def test_the_setting_refuses_anything_else(value: Any) -> None:
    with pytest.raises(ConfigError, match=r"^business_center_ids: "):
        parse_business_center_ids(value)


def test_a_refused_bc_listing_is_skipped_unless_it_is_all_that_was_selected(
    agency: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    agency.library.refuse("/bc/get/")
    config = tap_config(agency)
    try:
        with caplog.at_level(logging.WARNING):
            both = catalog_selecting(config, {"business_centers": None, "advertisers": None})
            run = run_tap(config, catalog=both)
        with pytest.raises(PermissionRefusedError, match="/bc/get/"):
            run_tap(config, catalog=catalog_selecting(config, {"business_centers": None}))
        with pytest.raises(ConfigError, match=r"^business_center_ids: cannot list"):
            synced_advertisers(agency, business_center_ids="all")
    finally:
        agency.library.clear_refusals()
    assert "business_centers" not in run.records
    assert len(run.records["advertisers"]) == 4
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([w for w in warnings if "/bc/get/" in w]) == 1
