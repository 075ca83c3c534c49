"""The tap: settings, the shared API client and advertisers, and stream discovery."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from singer_sdk import Stream, Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._classproperty import classproperty
from typing_extensions import override

from tap_tiktok_ads import DISTRIBUTION
from tap_tiktok_ads.advertisers import Advertisers
from tap_tiktok_ads.bookmarks import check_state, check_state_shape
from tap_tiktok_ads.client import MAX_TIMEOUT_RETRIES, TikTokClient
from tap_tiktok_ads.errors import DEBUG_ENV, ConfigError, TapTikTokAdsError
from tap_tiktok_ads.redaction import register_secrets
from tap_tiktok_ads.reports.definitions import (
    ReportDefinition,
    custom_reports,
    deprecated_service_type_warning,
    predefined_reports,
)
from tap_tiktok_ads.sdk_compat import PacedStateTap, StopSignalHook
from tap_tiktok_ads.settings import (
    Settings,
    config_errors,
    config_schema,
    numbers_given_as_text,
    secret_values,
    settings_from_environment,
)
from tap_tiktok_ads.shutdown import Interrupted, exit_after, on_signal
from tap_tiktok_ads.streams.advertisers import AdvertisersStream
from tap_tiktok_ads.streams.audiences import CustomAudienceDetailsStream, CustomAudiencesStream
from tap_tiktok_ads.streams.base import StreamServices, TikTokStream
from tap_tiktok_ads.streams.business_centers import BusinessCentersStream
from tap_tiktok_ads.streams.creatives import CreativeImagesStream, CreativeVideosStream
from tap_tiktok_ads.streams.entities import AdGroupsStream, AdsStream, CampaignsStream
from tap_tiktok_ads.streams.pixels import PixelsStream
from tap_tiktok_ads.streams.reports import ReportStream
from tap_tiktok_ads.writer import BufferedMsgSpecWriter

ENTITY_STREAMS: tuple[type[TikTokStream], ...] = (
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


class TapTikTokAds(PacedStateTap, StopSignalHook, Tap):
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
        self._config.update(numbers_given_as_text(self._config))
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
    def advertisers(self) -> Advertisers:
        """The run's advertisers, resolved (and the token checked) on first use."""
        return Advertisers(self.client, self.settings, self.logger)

    @cached_property
    def report_definitions(self) -> list[ReportDefinition]:
        predefined = predefined_reports()
        taken = [stream.name for stream in ENTITY_STREAMS] + [r.name for r in predefined]
        definitions = predefined + custom_reports(self.config.get("custom_reports"), taken)
        warning = deprecated_service_type_warning(definitions, self.settings.service_type)
        if warning:
            self.logger.warning("%s", warning)
        return definitions

    @override
    def discover_streams(self) -> list[Stream]:
        services = StreamServices(
            settings=self.settings,
            client=self.client,
            advertisers=self.advertisers,
            selected_stream_names=self._selected_stream_names,
        )
        streams: list[Stream] = [cls(tap=self, services=services) for cls in ENTITY_STREAMS]
        streams += [ReportStream(self, services, d) for d in self.report_definitions]
        return streams

    @override  # type: ignore[misc]  # final in singer-sdk: extended here, not replaced
    def sync_all(self) -> None:
        """The sync; however it ends (done, failed, stopped by a signal), the requests started
        ahead and not yet begun are cancelled and the client's connections closed."""
        try:
            super().sync_all()
        finally:
            if "client" in self.__dict__:  # built on first use: a run may end before
                self.client.close()

    def _selected_stream_names(self) -> list[str]:
        return [stream.name for stream in self.streams.values() if stream.selected]

    @override
    def load_state(self, state: dict[str, Any]) -> None:
        """Every bookmark is checked before the first request: the SDK would trip over a
        malformed state with a traceback, and a bad value would fail the run half-way."""
        check_state_shape(state)
        super().load_state(state)
        if self.state.get("bookmarks"):
            kinds = {name: getattr(s, "bookmark_kind", "") for name, s in self.streams.items()}
            check_state(self.state, kinds)

    @override
    def on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM / SIGINT: stop at once; records emitted so far are whole, say so."""
        try:
            on_signal(signum, frame)
        except Interrupted:  # raised where the main thread is, never while writing a message
            self.paced_state_writer.write_now(self.state, even_if_unchanged=True)
            raise

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
