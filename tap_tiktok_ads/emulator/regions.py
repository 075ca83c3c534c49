"""Provinces the emulator's accounts deliver in: TikTok reports ``province_id`` as location ids.

The ids are GeoNames ids (TikTok's location ids), a few first-level regions per country.
"""

from __future__ import annotations

PROVINCES: dict[str, tuple[str, ...]] = {
    "US": ("5332921", "5128638", "4736286"),  # California, New York, Texas
    "JP": ("1850144", "1853904"),  # Tokyo, Osaka
    "DE": ("2950157", "2951839", "2861876"),  # Berlin, Bavaria, North Rhine-Westphalia
    "AU": ("2155400", "2145234"),  # New South Wales, Victoria
    "GB": ("6269131", "2638360"),  # England, Scotland
}
OTHER = ("0",)  # TikTok's bucket for traffic it cannot place


def province_ids(country: str) -> tuple[str, ...]:
    """The province ids an account based in ``country`` delivers in, most traffic first."""
    return (*PROVINCES.get(country, ()), *OTHER)
