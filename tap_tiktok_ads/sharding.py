"""Advertiser shards: the i-th of N stable slices of the advertiser list.

An advertiser's shard depends on its id alone (a SHA-256 of the id, modulo N), not on its place
in the list, so it stays in its shard, and with that shard's saved state, as advertisers are
added or removed. Python's ``hash()`` is salted per process and would move advertisers between
runs.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from tap_tiktok_ads.errors import ConfigError

SETTING = "advertiser_shard"
_FORM = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, advertiser_id: str) -> bool:
        return shard_of(advertiser_id, self.count) == self.index

    def select(self, advertiser_ids: Iterable[str]) -> tuple[str, ...]:
        """The ids of this shard, in their given order."""
        return tuple(i for i in advertiser_ids if self.holds(i))


def shard_of(advertiser_id: str, count: int) -> int:
    """The 1-based shard an advertiser belongs to among ``count`` shards."""
    digest = hashlib.sha256(str(advertiser_id).encode()).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def parse_shard(value: object) -> Shard | None:
    """``"i/N"`` with 1 <= i <= N; None (every advertiser) when unset."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    match = _FORM.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(SETTING, f'must be "i/N" (e.g. "1/3"), got {value!r}')
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise ConfigError(
            SETTING, f'must be "i/N" with 1 <= i <= N (shards are numbered from 1), got {value!r}'
        )
    return Shard(index, count)


def sharded(resolve: Callable[[Any], tuple[str, ...]]) -> cached_property[tuple[str, ...]]:
    """A cached property of the tap: ``resolve``'s advertiser list cut to the configured shard.

    Applied to the resolved list, before any per-advertiser request, so that a shard asks TikTok
    only about its own advertisers.
    """

    @functools.wraps(resolve)
    def resolve_shard(tap: Any) -> tuple[str, ...]:
        ids = resolve(tap)
        shard: Shard | None = tap.settings.advertiser_shard
        if shard is None:
            return ids
        kept = shard.select(ids)
        tap.logger.info("Shard %s: %d of %d advertiser(s).", shard, len(kept), len(ids))
        if ids and not kept:
            tap.logger.warning("Shard %s holds none of the %d advertiser(s).", shard, len(ids))
        return kept

    return cached_property(resolve_shard)
