"""creative_videos and creative_images synced over HTTP from the emulator."""

from __future__ import annotations

import copy
import json
import logging

import jsonschema
import pytest

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.streams.permissions import PermissionRefusedError
from tests.conftest import EMULATOR_TODAY, TapRun, run_tap, tap_config

CREATIVES = ("creative_videos", "creative_images")


def sync(emu: Emulator, streams: tuple[str, ...], state: dict | None = None, **overrides):
    config = tap_config(emu, **overrides)
    catalog = catalog_selecting(config, dict.fromkeys(streams))
    return run_tap(config, state=state, catalog=catalog)


def validate(run: TapRun, stream: str) -> None:
    validator = jsonschema.Draft7Validator(
        run.schemas[stream], format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    for record in run.records[stream]:
        validator.validate(record)


def referenced(run: TapRun) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(advertiser, video id) and (advertiser, image id) pairs the synced ads use."""
    ads = run.records["ads"]
    videos = {(ad["advertiser_id"], ad["video_id"]) for ad in ads if ad.get("video_id")}
    images = {(ad["advertiser_id"], i) for ad in ads for i in ad.get("image_ids") or []}
    return videos, images


def synced(run: TapRun, stream: str, id_field: str) -> set[tuple[str, str]]:
    return {(r["advertiser_id"], r[id_field]) for r in run.records[stream]}


def info_ids(emu: Emulator, kind: str) -> list[list[str]]:
    calls = [r for r in emu.requests() if r["path"] == f"/file/{kind}/ad/info/"]
    return [json.loads(call["params"][f"{kind}_ids"]) for call in calls]


@pytest.mark.parametrize("include_deleted", [False, True])
def test_every_creative_the_ads_reference_is_synced(include_deleted: bool) -> None:
    with Emulator(seed=5, advertisers=2, today=EMULATOR_TODAY) as emu:
        emu.library.search_cap = 6  # TikTok lists only the most recently modified files
        run = sync(emu, ("ads", *CREATIVES), include_deleted=include_deleted)
        videos, images = referenced(run)
        assert videos
        assert images
        assert videos <= synced(run, "creative_videos", "video_id")
        assert images <= synced(run, "creative_images", "image_id")
        # The listing alone would not do: some ids came from the info endpoints.
        assert info_ids(emu, "video")
        assert info_ids(emu, "image")
        for stream in CREATIVES:
            validate(run, stream)
            keys = [
                (r["advertiser_id"], r.get("video_id") or r["image_id"])
                for r in run.records[stream]
            ]
            assert len(keys) == len(set(keys)), f"{stream} emitted a file twice"


def test_reuploaded_videos_hidden_by_search_are_fetched_by_id(emulator: Emulator) -> None:
    """Search shows one video per material; ads may use the other upload of it."""
    emulator.clear_requests()
    run = sync(emulator, ("ads", "creative_videos"))
    by_material: dict[str, set[str]] = {}
    for record in run.records["creative_videos"]:
        by_material.setdefault(record["material_id"], set()).add(record["video_id"])
    assert any(len(ids) > 1 for ids in by_material.values())
    fetched = {i for batch in info_ids(emulator, "video") for i in batch}
    videos, _ = referenced(run)
    assert fetched
    assert fetched <= {video_id for _, video_id in videos}


def test_info_requests_are_batched_within_tiktoks_caps() -> None:
    with Emulator(seed=3, advertisers=1, ads=9, today=EMULATOR_TODAY) as emu:
        emu.library.search_cap = 1
        run = sync(emu, ("ads", *CREATIVES), page_size=50, include_deleted=True)
        videos, images = referenced(run)
        assert len(videos) > 60
        assert videos <= synced(run, "creative_videos", "video_id")
        assert images <= synced(run, "creative_images", "image_id")
        assert max(len(batch) for batch in info_ids(emu, "video")) == 60
        assert all(len(batch) <= 100 for batch in info_ids(emu, "image"))
        searches = [r for r in emu.requests() if r["path"].startswith("/file/video/ad/search")]
        assert searches
        assert all(r["params"]["page_size"] == "50" for r in searches)


def test_second_run_emits_only_what_changed_and_what_search_cannot_list() -> None:
    with Emulator(seed=8, advertisers=2, today=EMULATOR_TODAY) as emu:
        emu.library.search_cap = 5
        first = sync(emu, ("ads", "creative_videos"))
        state = copy.deepcopy(first.final_state)
        bookmarks = {
            p["context"]["advertiser_id"]: p["replication_key_value"]
            for p in state["bookmarks"]["creative_videos"]["partitions"]
        }
        oldest = min(first.records["creative_videos"], key=lambda r: r["modify_time"])
        edited = emu.library.modify(oldest["advertiser_id"], oldest["video_id"], emu.now)
        # An ad switches to an old, unused video that the capped search does not list.
        ad = next(a for a in emu.world.ads if not emu.world.is_deleted(a))
        unused = next(
            v
            for v in emu.library.videos[ad["advertiser_id"]]
            if v["video_id"] not in synced(first, "creative_videos", "video_id")
            and v["modify_time"] < bookmarks[ad["advertiser_id"]]
        )
        ad["video_id"] = unused["video_id"]
        emu.clear_requests()
        second = sync(emu, ("ads", "creative_videos"), state=state)
        again = [
            r for r in second.records["creative_videos"] if r["video_id"] == edited["video_id"]
        ]
        assert [r["file_name"] for r in again] == [edited["file_name"]]
        assert (ad["advertiser_id"], unused["video_id"]) in synced(
            second, "creative_videos", "video_id"
        )
        assert len(second.records["creative_videos"]) < len(first.records["creative_videos"])
        by_id = {i for batch in info_ids(emu, "video") for i in batch}
        for record in second.records["creative_videos"]:
            fresh = record["modify_time"] >= bookmarks[record["advertiser_id"]]
            assert fresh or record["video_id"] in by_id, record["video_id"]


def test_a_refused_advertiser_is_skipped_with_one_warning(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    refused, allowed = (a["advertiser_id"] for a in emulator.world.advertisers)
    emulator.library.refuse("/file/video/ad/search/", refused)
    try:
        with caplog.at_level(logging.WARNING):
            run = sync(emulator, ("campaigns", "creative_videos"))
    finally:
        emulator.library.clear_refusals()
    assert {r["advertiser_id"] for r in run.records["creative_videos"]} == {allowed}
    assert {r["advertiser_id"] for r in run.records["campaigns"]} == {refused, allowed}
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "no permission" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert "/file/video/ad/search/" in warnings[0]
    assert refused in warnings[0]
    assert "creative_videos" in warnings[0]


def test_a_refusal_fails_the_run_when_the_stream_is_all_that_was_selected(
    emulator: Emulator,
) -> None:
    refused = emulator.world.advertisers[0]["advertiser_id"]
    emulator.library.refuse("/file/image/ad/search/", refused)
    try:
        with pytest.raises(PermissionRefusedError, match="/file/image/ad/search/") as failure:
            sync(emulator, ("creative_images",))
    finally:
        emulator.library.clear_refusals()
    assert refused in str(failure.value)
    assert "creative_images" in str(failure.value)


def test_image_ids_tiktok_refuses_are_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with Emulator(seed=6, advertisers=1, today=EMULATOR_TODAY) as emu:
        emu.library.search_cap = 2
        thumbnail = "tos-alisg-p-0051/thumbnail-of-an-ads-manager-ad"
        ad = next(a for a in emu.world.ads if not emu.world.is_deleted(a) and a["image_ids"])
        emu.library.images[ad["advertiser_id"]]  # the library as it stands, without it
        ad["image_ids"] = [*ad["image_ids"], thumbnail]
        with caplog.at_level(logging.WARNING):
            run = sync(emu, ("ads", "creative_images"))
        _, images = referenced(run)
        assert images - synced(run, "creative_images", "image_id") == {
            (ad["advertiser_id"], thumbnail)
        }
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len([w for w in warnings if thumbnail in w]) == 1
