"""The creative library, pixels and Business Centers of the emulator's world, and their endpoints.

Everything derives from the world's ads and ad groups through a seeded hash (never the world's
random stream), so a seed's ids, times and budgets stay what they were:

* every video an ad references is in its advertiser's library, and about half the video ads
  carry a cover image (``image_ids``), also in the library; a few library files are unused;
* every fourth video ad uses a re-upload of the previous ad's video (same material, new
  ``video_id``). Like TikTok, ``/file/video/ad/search/`` without ``video_ids`` lists one
  ``video_id`` per material, so the other is reachable only by id (``/file/video/ad/info/``);
* search lists at most ``search_cap`` files (TikTok: the 10,000 most recently modified);
* ``/file/image/ad/info/`` refuses (40002) ids that are not in the library, as TikTok does
  for thumbnails of ads built in Ads Manager; ``/file/video/ad/info/`` leaves them out;
* pixels are the ad groups' ``pixel_id`` values plus one unused pixel per advertiser;
* two Business Centers share the advertisers: even positions in the first, odd ones in the
  second, which also holds the first advertiser as a partner asset.

``refuse(path, advertiser_id)`` makes an endpoint answer TikTok's 40001 permission refusal.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from tap_tiktok_ads.emulator.answers import ApiError
from tap_tiktok_ads.emulator.routes import page_of
from tap_tiktok_ads.emulator.world import World, fmt

if TYPE_CHECKING:
    from tap_tiktok_ads.emulator.server import Emulator

SEARCH_CAP = 10_000
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"  # the creative endpoints' time format
MAX_VIDEO_INFO_IDS = 60
MAX_IMAGE_INFO_IDS = 100
MAX_VIDEO_MATERIAL_IDS = 20
PLACEMENTS = ["PLACEMENT_TIKTOK", "PLACEMENT_PANGLE", "PLACEMENT_GLOBAL_APP_BUNDLE"]
ASSET_TYPES = ("ADVERTISER", "CATALOG", "LEAD", "PIXEL", "STOREFRONT", "TIKTOK_SHOP", "TT_ACCOUNT")
PIXEL_EVENTS = (  # (event_code, event_type / optimization_event, name)
    ("CompletePayment", "SHOPPING", "Purchase"),
    ("AddToCart", "ADD_TO_CART", "Add to cart"),
    ("ViewContent", "PAGE_VIEW", "Product view"),
)


def crc(*parts: object) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


def iso(moment: datetime) -> str:
    return moment.strftime(ISO_UTC)


def parse_utc(text: str) -> datetime:
    """The world's ``YYYY-MM-DD HH:MM:SS`` (UTC); fromisoformat is much faster than strptime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


class PerAdvertiser(dict[str, list[dict[str, Any]]]):
    """Rows per advertiser, built on first use: most runs ask for few of them."""

    def __init__(self, build: Callable[[str], None], lock: threading.RLock) -> None:
        super().__init__()
        self._build = build
        self._lock = lock

    def __missing__(self, advertiser_id: str) -> list[dict[str, Any]]:
        with self._lock:
            if advertiser_id not in self:
                self._build(advertiser_id)
            return dict.__getitem__(self, advertiser_id)


