"""The base stream: shared client, advertiser partitions and catalog-driven field lists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import Stream
from singer_sdk.schema.source import SchemaDirectory, StreamSchema

from tap_tiktok_ads import schemas

if TYPE_CHECKING:
    from tap_tiktok_ads.client import TikTokClient
    from tap_tiktok_ads.settings import Settings
    from tap_tiktok_ads.tap import TapTikTokAds

SCHEMAS_DIR = SchemaDirectory(schemas)


class TikTokStream(Stream):
    """A stream of one TikTok endpoint, partitioned by advertiser unless it says otherwise."""

    #: Properties the tap adds itself; never sent to TikTok in ``fields``.
    derived_properties: ClassVar[frozenset[str]] = frozenset()

    @property
    def tiktok_tap(self) -> TapTikTokAds:
        return self._tap  # type: ignore[return-value]

    @property
    def settings(self) -> Settings:
        return self.tiktok_tap.settings

    @property
    def client(self) -> TikTokClient:
        return self.tiktok_tap.client

    @property
    def partitions(self) -> list[dict[str, Any]] | None:
        return [
            {"advertiser_id": advertiser_id} for advertiser_id in self.tiktok_tap.advertiser_ids
        ]

    def selected_properties(self) -> list[str]:
        """Schema properties selected in the catalog (primary and replication keys included)."""
        return [
            name for name in self.schema["properties"] if self.mask.get(("properties", name), True)
        ]

    def requested_fields(self, always: tuple[str, ...] = ()) -> list[str] | None:
        """The ``fields`` parameter: the selected API fields, or None when all are selected.

        Sending no ``fields`` when everything is selected keeps us safe from TikTok rejecting
        a field name it has retired; the answer is the same.
        """
        api_fields = [p for p in self.schema["properties"] if p not in self.derived_properties]
        selected = set(self.selected_properties()) | set(always)
        wanted = [name for name in api_fields if name in selected]
        return None if len(wanted) == len(api_fields) else wanted


class EntitySchemaStream(TikTokStream):
    """A stream whose JSON schema lives in ``schemas/<stream name>.json``."""

    schema: ClassVar[StreamSchema] = StreamSchema(SCHEMAS_DIR)  # type: ignore[assignment]
