"""TikTok's envelope codes: one table, and the client acts on each row as the table says."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import responses

import tap_tiktok_ads
from tap_tiktok_ads.client import TikTokClient
from tap_tiktok_ads.error_codes import CODES, Action, Skip, action_for, skippable
from tap_tiktok_ads.errors import (
    QueryTooLargeError,
    RateLimitedError,
    RefusedAPIError,
    TransientAPIError,
)

API = "http://127.0.0.1:9/open_api/v1.3"
PATH = "/report/integrated/get/"
TABLE_MODULE = "error_codes.py"
# The envelope codes TikTok documents sit in 40000..61999 (65535, a port bound, is not one).
CODE_SPAN = range(40000, 62000)


def envelope(code: int) -> dict:
    return {"code": code, "message": f"answer {code}", "request_id": f"req-{code}", "data": {}}


def quick_client() -> TikTokClient:
    return TikTokClient(
        access_token="error-codes-token-7d1e",
        api_url=API,
        max_tries=3,
        backoff_base_seconds=0.001,
        backoff_max_seconds=0.002,
        max_requests_per_second=1000,
    )


RETRIED = {Action.RATE_LIMITED, Action.TRANSIENT}


@pytest.mark.parametrize("code", sorted(CODES))
@responses.activate
def test_client_acts_on_each_row_of_the_table(code: int) -> None:
    """A retried code passes on the next answer; any other ends in its own exception class."""
    responses.get(f"{API}{PATH}", json=envelope(code))
    responses.get(f"{API}{PATH}", json={"code": 0, "message": "OK", "data": {"ok": True}})
    client = quick_client()
    rate = client.rate_limiter.rate
    action = CODES[code].action
    if action in RETRIED:
        assert client.get(PATH) == {"ok": True}
        assert len(responses.calls) == 2
        slowed = client.rate_limiter.rate < rate
        assert slowed is (action is Action.RATE_LIMITED)
        return
    expected = QueryTooLargeError if action is Action.HALVE_WINDOW else RefusedAPIError
    with pytest.raises(expected) as caught:
        client.get(PATH)
    assert type(caught.value) is expected
    assert len(responses.calls) == 1
    setting = CODES[code].setting
    if setting:
        assert f"check the `{setting}` setting" in str(caught.value)


@pytest.mark.parametrize(
    ("code", "error_class"),
    [(40132, RateLimitedError), (51004, TransientAPIError), (52999, TransientAPIError)],
)
@responses.activate
def test_retried_codes_raise_retriable_classes_once_tries_run_out(
    code: int, error_class: type
) -> None:
    responses.get(f"{API}{PATH}", json=envelope(code))
    with pytest.raises(error_class):
        quick_client().get(PATH)
    assert len(responses.calls) == 3


def test_unlisted_codes_are_refusals_and_server_ranges_are_retried() -> None:
    assert action_for(40999) is Action.REFUSED
    assert action_for(51099) is Action.TRANSIENT
    assert action_for(51100) is Action.REFUSED
    assert action_for(52000) is Action.TRANSIENT


def test_skippable_refusals_are_the_documented_ones() -> None:
    assert skippable(Skip.REJECTED_REPORT) == {40002}
    assert skippable(Skip.REJECTED_ID) == {40002}
    assert skippable(Skip.NO_STREAM_PERMISSION) == {40001}
    assert skippable(Skip.UNREADABLE_ADVERTISER) == {40001, 40300, 40301}
    for skip in Skip:
        for code in skippable(skip):
            assert CODES[code].action is Action.REFUSED


def hard_coded_codes(source: Path) -> list[int]:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and type(node.value) is int and node.value in CODE_SPAN
    ]


def test_no_tap_module_outside_the_table_spells_a_code() -> None:
    """The emulator models TikTok on its own and keeps its own codes; the tap reads the table."""
    package = Path(tap_tiktok_ads.__file__).parent
    offenders = {
        str(path.relative_to(package)): codes
        for path in sorted(package.rglob("*.py"))
        if path.name != TABLE_MODULE and "emulator" not in path.relative_to(package).parts
        for codes in [hard_coded_codes(path)]
        if codes
    }
    assert offenders == {}


def test_the_guard_sees_a_hard_coded_code(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text("PERMISSION = 40001\nlimit = 100\n", encoding="utf-8")
    assert hard_coded_codes(module) == [40001]
