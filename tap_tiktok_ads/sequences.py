"""Small helpers on sequences, shared by streams and the advertiser resolution."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

S = TypeVar("S", bound=Sequence[Any])


def batches(items: S, size: int) -> list[S]:
    """``items`` cut into consecutive runs of at most ``size`` (TikTok's per-call id caps)."""
    return [cast(S, items[i : i + size]) for i in range(0, len(items), size)]