class Library:
    """Creative files, pixels and Business Centers, derived from the world."""

    def __init__(self, world: World, seed: int, search_cap: int = SEARCH_CAP) -> None:
        self.world = world
        self.seed = seed
        self.search_cap = search_cap
        lock = threading.RLock()
        self.videos = PerAdvertiser(self._build_creatives, lock)
        self.images = PerAdvertiser(self._build_creatives, lock)
        self.pixels = PerAdvertiser(self._build_pixels, lock)
        self.business_centers: list[dict[str, Any]] = []
        self.bc_assets: dict[str, list[dict[str, Any]]] = {}
        self._refusals: set[tuple[str, str | None]] = set()
        self._give_covers()  # now: ads are served with their image_ids from the start
        self._build_business_centers()

    # -- permissions ----------------------------------------------------------------------

    def refuse(self, path: str, advertiser_id: str | None = None) -> None:
        """``path`` answers 40001 for that advertiser (every advertiser when None)."""
        self._refusals.add((path, advertiser_id))

    def clear_refusals(self) -> None:
        self._refusals.clear()

    def check_permission(self, path: str, advertiser_id: str | None) -> None:
        if (path, None) in self._refusals or (path, advertiser_id) in self._refusals:
            raise ApiError(40001, f"advertiser does not grant you {path}:GET permission")

    def modify(self, advertiser_id: str, file_id: str, now: datetime) -> dict[str, Any]:
        """Rename a video or image of the advertiser's library at ``now``; return it."""
        for row in (*self.videos[advertiser_id], *self.images[advertiser_id]):
            if file_id in (row.get("video_id"), row.get("image_id")):
                row["file_name"] = f"edited_{row['file_name']}"
                row["modify_time"] = iso(now)
                return row
        raise KeyError(file_id)

    # -- generation -----------------------------------------------------------------------

    def _give_covers(self) -> None:
        """About half the video ads without images get the video's cover image."""
        for ad in self.world.ads:
            video_id = ad.get("video_id")
            if video_id and not ad.get("image_ids") and crc(self.seed, ad["ad_id"], "cover") % 2:
                ad["image_ids"] = [f"ad-site-i18n-sg/{crc(video_id):010d}cover"]

    def _build_creatives(self, advertiser_id: str) -> None:
        videos: list[dict[str, Any]] = []
        images: list[dict[str, Any]] = []
        previous: dict[str, Any] | None = None
        have: set[str] = set()
        for number, ad in enumerate(self.world.rows("ads", advertiser_id)):
            uploaded = parse_utc(ad["create_time"]) - timedelta(hours=1 + crc(ad["ad_id"]) % 48)
            video_id = ad.get("video_id")
            if video_id and video_id not in have:
                reupload = previous if number % 4 == 3 else None
                previous = self._video(video_id, uploaded, reupload)
                videos.append(previous)
                have.add(video_id)
            for image_id in ad.get("image_ids") or []:
                if image_id not in have:
                    images.append(self._image(image_id, uploaded))
                    have.add(image_id)
        created = self.world.now.replace(microsecond=0) - timedelta(days=self.world.history_days)
        for extra in range(2):  # files uploaded but used by no ad
            moment = created + timedelta(days=3 * extra + 1)
            key = crc(self.seed, advertiser_id, extra)
            videos.append(self._video(f"v10033g50000{key % 10**8:08d}x", moment, None))
            images.append(self._image(f"ad-site-i18n-sg/{key:010d}unused", moment))
        dict.__setitem__(self.videos, advertiser_id, videos)
        dict.__setitem__(self.images, advertiser_id, images)

    def _video(
        self, video_id: str, uploaded: datetime, reupload: dict[str, Any] | None
    ) -> dict[str, Any]:
        key = crc(self.seed, video_id)
        material_id = reupload["material_id"] if reupload else str(7_100_000_000 + key)
        modified = min(uploaded + timedelta(minutes=key % 600), self.world.now)
        return {
            "video_id": video_id,
            "material_id": material_id,
            "file_name": f"video_{key % 100000}.mp4",
            "format": "mp4",
            "signature": reupload["signature"] if reupload else f"{key:032x}"[-32:],
            "width": 720 if key % 3 else 1080,
            "height": 1280 if key % 3 else 1920,
            "size": 2_000_000 + key % 30_000_000,
            "duration": round(5 + key % 55 + (key % 100) / 100, 3),
            "bit_rate": 1_500_000 + key % 3_000_000,
            "video_cover_url": f"https://p16-sign.example.com/cover/{video_id}.jpeg",
            "preview_url": f"https://v16.example.com/preview/{video_id}.mp4",
            "preview_url_expire_time": fmt(self.world.now + timedelta(hours=6)),
            "allowed_placements": PLACEMENTS if key % 4 else PLACEMENTS[:1],
            "allow_download": bool(key % 4),
            "displayable": True,
            "create_time": iso(uploaded),
            "modify_time": iso(modified),
        }

    def _image(self, image_id: str, uploaded: datetime) -> dict[str, Any]:
        key = crc(self.seed, image_id)
        return {
            "image_id": image_id,
            "material_id": str(7_200_000_000 + key),
            "file_name": f"image_{key % 100000}.jpg",
            "format": "jpeg",
            "signature": f"{key:032x}"[-32:],
            "width": 720,
            "height": 1280,
            "size": 50_000 + key % 900_000,
            "image_url": f"https://p16-sign.example.com/img/{key}.jpeg",
            "is_carousel_usable": bool(key % 2),
            "displayable": True,
            "create_time": iso(uploaded),
            "modify_time": iso(min(uploaded + timedelta(minutes=key % 90), self.world.now)),
        }

    def _build_pixels(self, advertiser_id: str) -> None:
        advertiser = self.world.by_id["advertisers"][advertiser_id]
        groups = self.world.rows("adgroups", advertiser_id)
        ids = list(dict.fromkeys(g["pixel_id"] for g in groups if g.get("pixel_id")))
        ids.append(f"7{crc(self.seed, advertiser_id, 'pixel') % 10**18:018d}")  # unused
        first = min((parse_utc(g["create_time"]) for g in groups), default=self.world.now)
        pixels = []
        for number, pixel_id in enumerate(ids):
            created = first - timedelta(days=30 - number)
            unused = number == len(ids) - 1
            pixels.append(self._pixel(pixel_id, advertiser, created, unused))
        dict.__setitem__(self.pixels, advertiser_id, pixels)

    def _pixel(
        self, pixel_id: str, advertiser: dict[str, Any], created: datetime, unused: bool
    ) -> dict[str, Any]:
        key = crc(self.seed, pixel_id)
        code = f"C{key:08X}{int(pixel_id) % 10**10:010d}"
        return {
            "pixel_id": pixel_id,
            "pixel_code": code,
            "pixel_name": f"{advertiser['brand']} web pixel {key % 100}",
            "pixel_script": f"<script>ttq.load('{code}');ttq.page();</script>",
            "partner_name": "" if key % 3 else "Shopify",
            "pixel_category": "ONLINE_STORE",
            "pixel_setup_mode": "DEVELOPER",
            "create_time": fmt(created),
            "advanced_matching_fields": {"phone_number": bool(key % 2), "email": True},
            "automatic_advanced_matching_fields": {
                "phone_number": False,
                "email": True,
                "name": False,
                "address": False,
                "external_id": bool(key % 2),
            },
            "enable_first_party_cookies": True,
            "enable_expanded_data_sharing": bool(key % 2),
            "asset_ownership": {
                "asset_relation_status": None,
                "ownership_status": True,
                "owner_bc_id": None,
            },
            # Events refresh every few hours; a fresh or unused pixel lists none yet.
            "events": [] if unused else [self._event(pixel_id, e) for e in PIXEL_EVENTS],
        }

    @staticmethod
    def _event(pixel_id: str, event: tuple[str, str, str]) -> dict[str, Any]:
        code, event_type, name = event
        return {
            "event_id": str(crc(pixel_id, code)),
            "event_code": code,
            "name": name,
            "event_type": event_type,
            "optimization_event": None if event_type == "PAGE_VIEW" else event_type,
            "custom_event_type": None,
            "currency_value": "",
            "currency": "USD",
            "deprecated": False,
            "statistic_type": "EVERY_TIME" if event_type == "SHOPPING" else "ONCE",
            "rules": [
                {
                    "operator": "OPERATORTYPE_CONTAINS",
                    "trigger": "TRIGGERTYPE_PAGEVIEW",
                    "value": f"/{code.lower()}",
                    "variable": "PAGE_PATH",
                }
            ],
        }

    def _build_business_centers(self) -> None:
        advertisers = self.world.advertisers
        members = [advertisers[0::2], [*advertisers[1::2], *advertisers[:1]]]
        for number, (kind, role) in enumerate((("AGENCY", "ADMIN"), ("NORMAL", "STANDARD"))):
            bc_id = f"72{crc(self.seed, 'bc', number) % 10**17:017d}"
            name = f"Emulator {kind.title()} BC {number + 1}"
            self.business_centers.append(
                {
                    "bc_info": {
                        "bc_id": bc_id,
                        "name": name,
                        "company": f"Emulator Media {number + 1} Ltd.",
                        "currency": "USD",
                        "registered_area": "US",
                        "status": "ENABLE",
                        "timezone": "Etc/GMT+8",
                        "type": kind,
                        "organization_type": "ORGANIZATION",
                        "verification_status": "VERIFIED",
                    },
                    "user_role": role,
                    "ext_user_role": {"finance_role": "MANAGER" if role == "ADMIN" else None},
                    "binding_status": None,
                }
            )
            owned = members[number] if number == 0 else members[number][:-1]
            self.bc_assets[bc_id] = [
                _advertiser_asset(a, name, owner=a in owned) for a in members[number]
            ]


