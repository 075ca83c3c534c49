"""The emulator's HTTP server: TikTok's envelope, auth, faults, a request log and control routes.

Every API answer is HTTP 200 with ``{"code", "message", "request_id", "data"}`` unless a
transport fault says otherwise. The endpoints themselves live in ``routes.py``, and requests
are read and answered by ``handler.py``.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections import OrderedDict
from datetime import date, datetime, timezone
from http.server import ThreadingHTTPServer
from typing import Any

from tap_tiktok_ads.emulator.answers import ApiError
from tap_tiktok_ads.emulator.faults import (
    Faults,
    QpsLimiter,
    Script,
)
from tap_tiktok_ads.emulator.handler import API_PREFIX, encode, handler_for, normalise
from tap_tiktok_ads.emulator.library import LIBRARY_ROUTES, Library
from tap_tiktok_ads.emulator.reports import AD_CAP, ReportEngine
from tap_tiktok_ads.emulator.routes import (
    AUTH_CODE_LIFETIME,
    NO_TOKEN_PATHS,
    ROUTES,
)
from tap_tiktok_ads.emulator.world import World

# An answer kept for benchmarks: its path, its query string and the emulator's clock.
AnswerKey = tuple[str, str, datetime]

__all__ = ["API_PREFIX", "ApiError", "Emulator"]

MISSING_TOKEN = "Access token is null, you should set it in http header with key Access-Token."
INVALID_TOKEN = "The access token is invalid or has been revoked."


class Emulator:
    """A loopback TikTok Business API. Use as a context manager or call start()/stop().

    Sizes are per parent: ``campaigns`` per advertiser, ``adgroups`` per campaign, ``ads`` per
    ad group, ``audiences`` per advertiser. ``today`` pins the clock at that date's 12:00 UTC;
    ``now`` pins it exactly; with neither, the clock is the real one.
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        advertisers: int = 3,
        campaigns: int = 4,
        adgroups: int = 2,
        ads: int = 3,
        audiences: int = 5,
        history_days: int = 60,
        today: date | None = None,
        now: datetime | None = None,
        access_token: str = "emulator-token",
        app_id: str = "emulator-app",
        secret: str = "emulator-secret",
        latency_ms: float = 0,
        qps: float | None = None,
        faults: Faults | None = None,
        too_large_days: int | None = None,
        forbidden_advertisers: tuple[str, ...] | list[str] = (),
        response_cache: int = 0,
        ad_cap: int = AD_CAP,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._now = _aware(now) if now else (_noon(today) if today else None)
        self.world = World(
            seed=seed,
            advertisers_count=advertisers,
            campaigns_per_advertiser=campaigns,
            adgroups_per_campaign=adgroups,
            ads_per_adgroup=ads,
            audiences_per_advertiser=audiences,
            history_days=history_days,
            now=self.now,
        )
        self.library = Library(self.world, seed)  # creatives, pixels, Business Centers
        self.reports = ReportEngine(self.world, seed, ad_cap=ad_cap)
        self.access_token = access_token
        self.app_id = app_id
        self.secret = secret
        self.latency_ms = latency_ms
        self.qps_limiter = QpsLimiter(qps)
        self.faults = faults or Faults()
        self.script = Script()
        self.too_large_days = too_large_days
        self.forbidden_advertisers = {str(i) for i in forbidden_advertisers}
        # Encoded answers of successful GETs by URL: lets benchmarks measure the tap, not us.
        self.response_cache_size = response_cache
        self._responses: OrderedDict[AnswerKey, bytes] = OrderedDict()
        self._responses_lock = threading.Lock()
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._codes: dict[str, tuple[datetime, bool]] = {}
        self._codes_lock = threading.Lock()
        self._request_ids = itertools.count(1)
        self._server = ThreadingHTTPServer((host, port), handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/open_api/v1.3``"""
        return f"{self.root_url}{API_PREFIX}"

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``, where ``/portal/auth`` lives."""
        # The bound socket's address (server_address is typed as possibly bytes; it never is).
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        # A short poll interval: stop() waits for it, and tests start many emulators.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits forever on a server never started
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- kept answers -----------------------------------------------------------------------

    def kept_answer(self, key: AnswerKey) -> bytes | None:
        """The encoded answer kept for ``key`` (path, query, clock), if any."""
        with self._responses_lock:
            return self._responses.get(key)

    def keep_answer(self, key: AnswerKey, body: bytes) -> None:
        """Keep an encoded answer, dropping the oldest beyond ``response_cache_size``."""
        with self._responses_lock:
            self._responses[key] = body
            while len(self._responses) > self.response_cache_size:
                self._responses.popitem(last=False)

    # -- clock, data, scripted faults -----------------------------------------------------

    @property
    def now(self) -> datetime:
        return self._now or datetime.now(timezone.utc)

    def set_now(self, moment: datetime) -> None:
        self._now = _aware(moment)

    def set_today(self, day: date) -> None:
        self.set_now(_noon(day))

    def touch(self, kind: str, count: int = 1, buying_type: str | None = None) -> list[str]:
        """Modify ``count`` live entities of ``kind`` (campaign, adgroup, ad) per advertiser,
        of ``buying_type`` only when given."""
        if kind not in ("campaign", "adgroup", "ad_group", "ad"):
            raise ValueError(f"touch: unknown kind {kind!r}")
        with self._responses_lock:
            self._responses.clear()
        return self.world.touch(kind, count, self.now, buying_type)

    def fail_next(self, path: str, kind: str, times: int = 1) -> None:
        """The next ``times`` requests to ``path`` fail with ``kind``, before random faults."""
        self.script.add(normalise(path), kind, times)

    def issue_auth_code(self) -> str:
        """An OAuth ``auth_code``: valid one hour on the emulator's clock, usable once."""
        code = secrets.token_hex(16)
        with self._codes_lock:
            self._codes[code] = (self.now, False)
        return code

    def redeem_auth_code(self, code: str) -> None:
        with self._codes_lock:
            issued, used = self._codes.get(code, (None, True))
            if issued is None or used or self.now - issued > AUTH_CODE_LIFETIME:
                raise ApiError(40110, "The auth_code is invalid, expired or already used.")
            self._codes[code] = (issued, True)

    # -- request log ----------------------------------------------------------------------

    def requests(self) -> list[dict[str, Any]]:
        """A snapshot of the request log (API routes only; secrets shown as ``***``)."""
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    def record(self, entry: dict[str, Any]) -> None:
        with self._log_lock:
            self._log.append(entry)

    def configure(self, settings: dict[str, Any]) -> None:
        """Runtime changes, also reachable as ``POST /__emulator/config``."""
        if "now" in settings:
            self.set_now(datetime.fromisoformat(str(settings["now"]).replace("Z", "+00:00")))
        if "today" in settings:
            self.set_today(date.fromisoformat(str(settings["today"])))
        if "latency_ms" in settings:
            self.latency_ms = float(settings["latency_ms"] or 0)
        if "qps" in settings:
            self.qps_limiter = QpsLimiter(settings["qps"])
        if "faults" in settings or "fault_seed" in settings:
            rates = settings.get("faults", self.faults.rates) or {}
            self.faults = Faults(rates=dict(rates), seed=int(settings.get("fault_seed", 0)))
        if "too_large_days" in settings:
            self.too_large_days = settings["too_large_days"]
        if "ad_cap" in settings:
            self.reports.ad_cap = int(settings["ad_cap"] or AD_CAP)

    # -- API ------------------------------------------------------------------------------

    def answer(self, method: str, path: str, params: dict[str, Any], token: str | None) -> Any:
        """The ``data`` of a successful call; raises ApiError, or LookupError for no route."""
        route = ROUTES.get((method, path)) or LIBRARY_ROUTES.get((method, path))
        if route is None:
            raise LookupError(path)
        if path not in NO_TOKEN_PATHS:
            if not token:
                raise ApiError(40104, MISSING_TOKEN)
            if token != self.access_token:
                raise ApiError(40105, INVALID_TOKEN)
        return route(self, params)

    def check_advertiser(self, advertiser_id: Any) -> dict[str, Any]:
        """The advertiser the token may read, or 40002 (missing) / 40001 (no permission)."""
        if not advertiser_id:
            raise ApiError(40002, "Missing required field(s): advertiser_id")
        advertiser = self.world.advertiser(str(advertiser_id))
        if advertiser is None or str(advertiser_id) in self.forbidden_advertisers:
            raise ApiError(
                40001, f"No permission to operate advertiser {advertiser_id} with this token."
            )
        return advertiser

    def next_fault(self, path: str) -> str | None:
        return self.script.take(path) or self.faults.draw(path)

    def request_id(self) -> str:
        """Unique and ordered, like TikTok's timestamp-prefixed ids."""
        return f"{self.now:%Y%m%d%H%M%S}{next(self._request_ids):012d}"

    def envelope(self, code: int, message: str, data: Any) -> bytes:
        return encode(
            {"code": code, "message": message, "request_id": self.request_id(), "data": data}
        )


# -- helpers -----------------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
