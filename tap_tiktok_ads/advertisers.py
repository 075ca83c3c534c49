"""The advertisers a run syncs: requested, resolved and checked once, on first use.

Requested ids come from ``advertiser_ids`` (or, without it, every advertiser the token is
authorized for), plus the ad accounts of ``business_center_ids``. The first use reads them all
from ``/advertiser/info/``, which is also the token check: a bad token fails there, before any
record. Advertisers the token cannot read fail the run, naming them, or are skipped with
``skip_unauthorized_advertisers``. Each readable advertiser's time zone is its report clock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import tzinfo
from functools import cached_property
from typing import Any

from tap_tiktok_ads.client import TikTokClient
from tap_tiktok_ads.dates import lookup_timezone, today_in
from tap_tiktok_ads.error_codes import Skip, skippable
from tap_tiktok_ads.errors import ConfigError, RefusedAPIError
from tap_tiktok_ads.sequences import batches
from tap_tiktok_ads.settings import Settings
from tap_tiktok_ads.sharding import sharded
from tap_tiktok_ads.streams.business_centers import business_center_advertiser_ids

INFO_PATH = "/advertiser/info/"
MAX_IDS_PER_CALL = 100  # TikTok's cap on ``advertiser_ids`` of /advertiser/info/
INFO_FIELDS = ("advertiser_id", "name", "timezone", "display_timezone", "currency")
UNREADABLE_CODES = skippable(Skip.UNREADABLE_ADVERTISER)
# Ids named in a message; more are counted, not listed.
MAX_LISTED_IDS = 10


class Advertisers:
    """The run's advertisers; nothing is requested before the first use of :attr:`ids`."""

    def __init__(self, client: TikTokClient, settings: Settings, logger: logging.Logger) -> None:
        self.client = client
        self.settings = settings
        self.logger = logger

    @property
    def ids(self) -> tuple[str, ...]:
        """The advertisers this run syncs: requested and readable with the token."""
        return tuple(self.info)

    def check(self) -> None:
        """Resolve the advertisers now, if not done yet: fails on a bad token or setting."""
        _ = self.info

    @sharded
    def requested_ids(self) -> tuple[str, ...]:
        """The configured (or authorized) advertisers, plus the Business Centers' ones."""
        from_bcs = business_center_advertiser_ids(self.client, self.settings.business_center_ids)
        listed = self._listed_ids(bool(self.settings.business_center_ids))
        return tuple(dict.fromkeys((*listed, *from_bcs)))

    @cached_property
    def info(self) -> dict[str, dict[str, Any]]:
        """Time zone and currency per readable advertiser; the first call checks the token.

        It also says, once, what the run will not find: no readable advertiser at all, or
        fixed days after TikTok's today for some.
        """
        info: dict[str, dict[str, Any]] = {}
        unreadable: list[str] = []
        # Without skipping, the run fails anyway: enough refused ids to name them will do.
        enough = None if self.settings.skip_unauthorized_advertisers else MAX_LISTED_IDS
        for batch in batches(self.requested_ids, MAX_IDS_PER_CALL):
            for rows, refused in self._read(batch):
                info.update((str(row["advertiser_id"]), row) for row in rows)
                unreadable += refused
                if enough is not None and len(unreadable) >= enough:
                    self._report_unreadable(unreadable, complete=False)
        if unreadable:
            self._report_unreadable(unreadable, complete=True)
        readable = {i: info[i] for i in self.requested_ids if i in info}
        if readable:
            self._warn_about_days_after_today(readable)
        else:
            self.logger.warning(
                "No advertiser is readable with this token (all skipped or none authorized); "
                "no records to sync"
            )
        return readable

    def timezone(self, advertiser_id: str) -> tzinfo:
        """The advertiser's report clock: report days and hours are local to it.

        ``timezone`` first (a GMT offset, or a region name), ``display_timezone`` when it is
        missing; either way a fixed offset, as ad accounts have no daylight saving time.
        """
        return self._zone_of(self.info, advertiser_id)

    def _zone_of(self, info: dict[str, dict[str, Any]], advertiser_id: str) -> tzinfo:
        row = info.get(advertiser_id) or {}
        name = row.get("timezone") or row.get("display_timezone")
        zone, known = lookup_timezone(name)
        if not known:
            self.logger.warning(
                "Advertiser %s: unknown time zone %r, report days are taken in UTC",
                advertiser_id,
                name,
            )
        return zone

    def _listed_ids(self, have_others: bool) -> tuple[str, ...]:
        """The configured advertisers, or every advertiser the token is authorized for."""
        if self.settings.advertiser_ids:
            return self.settings.advertiser_ids
        if not (self.settings.app_id and self.settings.secret):
            if have_others:
                return ()
            raise ConfigError(
                "advertiser_ids",
                "is required unless app_id and secret are set (to list authorized advertisers)"
                " or business_center_ids is",
            )
        data = self.client.get(
            "/oauth2/advertiser/get/",
            {"app_id": self.settings.app_id, "secret": self.settings.secret},
        )
        ids = tuple(str(row["advertiser_id"]) for row in data.get("list") or [])
        self.logger.info("Token is authorized for %d advertiser(s).", len(ids))
        return ids

    def _read(self, ids: tuple[str, ...]) -> Iterator[tuple[list[dict[str, Any]], list[str]]]:
        """(readable rows, refused ids) of ``ids``, a part at a time.

        One refused id fails the whole call, so a refused batch is halved until each refused
        id stands alone: k refused ids among n cost about 2k*log2(n/k) calls instead of n.
        """
        try:
            data = self.client.get(
                INFO_PATH, {"advertiser_ids": list(ids), "fields": list(INFO_FIELDS)}
            )
        except RefusedAPIError as error:
            if error.code not in UNREADABLE_CODES:
                raise
            if len(ids) == 1:
                yield [], list(ids)
                return
            middle = len(ids) // 2
            yield from self._read(ids[:middle])
            yield from self._read(ids[middle:])
            return
        yield list(data.get("list") or []), []

    def _report_unreadable(self, ids: list[str], *, complete: bool) -> None:
        """Fail naming the refused ids (at most MAX_LISTED_IDS of them), or skip them."""
        listed = ", ".join(ids[:MAX_LISTED_IDS])
        if len(ids) > MAX_LISTED_IDS:
            listed += f" and {len(ids) - MAX_LISTED_IDS} more"
        if not self.settings.skip_unauthorized_advertisers:
            count = f"{len(ids)} advertiser(s)" if complete else f"{len(ids)} or more advertisers"
            raise ConfigError(
                "advertiser_ids",
                f"the token cannot read {count}: {listed} (TikTok 40001/40300); remove "
                "them or set skip_unauthorized_advertisers to skip them",
            )
        self.logger.warning("Skipping %d advertiser(s) the token cannot read: %s", len(ids), listed)

    def _warn_about_days_after_today(self, readable: dict[str, dict[str, Any]]) -> None:
        """Fixed days after TikTok's today for an advertiser have no data there yet."""
        dates = self.settings.dates
        if dates.mode not in ("date", "start_date") or dates.start is None:
            return
        now = self.client.now()
        early = [
            advertiser_id
            for advertiser_id in readable
            if dates.start > today_in(self._zone_of(readable, advertiser_id), now)
        ]
        if early:
            listed = ", ".join(early[:MAX_LISTED_IDS])
            self.logger.warning(
                "%s: %s is after TikTok's today for %d advertiser(s) (%s); they have no "
                "report days in the selection yet",
                dates.mode,
                dates.start,
                len(early),
                listed,
            )
