"""All date logic: the date options, advertiser time zones, TikTok's formats and windows.

Report days are the advertiser's local days and every range is inclusive at both ends.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tap_tiktok_ads.errors import ConfigError

WEEK_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PERIODS = (
    "today",
    "yesterday",
    "last_7_days",
    "last_14_days",
    "last_30_days",
    "last_90_days",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
)
# Each way of choosing dates, by the setting that announces it.
MODES = {
    "start_date": ("start_date", "end_date"),
    "date": ("date",),
    "days_back": ("days_back",),
    "start_days_back": ("start_days_back", "end_days_back"),
    "date_period": ("date_period",),
}
OFFSET_ZONE = re.compile(r"^(?:UTC|GMT)\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


@dataclass(frozen=True)
class DateSelection:
    """The validated date option; :meth:`resolve` turns it into days for one advertiser."""

    mode: str
    start: date | None = None
    end: date | None = None
    start_back: int = 0
    end_back: int = 0
    period: str | None = None
    week_start: int = 0  # Monday

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DateSelection:
        used = [mode for mode, keys in MODES.items() if any(_given(config, k) for k in keys)]
        if len(used) > 1:
            first, second = (_first_given(config, MODES[m]) for m in used[:2])
            raise ConfigError(
                second, f"conflicts with {first}; use one way of choosing report dates"
            )
        if not used:
            raise ConfigError(
                "start_date",
                "is required unless date, days_back, start_days_back or date_period is set",
            )
        week_start = _week_start(config.get("week_start_day"))
        return _PARSERS[used[0]](config, week_start)

    def resolve(self, today: date) -> tuple[date, date]:
        """Inclusive (first, last) report days for an advertiser whose local date is ``today``."""
        if self.mode == "start_date":
            assert self.start is not None
            return self.start, self.end or today
        if self.mode == "date":
            assert self.start is not None
            return self.start, self.start
        if self.mode in ("days_back", "start_days_back"):
            return today - timedelta(days=self.start_back), today - timedelta(days=self.end_back)
        assert self.period is not None
        return period_range(self.period, today, self.week_start)

    def describe(self) -> str:
        if self.mode == "date_period":
            return f"{self.period} (weeks start {WEEK_DAYS[self.week_start]})"
        if self.mode == "start_date":
            return f"{self.start}..{self.end or 'today'}"
        if self.mode == "date":
            return str(self.start)
        return f"{self.start_back}..{self.end_back} days back"


def _given(config: Mapping[str, Any], key: str) -> bool:
    return config.get(key) not in (None, "")


def _first_given(config: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    return next(key for key in keys if _given(config, key))


def _parse_range(config: Mapping[str, Any], week_start: int) -> DateSelection:
    if not _given(config, "start_date"):
        raise ConfigError("end_date", "needs start_date")
    start = parse_date(config["start_date"], "start_date")
    end = parse_date(config["end_date"], "end_date") if _given(config, "end_date") else None
    if end is not None and end < start:
        raise ConfigError("end_date", f"{end} is before start_date {start}")
    return DateSelection("start_date", start=start, end=end, week_start=week_start)


def _parse_date(config: Mapping[str, Any], week_start: int) -> DateSelection:
    day = parse_date(config["date"], "date")
    return DateSelection("date", start=day, week_start=week_start)


def _parse_days_back(config: Mapping[str, Any], week_start: int) -> DateSelection:
    back = _days(config["days_back"], "days_back")
    return DateSelection("days_back", start_back=back, end_back=back, week_start=week_start)


def _parse_relative(config: Mapping[str, Any], week_start: int) -> DateSelection:
    if not _given(config, "start_days_back"):
        raise ConfigError("end_days_back", "needs start_days_back")
    start = _days(config["start_days_back"], "start_days_back")
    end = _days(config.get("end_days_back") or 0, "end_days_back")
    if end > start:
        raise ConfigError("end_days_back", f"{end} is more days back than start_days_back {start}")
    return DateSelection("start_days_back", start_back=start, end_back=end, week_start=week_start)


def _parse_period(config: Mapping[str, Any], week_start: int) -> DateSelection:
    period = str(config["date_period"]).strip().lower()
    if period not in PERIODS:
        raise ConfigError("date_period", f"{period!r} is not one of {', '.join(PERIODS)}")
    return DateSelection("date_period", period=period, week_start=week_start)


_PARSERS = {
    "start_date": _parse_range,
    "date": _parse_date,
    "days_back": _parse_days_back,
    "start_days_back": _parse_relative,
    "date_period": _parse_period,
}


def parse_date(value: Any, setting: str) -> date:
    """``YYYY-MM-DD`` or an RFC 3339 date-time (its date part)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
    except ValueError:
        raise ConfigError(setting, f"{text!r} is not a date; use YYYY-MM-DD") from None


