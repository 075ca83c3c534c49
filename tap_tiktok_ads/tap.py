"""The tap: settings, the shared API client, advertiser resolution and stream discovery."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta, tzinfo
from functools import cached_property
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from singer_sdk import Stream, Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.singerlib import StateMessage
from typing_extensions import override

from tap_tiktok_ads import DISTRIBUTION
from tap_tiktok_ads.bookmarks import check_state, check_state_shape
from tap_tiktok_ads.client import MAX_TIMEOUT_RETRIES, FatalAPIError, TikTokClient
from tap_tiktok_ads.dates import lookup_timezone, today_in
from tap_tiktok_ads.errors import DEBUG_ENV, ConfigError, TapTikTokAdsError
from tap_tiktok_ads.redaction import register_secrets
from tap_tiktok_ads.reports.definitions import (
    ReportDefinition,
    custom_reports,
    deprecated_service_type_warning,
    predefined_reports,
)
from tap_tiktok_ads.settings import (
    Settings,
    config_errors,
    config_schema,
    secret_values,
    settings_from_environment,
)
from tap_tiktok_ads.shutdown import Interrupted, exit_after, on_signal
from tap_tiktok_ads.streams.advertisers import INFO_PATH, AdvertisersStream, batches
from tap_tiktok_ads.streams.audiences import CustomAudienceDetailsStream, CustomAudiencesStream
from tap_tiktok_ads.streams.business_centers import (
    BusinessCentersStream,
    business_center_advertiser_ids,
)
from tap_tiktok_ads.streams.creatives import CreativeImagesStream, CreativeVideosStream
from tap_tiktok_ads.streams.entities import AdGroupsStream, AdsStream, CampaignsStream
from tap_tiktok_ads.streams.pixels import PixelsStream
from tap_tiktok_ads.streams.reports import ReportStream
from tap_tiktok_ads.writer import BufferedMsgSpecWriter

ENTITY_STREAMS: tuple[type[Stream], ...] = (
    AdvertisersStream,
    CampaignsStream,
    AdGroupsStream,
    AdsStream,
    CustomAudiencesStream,
    CustomAudienceDetailsStream,
    CreativeVideosStream,
    CreativeImagesStream,
    PixelsStream,
    BusinessCentersStream,
)
UNREADABLE_CODES = frozenset({40001, 40300, 40301})
# Ids named in a message; more are counted, not listed.
MAX_LISTED_IDS = 10


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

    @classproperty
    def _env_var_config(cls) -> dict[str, Any]:  # replaces singer-sdk's reader
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        return settings_from_environment(schema, cls._env_var_prefix)

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """singer-sdk's check, but its messages never echo a secret's value."""
        schema = self.config_jsonschema
        self.append_builtin_config(schema)
        register_secrets(*secret_values(self._config))
        errors = config_errors(self._config, schema)
        if errors and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=errors, schema=schema)
        for error in errors:
            self.logger.warning("Config validation: %s", error)
        return errors

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
            max_clock_skew=timedelta(hours=settings.max_clock_skew_hours),
            max_response_mb=settings.max_response_mb,
            max_paging_restarts=settings.max_paging_restarts,
            max_timeouts_per_request=min(MAX_TIMEOUT_RETRIES + 1, settings.max_timeouts_per_window),
        )

    @cached_property
    def prefetch_executor(self) -> ThreadPoolExecutor:
        """Loads upcoming partitions; separate from the client's page workers, which it uses."""
        return ThreadPoolExecutor(max_workers=2, thread_name_prefix="tiktok-partition")

    @cached_property
    def requested_advertiser_ids(self) -> tuple[str, ...]:
        """The configured (or authorized) advertisers, plus the Business Centers' ones."""
        from_bcs = business_center_advertiser_ids(self.client, self.settings.business_center_ids)
        listed = self._listed_advertiser_ids(bool(self.settings.business_center_ids))
        return tuple(dict.fromkeys((*listed, *from_bcs)))

    def _listed_advertiser_ids(self, have_others: bool) -> tuple[str, ...]:
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

    @property
    def advertiser_ids(self) -> tuple[str, ...]:
        """The advertisers this run syncs: requested and readable with the token."""
        return tuple(self.advertiser_info)

    @cached_property
    def advertiser_info(self) -> dict[str, dict[str, Any]]:
        """Time zone and currency per readable advertiser; the first call checks the token."""
        info: dict[str, dict[str, Any]] = {}
        unreadable: list[str] = []
        # Without skipping, the run fails anyway: enough refused ids to name them will do.
        enough = None if self.settings.skip_unauthorized_advertisers else MAX_LISTED_IDS
        for batch in batches(self.requested_advertiser_ids):
            for rows, refused in self._read_advertisers(batch):
                info.update((str(row["advertiser_id"]), row) for row in rows)
                unreadable += refused
                if enough is not None and len(unreadable) >= enough:
                    self._report_unreadable(unreadable, complete=False)
        if unreadable:
            self._report_unreadable(unreadable, complete=True)
        return {i: info[i] for i in self.requested_advertiser_ids if i in info}

    def _read_advertisers(
        self, ids: tuple[str, ...]
    ) -> Iterator[tuple[list[dict[str, Any]], list[str]]]:
        """(readable rows, refused ids) of ``ids``, a part at a time.

        One refused id fails the whole call, so a refused batch is halved until each refused
        id stands alone: k refused ids among n cost about 2k*log2(n/k) calls instead of n.
        """
        fields = ["advertiser_id", "name", "timezone", "display_timezone", "currency"]
        try:
            data = self.client.get(INFO_PATH, {"advertiser_ids": list(ids), "fields": fields})
        except FatalAPIError as error:
            if error.code not in UNREADABLE_CODES:
                raise
            if len(ids) == 1:
                yield [], list(ids)
                return
            middle = len(ids) // 2
            yield from self._read_advertisers(ids[:middle])
            yield from self._read_advertisers(ids[middle:])
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

    def advertiser_timezone(self, advertiser_id: str) -> tzinfo:
        """The advertiser's report clock: report days and hours are local to it.

        ``timezone`` first (a GMT offset, or a region name), ``display_timezone`` when it is
        missing; either way a fixed offset, as ad accounts have no daylight saving time.
        """
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
        _ = self.report_definitions  # custom_reports too, also when a catalog is given
        kinds = {name: getattr(s, "bookmark_kind", "") for name, s in self.streams.items()}
        check_state(self.state, kinds)  # and every bookmark
        _ = self.advertiser_info  # fail fast on a bad token or unreadable advertiser
        if not self.advertiser_ids:
            self._sync_nothing()
            return
        self._warn_about_days_after_today()
        try:
            super().sync_all()
        except Interrupted:  # SIGTERM / SIGINT: records emitted so far are whole, say so
            self.message_writer.write_message(StateMessage(value=self.state))
            raise
        finally:
            flush = getattr(self.message_writer, "flush", None)
            if flush is not None:
                flush()  # records buffered after the last STATE message

    @override
    def load_state(self, state: dict[str, Any]) -> None:
        check_state_shape(state)  # the SDK would trip over a malformed one with a traceback
        super().load_state(state)

    def _sync_nothing(self) -> None:
        """No advertiser is left to read: say so, and describe the selected streams only."""
        self.logger.warning(
            "No advertiser is readable with this token (all skipped or none authorized); "
            "no records to sync"
        )
        for stream in self.streams.values():
            if stream.selected:
                stream._write_schema_message()
        flush = getattr(self.message_writer, "flush", None)
        if flush is not None:
            flush()

    def _warn_about_days_after_today(self) -> None:
        """Fixed days after TikTok's today for an advertiser have no data there yet."""
        dates = self.settings.dates
        if dates.mode not in ("date", "start_date") or dates.start is None:
            return
        now = self.client.now()
        early = [
            advertiser_id
            for advertiser_id in self.advertiser_ids
            if dates.start > today_in(self.advertiser_timezone(advertiser_id), now)
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

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM / SIGINT (singer-sdk installs this handler; its own exits 0 at once)."""
        on_signal(signum, frame)

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
        except Interrupted as stop:
            exit_after(stop)

    @classmethod
    def cb_config(cls, ctx: Any, param: Any, value: tuple[str, ...]) -> Any:  # type: ignore[override]
        """Read the ``--config`` files; a missing or malformed one is one line, not a traceback."""
        try:
            for path in value:
                if path != "ENV":
                    check_config_file(path)
        except ConfigError as error:
            exit_with_error(error)
        return super().cb_config(ctx, param, value)

    @classmethod
    def cb_discover(cls, ctx: Any, param: Any, value: bool) -> None:  # type: ignore[override]
        try:
            super().cb_discover(ctx, param, value)
        except TapTikTokAdsError as error:
            exit_with_error(error)


def check_config_file(path: str) -> None:
    """The ``--config`` file exists and holds a JSON object (errors never quote its content)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("--config", f"{path} was not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError("--config", f"cannot read {path} ({type(error).__name__})") from None
    try:  # NaN and Infinity are not JSON: singer-sdk's reader refuses them too
        value = json.loads(text, parse_constant=_not_json)
    except ValueError as error:  # names the line and column only
        raise ConfigError("--config", f"{path} is not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise ConfigError("--config", f"{path} must hold a JSON object")


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON value")


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
    if option == "state":
        check_state_shape(value)
    return text or "{}"


def exit_with_error(error: Exception) -> NoReturn:
    logger = logging.getLogger("tap-tiktok-ads")
    if os.environ.get(DEBUG_ENV):
        logger.exception("%s", error)
    else:
        logger.error("%s", error)
    sys.exit(1)


if __name__ == "__main__":
    TapTikTokAds.cli()
