"""Secrets never leave: not through redirects, a crafted api_url, tracebacks or config errors.

Every server here listens on a loopback address. The "other host" a hostile answer points at is
127.0.0.2, a second loopback address, which records what it is sent.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tap_tiktok_ads.auth import exchange_code
from tap_tiktok_ads.client import FatalAPIError, TikTokClient

TOKEN = "tok-9f8e7d6c5b4a-secret"
APP_SECRET = "app-1a2b3c4d5e6f-secret"
AUTH_CODE = "code-5e6f7a8b9c0d-secret"
BIN = Path(sys.executable).parent


class Recorder:
    """A loopback HTTP server that answers every request with ``answer`` and keeps a log."""

    def __init__(self, host: str, answer: Any) -> None:
        self.received: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                recorder.received.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, headers, payload = answer(self)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def text(self) -> str:
        return json.dumps(self.received)


def ok_envelope(_: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
    body = {"code": 0, "message": "OK", "request_id": "r1", "data": {"access_token": TOKEN}}
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


@pytest.fixture
def elsewhere() -> Iterator[Recorder]:
    """The other host a redirect points at: a second loopback address."""
    with Recorder("127.0.0.2", ok_envelope) as server:
        yield server


def redirecting_to(target: Recorder, status: int) -> Any:
    def answer(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        return status, {"Location": f"{target.url}{handler.path}"}, b""

    return answer


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_host_is_refused_without_sending_the_token(
    elsewhere: Recorder, status: int
) -> None:
    with Recorder("127.0.0.1", redirecting_to(elsewhere, status)) as api:
        client = TikTokClient(access_token=TOKEN, api_url=f"{api.url}/open_api/v1.3")
        with pytest.raises(FatalAPIError) as caught:
            client.get("/campaign/get/", {"advertiser_id": "1"})
    assert elsewhere.received == []
    assert len(api.received) == 1  # refused at once, not retried
    message = str(caught.value)
    assert "/campaign/get/" in message
    assert f"redirect to {elsewhere.url}/open_api/v1.3/campaign/get/ refused" in message
    assert "\n" not in message


def test_the_oauth_exchange_does_not_resend_the_secret_on_a_307(elsewhere: Recorder) -> None:
    with (
        Recorder("127.0.0.1", redirecting_to(elsewhere, 307)) as api,
        pytest.raises(FatalAPIError) as caught,
    ):
        exchange_code("app-1", APP_SECRET, AUTH_CODE, f"{api.url}/open_api/v1.3")
    assert elsewhere.received == []
    assert "/oauth2/access_token/" in str(caught.value)
    assert APP_SECRET in api.text()  # the first host got the request it was sent...
    assert APP_SECRET not in str(caught.value)  # ...and the error does not repeat it


def test_a_redirect_location_carrying_a_secret_is_shown_masked(elsewhere: Recorder) -> None:
    def answer(_: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        return 302, {"Location": f"{elsewhere.url}/{TOKEN}/x?secret={APP_SECRET}"}, b""

    with Recorder("127.0.0.1", answer) as api:
        client = TikTokClient(
            access_token=TOKEN, api_url=f"{api.url}/open_api/v1.3", extra_secrets=(APP_SECRET,)
        )
        with pytest.raises(FatalAPIError) as caught:
            client.get("/oauth2/advertiser/get/", {"app_id": "1", "secret": APP_SECRET})
    assert TOKEN not in str(caught.value)
    assert APP_SECRET not in str(caught.value)
    assert elsewhere.received == []
