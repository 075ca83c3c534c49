"""The emulator's HTTP request handler: routing, query and body parsing, faults, the request log.

API calls get TikTok's envelope (or a fault's transport failure); ``/__emulator/...`` are the
control routes tests use, and ``/portal/auth`` is TikTok's OAuth page, already approved.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from datetime import timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlparse

from tap_tiktok_ads.emulator.answers import ApiError
from tap_tiktok_ads.emulator.faults import CODE_MESSAGES, HTTP_KINDS, PAGING_KINDS

if TYPE_CHECKING:
    from tap_tiktok_ads.emulator.server import Emulator

try:  # msgspec ships with singer-sdk[msgspec]; it encodes large report pages much faster
    import msgspec

    encode: Callable[[Any], bytes] = msgspec.json.encode
except ImportError:  # pragma: no cover

    def encode(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()


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


def handler_for(emu: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(EmulatorHandler):
        emulator = emu

    return Handler


class EmulatorHandler(BaseHTTPRequestHandler):
    emulator: Emulator
    arrived: float  # when the request line of the request being handled was read
    protocol_version = "HTTP/1.1"  # keep-alive, so clients reuse connections

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def parse_request(self) -> bool:
        # TikTok counts a request when it arrives: here its request line has just been read,
        # before this process spends any time on its headers, parameters or other requests.
        self.arrived = self.emulator.qps_limiter.clock()
        return super().parse_request()

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
            # TikTok counts a request as it arrives (parse_request); the latency stands for
            # the time it takes to answer. (Counted after sleeping or parsing, a request would
            # count whenever this machine, busy, got round to it: its own delay, not TikTok's.)
            allowed = emu.qps_limiter.allow(self.arrived)
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
        kept = emu.kept_answer(key) if cacheable and token == emu.access_token else None
        if kept is not None:
            entry["code"] = 0
            emu.record(entry)
            self._send(200, kept, "application/json")
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
            emu.keep_answer(key, body)

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
            self._send(200, encode(emu.requests()), "application/json")
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
            self._send(200, encode({"ids": touched}), "application/json")
        else:
            self._send(404, b"unknown control endpoint", "text/plain")
