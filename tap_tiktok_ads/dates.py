"""All date logic: the date options, advertiser time zones, TikTok's formats and windows.

Report days are the advertiser's local days and every range is inclusive at both ends.

Choosing report dates (exactly one way; giving two is a :class:`ConfigError` naming both):

- ``start_date`` [+ ``end_date``, default today]: a fixed range. ``start_date`` may also be an
  RFC 3339 date-time; its date part, as written, is used. ``end_date`` alone is an error.
- ``date``: one fixed day.
- ``days_back``: one day N days before today (0 = today, 1 = yesterday).
- ``start_days_back`` [+ ``end_days_back``, default 0]: from N to M days back, N >= M.
  ``end_days_back`` alone is an error.
- ``date_period``: a named period (:data:`PERIODS`); weeks start on ``week_start_day``.

``start_date`` is also the entity streams' lower bound, yet combining it with any other way is
a conflict too: one setting, one meaning. Fixed days may not lie in the future.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from tap_tiktok_ads.errors import ConfigError
from tap_tiktok_ads.placeholders import MISSING

WEEK_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LAST_N_DAYS = {"last_7_days": 7, "last_14_days": 14, "last_30_days": 30, "last_90_days": 90}
PERIODS = (
    "today",
    "yesterday",
    *LAST_N_DAYS,
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
)
# Each way of choosing dates: the setting that names it, and every setting that announces it.
MODES = {
    "start_date": ("start_date", "end_date"),
    "date": ("date",),
    "days_back": ("days_back",),
    "start_days_back": ("start_days_back", "end_days_back"),
    "date_period": ("date_period",),
}
# Ten years covers all of TikTok Ads; more is a typo (a date typed as days) or an overflow.
MAX_DAYS_BACK = 3650
# The first zone to enter each day: a day later than its "today" is in the future everywhere.
EARLIEST_ZONE = timezone(timedelta(hours=14))
MAX_UTC_OFFSET = timedelta(hours=14)

# Characters in YYYY-MM-DD.
DAY_LENGTH = 10
# The lengths of TikTok's time dimensions in report rows: a day as "2026-11-19 00:00:00" (or
# "2026-11-19"), an hour's label as "2026-11-19 13:00:00".
TIME_LENGTHS: dict[str, frozenset[int]] = {
    "stat_time_day": frozenset({DAY_LENGTH, 19}),
    "stat_time_hour": frozenset({19}),
}
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
RFC3339_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
TIKTOK_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}")
TIKTOK_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ]00:00:00)?")
OFFSET_ZONE = re.compile(r"(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)


@dataclass(frozen=True)
class DateSelection:
    """The validated way of choosing report dates; :meth:`resolve` turns it into days."""

    mode: str  # a key of MODES
    start: date | None = None  # start_date / date
    end: date | None = None  # end_date; None = today
    start_back: int = 0
    end_back: int = 0
    period: str | None = None
    week_start: int = 0  # index in WEEK_DAYS; 0 = Monday

    @classmethod
    def from_config(cls, config: Mapping[str, Any], today: date | None = None) -> DateSelection:
        """Validate the date settings that are set (None or "" count as not set).

        ``today`` bounds fixed days; by default it is the date in the first zone to reach a
        new day, so no advertiser anywhere is refused its own today.
        """
        used = [mode for mode, keys in MODES.items() if any(_given(config, k) for k in keys)]
        if len(used) > 1:
            first, second = (_first_given(config, MODES[mode]) for mode in used[:2])
            raise ConfigError(second, f"conflicts with {first}; use one way of choosing dates")
        if not used:
            raise ConfigError(
                "start_date",
                "is required; or choose dates with date, days_back, start_days_back or date_period",
            )
        week_start = _week_start(config.get("week_start_day"))
        latest = today or today_in(EARLIEST_ZONE)
        return _PARSERS[used[0]](config, latest, week_start)

    @property
    def fixed(self) -> bool:
        """Days the user wrote down (``date``, or ``start_date`` with ``end_date``): a backfill
        read whatever the bookmarks say, where open and relative ranges resume from them."""
        return self.mode == "date" or (self.mode == "start_date" and self.end is not None)

    def resolve(self, today: date) -> tuple[date, date]:
        """Inclusive (first, last) report days where the local date is ``today``.

        The last day is never after ``today``; last < first means none of the days has
        begun there yet (a fixed day that is already "today" further east).
        """
        first, last = self._days(today)
        return first, min(last, today)

    def _days(self, today: date) -> tuple[date, date]:
        if self.mode == "date":
            assert self.start is not None
            return self.start, self.start
        if self.mode == "start_date":
            assert self.start is not None
            return self.start, self.end or today
        if self.mode == "date_period":
            assert self.period is not None
            return period_range(self.period, today, self.week_start)
        return today - timedelta(days=self.start_back), today - timedelta(days=self.end_back)

    def describe(self) -> str:
        """A short label for logs, e.g. ``last_week (Mon-Sun)``."""
        if self.mode == "start_date":
            return f"{self.start} to {self.end or 'today'}"
        if self.mode == "date":
            return str(self.start)
        if self.mode == "days_back":
            return _days_ago(self.start_back)
        if self.mode == "start_days_back":
            return f"{_days_ago(self.start_back)} to {_days_ago(self.end_back)}"
        if self.period in ("this_week", "last_week"):
            first = WEEK_DAYS[self.week_start][:3].title()
            last = WEEK_DAYS[(self.week_start + 6) % 7][:3].title()
            return f"{self.period} ({first}-{last})"
        return str(self.period)


def _days_ago(days: int) -> str:
    return {0: "today", 1: "yesterday"}.get(days, f"{days} days ago")


def _given(config: Mapping[str, Any], key: str) -> bool:
    value = config.get(key)
    return value is not None and not (isinstance(value, str) and not value.strip())


def _first_given(config: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    return next(key for key in keys if _given(config, key))


# -- one parser per way of choosing dates ----------------------------------------------------

Parser = Callable[[Mapping[str, Any], date, int], DateSelection]


def _parse_range(config: Mapping[str, Any], latest: date, week_start: int) -> DateSelection:
    if not _given(config, "start_date"):
        raise ConfigError("end_date", "needs start_date; set start_date too")
    start = _past_day(config, "start_date", latest)
    end = _past_day(config, "end_date", latest) if _given(config, "end_date") else None
    if end is not None and end < start:
        raise ConfigError("end_date", f"{end} is before start_date {start}; use a later end_date")
    return DateSelection("start_date", start=start, end=end, week_start=week_start)


def _parse_date(config: Mapping[str, Any], latest: date, week_start: int) -> DateSelection:
    return DateSelection("date", start=_past_day(config, "date", latest), week_start=week_start)


def _parse_days_back(config: Mapping[str, Any], latest: date, week_start: int) -> DateSelection:
    back = _days_back(config["days_back"], "days_back")
    return DateSelection("days_back", start_back=back, end_back=back, week_start=week_start)


def _parse_relative(config: Mapping[str, Any], latest: date, week_start: int) -> DateSelection:
    if not _given(config, "start_days_back"):
        raise ConfigError("end_days_back", "needs start_days_back; set start_days_back too")
    start = _days_back(config["start_days_back"], "start_days_back")
    end = _days_back(config.get("end_days_back") or 0, "end_days_back")
    if end > start:
        raise ConfigError(
            "end_days_back", f"{end} is more days back than start_days_back {start}; lower it"
        )
    return DateSelection("start_days_back", start_back=start, end_back=end, week_start=week_start)


def _parse_period(config: Mapping[str, Any], latest: date, week_start: int) -> DateSelection:
    value = config["date_period"]
    period = value.strip().lower() if isinstance(value, str) else None
    if period not in PERIODS:
        raise ConfigError("date_period", f"{value!r} is unknown; use one of {', '.join(PERIODS)}")
    return DateSelection("date_period", period=period, week_start=week_start)


_PARSERS: dict[str, Parser] = {
    "start_date": _parse_range,
    "date": _parse_date,
    "days_back": _parse_days_back,
    "start_days_back": _parse_relative,
    "date_period": _parse_period,
}


def _past_day(config: Mapping[str, Any], setting: str, latest: date) -> date:
    day = parse_date(config[setting], setting)
    if day > latest:
        raise ConfigError(setting, f"{day} is in the future; use today or an earlier day")
    return day


def parse_date(value: Any, setting: str) -> date:
    """``YYYY-MM-DD``, or an RFC 3339 date-time whose date part (as written) is taken."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = value.strip() if isinstance(value, str) else ""
    try:
        if ISO_DAY.fullmatch(text):
            return date.fromisoformat(text)
        if RFC3339_PREFIX.match(text):
            return datetime.fromisoformat(_z_to_offset(text)).date()
    except ValueError:
        pass
    raise ConfigError(setting, f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-01")


def _days_back(value: Any, setting: str) -> int:
    days = _whole_number(value)
    if days is None or not 0 <= days <= MAX_DAYS_BACK:
        raise ConfigError(
            setting, f"{value!r} is not a number of days; use a whole number 0-{MAX_DAYS_BACK}"
        )
    return days


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _week_start(value: Any) -> int:
    if value is None or value == "":
        return 0
    name = value.strip().lower() if isinstance(value, str) else None
    if name not in WEEK_DAYS:
        raise ConfigError("week_start_day", f"{value!r} is not a week day; use monday..sunday")
    return WEEK_DAYS.index(name)


# -- named periods ---------------------------------------------------------------------------


def period_range(period: str, today: date, week_start: int = 0) -> tuple[date, date]:
    """A named period around ``today``.

    "last N days" are the N full days ending yesterday (as in TikTok Ads Manager and Google
    Ads); "this_*" runs from the period's first day through today; "last_*" is the whole
    previous period.
    """
    yesterday = today - timedelta(days=1)
    if period == "today":
        return today, today
    if period == "yesterday":
        return yesterday, yesterday
    if period in LAST_N_DAYS:
        return today - timedelta(days=LAST_N_DAYS[period]), yesterday
    kind, unit = period.split("_", 1)
    start = _period_start(unit, today, week_start)
    if kind == "this":
        return start, today
    previous_end = start - timedelta(days=1)
    return _period_start(unit, previous_end, week_start), previous_end


def _period_start(unit: str, day: date, week_start: int) -> date:
    if unit == "week":
        return day - timedelta(days=(day.weekday() - week_start) % 7)
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


# -- time zones ------------------------------------------------------------------------------


def lookup_timezone(name: str | None) -> tuple[tzinfo, bool]:
    """``(zone, known)``: an ad account's report clock; a missing or unknown name gives
    ``(UTC, False)`` so callers can warn.

    TikTok ad accounts keep one UTC offset all year: Ads Manager does not support daylight
    saving time, and an account created in California reports in UTC-8 even in summer. So a
    region name (``America/Los_Angeles``) gives that region's standard time
    (:class:`StandardTime`), never its daylight time. Accepts IANA names (``Etc/GMT+8`` is
    UTC-8 by POSIX convention), any letter case, and offsets as people write them:
    ``UTC+08:00``, ``GMT-05:00``, ``UTC+8``, ``+05:30`` (UTC-14..UTC+14).
    """
    text = name.strip() if isinstance(name, str) else ""
    zone = (_offset_zone(text) or _iana_zone(text)) if text else None
    return (zone, True) if zone is not None else (timezone.utc, False)


def resolve_timezone(name: str | None) -> tzinfo:
    """The zone :func:`lookup_timezone` finds, UTC when it finds none."""
    return lookup_timezone(name)[0]


class StandardTime(tzinfo):
    """A region's standard time all year: the smaller of its January and July UTC offsets.

    "Smaller" rather than "without DST" because tz data marks Irish winter time as negative
    daylight saving; both readings agree everywhere else. The offset is taken per year, so
    a region that changed its standard time keeps the offset it had then.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._offsets: dict[int, timedelta] = {}

    def offset_in(self, year: int) -> timedelta:
        offset = self._offsets.get(year)
        if offset is None:
            january, july = (self.zone.utcoffset(datetime(year, m, 1)) for m in (1, 7))
            offset = self._offsets[year] = min(january or timedelta(0), july or timedelta(0))
        return offset

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return self.offset_in(dt.year if dt is not None else datetime.now(timezone.utc).year)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return f"{self.zone.key} (standard time)"

    def fromutc(self, dt: datetime) -> datetime:
        return dt + self.offset_in(dt.year)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StandardTime) and other.zone.key == self.zone.key

    def __hash__(self) -> int:
        return hash(("StandardTime", self.zone.key))

    def __repr__(self) -> str:
        return f"StandardTime({self.zone.key!r})"


def _offset_zone(text: str) -> tzinfo | None:
    match = OFFSET_ZONE.fullmatch(text)
    if not match:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    offset = timedelta(hours=hours, minutes=minutes)
    if minutes >= 60 or offset > MAX_UTC_OFFSET:
        return None
    return timezone(-offset if sign == "-" else offset)


def _iana_zone(text: str) -> tzinfo | None:
    for key in (text, _iana_names_by_lower_case().get(text.lower())):
        if key is None:
            continue
        try:
            return StandardTime(ZoneInfo(key))
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
    return None


@lru_cache(maxsize=1)
def _iana_names_by_lower_case() -> dict[str, str]:
    return {key.lower(): key for key in available_timezones()}


def today_in(tz: tzinfo | str, now: datetime | None = None) -> date:
    """The local date in ``tz`` (a zone or a name) at the aware instant ``now`` (default: now)."""
    zone = resolve_timezone(tz) if isinstance(tz, str) else tz
    moment = datetime.now(timezone.utc) if now is None else now
    if moment.utcoffset() is None:
        raise ValueError(f"now must carry a time zone, got {moment.isoformat()}")
    return moment.astimezone(zone).date()


# -- TikTok's formats ------------------------------------------------------------------------


def day_part(value: Any) -> str:
    """The ``YYYY-MM-DD`` that starts a day or date-time (``2024-03-10 00:00:00``), unchecked."""
    return str(value)[:DAY_LENGTH]


def tiktok_day_to_iso(value: str) -> str:
    """``2024-03-10 00:00:00`` (``stat_time_day``) -> ``2024-03-10``; ValueError otherwise."""
    match = TIKTOK_DAY.fullmatch(str(value).strip())
    try:
        if match:
            return date.fromisoformat(match.group(1)).isoformat()
    except ValueError:
        pass
    raise ValueError(f"not a TikTok day 'YYYY-MM-DD 00:00:00': {value!r}")


def local_hour_to_rfc3339(local: str, tz: tzinfo | str) -> str:
    """TikTok's local ``YYYY-MM-DD HH:00:00`` as RFC 3339 with the advertiser's offset then.

    Account zones from :func:`lookup_timezone` keep one offset all year, so every label is
    one instant. Given a zone with daylight saving, a label is read as its first occurrence
    (fold=0), and one inside a spring-forward gap keeps its wall time with the offset before
    the gap. The wall time in the label survives unchanged. ValueError if malformed.
    """
    zone = resolve_timezone(tz) if isinstance(tz, str) else tz
    return _tiktok_local_time(local).replace(tzinfo=zone, fold=0).isoformat()


def _tiktok_local_time(value: str) -> datetime:
    text = str(value).strip()
    try:
        if TIKTOK_LOCAL_TIME.fullmatch(text):
            return datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        pass
    raise ValueError(f"not a TikTok local time 'YYYY-MM-DD HH:MM:SS': {value!r}")


def tiktok_utc_to_rfc3339(value: Any) -> str | None:
    """TikTok's UTC ``YYYY-MM-DD HH:MM:SS`` -> ``YYYY-MM-DDTHH:MM:SS+00:00``.

    ISO/RFC 3339 input is accepted too and normalised to UTC. None, "" and "-" mean unset and
    give None; so does an unreadable value, as these fields are nullable and one odd
    timestamp should not stop a sync.
    """
    if value in MISSING:
        return None
    try:
        moment = datetime.fromisoformat(_z_to_offset(str(value).strip()))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


def epoch_to_rfc3339(value: int | float | str | None) -> str | None:
    """Epoch seconds (number or numeric string) -> UTC RFC 3339; blanks and nonsense -> None.

    A non-numeric string goes through :func:`tiktok_utc_to_rfc3339`.
    """
    if value in MISSING or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return tiktok_utc_to_rfc3339(value)
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def _z_to_offset(text: str) -> str:
    """Python 3.10's fromisoformat does not read a trailing Z."""
    return text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text


# -- windows ---------------------------------------------------------------------------------


def incremental_start(
    window_start: date, bookmark: date | None, attribution_window_days: int
) -> date:
    """First day to request: resume from the bookmark, re-reading the attribution window.

    ``bookmark`` is the last report day already synced. TikTok revises recent conversions, so
    the run starts ``attribution_window_days`` before it (the bookmark day itself is re-read
    even at 0), but never before the selected window.
    """
    if attribution_window_days < 0:
        raise ValueError(f"attribution_window_days must be >= 0, got {attribution_window_days}")
    if bookmark is None:
        return window_start
    return max(window_start, bookmark - timedelta(days=attribution_window_days))


def split_windows(start: date, end: date, max_days: int) -> list[tuple[date, date]]:
    """Contiguous inclusive windows of at most ``max_days`` days covering start..end.

    No day is skipped or doubled; [] when end < start.
    """
    if max_days < 1:
        raise ValueError(f"max_days must be >= 1, got {max_days}")
    windows: list[tuple[date, date]] = []
    first = start
    while first <= end:
        last = min(first + timedelta(days=max_days - 1), end)
        windows.append((first, last))
        first = last + timedelta(days=1)
    return windows


def halve_window(start: date, end: date) -> list[tuple[date, date]] | None:
    """Two contiguous halves of start..end (TikTok 40067: query too large), or None when the
    window is a single day and cannot shrink."""
    days = (end - start).days + 1
    if days <= 1:
        return None
    middle = start + timedelta(days=days // 2 - 1)
    return [(start, middle), (middle + timedelta(days=1), end)]
