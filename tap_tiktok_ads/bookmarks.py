"""Bookmarks in the Singer state: one reader for entity and report streams, and its guards.

A bookmark is the ``replication_key_value`` of one advertiser's partition. State files are
edited by hand and carried between tools, so every value is checked before it steers a run:
a malformed one stops the run with one line naming the stream and ``--state``, and one in the
future is pulled back (it would otherwise skip that advertiser forever).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any, TypeVar

from tap_tiktok_ads.dates import DAY_LENGTH, day_part
from tap_tiktok_ads.errors import ConfigError

# TikTok's ads platform started in 2016: an older bookmark is a typo, and walking back from
# year 1 would overflow date arithmetic.
EARLIEST_BOOKMARK = date(2016, 1, 1)
STATE_OPTION = "--state"
# A parsed bookmark: a report's day or an entity's instant.
_Bookmark = TypeVar("_Bookmark", date, datetime)


def saved_value(state: Mapping[str, Any], replication_key: str | None) -> Any:
    """The saved bookmark of one partition's state, or None when there is none for this key."""
    if not replication_key or state.get("replication_key") != replication_key:
        return None
    value = state.get("replication_key_value")
    return None if value in (None, "") else value


def report_day(value: Any, stream: str, advertiser_id: str) -> date | None:
    """A report bookmark: the last day synced, ``YYYY-MM-DD`` (a date-time's date part too)."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else None
    day: date | None = None
    if text and len(text) >= DAY_LENGTH:
        try:
            day = date.fromisoformat(day_part(text))
            if len(text) > DAY_LENGTH:  # the rest must make it a valid date-time
                datetime.fromisoformat(_z_to_offset(text))
        except ValueError:
            day = None
    return _checked(day, value, stream, advertiser_id, "a date (YYYY-MM-DD)")


def entity_instant(value: Any, stream: str, advertiser_id: str) -> datetime | None:
    """An entity bookmark: an RFC 3339 ``modify_time``, as an aware UTC instant."""
    if value is None:
        return None
    moment: datetime | None = None
    if isinstance(value, str) and len(value.strip()) >= 16:  # a date alone is not an instant
        try:
            moment = datetime.fromisoformat(_z_to_offset(value.strip()))
        except ValueError:
            moment = None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    checked = _checked(moment, value, stream, advertiser_id, "an RFC 3339 date-time")
    return checked.astimezone(timezone.utc)


def _checked(
    parsed: _Bookmark | None, value: Any, stream: str, advertiser_id: str, kind: str
) -> _Bookmark:
    if parsed is None:
        raise bookmark_error(stream, advertiser_id, f"{_shown(value)} is not {kind}")
    day = parsed.date() if isinstance(parsed, datetime) else parsed
    if day < EARLIEST_BOOKMARK:
        raise bookmark_error(
            stream, advertiser_id, f"{_shown(value)} is before {EARLIEST_BOOKMARK.year}"
        )
    return parsed


def bookmark_error(stream: str, advertiser_id: str, problem: str) -> ConfigError:
    return ConfigError(
        STATE_OPTION,
        f"stream {stream}, advertiser {advertiser_id}: the bookmark {problem}; correct it or "
        "remove the stream from the state to sync it from the start",
    )


def check_state(state: Mapping[str, Any], kinds: Mapping[str, str]) -> None:
    """Check every saved bookmark before the first request.

    ``kinds`` maps a stream name to ``"day"`` (reports) or ``"instant"`` (entities); streams
    it does not name (not synced by this tap version) are left alone.
    """
    check_state_shape(state)
    for stream, entry in state.get("bookmarks", {}).items():
        parse = _PARSERS.get(kinds.get(stream, ""))
        if parse is None:
            continue
        for partition in (entry, *entry.get("partitions", ())):
            value = partition.get("replication_key_value")
            if value is not None:
                context = partition.get("context") or {}
                parse(value, stream, str(context.get("advertiser_id", "(none)")))


def check_state_shape(state: Mapping[str, Any]) -> None:
    """Refuse state whose per-stream structure the Singer SDK would trip over."""
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, Mapping):
        raise ConfigError(STATE_OPTION, "`bookmarks` must be an object")
    for stream, entry in bookmarks.items():
        if not isinstance(entry, Mapping):
            raise ConfigError(STATE_OPTION, f"stream {stream}: its bookmark must be an object")
        partitions = entry.get("partitions")
        if partitions is None:
            continue
        if not isinstance(partitions, list) or not all(
            isinstance(p, Mapping) and isinstance(p.get("context"), Mapping) for p in partitions
        ):
            raise ConfigError(
                STATE_OPTION,
                f"stream {stream}: `partitions` must be a list of objects with a `context`",
            )


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _z_to_offset(text: str) -> str:
    return text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text


_PARSERS = {"day": report_day, "instant": entity_instant}
