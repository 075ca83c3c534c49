"""Shared fixtures: a running emulator and a helper that runs the real tap against it."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.state_pacing import EVERY_STATE, PacedStateWriter
from tap_tiktok_ads.tap import TapTikTokAds

# Hypothesis judges examples, never their speed: on a busy machine (CI, or eight jobs on two
# cores) a slow example or a slow draw is no bug. Loaded here, before the test modules are
# imported, so that every @settings inherits it; HYPOTHESIS_PROFILE picks another one.
settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

EMULATOR_TODAY = date(2026, 11, 20)
# Lets the tap believe an emulator whose clock is pinned to EMULATOR_TODAY (or another day).
PINNED_CLOCK_SKEW_HOURS = 876_000
# Every secret the suite hands out (the emulator's defaults and tests/test_cli.py's).
TEST_SECRETS = (
    "emulator-token",
    "emulator-secret",
    "tok-9f8e7d6c5b4a-secret",
    "app-1a2b3c4d5e6f-secret",
)


@pytest.fixture(autouse=True)
def every_state_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process syncs write every STATE the streams offer, as fast or slow as the machine is:
    time-paced STATE messages would make a test's STATE count depend on its speed. Tests of the
    pacing set their own; subprocess runs (kill, signals) keep the shipped default."""
    monkeypatch.setattr(PacedStateWriter, "pacing", EVERY_STATE)


@pytest.fixture(autouse=True)
def no_secret_in_any_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test's log records are scanned: no token or app secret may ever be logged."""
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.records:
        text = record.getMessage() + str(record.exc_info or "")
        leaked = [secret for secret in TEST_SECRETS if secret in text]
        assert not leaked, f"{record.name} logged a secret: {text[:200]}"


@dataclass
class TapRun:
    """What one sync printed, split by message type."""

    messages: list[dict[str, Any]]
    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)

    @property
    def final_state(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}


def run_tap(
    config: dict[str, Any],
    *,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
) -> TapRun:
    """Sync in-process, capturing the Singer messages the tap writes to stdout."""
    buffer = io.BytesIO()
    stdout = io.TextIOWrapper(buffer, encoding="utf-8")
    with contextlib.redirect_stdout(stdout):
        tap = TapTikTokAds(config=config, state=state, catalog=catalog)
        tap.sync_and_write_last_state()
        stdout.flush()
    lines = buffer.getvalue().splitlines()
    run = TapRun(messages=[json.loads(line, parse_float=Decimal) for line in lines if line])
    for message in run.messages:
        if message["type"] == "RECORD":
            run.records[message["stream"]].append(message["record"])
        elif message["type"] == "SCHEMA":
            run.schemas[message["stream"]] = message["schema"]
        elif message["type"] == "STATE":
            run.states.append(message["value"])
    return run


def bookmark_values(state: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """(stream, partition context) -> its bookmark, for every partition that has one."""
    return {
        (stream, json.dumps(partition.get("context"), sort_keys=True)): value
        for stream, stream_state in state.get("bookmarks", {}).items()
        for partition in stream_state.get("partitions", [stream_state])
        if (value := partition.get("replication_key_value")) is not None
    }


ENTITY_STREAMS = ("advertisers", "campaigns", "ad_groups", "ads")


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """A small, shared, read-only world. Tests that change data start their own emulator."""
    with Emulator(seed=11, advertisers=2, today=EMULATOR_TODAY) as emu:
        yield emu


def tap_config(emu: Emulator, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "access_token": emu.access_token,
        "api_url": emu.base_url,
        "advertiser_ids": [a["advertiser_id"] for a in emu.world.advertisers],
        "start_date": "2026-10-01",
        "max_requests_per_second": 1000,
        # The emulator's clock is pinned to its own day, far from this machine's.
        "max_clock_skew_hours": PINNED_CLOCK_SKEW_HOURS,
    }
    if any(k in overrides for k in ("date", "days_back", "start_days_back", "date_period")):
        del config["start_date"]  # one way of choosing dates at a time
    config.update(overrides)
    return config


def is_default_pass(request: dict[str, Any]) -> bool:
    """A report request of TikTok's default pass; the TopView pass filters on buying_type."""
    return "buying_type" not in str(request["params"].get("filtering"))