def _advertiser_asset(advertiser: dict[str, Any], bc_name: str, owner: bool) -> dict[str, Any]:
    return {
        "asset_id": advertiser["advertiser_id"],
        "asset_name": advertiser["name"],
        "asset_type": "ADVERTISER",
        "advertiser_account_type": advertiser["advertiser_account_type"],
        "advertiser_role": "ADMIN" if owner else "ANALYST",
        "owner_bc_name": bc_name if owner else "Partner BC",
        "relation_type": "OWNER_BC" if owner else "OWNER_PARTNER",
        "relation_status": "BOUND",
        "advertiser_status": advertiser["status"],
    }


# -- endpoints ---------------------------------------------------------------------------------

Route = Callable[["Emulator", dict[str, Any]], Any]


def _advertiser_id(emu: Emulator, params: dict[str, Any], path: str) -> str:
    advertiser_id = emu.check_advertiser(params.get("advertiser_id"))["advertiser_id"]
    emu.library.check_permission(path, advertiser_id)
    return str(advertiser_id)


def _filtering(params: dict[str, Any]) -> dict[str, Any]:
    value = params.get("filtering") or {}
    if not isinstance(value, dict):
        raise ApiError(40002, "filtering: must be a JSON object")
    return value


def _ids(value: Any, name: str, cap: int, required: bool = False) -> list[str] | None:
    if value is None and not required:
        return None
    if isinstance(value, str):  # a top-level query parameter: TikTok reads it as JSON
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ApiError(40002, f"{name}: Field must be set to array") from None
    if not isinstance(value, list) or (required and not value):
        raise ApiError(40002, f"{name}: Field must be set to array")
    if len(value) > cap:
        raise ApiError(40002, f"{name}: at most {cap} ids per request")
    return [str(v) for v in value]


