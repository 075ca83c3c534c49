"""The CLI asks glibc for one malloc arena before the run starts any thread."""

from __future__ import annotations

import os

import pytest

from tap_tiktok_ads import cli
from tap_tiktok_ads.malloc_arenas import ARENA_VARIABLE, use_one_malloc_arena
from tap_tiktok_ads.tap import TapTikTokAds


def glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError):
        return False


@pytest.mark.skipif(not glibc(), reason="glibc only")
def test_glibc_takes_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ARENA_VARIABLE, raising=False)
    assert use_one_malloc_arena()


def test_the_users_own_setting_is_left_to_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ARENA_VARIABLE, "4")
    assert not use_one_malloc_arena()


def test_without_glibc_nothing_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ARENA_VARIABLE, raising=False)

    def unknown_name(name: str) -> str:
        raise ValueError(name)

    monkeypatch.setattr("os.confstr", unknown_name)
    assert not use_one_malloc_arena()


def test_the_cli_asks_before_the_tap_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def use_one_malloc_arena() -> bool:
        calls.append("arena")
        return True

    monkeypatch.setattr(cli, "use_one_malloc_arena", use_one_malloc_arena)

    def create_tap(*_: object) -> None:
        calls.append("tap")
        raise SystemExit(0)

    monkeypatch.setattr(cli, "_create_tap", create_tap)
    with pytest.raises(SystemExit):
        cli.invoke(TapTikTokAds)
    assert calls == ["arena", "tap"]
