"""The emulator's HTTP server: TikTok's envelope, auth, faults, a request log and control routes.

Every API answer is HTTP 200 with ``{"code", "message", "request_id", "data"}`` unless a
transport fault says otherwise. The endpoints themselves live in ``routes.py``.
"""

from __future__ import annotations

import itertools
import json
import secrets
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

from tap_tiktok_ads.emulator.answers import ApiError
from tap_tiktok_ads.emulator.faults import (
    CODE_MESSAGES,
    HTTP_KINDS,
    PAGING_KINDS,
    Faults,
    QpsLimiter,
    Script,
)
from tap_tiktok_ads.emulator.library import LIBRARY_ROUTES, Library
from tap_tiktok_ads.emulator.reports import AD_CAP, ReportEngine
from tap_tiktok_ads.emulator.routes import (
    AUTH_CODE_LIFETIME,
    NO_TOKEN_PATHS,
    ROUTES,
)
from tap_tiktok_ads.emulator.world import World

try:  # msgspec ships with singer-sdk[msgspec]; it encodes large report pages much faster
    import msgspec

    _encode: Callable[[Any], bytes] = msgspec.json.encode
except ImportError:  # pragma: no cover

    def _encode(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()


__all__ = ["API_PREFIX", "ApiError", "Emulator"]

API_PREFIX = "/open_api/v1.3"
CONTROL_PREFIX = "/__emulator"
REPORT_PATH = "/report/integrated/get/"
# Query parameters TikTok takes as JSON-encoded strings.
JSON_PARAMS = frozenset(
    {
        "fields",
        "filtering",
        "advertiser_ids",
        "custom_audience_ids",
        "dimensions",
        "metrics",
        "exclude_field_types_in_response",
    }
)
SECRET_PARAMS = frozenset({"secret", "auth_code", "access_token", "code"})
# Longest request line (method, URL, version) the front end accepts; longer ones get HTTP 414,
# as TikTok's front end may answer a report that asks for every metric at once.
MAX_REQUEST_LINE = 8 * 1024
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
        self._responses: OrderedDict[tuple[str, str, datetime], bytes] = OrderedDict()
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._codes: dict[str, tuple[datetime, bool]] = {}
        self._codes_lock = threading.Lock()
        self._request_ids = itertools.count(1)
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
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
        return _encode(
            {"code": code, "message": message, "request_id": self.request_id(), "data": data}
        )


# -- helpers -----------------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)


def normalise(path: str) -> str:
    """``/open_api/v1.3/user/info`` -> ``/user/info/``"""
    path = path.removeprefix(API_PREFIX)
    return path if path.endswith("/") else f"{path}/"


def decode_params(query: str) -> dict[str, Any]:
    """Query parameters with TikTok's JSON-encoded ones decoded; bad JSON is 40002."""
    params: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in JSON_PARAMS:
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError:
                raise ApiError(40002, f"{key}: is not valid JSON") from None
        elif value in ("true", "false"):
            params[key] = value == "true"
        else:
            params[key] = value
    return params


def redacted(params: dict[str, Any]) -> dict[str, Any]:
    return {k: ("***" if k in SECRET_PARAMS else v) for k, v in params.items()}


def _log_entry(method: str, path: str) -> dict[str, Any]:
    return {
        "time": time.time(),
        "method": method,
        "path": path,
        "params": {},
        "advertiser_id": None,
        "code": None,
        "http_status": 200,
    }


def _handler_for(emu: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(EmulatorHandler):
        emulator = emu

    return Handler


class EmulatorHandler(BaseHTTPRequestHandler):
    emulator: Emulator
    protocol_version = "HTTP/1.1"  # keep-alive, so clients reuse connections

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: Any) -> None:  # quiet: tests and benchmarks read stdout
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        return format_datetime(self.emulator.now.astimezone(timezone.utc), usegmt=True)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlparse(self.path)
        if len(self.requestline) > MAX_REQUEST_LINE:
            self._refuse_long_request(method, url.path)
        elif url.path.startswith(CONTROL_PREFIX):
            self._control(method, url.path.removeprefix(CONTROL_PREFIX))
        elif url.path.rstrip("/") == "/portal/auth":
            self._portal(url.query)
        elif url.path.startswith(f"{API_PREFIX}/"):
            self._api(method, normalise(url.path), url.query)
        else:
            self._send(404, b"page not found", "text/plain")

    def _refuse_long_request(self, method: str, path: str) -> None:
        """HTTP 414 from the front end: no envelope, nothing parsed (logged for tests)."""
        entry = _log_entry(method, normalise(path))
        entry["http_status"] = 414
        self.emulator.record(entry)
        self._send(414, b"<html><body>414 Request-URI Too Large</body></html>", "text/html")

    # -- API requests ---------------------------------------------------------------------

    def _api(self, method: str, path: str, query: str) -> None:
        emu = self.emulator
        entry = _log_entry(method, path)
        fault = emu.next_fault(path)
        try:
            params = self._params(method, query)
            entry["params"] = redacted(params)
            advertiser_id = params.get("advertiser_id")
            entry["advertiser_id"] = None if advertiser_id is None else str(advertiser_id)
            # TikTok counts a request as it arrives; the latency stands for the time it takes
            # to answer. (Counted after sleeping, a request would count whenever this
            # machine, busy, woke the thread up: its own delay, not TikTok's.)
            allowed = emu.qps_limiter.allow()
            if emu.latency_ms:
                time.sleep(emu.latency_ms / 1000)
            if not allowed:
                raise ApiError(40100, CODE_MESSAGES[40100])
            if fault and self._fault(fault, entry):
                return
            self._answer(method, path, query, params, fault, entry)
        except ApiError as error:
            self._send_envelope(error.code, error.message, {}, entry)
        except LookupError:
            entry["http_status"] = 404
            emu.record(entry)
            self._send(404, b"page not found", "text/plain")

    def _params(self, method: str, query: str) -> dict[str, Any]:
        params = decode_params(query)
        if method == "POST":
            params.update(self._body())
        return params

    def _answer(
        self,
        method: str,
        path: str,
        query: str,
        params: dict[str, Any],
        fault: str | None,
        entry: dict[str, Any],
    ) -> None:
        emu = self.emulator
        token = self.headers.get("Access-Token")
        cacheable = bool(emu.response_cache_size) and method == "GET" and not fault
        key = (path, query, emu.now)
        if cacheable and token == emu.access_token and key in emu._responses:
            entry["code"] = 0
            emu.record(entry)
            self._send(200, emu._responses[key], "application/json")
            return
        data = emu.answer(method, path, params, token)
        headers = getattr(data, "headers", None) or {}  # kept when a fault copies `data`
        if fault in PAGING_KINDS and isinstance(data, dict) and "page_info" in data:
            entry["fault"] = fault
            if fault == "empty_page":
                data = {**data, "list": []}
            else:
                data = {**data, "page_info": {**data["page_info"], "total_page": 10**9}}
        if fault == "slow_body":
            entry["fault"] = fault
        body = self._send_envelope(0, "OK", data, entry, headers, slow=fault == "slow_body")
        if cacheable and not headers:
            emu._responses[key] = body
            while len(emu._responses) > emu.response_cache_size:
                emu._responses.popitem(last=False)

    def _fault(self, fault: str, entry: dict[str, Any]) -> bool:
        """Apply a fault; True when the response has been dealt with."""
        if fault in (*PAGING_KINDS, "slow_body") or (
            fault == "40067" and entry["path"] != REPORT_PATH
        ):
            return False  # these change the answer; 40067 exists for reports only
        if fault.isdigit():
            raise ApiError(int(fault), CODE_MESSAGES[int(fault)])
        entry["fault"] = fault
        if fault == "timeout":
            time.sleep(self.emulator.faults.timeout_seconds)
            return False
        entry["http_status"] = HTTP_KINDS.get(fault, 200)
        self.emulator.record(entry)
        if fault in HTTP_KINDS:
            self._send(HTTP_KINDS[fault], b"<html>Bad Gateway</html>", "text/html")
        elif fault == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fault == "not_json":
            self._send(200, b"<html><body>upstream error</body></html>", "text/html")
        else:  # truncated: promise the whole body, send half, hang up
            self._send_truncated(self.emulator.envelope(0, "OK", {"list": [], "page_info": {}}))
        return True

    def _send_truncated(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.close_connection = True

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            raise ApiError(40002, "The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError(40002, "The request body must be a JSON object")
        return body

    def _send_envelope(
        self,
        code: int,
        message: str,
        data: Any,
        entry: dict[str, Any],
        headers: dict[str, str] | None = None,
        *,
        slow: bool = False,
    ) -> bytes:
        entry["code"] = code
        if headers:
            entry["headers"] = dict(headers)
        self.emulator.record(entry)
        body = self.emulator.envelope(code, message, data)
        if slow:
            self._send_slowly(body)
        else:
            self._send(200, body, "application/json", headers)
        return body

    def _send_slowly(self, body: bytes, pieces: int = 20) -> None:
        """The whole answer, in ``pieces`` writes spread over the fault's timeout."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        size = -(-len(body) // pieces)
        pause = self.emulator.faults.timeout_seconds / pieces
        try:
            for start in range(0, len(body), size):
                self.wfile.write(body[start : start + size])
                self.wfile.flush()
                time.sleep(pause)
        except OSError:  # the client gave up waiting
            self.close_connection = True

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    # -- OAuth portal and control routes --------------------------------------------------

    def _portal(self, query: str) -> None:
        """TikTok's authorisation page, already approved: 302 to the redirect with a code."""
        params = dict(parse_qsl(query))
        redirect = params.get("redirect_uri")
        if params.get("app_id") != self.emulator.app_id or not redirect:
            self._send(400, b"invalid app_id or redirect_uri", "text/plain")
            return
        code = self.emulator.issue_auth_code()
        answer = {"auth_code": code, "code": code, "state": params.get("state", "")}
        separator = "&" if "?" in redirect else "?"
        self.send_response(302)
        self.send_header("Location", f"{redirect}{separator}{urlencode(answer)}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _control(self, method: str, path: str) -> None:
        emu = self.emulator
        try:
            body = self._body() if method == "POST" else {}
        except ApiError as error:
            self._send(400, error.message.encode(), "text/plain")
            return
        if (method, path) == ("GET", "/requests"):
            self._send(200, _encode(emu.requests()), "application/json")
        elif (method, path) == ("DELETE", "/requests"):
            emu.clear_requests()
            self._send(200, b"{}", "application/json")
        elif (method, path) == ("POST", "/config"):
            emu.configure(body)
            self._send(200, b"{}", "application/json")
        elif (method, path) == ("POST", "/touch"):
            try:
                touched = emu.touch(str(body.get("kind")), int(body.get("count", 1)))
            except ValueError as error:
                self._send(400, str(error).encode(), "text/plain")
                return
            self._send(200, _encode({"ids": touched}), "application/json")
        else:
            self._send(404, b"unknown control endpoint", "text/plain")