def _days(value: Any, setting: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(setting, f"must be a whole number of days, 0 or more; got {value!r}")
    return value


def _week_start(value: Any) -> int:
    if value in (None, ""):
        return 0
    name = str(value).strip().lower()
    if name not in WEEK_DAYS:
        raise ConfigError("week_start_day", f"{value!r} is not a day name (monday..sunday)")
    return WEEK_DAYS.index(name)


def period_range(period: str, today: date, week_start: int = 0) -> tuple[date, date]:
    """A named period around ``today``; "last N days" are N full days ending yesterday."""
    yesterday = today - timedelta(days=1)
    if period == "today":
        return today, today
    if period == "yesterday":
        return yesterday, yesterday
    if period.startswith("last_") and period.endswith("_days"):
        days = int(period.split("_")[1])
        return today - timedelta(days=days), yesterday
    kind, unit = period.split("_", 1)
    start = _period_start(unit, today, week_start)
    if kind == "this":
        return start, today
    previous_start = _period_start(unit, start - timedelta(days=1), week_start)
    return previous_start, start - timedelta(days=1)


def _period_start(unit: str, day: date, week_start: int) -> date:
    if unit == "week":
        return day - timedelta(days=(day.weekday() - week_start) % 7)
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


# -- time zones ------------------------------------------------------------------------------


def resolve_timezone(name: str | None) -> tzinfo:
    """An IANA name (``Asia/Tokyo``, ``Etc/GMT+8``) or ``UTC+08:00``; unknown -> UTC."""
    if not name:
        return timezone.utc
    text = str(name).strip()
    match = OFFSET_ZONE.match(text)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        offset = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
        return timezone(sign * offset)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def is_known_timezone(name: str | None) -> bool:
    """False when :func:`resolve_timezone` had to fall back to UTC."""
    if not name:
        return False
    return resolve_timezone(name) is not timezone.utc or name.strip().upper() in (
        "UTC",
        "ETC/UTC",
        "GMT",
        "UTC+00:00",
        "GMT+00:00",
    )


def today_in(tz: tzinfo | str, now: datetime | None = None) -> date:
    """Today's date in ``tz`` at the instant ``now`` (default: this machine's clock)."""
    zone = resolve_timezone(tz) if isinstance(tz, str) else tz
    moment = now or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone).date()


# -- TikTok's formats ------------------------------------------------------------------------


def tiktok_day_to_iso(value: str) -> str:
    """``2024-03-10 00:00:00`` -> ``2024-03-10``."""
    return str(value)[:10]


def local_hour_to_rfc3339(local: str, tz: tzinfo) -> str:
    """TikTok's local ``YYYY-MM-DD HH:00:00`` as RFC 3339 with the advertiser's offset.

    On a fall-back day the repeated hour takes the first (daylight) offset; an hour that does
    not exist (spring-forward) keeps the offset in force just before the gap.
    """
    naive = datetime.fromisoformat(str(local).replace(" ", "T")[:19])
    return naive.replace(tzinfo=tz, fold=0).isoformat()


def tiktok_utc_to_rfc3339(value: Any) -> str | None:
    """``YYYY-MM-DD HH:MM:SS`` (UTC, no zone) -> ``YYYY-MM-DDTHH:MM:SS+00:00``."""
    if value in (None, "", "-"):
        return None
    text = str(value).strip().replace(" ", "T")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


def epoch_to_rfc3339(value: Any) -> str | None:
    if value in (None, "", "-"):
        return None
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return tiktok_utc_to_rfc3339(value)
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()


# -- windows ---------------------------------------------------------------------------------


def incremental_start(window_start: date, bookmark: date | None, attribution_days: int) -> date:
    """Start no earlier than the bookmark minus the attribution window (re-read revisions)."""
    if bookmark is None:
        return window_start
    return max(window_start, bookmark - timedelta(days=attribution_days))


def split_windows(start: date, end: date, max_days: int) -> list[tuple[date, date]]:
    """Contiguous inclusive windows of at most ``max_days`` days covering start..end."""
    windows: list[tuple[date, date]] = []
    step = timedelta(days=max_days)
    current = start
    while current <= end:
        last = min(current + step - timedelta(days=1), end)
        windows.append((current, last))
        current = last + timedelta(days=1)
    return windows


def halve_window(start: date, end: date) -> list[tuple[date, date]] | None:
    """Two halves of start..end, or None for a single day that cannot shrink further."""
    days = (end - start).days + 1
    if days <= 1:
        return None
    middle = start + timedelta(days=days // 2 - 1)
    return [(start, middle), (middle + timedelta(days=1), end)]
