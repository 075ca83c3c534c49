"""The emulator's synthetic, seeded world: advertisers, campaigns, ad groups, ads, audiences.

Rows are stored in TikTok's own shapes (string ids, ``YYYY-MM-DD HH:MM:SS`` UTC times, epoch
seconds for advertisers) so the server can hand them out as they are.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from tap_tiktok_ads.emulator.details import (
    ad_details,
    adgroup_details,
    buying_type,
    campaign_details,
)
from tap_tiktok_ads.emulator.zones import ACCOUNT_CLOCKS

T = TypeVar("T")

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
ACCOUNTS = (  # display time zone, currency, country: a spread of offsets on both sides of UTC
    ("America/Los_Angeles", "USD", "US"),
    ("Asia/Tokyo", "JPY", "JP"),
    ("Europe/Berlin", "EUR", "DE"),
    ("America/New_York", "USD", "US"),
    ("Australia/Sydney", "AUD", "AU"),
    ("UTC", "GBP", "GB"),
)
BRANDS = ("Acme", "Northwind", "Globex", "Initech", "Umbrella", "Soylent", "Hooli", "Vandelay")
PRODUCTS = ("Sneakers", "Coffee", "Headphones", "Skincare", "Mobile Game", "Meal Kit", "Travel")
OBJECTIVES = ("TRAFFIC", "WEB_CONVERSIONS", "APP_PROMOTION", "REACH", "VIDEO_VIEWS", "ENGAGEMENT")
GOALS = {
    "TRAFFIC": "CLICK",
    "WEB_CONVERSIONS": "CONVERT",
    "APP_PROMOTION": "INSTALL",
    "REACH": "REACH",
    "VIDEO_VIEWS": "SHOW",
    "ENGAGEMENT": "CLICK",
    "RF_REACH": "REACH",
}
# Reservation campaigns every advertiser gets, after its auction ones: (rf_campaign_type, name).
# The server's buying-type filter hides the TopView one unless asked for it alone.
RESERVATIONS = (("STANDARD", "Reach & Frequency"), ("TOPVIEW", "TopView"))
AUDIENCE_TYPES = (
    "Customer File Audience",
    "Engagement Audience",
    "Website Audience",
    "App Activity Audience",
    "Lookalike Audience",
)
# touch() kinds: (table, id field, name field)
TOUCHABLE = {
    "campaign": ("campaigns", "campaign_id", "campaign_name"),
    "adgroup": ("adgroups", "adgroup_id", "adgroup_name"),
    "ad_group": ("adgroups", "adgroup_id", "adgroup_name"),
    "ad": ("ads", "ad_id", "ad_name"),
}


def fmt(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=timezone.utc)


@dataclass
class World:
    seed: int = 1
    advertisers_count: int = 3
    campaigns_per_advertiser: int = 4
    adgroups_per_campaign: int = 2
    ads_per_adgroup: int = 3
    audiences_per_advertiser: int = 5
    history_days: int = 60
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    advertisers: list[dict[str, Any]] = field(default_factory=list)
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    adgroups: list[dict[str, Any]] = field(default_factory=list)
    ads: list[dict[str, Any]] = field(default_factory=list)
    audiences: list[dict[str, Any]] = field(default_factory=list)
    audience_history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._ids: set[str] = set()
        self._touches = 0
        self._countries: dict[str, str] = {}
        for index in range(self.advertisers_count):
            self._add_advertiser(index)
        # Drawn after every auction entity, so they leave a seed's other ids and times alone.
        for advertiser in self.advertisers:
            for rf_type, label in RESERVATIONS:
                self._add_campaign(advertiser, self.campaigns_per_advertiser, (rf_type, label))
        self.index()

    # -- lookups --------------------------------------------------------------------------

    def index(self) -> None:
        self.by_id: dict[str, dict[str, dict[str, Any]]] = {
            kind: {row[f"{key}_id"]: row for row in getattr(self, kind)}
            for kind, key in (
                ("advertisers", "advertiser"),
                ("campaigns", "campaign"),
                ("adgroups", "adgroup"),
                ("ads", "ad"),
            )
        }
        self._ads_by: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for ad in self.ads:
            for key in ("advertiser_id", "campaign_id", "adgroup_id"):
                self._ads_by.setdefault((key, ad[key]), []).append(ad)
        self._rows_by: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for kind in ("campaigns", "adgroups", "ads", "audiences"):
            for row in getattr(self, kind):
                self._rows_by.setdefault((kind, row["advertiser_id"]), []).append(row)

    def ads_under(self, key: str, value: str) -> list[dict[str, Any]]:
        """Every ad (deleted ones too) under the campaign / ad group / advertiser ``value``."""
        return self._ads_by.get((key, value), [])

    def rows(self, kind: str, advertiser_id: str) -> list[dict[str, Any]]:
        """One advertiser's rows of ``kind`` (campaigns, adgroups, ads, audiences)."""
        return self._rows_by.get((kind, advertiser_id), [])

    def advertiser(self, advertiser_id: str) -> dict[str, Any] | None:
        return self.by_id["advertisers"].get(advertiser_id)

    def buying_type(self, row: dict[str, Any]) -> str:
        """AUCTION, RESERVATION_RF or RESERVATION_TOP_VIEW: a campaign's, and its children's."""
        return buying_type(self.by_id["campaigns"].get(row.get("campaign_id", ""), row))

    def listed_by_default(self, row: dict[str, Any]) -> bool:
        """Whether a ``/<entity>/get/`` without ``buying_types`` lists it: live and not TopView."""
        return not self.is_deleted(row) and self.buying_type(row) != "RESERVATION_TOP_VIEW"

    @staticmethod
    def is_deleted(row: dict[str, Any]) -> bool:
        return str(row.get("secondary_status", "")).endswith("_DELETE")

    # -- changes --------------------------------------------------------------------------

    def touch(
        self, kind: str, count: int, now: datetime, buying_type: str | None = None
    ) -> list[str]:
        """Modify ``count`` live entities of each advertiser at ``now``; return their ids.

        Smart+ ads are skipped: they have no ``modify_time`` to move. ``buying_type`` limits
        the choice to entities of that buying type.
        """
        table, id_key, name_key = TOUCHABLE[kind]
        self._touches += 1
        touched: list[str] = []
        for advertiser in self.advertisers:
            live = [
                row
                for row in self.rows(table, advertiser["advertiser_id"])
                if not self.is_deleted(row)
                and "modify_time" in row
                and buying_type in (None, self.buying_type(row))
            ]
            for row in live[:count]:
                self._edit(row, name_key, now)
                touched.append(row[id_key])
        return touched

    def _edit(self, row: dict[str, Any], name_key: str, now: datetime) -> None:
        row["modify_time"] = fmt(now)
        row[name_key] = f"{row[name_key].split(' (edit')[0]} (edit {self._touches})"
        if row.get("budget") is not None:
            row["budget"] = round(float(row["budget"]) * 1.1, 2)

    # -- generation -----------------------------------------------------------------------

    def _new_id(self, prefix: str, digits: int) -> str:
        while True:
            value = prefix + "".join(str(self._rng.randrange(10)) for _ in range(digits))
            if value not in self._ids:
                self._ids.add(value)
                return value

    def _pick(self, key: str, options: Sequence[T]) -> T:
        """A deterministic choice that leaves the world's random stream alone."""
        return options[zlib.crc32(f"{self.seed}|{key}".encode()) % len(options)]

    def _moment(self, after: datetime, within: timedelta | None = None) -> datetime:
        """A random moment after ``after``, before now (and within ``within`` of it)."""
        span = max((self.now - after).total_seconds(), 1)
        if within is not None:
            span = min(span, within.total_seconds())
        return after + timedelta(seconds=int(self._rng.random() * span))

    def _add_advertiser(self, index: int) -> None:
        zone, currency, country = ACCOUNTS[index % len(ACCOUNTS)]
        brand = BRANDS[index % len(BRANDS)]
        created = self.now - timedelta(days=self.history_days + 200 + index)
        advertiser_id = self._new_id("70", 17)
        advertiser: dict[str, Any] = {
            "advertiser_id": advertiser_id,
            "name": f"{brand} {country} Ads",
            "status": "STATUS_ENABLE",
            "role": "ROLE_ADVERTISER",
            "rejection_reason": None,
            "timezone": ACCOUNT_CLOCKS[zone][0],
            "display_timezone": zone,
            "currency": currency,
            "country": country,
            "language": "en",
            "company": f"{brand} Inc.",
            "industry": "291905",
            "address": f"{index + 1} Market Street",
            "description": f"{brand} performance marketing",
            "contacter": "J*** D**",
            "email": "a***@example.com",
            "cellphone_number": "+1******42",
            "telephone_number": None,
            "license_no": None,
            "license_url": None,
            "license_city": None,
            "license_province": None,
            "promotion_area": "0",
            "promotion_center_province": None,
            "promotion_center_city": None,
            "company_name_editable": False,
            "brand": brand,
            "balance": round(self._rng.uniform(100, 50000), 2),
            "advertiser_account_type": "AUCTION",
            "owner_bc_id": self._new_id("71", 17),
            "create_time": int(created.timestamp()),
        }
        self.advertisers.append(advertiser)
        self._countries[advertiser_id] = country
        for number in range(self.campaigns_per_advertiser):
            self._add_campaign(advertiser, number)
        for number in range(self.audiences_per_advertiser):
            self._add_audience(advertiser, number)

    def _add_campaign(
        self,
        advertiser: dict[str, Any],
        number: int,
        reservation: tuple[str, str] | None = None,
    ) -> None:
        """One campaign with its ad groups and ads; ``reservation`` is (rf_campaign_type, label)
        for a Reach & Frequency or TopView campaign (one ad group, one ad, never deleted)."""
        history_start = self.now - timedelta(days=self.history_days)
        # Campaigns start in the first third of the history, so most ads deliver for weeks.
        created = self._moment(history_start, timedelta(days=max(self.history_days // 3, 1)))
        objective = "RF_REACH" if reservation else OBJECTIVES[number % len(OBJECTIVES)]
        smart_plus = not reservation and number % 5 == 1
        deleted = not reservation and number % 7 == 3
        label = reservation[1] if reservation else objective.title()
        campaign = {
            "advertiser_id": advertiser["advertiser_id"],
            "campaign_id": self._new_id("17", 17),
            "campaign_name": f"{self._rng.choice(PRODUCTS)} {label} #{number + 1}",
            "campaign_type": "REGULAR_CAMPAIGN",
            "campaign_automation_type": "SMART_PLUS" if smart_plus else "MANUAL",
            "objective": "APP" if objective == "APP_PROMOTION" else "LANDING_PAGE",
            "objective_type": objective,
            "budget": float(self._rng.choice((50, 100, 250, 500, 1000))),
            "budget_mode": self._rng.choice(("BUDGET_MODE_DAY", "BUDGET_MODE_TOTAL")),
            "budget_optimize_on": False,
            "roas_bid": 0.0,
            "deep_bid_type": None,
            "is_smart_performance_campaign": smart_plus,
            "is_new_structure": True,
            "is_search_campaign": False,
            "operation_status": "DISABLE" if deleted else "ENABLE",
            "secondary_status": "CAMPAIGN_STATUS_DELETE" if deleted else "CAMPAIGN_STATUS_ENABLE",
            "special_industries": [],
            "create_time": fmt(created),
            "modify_time": fmt(self._moment(created)),
        }
        campaign.update(campaign_details(campaign, self._pick))
        if reservation:
            campaign["rf_campaign_type"] = reservation[0]
            campaign["budget_mode"] = "BUDGET_MODE_TOTAL"
        self.campaigns.append(campaign)
        for group in range(1 if reservation else self.adgroups_per_campaign):
            self._add_adgroup(campaign, group, deleted)

    def _add_adgroup(self, campaign: dict[str, Any], number: int, parent_deleted: bool) -> None:
        created = self._moment(parse_time(campaign["create_time"]), timedelta(days=2))
        deleted = parent_deleted or number % 9 == 5
        goal = GOALS[campaign["objective_type"]]
        adgroup = {
            "advertiser_id": campaign["advertiser_id"],
            "campaign_id": campaign["campaign_id"],
            "campaign_name": campaign["campaign_name"],
            "adgroup_id": self._new_id("17", 17),
            "adgroup_name": f"{campaign['campaign_name']} / Group {number + 1}",
            "operation_status": "DISABLE" if deleted else "ENABLE",
            "secondary_status": "ADGROUP_STATUS_DELETE"
            if deleted
            else "ADGROUP_STATUS_DELIVERY_OK",
            "promotion_type": "WEBSITE",
            "optimization_goal": goal,
            "billing_event": "OCPM" if goal == "CONVERT" else "CPC",
            "bid_type": "BID_TYPE_NO_BID",
            "bid_price": None,
            "conversion_bid_price": None,
            "pacing": "PACING_MODE_SMOOTH",
            "budget_mode": "BUDGET_MODE_DAY",
            "budget": float(self._rng.choice((20, 50, 80, 120))),
            "schedule_type": "SCHEDULE_FROM_NOW",
            "schedule_start_time": fmt(created),
            "schedule_end_time": None,
            "dayparting": None,
            "placement_type": "PLACEMENT_TYPE_AUTOMATIC",
            "placements": ["PLACEMENT_TIKTOK"],
            "location_ids": ["6252001"],
            "languages": [],
            "gender": "GENDER_UNLIMITED",
            "age_groups": ["AGE_18_24", "AGE_25_34", "AGE_35_44"],
            "audience_ids": [],
            "excluded_audience_ids": [],
            "operating_systems": [],
            "comment_disabled": False,
            "video_download_disabled": False,
            "is_new_structure": True,
            "create_time": fmt(created),
            "modify_time": fmt(self._moment(created)),
        }
        country = self._countries[campaign["advertiser_id"]]
        adgroup.update(adgroup_details(adgroup, campaign, country, self._pick))
        self.adgroups.append(adgroup)
        smart_plus = campaign["campaign_automation_type"] == "SMART_PLUS"
        reservation = campaign["objective_type"] == "RF_REACH"
        for ad_number in range(1 if reservation else self.ads_per_adgroup):
            self._add_ad(adgroup, ad_number, deleted, smart_plus)

    def _add_ad(
        self, adgroup: dict[str, Any], number: int, parent_deleted: bool, smart_plus: bool
    ) -> None:
        created = self._moment(parse_time(adgroup["create_time"]), timedelta(days=2))
        deleted = parent_deleted or number % 11 == 7
        ad = {
            "advertiser_id": adgroup["advertiser_id"],
            "campaign_id": adgroup["campaign_id"],
            "campaign_name": adgroup["campaign_name"],
            "adgroup_id": adgroup["adgroup_id"],
            "adgroup_name": adgroup["adgroup_name"],
            "ad_id": self._new_id("17", 17),
            "ad_name": f"{adgroup['adgroup_name']} / Ad {number + 1}",
            "operation_status": "DISABLE" if deleted else "ENABLE",
            "secondary_status": "AD_STATUS_DELETE" if deleted else "AD_STATUS_DELIVERY_OK",
            "ad_format": "SINGLE_VIDEO",
            "ad_text": f"Discover {adgroup['campaign_name'].split(' ')[0]} today",
            "call_to_action": "SHOP_NOW",
            "video_id": f"v10033g50000{self._rng.randrange(10**8):08d}",
            "image_ids": [],
            "identity_type": "CUSTOMIZED_USER",
            "identity_id": self._new_id("68", 17),
            "display_name": adgroup["campaign_name"].split(" ")[0],
            "landing_page_url": f"https://shop.example.com/p/{number + 1}",
            "is_aco": False,
            "is_new_structure": True,
            "creative_authorized": False,
            "create_time": fmt(created),
            "modify_time": fmt(self._moment(created)),
        }
        ad.update(ad_details(ad, adgroup, self._pick))
        if smart_plus:
            del ad["modify_time"]  # Smart+ ads come without it, as real v1.3 bodies show
        self.ads.append(ad)

    def _add_audience(self, advertiser: dict[str, Any], number: int) -> None:
        created = self._moment(self.now - timedelta(days=self.history_days))
        kind = AUDIENCE_TYPES[number % len(AUDIENCE_TYPES)]
        audience_id = self._new_id("", 9)
        audience: dict[str, Any] = {
            "advertiser_id": advertiser["advertiser_id"],
            "audience_id": audience_id,
            "name": f"{advertiser['brand']} {kind} {number + 1}",
            "audience_type": kind,
            "audience_sub_type": "NORMAL",
            "calculate_type": "EMAIL_SHA256" if kind == "Customer File Audience" else None,
            "cover_num": self._rng.randrange(1000, 2_000_000),
            "shared": False,
            "is_creator": True,
            "is_valid": True,
            "is_expiring": False,
            "is_auto_refresh": kind != "Customer File Audience",
            "owner_id": advertiser["advertiser_id"],
            "rule": None,
            "lookalike_spec": None,
            "msg": "",
            "error_msg": "",
            "create_time": fmt(created),
            "expired_time": fmt(created + timedelta(days=365)),
        }
        if kind == "Lookalike Audience":
            audience["lookalike_spec"] = {
                "source_audience_id": self.audiences[-1]["audience_id"] if self.audiences else None,
                "include_source": False,
                "mobile_os": "ALL",
                "placements": ["PLACEMENT_TIKTOK"],
                "location_ids": ["6252001"],
                "audience_size": "NARROW",
            }
        self.audiences.append(audience)
        self.audience_history[audience_id] = [
            {
                "action": "CREATE" if step == 0 else "UPDATE",
                "action_detail": "Created" if step == 0 else f"Refreshed ({step})",
                "editor": "open_api",
                "msg": "",
                "opt_time": fmt(min(created + timedelta(days=step * 7), self.now)),
            }
            for step in range(1 + number % 3)
        ]