def _search(kind: str, id_key: str, material_cap: int) -> Route:
    path = f"/file/{kind}/ad/search/"

    def handler(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
        advertiser_id = _advertiser_id(emu, params, path)
        library: Library = emu.library
        files = (library.videos if kind == "video" else library.images)[advertiser_id]
        filtering = _filtering(params)
        ids = _ids(filtering.get(f"{kind}_ids"), f"filtering.{kind}_ids", 100)
        materials = _ids(filtering.get("material_ids"), "filtering.material_ids", material_cap)
        name = str(filtering.get(f"{kind}_name") or "").lower()
        rows = [
            f
            for f in files
            if (ids is None or f[id_key] in ids)
            and (materials is None or f["material_id"] in materials)
            and name in f["file_name"].lower()
        ]
        rows.sort(key=lambda f: (f["modify_time"], f[id_key]), reverse=True)
        if ids is None:  # one id per uploaded material: the most recently modified
            rows = _one_per_material(rows)
        return page_of(rows[: library.search_cap], params, 100)

    return handler


def _one_per_material(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    unique = []
    for row in rows:
        if row["material_id"] not in seen:
            seen.add(row["material_id"])
            unique.append(row)
    return unique


def _info(kind: str, id_key: str, cap: int) -> Route:
    path = f"/file/{kind}/ad/info/"

    def handler(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
        advertiser_id = _advertiser_id(emu, params, path)
        library: Library = emu.library
        files = (library.videos if kind == "video" else library.images)[advertiser_id]
        wanted = _ids(params.get(f"{kind}_ids"), f"{kind}_ids", cap, required=True) or []
        by_id = {f[id_key]: f for f in files}
        unknown = [i for i in wanted if i not in by_id]
        if unknown and kind == "image":  # e.g. thumbnails of Ads Manager ads: refused
            raise ApiError(40002, f"image_ids: {unknown[0]} is not in the asset library")
        # Video ids TikTok cannot use are left out of the answer.
        return {"list": [by_id[i] for i in dict.fromkeys(wanted) if i in by_id]}

    return handler


def pixel_list(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    advertiser_id = _advertiser_id(emu, params, "/pixel/list/")
    pixels = list(emu.library.pixels[advertiser_id])
    if params.get("pixel_id"):
        pixels = [p for p in pixels if p["pixel_id"] == str(params["pixel_id"])]
    if params.get("code"):
        pixels = [p for p in pixels if p["pixel_code"] == str(params["code"])]
    order = params.get("order_by") or "EARLIEST_CREATE"
    if order not in ("EARLIEST_CREATE", "LATEST_CREATE"):
        raise ApiError(40002, "order_by: must be EARLIEST_CREATE or LATEST_CREATE")
    pixels.sort(key=lambda p: (p["create_time"], p["pixel_id"]), reverse=order == "LATEST_CREATE")
    data = page_of(pixels, params, 20)
    return {"pixels": data.pop("list"), **data}


def bc_get(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    emu.library.check_permission("/bc/get/", None)
    centers = emu.library.business_centers
    if params.get("bc_id"):
        centers = [c for c in centers if c["bc_info"]["bc_id"] == str(params["bc_id"])]
    return page_of(centers, params, 50)


def bc_asset_get(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    emu.library.check_permission("/bc/asset/get/", None)
    bc_id = str(params.get("bc_id") or "")
    asset_type = params.get("asset_type")
    if not bc_id or not asset_type:
        raise ApiError(40002, "Missing required field(s): bc_id, asset_type")
    if asset_type not in ASSET_TYPES:
        raise ApiError(40002, f"asset_type: invalid value {asset_type!r}")
    if bc_id not in emu.library.bc_assets:
        raise ApiError(40001, f"No permission to operate Business Center {bc_id}.")
    assets = emu.library.bc_assets[bc_id] if asset_type == "ADVERTISER" else []
    return page_of(assets, params, 50)


LIBRARY_ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/file/video/ad/search/"): _search("video", "video_id", MAX_VIDEO_MATERIAL_IDS),
    ("GET", "/file/image/ad/search/"): _search("image", "image_id", 100),
    ("GET", "/file/video/ad/info/"): _info("video", "video_id", MAX_VIDEO_INFO_IDS),
    ("GET", "/file/image/ad/info/"): _info("image", "image_id", MAX_IMAGE_INFO_IDS),
    ("GET", "/pixel/list/"): pixel_list,
    ("GET", "/bc/get/"): bc_get,
    ("GET", "/bc/asset/get/"): bc_asset_get,
}
