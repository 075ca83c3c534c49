"""The base stream: the run's services, advertiser partitions and catalog-driven field lists."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import Stream
from singer_sdk.helpers.types import Context
from singer_sdk.schema.source import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_tiktok_ads import schemas
from tap_tiktok_ads.streams.shaping import RecordShaper

if TYPE_CHECKING:
    from singer_sdk import Tap

    from tap_tiktok_ads.advertisers import Advertisers
    from tap_tiktok_ads.client import TikTokClient
    from tap_tiktok_ads.settings import Settings

SCHEMAS_DIR = SchemaDirectory(schemas)
PREFETCH_PARTITIONS = 4  # advertisers whose small listings load ahead of the one being emitted


@dataclass(frozen=True)
class StreamServices:
    """What streams need from the run, built once by the tap and handed to every stream."""

    settings: Settings
    client: TikTokClient
    advertisers: Advertisers
    #: Loads upcoming partitions; separate from the client's page workers, which it uses.
    prefetch_executor: ThreadPoolExecutor
    #: Names of the streams selected in this run's catalog.
    selected_stream_names: Callable[[], list[str]]


class TikTokStream(Stream):
    """A stream of one TikTok endpoint, partitioned by advertiser unless it says otherwise.

    The first stream to start syncing resolves the run's advertisers, which checks the token
    and every requested advertiser before the first record (see ``Advertisers``). A run with
    no readable advertiser has no partitions: the SDK then asks a partitioned stream for the
    records of no context, and there are none.
    """

    #: Set by every stream class (report streams take theirs from their definition): the tap
    #: reads the entity streams' names before it creates them.
    name: str
    #: Properties the tap adds itself; never sent to TikTok in ``fields``.
    derived_properties: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, tap: Tap, services: StreamServices, **kwargs: Any) -> None:
        self.services = services
        self.settings = services.settings
        self.client = services.client
        self.advertisers = services.advertisers
        super().__init__(tap=tap, **kwargs)

    @property
    @override
    def partitions(self) -> list[dict[str, Any]] | None:
        return [{"advertiser_id": advertiser_id} for advertiser_id in self.advertisers.ids]

    @override
    def get_replication_key_signpost(self, context: Context | None = None) -> Any:
        """The SDK's signpost; asking for it first resolves the run's advertisers.

        The SDK asks each stream for its signpost as the stream starts syncing, before its
        first message and outside its own error report: the first stream to start is where
        the token and every requested advertiser are checked, so a bad one fails the run
        before any record, in one line.
        """
        self.advertisers.check()
        return super().get_replication_key_signpost(context)

    def prefetched(
        self, context: Context, load: Callable[[Context], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """``load(context)``, while the next advertisers' partitions load in the background.

        Partitions are synced one after another, in order; small per-advertiser listings
        would otherwise cost one round trip each. Records still come out in partition order.
        """
        partitions = self.partitions or [dict(context)]
        index = partitions.index(dict(context)) if dict(context) in partitions else 0
        for upcoming in partitions[index : index + PREFETCH_PARTITIONS]:
            key = upcoming["advertiser_id"]
            if key not in self._prefetch:
                self._prefetch[key] = self.services.prefetch_executor.submit(load, upcoming)
        future = self._prefetch.pop(context["advertiser_id"], None)
        return future.result() if future is not None else load(context)

    @property
    def _prefetch(self) -> dict[str, Future[list[dict[str, Any]]]]:
        if not hasattr(self, "_prefetch_futures"):
            self._prefetch_futures: dict[str, Future[list[dict[str, Any]]]] = {}
        return self._prefetch_futures

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
    """A stream whose JSON schema lives in ``schemas/<stream name>.json``.

    Every record is fitted to that schema (:class:`RecordShaper`): numbers sent for string
    fields become strings, fields the schema lacks are left out with one warning each.
    """

    schema: ClassVar[StreamSchema] = StreamSchema(SCHEMAS_DIR)

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        if not hasattr(self, "_shaper"):
            self._shaper = RecordShaper(self.name, self.schema, self.logger)
        return self._shaper(row)
