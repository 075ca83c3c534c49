"""advertiser_shard: N stable, disjoint slices of the advertiser list that together cover it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.errors import ConfigError
from tap_tiktok_ads.settings import Settings
from tap_tiktok_ads.sharding import Shard, shard_of
from tests.conftest import EMULATOR_TODAY, run_tap, tap_config

BASE: dict[str, Any] = {"access_token": "t0ken", "start_date": "2026-01-01"}
advertiser_ids = st.lists(st.integers(min_value=1, max_value=10**19).map(str), unique=True)


def test_the_setting_reads_i_of_n() -> None:
    assert Settings.from_config({**BASE, "advertiser_shard": "2/3"}).advertiser_shard == Shard(2, 3)
    assert Settings.from_config({**BASE, "advertiser_shard": " 1 / 1 "}).advertiser_shard == (
        Shard(1, 1)
    )
    assert Settings.from_config(BASE).advertiser_shard is None
    assert Settings.from_config({**BASE, "advertiser_shard": ""}).advertiser_shard is None


@pytest.mark.parametrize("value", ["0/3", "4/3", "a/b", "1/0", "0/0", "3", "1/3/5", "-1/3", 2])
def test_a_bad_shard_is_one_line_naming_the_setting(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_config({**BASE, "advertiser_shard": value})
    message = str(caught.value)
    assert message.startswith("advertiser_shard: ")
    assert repr(value) in message
    assert "\n" not in message


@settings(deadline=None)
@given(ids=advertiser_ids, count=st.integers(min_value=1, max_value=12))
def test_the_shards_cover_every_advertiser_exactly_once(ids: list[str], count: int) -> None:
    shards = [Shard(i, count).select(ids) for i in range(1, count + 1)]
    seen = Counter(i for shard in shards for i in shard)
    assert set(seen) == set(ids)
    assert set(seen.values()) <= {1}
    for shard in shards:  # each keeps the list's order
        assert list(shard) == [i for i in ids if i in set(shard)]


@settings(deadline=None)
@given(ids=advertiser_ids, added=advertiser_ids, count=st.integers(min_value=1, max_value=12))
def test_an_advertiser_stays_in_its_shard_as_the_list_grows(
    ids: list[str], added: list[str], count: int
) -> None:
    grown = ids + [i for i in added if i not in ids]
    for index in range(1, count + 1):
        shard = Shard(index, count)
        assert set(shard.select(ids)) == set(shard.select(grown)) & set(ids)


def test_shards_are_the_same_in_every_process() -> None:
    """Python's hash() of a string changes per process; the shard must not."""
    ids = [str(7_000_000_000_000_000_000 + n) for n in range(50)]
    here = [shard_of(i, 7) for i in ids]
    script = (
        "import sys; from tap_tiktok_ads.sharding import shard_of; "
        "print([shard_of(i, 7) for i in sys.argv[1:]])"
    )
    for seed in ("1", "2"):
        answer = subprocess.run(
            [sys.executable, "-c", script, *ids],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert answer.stdout.strip() == str(here)


def test_a_thousand_advertisers_spread_evenly() -> None:
    ids = [str(7_100_000_000_000_000_000 + 7919 * n) for n in range(1000)]
    sizes = Counter(shard_of(i, 3) for i in ids)
    assert set(sizes) == {1, 2, 3}
    assert all(280 <= size <= 390 for size in sizes.values()), sizes


def advertiser_info_ids(emu: Emulator) -> set[str]:
    asked: set[str] = set()
    for entry in emu.requests():
        if entry["path"] == "/advertiser/info/":
            asked.update(str(i) for i in entry["params"]["advertiser_ids"])
    return asked


def test_each_shard_syncs_and_requests_only_its_own_advertisers() -> None:
    with Emulator(seed=5, advertisers=7, campaigns=2, audiences=0, today=EMULATOR_TODAY) as emu:
        everyone = [a["advertiser_id"] for a in emu.world.advertisers]
        streams: dict[str, list[str] | None] = {"advertisers": None, "campaigns": None}
        catalog = catalog_selecting(tap_config(emu), streams)
        whole = run_tap(tap_config(emu), catalog=catalog)
        assert len(whole.records["campaigns"]) > 0
        campaigns: list[dict[str, Any]] = []
        for index in (1, 2, 3):
            emu.clear_requests()
            config = tap_config(emu, advertiser_shard=f"{index}/3")
            run = run_tap(config, catalog=catalog)
            mine = set(Shard(index, 3).select(everyone))
            assert {r["advertiser_id"] for r in run.records["advertisers"]} == mine
            assert {r["advertiser_id"] for r in run.records["campaigns"]} <= mine
            assert advertiser_info_ids(emu) == mine
            assert {
                e["params"]["advertiser_id"]
                for e in emu.requests()
                if "advertiser_id" in e["params"]
            } <= mine
            campaigns += run.records["campaigns"]
        key = lambda r: r["campaign_id"]  # noqa: E731
        assert sorted(campaigns, key=key) == sorted(whole.records["campaigns"], key=key)


def test_advertisers_listed_for_the_app_are_sharded_too() -> None:
    with Emulator(seed=6, advertisers=5, campaigns=1, audiences=0, today=EMULATOR_TODAY) as emu:
        config = tap_config(emu, app_id=emu.app_id, secret=emu.secret, advertiser_shard="2/2")
        del config["advertiser_ids"]
        catalog = catalog_selecting(config, {"advertisers": None})
        run = run_tap(config, catalog=catalog)
        everyone = [a["advertiser_id"] for a in emu.world.advertisers]
        expected = set(Shard(2, 2).select(everyone))
        assert expected
        assert expected != set(everyone)
        assert {r["advertiser_id"] for r in run.records["advertisers"]} == expected
        assert advertiser_info_ids(emu) == expected
