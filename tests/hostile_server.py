"""A tiny loopback HTTP server that answers whatever a test scripts: answers TikTok (and the
emulator) never give on purpose, such as a malformed envelope, a body that drips in one byte at
a time, or a gzip bomb."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

API_PREFIX = "/open_api/v1.3"


@dataclass
class Reply:
    """One answer: ``body`` is sent ``chunk`` bytes at a time, ``pause`` seconds apart."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    chunk: int = 0  # 0: all at once
    pause: float = 0.0

    @classmethod
    def envelope(
        cls, data: Any = None, *, code: Any = 0, request_id: Any = "req-hostile-1"
    ) -> Reply:
        body = {"code": code, "message": "OK", "request_id": request_id, "data": data}
        return cls(json.dumps(body).encode())

    @classmethod
    def gzipped(cls, raw: bytes) -> Reply:
        return cls(gzip.compress(raw, compresslevel=1), headers={"Content-Encoding": "gzip"})


@dataclass
class Seen:
    path: str
    params: dict[str, str]


class HostileServer:
    """``answer(path, params)`` -> :class:`Reply`, for paths under ``/open_api/v1.3``."""

    def __init__(self, answer: Callable[[str, dict[str, str]], Reply]) -> None:
        self.answer = answer
        self.seen: list[Seen] = []
        self.stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}{API_PREFIX}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def paths(self) -> list[str]:
        return [seen.path for seen in self.seen]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                path = url.path.removeprefix(API_PREFIX)
                params = dict(parse_qsl(url.query))
                server.seen.append(Seen(path, params))
                self._send(server.answer(path, params))

            def _send(self, reply: Reply) -> None:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    for part in _parts(reply):
                        self.wfile.write(part)
                        self.wfile.flush()
                        if reply.pause and server.stopping.wait(reply.pause):
                            break
                except OSError:  # the client gave up: that is what a slow-drip test wants
                    self.close_connection = True

        return Handler


def _parts(reply: Reply) -> Iterator[bytes]:
    if not reply.chunk:
        yield reply.body
        return
    for start in range(0, len(reply.body), reply.chunk):
        yield reply.body[start : start + reply.chunk]


def page_number(params: dict[str, str]) -> int:
    return int(params.get("page", "1"))


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> bool:
    """Poll ``condition`` until it holds (True) or ``seconds`` pass (False)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False
