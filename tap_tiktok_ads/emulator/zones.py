"""Ad account clocks: TikTok keeps one UTC offset per account all year.

Ads Manager does not support daylight saving time; the zone chosen at sign-up governs report
days and hours, and an account created in California reports in UTC-8 even in summer. Each
region the emulator's accounts live in is listed here with that standard offset.
"""

from __future__ import annotations

from datetime import timedelta, timezone, tzinfo
from typing import Any

# display_timezone -> (advertiser `timezone` as TikTok sends it, standard UTC offset in hours)
ACCOUNT_CLOCKS: dict[str, tuple[str, float]] = {
    "America/Los_Angeles": ("Etc/GMT+8", -8),
    "Asia/Tokyo": ("Asia/Tokyo", 9),
    "Europe/Berlin": ("Europe/Berlin", 1),  # TikTok also sends region names in `timezone`
    "America/New_York": ("Etc/GMT+5", -5),
    "Australia/Sydney": ("Etc/GMT-10", 10),
    "UTC": ("UTC", 0),
}


def account_zone(advertiser: dict[str, Any]) -> tzinfo:
    """The fixed offset an advertiser's report days and hours are counted in."""
    hours = ACCOUNT_CLOCKS[advertiser["display_timezone"]][1]
    return timezone(timedelta(hours=hours))
