"""The pixels stream synced over HTTP from the emulator."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.streams.permissions import PermissionRefusedError
from tap_tiktok_ads.streams.pixels import pixel_time
from tests.conftest import EMULATOR_TODAY, run_tap, tap_config


def sync(emu: Emulator, *streams: str):
    config = tap_config(emu)
    return run_tap(config, catalog=catalog_selecting(config, dict.fromkeys(streams)))


def test_every_pixel_is_synced_across_pages_with_its_events() -> None:
    # 30 campaigns hold 5 conversion campaigns of 5 ad groups: 25 pixels + 1 unused.
    with Emulator(
        seed=4, advertisers=2, campaigns=30, adgroups=5, ads=1, today=EMULATOR_TODAY
    ) as emu:
        run = sync(emu, "pixels", "ad_groups")
        records = run.records["pixels"]
        expected = {
            (advertiser_id, p["pixel_id"])
            for advertiser_id in (a["advertiser_id"] for a in emu.world.advertisers)
            for p in emu.library.pixels[advertiser_id]
        }
        assert {(r["advertiser_id"], r["pixel_id"]) for r in records} == expected
        assert len(records) == len(expected)
        used = {
            (g["advertiser_id"], g["pixel_id"]) for g in run.records["ad_groups"] if g["pixel_id"]
        }
        assert used
        assert used <= expected
        validator = jsonschema.Draft7Validator(
            run.schemas["pixels"], format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
        )
        for record in records:
            validator.validate(record)
            assert isinstance(record["events"], list)
        assert any(r["events"] for r in records)
        assert any(not r["events"] for r in records)
        calls = [r for r in emu.requests() if r["path"] == "/pixel/list/"]
        per_advertiser = max(
            len(emu.library.pixels[a["advertiser_id"]]) for a in emu.world.advertisers
        )
        assert per_advertiser > 20
        assert all(c["params"]["page_size"] == "20" for c in calls)
        assert len(calls) == 2 * 2  # two pages for each advertiser


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1581679723600", "2020-02-14T11:28:43.600000+00:00"),  # epoch ms, as documented
        (1581679723600, "2020-02-14T11:28:43.600000+00:00"),
        ("2020-02-14 11:28:43", "2020-02-14T11:28:43+00:00"),  # as TikTok also sends it
        (None, None),
    ],
)
def test_pixel_creation_times_in_either_format(value: object, expected: str | None) -> None:
    assert pixel_time(value) == expected


def test_a_refused_advertiser_is_skipped_with_one_warning(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    refused, allowed = (a["advertiser_id"] for a in emulator.world.advertisers)
    emulator.library.refuse("/pixel/list/", refused)
    try:
        with caplog.at_level(logging.WARNING):
            run = sync(emulator, "pixels", "advertisers")
    finally:
        emulator.library.clear_refusals()
    assert {r["advertiser_id"] for r in run.records["pixels"]} == {allowed}
    assert {r["advertiser_id"] for r in run.records["advertisers"]} == {refused, allowed}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    named = [w for w in warnings if "/pixel/list/" in w]
    assert len(named) == 1
    assert refused in named[0]
    assert "pixels" in named[0]


def test_a_refusal_fails_the_run_when_pixels_are_all_that_was_selected(
    emulator: Emulator,
) -> None:
    refused = emulator.world.advertisers[1]["advertiser_id"]
    emulator.library.refuse("/pixel/list/", refused)
    try:
        with pytest.raises(PermissionRefusedError, match="/pixel/list/") as failure:
            sync(emulator, "pixels")
    finally:
        emulator.library.clear_refusals()
    assert refused in str(failure.value)


def test_the_refusal_is_one_error_line_and_exit_code_1(emulator: Emulator, tmp_path: Path) -> None:
    refused = emulator.world.advertisers[0]["advertiser_id"]
    config = tap_config(emulator)
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting(config, {"pixels": None})))
    (tmp_path / "config.json").write_text(json.dumps(config))
    emulator.library.refuse("/pixel/list/", refused)
    try:
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "tap-tiktok-ads"),
                *("--config", str(tmp_path / "config.json"), "--catalog", str(catalog)),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        emulator.library.clear_refusals()
    assert result.returncode == 1
    # singer-sdk precedes any failure inside a stream with its own generic line.
    errors = [
        line
        for line in result.stderr.splitlines()
        if "ERROR" in line and "An unhandled error occurred while syncing" not in line
    ]
    assert len(errors) == 1
    assert "/pixel/list/" in errors[0]
    assert refused in errors[0]
    assert "Traceback" not in result.stderr
    assert emulator.access_token not in result.stderr
