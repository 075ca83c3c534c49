"""Shared fixtures: a running emulator and a helper that runs the real tap against it."""

from __future__ import annotations

import contextlib
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.tap import TapTikTokAds

EMULATOR_TODAY = date(2026, 11, 20)


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
        tap.sync_all()
        stdout.flush()
    run = TapRun(messages=[json.loads(line) for line in buffer.getvalue().splitlines() if line])
    for message in run.messages:
        if message["type"] == "RECORD":
            run.records[message["stream"]].append(message["record"])
        elif message["type"] == "SCHEMA":
            run.schemas[message["stream"]] = message["schema"]
        elif message["type"] == "STATE":
            run.states.append(message["value"])
    return run


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
    }
    config.update(overrides)
    return config
