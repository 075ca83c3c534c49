"""The creative library: each advertiser's videos and images, incremental on ``modify_time``.

``/file/{video,image}/ad/search/`` lists the library, but not all of it: only the 10,000 most
recently modified files, and without an id filter a video uploaded several times shows one
``video_id``. Ads may reference any of them, so after the listing the advertiser's ads are read
for the ids they use (``video_id``, ``image_ids``), and the ones the listing missed are fetched
by id from ``/file/{video,image}/ad/info/``. Those are emitted on every run whatever the
bookmark says (they cannot be told apart from new references), so every id a synced ad holds
is in these streams.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_tiktok_ads.dates import tiktok_utc_to_rfc3339
from tap_tiktok_ads.error_codes import Skip, skippable
from tap_tiktok_ads.errors import RefusedAPIError
from tap_tiktok_ads.sequences import batches
from tap_tiktok_ads.streams.entities import EntityStream, by_buying_type, to_record
from tap_tiktok_ads.streams.permissions import PermissionAwareStream

ADS_PATH = "/ad/get/"
MAX_SEARCH_PAGE_SIZE = 100  # TikTok's cap on both search endpoints
REJECTED_ID_CODES = skippable(Skip.REJECTED_ID)


class CreativeStream(PermissionAwareStream, EntityStream):
    """One kind of library file; the bookmark handling is EntityStream's."""

    kind: ClassVar[str]  # "video" or "image"
    max_info_ids: ClassVar[int]
    derived_properties = frozenset()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Referenced files the search did not list, per advertiser; filled by prefetching.
        self._unlisted: dict[str, list[dict[str, Any]]] = {}

    @property
    def search_path(self) -> str:
        return f"/file/{self.kind}/ad/search/"

    @property
    def info_path(self) -> str:
        return f"/file/{self.kind}/ad/info/"

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if context is None:  # no readable advertiser, so no partition
            return
        yield from self.guarded(lambda: self._records(context), context)

    def _records(self, context: Context) -> Iterator[dict[str, Any]]:
        advertiser_id = str(context["advertiser_id"])
        yield from super().get_records(context)  # the listing, filtered by the bookmark
        for row in self._unlisted.pop(advertiser_id, []):
            yield to_record(row, advertiser_id)

    @override
    def rows(self, context: Context) -> Iterable[dict[str, Any]]:
        """The whole listing, read ahead: the ids it lacks are known only at its end."""
        return self.prefetched(context, self.listing)

    @override
    def listing(self, context: Context) -> list[dict[str, Any]]:
        """The search listing; referenced files it lacks are kept aside for ``_records``."""
        advertiser_id = str(context["advertiser_id"])
        pages = self.client.get_pages(
            self.search_path,
            {"advertiser_id": advertiser_id},
            page_size=min(self.settings.page_size, MAX_SEARCH_PAGE_SIZE),
            advertiser_id=advertiser_id,
            key=lambda row: row.get(self.id_field),
        )
        listed = [self.normalised(row) for page in pages for row in page]
        known = {row[self.id_field] for row in listed}
        missing = [i for i in self.referenced_ids(advertiser_id) if i not in known]
        found = [self.normalised(row) for row in self.details(advertiser_id, missing)]
        self._unlisted[advertiser_id] = found
        return listed

    def referenced_ids(self, advertiser_id: str) -> list[str]:
        """Ids of this kind that the advertiser's ads use (deleted ads too, if synced)."""
        params: dict[str, Any] = {
            "advertiser_id": advertiser_id,
            "fields": ["ad_id", "video_id", "image_ids"],
        }
        if self.settings.include_deleted:
            params["filtering"] = {"primary_status": "STATUS_ALL"}
        ids: list[Any] = []
        # TikTok lists TopView ads only when asked for that buying type alone.
        for _, query, page_size in by_buying_type(params, self.settings.page_size):
            pages = self.client.get_pages(
                ADS_PATH,
                query,
                page_size=page_size,
                advertiser_id=advertiser_id,
                key=lambda row: row.get("ad_id"),
            )
            ids += [i for page in pages for ad in page for i in self.ids_of(ad)]
        return list(dict.fromkeys(str(i) for i in ids if i))

    def ids_of(self, ad: dict[str, Any]) -> list[Any]:
        raise NotImplementedError

    def details(self, advertiser_id: str, ids: list[str]) -> list[dict[str, Any]]:
        """Files by id, ``max_info_ids`` per call; ids TikTok leaves out are reported."""
        rows: list[dict[str, Any]] = []
        for batch in batches(tuple(ids), self.max_info_ids):
            rows += self._details_of(advertiser_id, batch)
        absent = set(ids) - {str(row.get(self.id_field)) for row in rows}
        if absent:
            self.logger.warning(
                "%s: advertiser %s: ads reference %d %s id(s) that TikTok's library does not "
                "serve (e.g. thumbnails of ads made in Ads Manager): %s",
                self.name,
                advertiser_id,
                len(absent),
                self.kind,
                ", ".join(sorted(absent)),
            )
        return rows

    def _details_of(self, advertiser_id: str, ids: tuple[str, ...]) -> list[dict[str, Any]]:
        """One info call; if TikTok rejects an id in it (40002), the halves are tried apart."""
        try:
            data = self.client.get(
                self.info_path,
                {"advertiser_id": advertiser_id, f"{self.kind}_ids": list(ids)},
                advertiser_id=advertiser_id,
            )
        except RefusedAPIError as error:
            if error.code not in REJECTED_ID_CODES:
                raise
            if len(ids) == 1:
                return []  # the rejected id: reported by details()
            middle = len(ids) // 2
            return [
                *self._details_of(advertiser_id, ids[:middle]),
                *self._details_of(advertiser_id, ids[middle:]),
            ]
        return list(data.get("list") or [])

    def normalised(self, row: dict[str, Any]) -> dict[str, Any]:
        return {**row, self.id_field: str(row[self.id_field])}

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        row.pop("is_deleted", None)  # library files have no status to derive it from
        return super().post_process(row, context)


class CreativeVideosStream(CreativeStream):
    name = "creative_videos"
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "video_id"]
    path = "/file/video/ad/search/"
    id_field = "video_id"
    kind = "video"
    max_info_ids = 60

    @override
    def ids_of(self, ad: dict[str, Any]) -> list[Any]:
        return [ad.get("video_id")]

    @override
    def normalised(self, row: dict[str, Any]) -> dict[str, Any]:
        record = super().normalised(row)
        if "preview_url_expire_time" in record:  # UTC "YYYY-MM-DD HH:MM:SS"
            record["preview_url_expire_time"] = tiktok_utc_to_rfc3339(
                record["preview_url_expire_time"]
            )
        return record


class CreativeImagesStream(CreativeStream):
    name = "creative_images"
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "image_id"]
    path = "/file/image/ad/search/"
    id_field = "image_id"
    kind = "image"
    max_info_ids = 100

    @override
    def ids_of(self, ad: dict[str, Any]) -> list[Any]:
        return list(ad.get("image_ids") or [])
