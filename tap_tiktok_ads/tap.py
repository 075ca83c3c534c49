"""The tap: settings, the shared API client and advertisers, and stream discovery."""

from __future__ import annotations

from tap_tiktok_ads.gc_pause import collector_paused

# The console script's first import: singer-sdk and every module of the tap load here, with the
# garbage collector paused (see gc_pause).
with collector_paused():
    from datetime import timedelta
    from functools import cached_property
    from types import FrameType
    from typing import Any

    import click
    from singer_sdk import Stream, Tap
    from typing_extensions import override

    from tap_tiktok_ads import DISTRIBUTION, cli
    from tap_tiktok_ads.advertisers import Advertisers
    from tap_tiktok_ads.bookmarks import check_state, check_state_shape
    from tap_tiktok_ads.catalog_discovered import catalog_dict
    from tap_tiktok_ads.catalog_input import without_unselected_detail
    from tap_tiktok_ads.catalog_text import catalog_text
    from tap_tiktok_ads.client import MAX_TIMEOUT_RETRIES, TikTokClient
    from tap_tiktok_ads.redaction import register_secrets
    from tap_tiktok_ads.reports.definitions import (
        ReportDefinition,
        custom_reports,
        deprecated_service_type_warning,
        predefined_reports,
    )
    from tap_tiktok_ads.sdk_compat import (
        ConfigCheckHook,
        ConfigInput,
        EnvironmentConfigHook,
        StopSignalHook,
    )
    from tap_tiktok_ads.settings import (
        Settings,
        config_errors,
        config_schema,
        numbers_given_as_text,
        secret_values,
        settings_from_environment,
    )
    from tap_tiktok_ads.shutdown import Interrupted, on_signal
    from tap_tiktok_ads.state_pacing import PacedStateTap
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
# A parent stream is synced for its selected children even when it is not selected itself.
PARENT_STREAMS = frozenset(
    parent.name
    for parent in ENTITY_STREAMS
    if any(child.parent_stream_type is parent for child in ENTITY_STREAMS)
)


class TapTikTokAds(PacedStateTap, StopSignalHook, EnvironmentConfigHook, ConfigCheckHook, Tap):
    """Singer tap for TikTok Ads (Business API v1.3)."""

    name = "tap-tiktok-ads"
    package_name = DISTRIBUTION
    config_jsonschema = config_schema()
    # msgspec encodes records about twice as fast as the default simplejson writer.
    message_writer_class = BufferedMsgSpecWriter

    def __init__(self, *, catalog: Any = None, **options: Any) -> None:
        # The streams the run does not sync would otherwise hold their whole schema and
        # metadata for the run (see catalog_input).
        if isinstance(catalog, dict):
            catalog = without_unselected_detail(catalog, keep=PARENT_STREAMS)
        super().__init__(catalog=catalog, **options)

    @cached_property
    def settings(self) -> Settings:
        return Settings.from_config(self.config)

    @classmethod
    @override
    def config_from_environment(cls, prefix: str) -> dict[str, Any]:
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        return settings_from_environment(schema, prefix)

    @override
    def check_config(self, config: dict[str, Any], schema: dict[str, Any]) -> list[str]:
        """singer-sdk's check, but its messages never echo a secret's value."""
        register_secrets(*secret_values(config))
        config.update(numbers_given_as_text(config))
        return config_errors(config, schema)

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

    @property
    @override
    def catalog_dict(self) -> dict[str, Any]:
        """singer-sdk's catalog, each distinct property schema converted once (see
        catalog_discovered)."""
        return catalog_dict(self.streams.values())

    @property
    @override
    def catalog_json_text(self) -> str:
        """The catalog for ``--discover``: one line per property and metadata entry."""
        return catalog_text(self.catalog_dict)

    @override
    def sync_and_write_last_state(self) -> None:
        """The sync; however it ends (done, failed, stopped by a signal), the requests started
        ahead and not yet begun are cancelled and the client's connections closed."""
        try:
            super().sync_and_write_last_state()
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

    # singer-sdk's click command calls these three; the command's own work is in cli.py.
    @classmethod
    @override
    def invoke(cls, **options: Any) -> None:
        cli.invoke(cls, **options)

    @classmethod
    @override
    def cb_config(
        cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]
    ) -> ConfigInput:
        """Read the ``--config`` files; a missing or malformed one is one line, not a traceback."""
        with cli.one_line_errors():
            cli.check_config_files(value)
        return super().cb_config(ctx, param, value)

    @classmethod
    @override
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        with cli.one_line_errors(), collector_paused():  # the catalog's ~13,000 properties
            super().cb_discover(ctx, param, value)


if __name__ == "__main__":
    TapTikTokAds.cli()
