"""The base stream: the run's services, advertiser partitions and catalog-driven field lists."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import Stream
from singer_sdk.helpers.types import Context
from singer_sdk.schema.source import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_tiktok_ads import schemas
from tap_tiktok_ads.scheduler import Cancellable, Lookahead, result_of
from tap_tiktok_ads.streams.shaping import RecordShaper

if TYPE_CHECKING:
    from singer_sdk import Tap

    from tap_tiktok_ads.advertisers import Advertisers
    from tap_tiktok_ads.client import TikTokClient
    from tap_tiktok_ads.settings import Settings

SCHEMAS_DIR = SchemaDirectory(schemas)
# Requests started ahead per worker of the run's scheduler: two keep every worker busy while
# the thread writing records takes the answers one after another.
REQUESTS_AHEAD_PER_WORKER = 2


@dataclass(frozen=True)
class StreamServices:
    """What streams need from the run, built once by the tap and handed to every stream."""

    settings: Settings
    client: TikTokClient
    advertisers: Advertisers
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
    #: Requests a partition's work started ahead usually makes: fewer partitions are started
    #: ahead when each makes more, so the requests waiting stay about the same.
    requests_started_per_partition: ClassVar[int] = 1

    def __init__(self, tap: Tap, services: StreamServices, **kwargs: Any) -> None:
        self.services = services
        self.settings = services.settings
        self.client = services.client
        self.advertisers = services.advertisers
        budget = REQUESTS_AHEAD_PER_WORKER * self.client.max_concurrent_requests
        self._ahead: Lookahead[str, Cancellable] = Lookahead(
            1 + -(-budget // self.requests_started_per_partition)
        )
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

    def started_ahead(self, context: Context, start: Callable[[Context], Any]) -> Any:
        """``start(context)``: the requests of this advertiser's partition, begun (on the run's
        scheduler) when an earlier partition was synced, with those of the next advertisers
        begun now.

        Partitions are synced one after another, in order, and each advertiser's requests are
        few and small: one after another they would leave the rate limit mostly unused. Only
        requests are started ahead; records are built and written, and bookmarks moved, in
        partition order by the thread calling this. ``start`` runs on that thread and returns
        futures, or an object that cancels them (``Cancellable``).
        """
        return self._ahead.take(
            str(context["advertiser_id"]),
            self.advertisers.ids,
            lambda advertiser_id: start({"advertiser_id": advertiser_id}),
        )

    def prefetched(
        self, context: Context, load: Callable[[Context], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """``load(context)``, run on the scheduler while earlier partitions were synced.

        For small listings read whole (its requests run one after another on one worker).
        """
        future: Future[list[dict[str, Any]]] = self.started_ahead(
            context, lambda upcoming: self.client.scheduler.submit(lambda: load(upcoming))
        )
        return result_of(future)

    def saved_state(self, context: Context) -> Mapping[str, Any]:
        """This partition's state as saved so far, read without adding an entry for it: work
        started ahead for a partition must not change the STATE written before its turn."""
        for partition in self.stream_state.get("partitions") or ():
            if partition.get("context") == context:
                return dict(partition)
        return {}

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

    def __init__(self, tap: Tap, services: StreamServices, **kwargs: Any) -> None:
        super().__init__(tap, services, **kwargs)
        self._shaper = RecordShaper(self.name, self.schema, self.logger)

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        return self._shaper(row)
