"""The emulator's HTTP server: TikTok's envelope, auth, paging, OAuth and a request log."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

from tap_tiktok_ads.emulator.faults import CODE_MESSAGES, HTTP_KINDS, Faults, QpsLimiter, Script
from tap_tiktok_ads.emulator.reports import ReportEngine, ReportError
from tap_tiktok_ads.emulator.world import TIME_FORMAT, World, parse_time

try:  # msgspec ships with singer-sdk[msgspec]; it encodes large report pages much faster
    import msgspec

    _encode: Callable[[Any], bytes] = msgspec.json.encode
except ImportError:  # pragma: no cover

    def _encode(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()


API_PREFIX = "/open_api/v1.3"
CONTROL_PREFIX = "/__emulator"
JSON_PARAMS = (
    "fields",
    "filtering",
    "advertiser_ids",
    "custom_audience_ids",
    "dimensions",
    "metrics",
)
SECRET_PARAMS = ("secret", "auth_code", "access_token", "code")
AUTH_CODE_LIFETIME = timedelta(hours=1)


class ApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Emulator:
    """A loopback TikTok Business API. Use as a context manager or call start()/stop()."""

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
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._now = now or (
            datetime(today.year, today.month, today.day, 12, tzinfo=timezone.utc) if today else None
        )
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
        self.reports = ReportEngine(self.world, seed)
        self.access_token = access_token
        self.app_id = app_id
        self.secret = secret
        self.latency_ms = latency_ms
        self.qps_limiter = QpsLimiter(qps)
        self.faults = faults or Faults()
        self.script = Script()
        self.too_large_days = too_large_days
        self.forbidden_advertisers = set(forbidden_advertisers)
        # Encoded answers of successful GETs by URL: lets benchmarks measure the tap, not us.
        self.response_cache_size = response_cache
        self._responses: OrderedDict[tuple[str, str, datetime], bytes] = OrderedDict()
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._codes: dict[str, tuple[datetime, bool]] = {}
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{API_PREFIX}"

    @property
    def root_url(self) -> str:
        return self.base_url.removesuffix(API_PREFIX)

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- clock, data and log --------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self._now or datetime.now(timezone.utc)

    def set_now(self, moment: datetime) -> None:
        self._now = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

    def set_today(self, day: date) -> None:
        self.set_now(datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc))

    def touch(self, kind: str, count: int = 1) -> list[str]:
        touched = self.world.touch(kind, count, self.now)
        self.world.index()
        return touched

    def fail_next(self, path: str, kind: str, times: int = 1) -> None:
        self.script.add(_normalise(path), kind, times)

    def issue_auth_code(self) -> str:
        code = secrets.token_hex(16)
        self._codes[code] = (self.now, False)
        return code

    def requests(self) -> list[dict[str, Any]]:
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
        if "faults" in settings:
            self.faults = Faults(
                rates=dict(settings["faults"] or {}), seed=int(settings.get("fault_seed", 0))
            )
        if "too_large_days" in settings:
            self.too_large_days = settings["too_large_days"]

    # -- API ------------------------------------------------------------------------------

    def answer(self, method: str, path: str, params: dict[str, Any], token: str | None) -> Any:
        """The ``data`` of a successful call, or ApiError."""
        route = ROUTES.get((method, path))
        if route is None:
            raise LookupError(path)
        if path not in NO_TOKEN_PATHS:
            if not token:
                raise ApiError(
                    40104,
                    "Access token is null, you should set it in http header with key Access-Token.",
                )
            if token != self.access_token:
                raise ApiError(40105, "The access token is invalid or has been revoked.") from None
        return route(self, params)

    def check_advertiser(self, advertiser_id: Any) -> dict[str, Any]:
        if not advertiser_id:
            raise ApiError(40002, "Missing required field(s): advertiser_id")
        advertiser = self.world.advertiser(str(advertiser_id))
        if advertiser is None or str(advertiser_id) in self.forbidden_advertisers:
            raise ApiError(40001, f"No permission to operate advertiser {advertiser_id}.")
        return advertiser


# -- route handlers ----------------------------------------------------------------------------


def _page(rows: list[dict[str, Any]], params: dict[str, Any], cap: int) -> dict[str, Any]:
    try:
        page = int(params.get("page", 1))
        page_size = int(params.get("page_size", 10))
    except (TypeError, ValueError):
        raise ApiError(40002, "page and page_size must be integers") from None
    if page < 1:
        raise ApiError(40002, "page: must be >= 1")
    if not 1 <= page_size <= cap:
        raise ApiError(40002, f"page_size: must be between 1 and {cap}")
    chunk = rows[(page - 1) * page_size : page * page_size]
    return {
        "list": chunk,
        "page_info": {
            "page": page,
            "page_size": page_size,
            "total_number": len(rows),
            "total_page": (len(rows) + page_size - 1) // page_size,
        },
    }


def _select(row: dict[str, Any], fields: Any) -> dict[str, Any]:
    if not fields:
        return dict(row)
    return {name: row[name] for name in fields if name in row}


def _user_info(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "display_name": "Emulator User",
        "email": "user@example.com",
        "core_user_id": "1",
        "create_time": 1600000000,
        "avatar_url": None,
    }


def _advertiser_info(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    ids = params.get("advertiser_ids")
    if not isinstance(ids, list) or not ids:
        raise ApiError(40002, "Missing required field(s): advertiser_ids")
    if len(ids) > 100:
        raise ApiError(40002, "advertiser_ids: at most 100 ids per request")
    rows = [emu.check_advertiser(advertiser_id) for advertiser_id in ids]
    return {"list": [_select(row, params.get("fields")) for row in rows]}


def _authorized_advertisers(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    _check_app(emu, params)
    return {
        "list": [
            {"advertiser_id": a["advertiser_id"], "advertiser_name": a["name"]}
            for a in emu.world.advertisers
        ]
    }


def _check_app(emu: Emulator, params: dict[str, Any]) -> None:
    if str(params.get("app_id")) != emu.app_id:
        raise ApiError(40101, "Invalid app_id.")
    if str(params.get("secret")) != emu.secret:
        raise ApiError(40113, "The app_id and secret do not match.")


def _access_token(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    _check_app(emu, params)
    code = str(params.get("auth_code") or "")
    issued = emu._codes.get(code)
    if issued is None or issued[1] or emu.now - issued[0] > AUTH_CODE_LIFETIME:
        raise ApiError(40110, "The auth_code is invalid, expired or already used.")
    emu._codes[code] = (issued[0], True)
    return {
        "access_token": emu.access_token,
        "advertiser_ids": [a["advertiser_id"] for a in emu.world.advertisers],
        "scope": [4, 5, 6],
    }


def _entities(kind: str, id_key: str, status_prefix: str, sort_desc: bool = False) -> Any:
    def handler(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
        advertiser = emu.check_advertiser(params.get("advertiser_id"))
        filtering = params.get("filtering") or {}
        if not isinstance(filtering, dict):
            raise ApiError(40002, "filtering: must be an object")
        rows = [
            r
            for r in emu.world.rows(kind, advertiser["advertiser_id"])
            if _matches(r, filtering, emu.world.is_deleted(r), status_prefix, kind)
        ]
        rows.sort(key=lambda r: r[id_key], reverse=sort_desc)
        data = _page(rows, params, 1000)
        data["list"] = [_select(row, params.get("fields")) for row in data["list"]]
        return data

    return handler


def _matches(
    row: dict[str, Any], filtering: dict[str, Any], deleted: bool, prefix: str, kind: str
) -> bool:
    primary = filtering.get("primary_status", "STATUS_NOT_DELETE")
    secondary = str(filtering.get("secondary_status", ""))
    if secondary.endswith("_STATUS_ALL"):
        primary = "STATUS_ALL"
    elif secondary.endswith("_STATUS_DELETE"):
        primary = "STATUS_DELETE"
    if primary == "STATUS_NOT_DELETE" and deleted:
        return False
    if primary == "STATUS_DELETE" and not deleted:
        return False
    for key in ("campaign_ids", "adgroup_ids", "ad_ids"):
        wanted = filtering.get(key)
        if wanted and row.get(key[:-1]) not in {str(i) for i in wanted}:
            return False
    modified_after = filtering.get("modified_after")
    if modified_after and kind == "ads":  # TikTok filters modification time only on ads
        moment = row.get("modify_time") or row["create_time"]
        try:
            if parse_time(moment) < parse_time(str(modified_after)):
                return False
        except ValueError:
            raise ApiError(40002, f"modified_after: use {TIME_FORMAT}") from None
    return True


def _audience_list(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    advertiser = emu.check_advertiser(params.get("advertiser_id"))
    rows = [
        {k: v for k, v in a.items() if k != "advertiser_id"}
        for a in emu.world.audiences
        if a["advertiser_id"] == advertiser["advertiser_id"]
    ]
    wanted = params.get("custom_audience_ids")
    if wanted:
        rows = [r for r in rows if r["audience_id"] in {str(i) for i in wanted}]
    return _page(rows, params, 100)


def _audience_get(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    advertiser = emu.check_advertiser(params.get("advertiser_id"))
    ids = params.get("custom_audience_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise ApiError(40002, "custom_audience_ids: between 1 and 100 ids are required")
    history_size = int(params.get("history_size", 100))
    if not 1 <= history_size <= 100:
        raise ApiError(40002, "history_size: must be between 1 and 100")
    by_id = {
        a["audience_id"]: a
        for a in emu.world.audiences
        if a["advertiser_id"] == advertiser["advertiser_id"]
    }
    out = []
    for audience_id in ids:
        audience = by_id.get(str(audience_id))
        if audience is None:
            raise ApiError(40007, f"Custom audience {audience_id} does not exist.")
        details = {k: v for k, v in audience.items() if k != "advertiser_id"}
        details["type"] = details.pop("audience_type")
        history = emu.world.audience_history.get(audience["audience_id"], [])
        out.append({"audience_details": details, "audience_history": history[:history_size]})
    return {"list": out}


def _report(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    emu.check_advertiser(params.get("advertiser_id"))
    if emu.too_large_days and params.get("start_date") and params.get("end_date"):
        span = (
            date.fromisoformat(str(params["end_date"]))
            - date.fromisoformat(str(params["start_date"]))
        ).days + 1
        if span > emu.too_large_days:
            raise ApiError(40067, CODE_MESSAGES[40067])
    try:
        return emu.reports.query(params, emu.now)
    except ReportError as error:
        raise ApiError(error.code, error.message) from None


ROUTES: dict[tuple[str, str], Callable[[Emulator, dict[str, Any]], Any]] = {
    ("GET", "/user/info/"): _user_info,
    ("GET", "/advertiser/info/"): _advertiser_info,
    ("GET", "/oauth2/advertiser/get/"): _authorized_advertisers,
    ("POST", "/oauth2/access_token/"): _access_token,
    ("GET", "/campaign/get/"): _entities("campaigns", "campaign_id", "CAMPAIGN", sort_desc=True),
    ("GET", "/adgroup/get/"): _entities("adgroups", "adgroup_id", "ADGROUP"),
    ("GET", "/ad/get/"): _entities("ads", "ad_id", "AD"),
    ("GET", "/dmp/custom_audience/list/"): _audience_list,
    ("GET", "/dmp/custom_audience/get/"): _audience_get,
    ("GET", "/report/integrated/get/"): _report,
}
NO_TOKEN_PATHS = {"/oauth2/access_token/"}


# -- HTTP plumbing -----------------------------------------------------------------------------


def _normalise(path: str) -> str:
    path = path.removeprefix(API_PREFIX)
    return path if path.endswith("/") else f"{path}/"


def _decode_params(query: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in JSON_PARAMS or value[:1] in ("[", "{"):
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError:
                raise ApiError(40002, f"{key}: is not valid JSON") from None
        elif value in ("true", "false"):
            params[key] = value == "true"
        else:
            params[key] = value
    return params


def _redacted(params: dict[str, Any]) -> dict[str, Any]:
    return {k: ("***" if k in SECRET_PARAMS else v) for k, v in params.items()}


def _handler_for(emu: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, so clients reuse connections

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without this, Nagle's algorithm and the
            # client's delayed ACK add 40 ms to every keep-alive response.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args: Any) -> None:  # quiet: tests and benchmarks read stdout
            pass

        def date_time_string(self, timestamp: float | None = None) -> str:
            return format_datetime(emu.now.astimezone(timezone.utc), usegmt=True)

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

        def _dispatch(self, method: str) -> None:
            url = urlparse(self.path)
            if url.path.startswith(CONTROL_PREFIX):
                self._control(method, url.path.removeprefix(CONTROL_PREFIX))
            elif url.path.rstrip("/") == "/portal/auth":
                self._portal(url.query)
            elif url.path.startswith(API_PREFIX):
                self._api(method, _normalise(url.path), url.query)
            else:
                self._send_raw(404, b"page not found", "text/plain")

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw:
                return {}
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                raise ApiError(40002, "request body is not valid JSON") from None
            return body if isinstance(body, dict) else {}

        def _api(self, method: str, path: str, query: str) -> None:
            started = time.time()
            entry: dict[str, Any] = {
                "time": started,
                "method": method,
                "path": path,
                "params": {},
                "advertiser_id": None,
                "code": None,
                "http_status": 200,
            }
            fault = emu.script.take(path) or emu.faults.draw(path)
            try:
                params = _decode_params(query)
                if method == "POST":
                    params.update(self._body())
                entry["params"] = _redacted(params)
                entry["advertiser_id"] = params.get("advertiser_id")
                if emu.latency_ms:
                    time.sleep(emu.latency_ms / 1000)
                if not emu.qps_limiter.allow():
                    raise ApiError(40100, CODE_MESSAGES[40100]) from None
                if fault and self._transport_fault(fault, entry):
                    return
                cache_key = (path, query, emu.now)
                cached = emu._responses.get(cache_key) if method == "GET" and not fault else None
                token_ok = self.headers.get("Access-Token") == emu.access_token
                if cached is not None and token_ok:
                    entry["code"] = 0
                    emu.record(entry)
                    self._send_raw(200, cached, "application/json")
                    return
                data = emu.answer(method, path, params, self.headers.get("Access-Token"))
                if emu.response_cache_size and method == "GET" and not fault:
                    body = _encode(
                        {
                            "code": 0,
                            "message": "OK",
                            "request_id": secrets.token_hex(10),
                            "data": data,
                        }
                    )
                    emu._responses[cache_key] = body
                    while len(emu._responses) > emu.response_cache_size:
                        emu._responses.popitem(last=False)
                    entry["code"] = 0
                    emu.record(entry)
                    self._send_raw(200, body, "application/json")
                    return
                if fault == "empty_page" and isinstance(data, dict) and "page_info" in data:
                    entry["fault"] = fault
                    data = {**data, "list": []}
                self._send_envelope(0, "OK", data, entry)
            except ApiError as error:
                self._send_envelope(error.code, error.message, {}, entry)
            except LookupError:
                entry["http_status"] = 404
                emu.record(entry)
                self._send_raw(404, b"page not found", "text/plain")

        def _transport_fault(self, fault: str, entry: dict[str, Any]) -> bool:
            """Apply a fault; True when the response has been dealt with."""
            if fault == "empty_page":
                return False  # applied to the answer itself
            if fault.isdigit():
                if fault == "40067" and entry["path"] != "/report/integrated/get/":
                    return False
                raise ApiError(int(fault), CODE_MESSAGES[int(fault)]) from None
            entry["fault"] = fault
            if fault in HTTP_KINDS:
                entry["http_status"] = HTTP_KINDS[fault]
                emu.record(entry)
                self._send_raw(HTTP_KINDS[fault], b"<html>Bad Gateway</html>", "text/html")
                return True
            if fault == "timeout":
                time.sleep(emu.faults.timeout_seconds)
                return False
            emu.record(entry)
            if fault == "drop":
                self.close_connection = True
                self.connection.close()
            elif fault == "not_json":
                self._send_raw(200, b"<html><body>upstream error</body></html>", "text/html")
            else:  # truncated: promise the whole body, send half, hang up
                body = _encode({"code": 0, "message": "OK", "request_id": "x", "data": {}}) * 4
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
            return True

        def _send_envelope(self, code: int, message: str, data: Any, entry: dict[str, Any]) -> None:
            entry["code"] = code
            emu.record(entry)
            body = _encode(
                {
                    "code": code,
                    "message": message,
                    "request_id": secrets.token_hex(10),
                    "data": data,
                }
            )
            self._send_raw(200, body, "application/json")

        def _send_raw(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _portal(self, query: str) -> None:
            params = dict(parse_qsl(query))
            redirect = params.get("redirect_uri")
            if params.get("app_id") != emu.app_id or not redirect:
                self._send_raw(400, b"invalid app_id or redirect_uri", "text/plain")
                return
            code = emu.issue_auth_code()
            query = {"auth_code": code, "code": code, "state": params.get("state", "")}
            target = f"{redirect}?{urlencode(query)}"
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _control(self, method: str, path: str) -> None:
            if path == "/requests" and method == "GET":
                self._send_raw(200, _encode(emu.requests()), "application/json")
            elif path == "/requests" and method == "DELETE":
                emu.clear_requests()
                self._send_raw(200, b"{}", "application/json")
            elif path == "/config" and method == "POST":
                emu.configure(self._body())
                self._send_raw(200, b"{}", "application/json")
            elif path == "/touch" and method == "POST":
                body = self._body()
                touched = emu.touch(str(body.get("kind")), int(body.get("count", 1)))
                self._send_raw(200, _encode({"ids": touched}), "application/json")
            else:
                self._send_raw(404, b"unknown control endpoint", "text/plain")

    return Handler
