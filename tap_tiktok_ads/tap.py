"""The tap: settings, the shared API client, advertiser resolution and stream discovery."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import tzinfo
from functools import cached_property
from typing import Any

from singer_sdk import Stream, Tap

from tap_tiktok_ads import DISTRIBUTION
from tap_tiktok_ads.client import FatalAPIError, TikTokClient
from tap_tiktok_ads.dates import lookup_timezone
from tap_tiktok_ads.errors import ConfigError, TapTikTokAdsError
from tap_tiktok_ads.reports.definitions import (
    ReportDefinition,
    custom_reports,
    deprecated_service_type_warning,
    predefined_reports,
)
from tap_tiktok_ads.settings import Settings, config_schema
from tap_tiktok_ads.sharding import sharded
from tap_tiktok_ads.streams.advertisers import INFO_PATH, AdvertisersStream, batches
from tap_tiktok_ads.streams.audiences import CustomAudienceDetailsStream, CustomAudiencesStream
from tap_tiktok_ads.streams.entities import AdGroupsStream, AdsStream, CampaignsStream
from tap_tiktok_ads.streams.reports import ReportStream
from tap_tiktok_ads.writer import BufferedMsgSpecWriter

ENTITY_STREAMS: tuple[type[Stream], ...] = (
    AdvertisersStream,
    CampaignsStream,
    AdGroupsStream,
    AdsStream,
    CustomAudiencesStream,
    CustomAudienceDetailsStream,
)
UNREADABLE_CODES = frozenset({40001, 40300, 40301})
DEBUG_ENV = "TAP_TIKTOK_ADS_DEBUG"


class TapTikTokAds(Tap):
    """Singer tap for TikTok Ads (Business API v1.3)."""

    name = "tap-tiktok-ads"
    package_name = DISTRIBUTION
    config_jsonschema = config_schema()
    # msgspec encodes records about twice as fast as the default simplejson writer.
    message_writer_class = BufferedMsgSpecWriter

    @cached_property
    def settings(self) -> Settings:
        return Settings.from_config(self.config)

    @cached_property
    def client(self) -> TikTokClient:
        settings = self.settings
        return TikTokClient(
            access_token=settings.access_token,
            api_url=settings.api_url,
            request_timeout=settings.request_timeout,
            user_agent=settings.user_agent,
            max_tries=settings.max_retries + 1,
            backoff_base_seconds=settings.retry_backoff_seconds,
            max_requests_per_second=settings.max_requests_per_second,
            max_concurrent_requests=settings.max_concurrent_requests,
            extra_secrets=tuple(s for s in (settings.secret,) if s),
        )

    @cached_property
    def prefetch_executor(self) -> ThreadPoolExecutor:
        """Loads upcoming partitions; separate from the client's page workers, which it uses."""
        return ThreadPoolExecutor(max_workers=2, thread_name_prefix="tiktok-partition")

    @sharded
    def requested_advertiser_ids(self) -> tuple[str, ...]:
        """The configured advertisers, or every advertiser the token is authorized for."""
        if self.settings.advertiser_ids:
            return self.settings.advertiser_ids
        if not (self.settings.app_id and self.settings.secret):
            raise ConfigError(
                "advertiser_ids",
                "is required unless app_id and secret are set (to list authorized advertisers)",
            )
        data = self.client.get(
            "/oauth2/advertiser/get/",
            {"app_id": self.settings.app_id, "secret": self.settings.secret},
        )
        ids = tuple(str(row["advertiser_id"]) for row in data.get("list") or [])
        self.logger.info("Token is authorized for %d advertiser(s).", len(ids))
        return ids

    @property
    def advertiser_ids(self) -> tuple[str, ...]:
        """The advertisers this run syncs: requested and readable with the token."""
        return tuple(self.advertiser_info)

    @cached_property
    def advertiser_info(self) -> dict[str, dict[str, Any]]:
        """Time zone and currency per readable advertiser; the first call checks the token."""
        info: dict[str, dict[str, Any]] = {}
        unreadable: list[str] = []
        for batch in batches(self.requested_advertiser_ids):
            rows, refused = self._read_advertisers(batch)
            info.update((str(row["advertiser_id"]), row) for row in rows)
            unreadable += refused
        if unreadable:
            self._report_unreadable(unreadable)
        return {i: info[i] for i in self.requested_advertiser_ids if i in info}

    def _read_advertisers(self, ids: tuple[str, ...]) -> tuple[list[dict[str, Any]], list[str]]:
        """Rows of the readable ids; one refused id fails a whole batch, so find it alone."""
        fields = ["advertiser_id", "name", "timezone", "display_timezone", "currency"]
        try:
            data = self.client.get(INFO_PATH, {"advertiser_ids": list(ids), "fields": fields})
            return list(data.get("list") or []), []
        except FatalAPIError as error:
            if error.code not in UNREADABLE_CODES:
                raise
            if len(ids) == 1:
                return [], list(ids)
        rows: list[dict[str, Any]] = []
        refused: list[str] = []
        for advertiser_id in ids:
            more_rows, more_refused = self._read_advertisers((advertiser_id,))
            rows += more_rows
            refused += more_refused
        return rows, refused

    def _report_unreadable(self, ids: list[str]) -> None:
        listed = ", ".join(ids)
        if not self.settings.skip_unauthorized_advertisers:
            raise ConfigError(
                "advertiser_ids",
                f"the token cannot read advertiser(s) {listed} (TikTok 40001/40300); remove "
                "them or set skip_unauthorized_advertisers to skip them",
            )
        self.logger.warning("Skipping advertiser(s) the token cannot read: %s", listed)

    def advertiser_timezone(self, advertiser_id: str) -> tzinfo:
        """The advertiser's time zone: report days and hours are local to it."""
        row = self.advertiser_info.get(advertiser_id) or {}
        name = row.get("timezone") or row.get("display_timezone")
        zone, known = lookup_timezone(name)
        if not known:
            self.logger.warning(
                "Advertiser %s: unknown time zone %r, report days are taken in UTC",
                advertiser_id,
                name,
            )
        return zone

    @cached_property
    def report_definitions(self) -> list[ReportDefinition]:
        predefined = predefined_reports()
        taken = [stream.name for stream in ENTITY_STREAMS] + [r.name for r in predefined]
        definitions = predefined + custom_reports(self.config.get("custom_reports"), taken)
        warning = deprecated_service_type_warning(definitions, self.settings.service_type)
        if warning:
            self.logger.warning("%s", warning)
        return definitions

    def discover_streams(self) -> list[Stream]:
        streams: list[Stream] = [stream_class(tap=self) for stream_class in ENTITY_STREAMS]
        streams += [ReportStream(self, definition) for definition in self.report_definitions]
        return streams

    def sync_all(self) -> None:
        _ = self.settings  # validate every setting before the first request
        _ = self.advertiser_info  # fail fast on a bad token or unreadable advertiser
        try:
            super().sync_all()
        finally:
            flush = getattr(self.message_writer, "flush", None)
            if flush is not None:
                flush()  # records buffered after the last STATE message

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Report the tap's own errors as one line and exit 1 (a traceback with the debug flag)."""
        try:
            for option in ("state", "catalog"):
                if kwargs.get(option) is not None:
                    kwargs[option] = io.StringIO(checked_json(kwargs[option].read(), option))
            super().invoke(*args, **kwargs)
        except TapTikTokAdsError as error:
            exit_with_error(error)

    @classmethod
    def cb_discover(cls, ctx: Any, param: Any, value: bool) -> None:  # type: ignore[override]
        try:
            super().cb_discover(ctx, param, value)
        except TapTikTokAdsError as error:
            exit_with_error(error)


def checked_json(text: str, option: str) -> str:
    """The file's text if it holds the JSON object ``--state`` / ``--catalog`` expect."""
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        raise ConfigError(f"--{option}", f"the file is not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise ConfigError(f"--{option}", "the file must hold a JSON object")
    streams = value.get("streams", [])
    if option == "catalog" and not (
        isinstance(streams, list)
        and all(isinstance(s, dict) and s.get("tap_stream_id") for s in streams)
    ):
        raise ConfigError("--catalog", "`streams` must be a list of entries with tap_stream_id")
    if option == "state" and not isinstance(value.get("bookmarks", {}), dict):
        raise ConfigError("--state", "`bookmarks` must be an object")
    return text or "{}"


def exit_with_error(error: Exception) -> None:
    logger = logging.getLogger("tap-tiktok-ads")
    if os.environ.get(DEBUG_ENV):
        logger.exception("%s", error)
    else:
        logger.error("%s", error)
    sys.exit(1)


if __name__ == "__main__":
    TapTikTokAds.cli()
