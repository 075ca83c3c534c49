"""Shared helpers for the emulator tests: real HTTP calls with TikTok's parameter encoding."""

from __future__ import annotations

import json
from typing import Any

import requests

from tap_tiktok_ads.emulator import Emulator

DEFAULT = "default"
REPORT = "/report/integrated/get/"


def call(emu: Emulator, path: str, token: str | None = DEFAULT, **params: Any) -> dict[str, Any]:
    """GET ``path`` with lists and objects JSON-encoded; the envelope (always HTTP 200)."""
    encoded = {
        k: v if isinstance(v, (str, int)) and not isinstance(v, bool) else json.dumps(v)
        for k, v in params.items()
    }
    headers = (
        {} if token is None else {"Access-Token": emu.access_token if token == DEFAULT else token}
    )
    response = requests.get(f"{emu.base_url}{path}", params=encoded, headers=headers, timeout=10)
    assert response.status_code == 200
    return response.json()


def data(emu: Emulator, path: str, **params: Any) -> Any:
    """``data`` of a call that must succeed."""
    answer = call(emu, path, **params)
    assert answer["code"] == 0, answer
    return answer["data"]


def advertiser(emu: Emulator, index: int = 0) -> str:
    return emu.world.advertisers[index]["advertiser_id"]


def report_rows(emu: Emulator, **params: Any) -> list[dict[str, Any]]:
    """Every row of a report, paging with page_size 1000 until total_page."""
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = data(emu, REPORT, page=page, page_size=1000, **params)
        rows += answer["list"]
        if page >= answer["page_info"]["total_page"]:
            return rows
        page += 1
