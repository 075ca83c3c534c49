"""The emulator's creative library, pixel and Business Center endpoints over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tap_tiktok_ads.emulator import Emulator
from tests.conftest import EMULATOR_TODAY
from tests.emulator.helpers import advertiser, call, data

VIDEO_SEARCH = "/file/video/ad/search/"
IMAGE_SEARCH = "/file/image/ad/search/"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(seed=13, advertisers=3, today=EMULATOR_TODAY) as emulator:
        yield emulator


def every_row(emu: Emulator, path: str, **params: object) -> list[dict]:
    rows: list[dict] = []
    page = 1
    while True:
        answer = data(emu, path, page=page, page_size=100, **params)
        rows += answer["list"]
        if page >= answer["page_info"]["total_page"]:
            return rows
        page += 1


def test_every_video_and_image_an_ad_uses_is_in_the_library(emu: Emulator) -> None:
    for index in range(3):
        library = emu.library
        ads = emu.world.rows("ads", advertiser(emu, index))
        videos = {v["video_id"] for v in library.videos[advertiser(emu, index)]}
        images = {i["image_id"] for i in library.images[advertiser(emu, index)]}
        assert {ad["video_id"] for ad in ads} <= videos
        used_images = {i for ad in ads for i in ad["image_ids"]}
        assert used_images
        assert used_images <= images


def test_search_lists_one_video_per_material_newest_first(emu: Emulator) -> None:
    rows = every_row(emu, VIDEO_SEARCH, advertiser_id=advertiser(emu))
    materials = [row["material_id"] for row in rows]
    assert len(materials) == len(set(materials))
    library = emu.library.videos[advertiser(emu)]
    assert len(rows) < len(library)  # re-uploads hide behind their material
    times = [row["modify_time"] for row in rows]
    assert times == sorted(times, reverse=True)
    assert all(t.endswith("Z") and "T" in t for t in times)
    hidden = [v["video_id"] for v in library if v["video_id"] not in {r["video_id"] for r in rows}]
    by_id = data(emu, VIDEO_SEARCH, advertiser_id=advertiser(emu), filtering={"video_ids": hidden})
    assert {row["video_id"] for row in by_id["list"]} == set(hidden)


def test_search_is_capped_like_tiktok(emu: Emulator) -> None:
    emu.library.search_cap = 4
    try:
        answer = data(emu, IMAGE_SEARCH, advertiser_id=advertiser(emu), page_size=100)
    finally:
        emu.library.search_cap = 10_000
    assert answer["page_info"]["total_number"] == 4
    assert len(answer["list"]) == 4


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (VIDEO_SEARCH, {"page_size": 101}),
        (IMAGE_SEARCH, {"page_size": 0}),
        (VIDEO_SEARCH, {"filtering": {"material_ids": [str(i) for i in range(21)]}}),
        ("/file/video/ad/info/", {"video_ids": [f"v{i}" for i in range(61)]}),
        ("/file/image/ad/info/", {"image_ids": [f"i{i}" for i in range(101)]}),
        ("/file/image/ad/info/", {}),
        ("/pixel/list/", {"page_size": 21}),
        ("/pixel/list/", {"order_by": "NEWEST"}),
    ],
)
def test_tiktoks_limits_are_40002(emu: Emulator, path: str, params: dict) -> None:
    assert call(emu, path, advertiser_id=advertiser(emu), **params)["code"] == 40002


def test_info_returns_the_files_asked_for_and_drops_or_refuses_unknown_ids(emu: Emulator) -> None:
    videos = emu.library.videos[advertiser(emu)][:3]
    ids = [v["video_id"] for v in videos]
    answer = data(
        emu, "/file/video/ad/info/", advertiser_id=advertiser(emu), video_ids=[*ids, "v0"]
    )
    assert answer["list"] == videos
    images = [i["image_id"] for i in emu.library.images[advertiser(emu)][:2]]
    refused = call(
        emu, "/file/image/ad/info/", advertiser_id=advertiser(emu), image_ids=[*images, "x"]
    )
    assert refused["code"] == 40002
    assert "x" in refused["message"]


def test_pixels_page_under_their_own_key(emu: Emulator) -> None:
    answer = data(emu, "/pixel/list/", advertiser_id=advertiser(emu), page_size=2)
    assert "list" not in answer
    assert len(answer["pixels"]) == 2
    assert answer["page_info"]["total_number"] == len(emu.library.pixels[advertiser(emu)])
    latest = data(emu, "/pixel/list/", advertiser_id=advertiser(emu), order_by="LATEST_CREATE")
    times = [p["create_time"] for p in latest["pixels"]]
    assert times == sorted(times, reverse=True)


def test_business_centers_and_their_advertiser_assets(emu: Emulator) -> None:
    centers = data(emu, "/bc/get/", page_size=50)["list"]
    assert len(centers) == 2
    assets = [
        data(emu, "/bc/asset/get/", bc_id=c["bc_info"]["bc_id"], asset_type="ADVERTISER")["list"]
        for c in centers
    ]
    ids = [{a["asset_id"] for a in listed} for listed in assets]
    assert ids[0] == {advertiser(emu, 0), advertiser(emu, 2)}
    assert ids[1] == {advertiser(emu, 1), advertiser(emu, 0)}
    assert call(emu, "/bc/get/", page_size=51)["code"] == 40002
    assert call(emu, "/bc/asset/get/", bc_id="7", asset_type="ADVERTISER")["code"] == 40001
    assert call(emu, "/bc/asset/get/", bc_id=centers[0]["bc_info"]["bc_id"])["code"] == 40002


def test_refused_endpoints_answer_tiktoks_permission_error(emu: Emulator) -> None:
    emu.library.refuse("/pixel/list/", advertiser(emu, 1))
    try:
        refused = call(emu, "/pixel/list/", advertiser_id=advertiser(emu, 1))
        allowed = call(emu, "/pixel/list/", advertiser_id=advertiser(emu, 0))
    finally:
        emu.library.clear_refusals()
    assert refused["code"] == 40001
    assert refused["message"] == "advertiser does not grant you /pixel/list/:GET permission"
    assert allowed["code"] == 0
