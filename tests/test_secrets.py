"""Secrets never leave: not through redirects, a crafted api_url, tracebacks or config errors.

Every server here listens on a loopback address. The "other host" a hostile answer points at is
127.0.0.2, a second loopback address, which records what it is sent.
"""

from __future__ import annotations

import errno
import functools
import io
import json
import logging
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.logging import ConsoleFormatter, StructuredFormatter

from tap_tiktok_ads import auth as auth_module
from tap_tiktok_ads.auth import exchange_code
from tap_tiktok_ads.client import TikTokClient
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.errors import RefusedAPIError
from tap_tiktok_ads.redaction import register_secrets
from tests.conftest import EMULATOR_TODAY, TEST_SECRETS

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
        with pytest.raises(RefusedAPIError) as caught:
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
        pytest.raises(RefusedAPIError) as caught,
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
        with pytest.raises(RefusedAPIError) as caught:
            client.get("/oauth2/advertiser/get/", {"app_id": "1", "secret": APP_SECRET})
    assert TOKEN not in str(caught.value)
    assert APP_SECRET not in str(caught.value)
    assert elsewhere.received == []


# -- one redaction for log lines and tracebacks, whatever the formatter -------------------------


@pytest.mark.parametrize("formatter", [ConsoleFormatter(), StructuredFormatter()])
def test_a_logged_traceback_is_redacted_for_every_formatter(formatter: logging.Formatter) -> None:
    """A chained exception (as requests raises) names a URL that carries the app secret."""
    register_secrets(APP_SECRET)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("tap-tiktok-ads.redaction-test")
    logger.addHandler(handler)
    try:
        try:
            try:
                raise ConnectionError(f"Max retries exceeded with url: /x?secret={APP_SECRET}")
            except ConnectionError as cause:
                raise RefusedAPIError(
                    "connection failed", endpoint="/oauth2/advertiser/get/"
                ) from cause
        except RefusedAPIError as error:
            logger.exception("%s (token %s)", error, APP_SECRET)
    finally:
        logger.removeHandler(handler)
    shown = stream.getvalue()
    assert "Max retries exceeded" in shown  # the traceback is there...
    assert "secret=***" in shown
    assert APP_SECRET not in shown  # ...without the secret, in the message or the traceback


# -- the CLIs as users run them ---------------------------------------------------------------

ALL_SECRETS = (TOKEN, APP_SECRET, AUTH_CODE, *TEST_SECRETS)
DEBUG_ENV = {"TAP_TIKTOK_ADS_DEBUG": "1", "TAP_TIKTOK_ADS_LOGLEVEL": "debug"}
MODES = ("plain", "debug", "meltano-debug")


def flags_for(mode: str, tmp_path: Path) -> dict[str, str]:
    """Environment of a run: plain, TAP_TIKTOK_ADS_DEBUG with debug logs, or `meltano
    --log-level debug`, which hands the tap a logging config (root at DEBUG, JSON lines)."""
    if mode == "plain":
        return {}
    if mode == "debug":
        return DEBUG_ENV
    logging_config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"singer": {"()": "singer_sdk.logging.StructuredFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "singer",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["console"], "level": "DEBUG"},
    }
    path = tmp_path / "logging.yml"
    path.write_text(json.dumps(logging_config))  # JSON is YAML
    return {"TAP_TIKTOK_ADS_DEBUG": "1", "SINGER_SDK_LOG_CONFIG": str(path)}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(
        seed=31, advertisers=2, today=EMULATOR_TODAY, access_token=TOKEN, secret=APP_SECRET
    ) as emulator:
        yield emulator


def config_for(emu: Emulator, **overrides: Any) -> dict[str, Any]:
    return {
        "access_token": TOKEN,
        "api_url": emu.base_url,
        "advertiser_ids": [a["advertiser_id"] for a in emu.world.advertisers],
        "date": "2026-11-19",
        "max_requests_per_second": 1000,
        **overrides,
    }


def tap(
    tmp_path: Path, config: dict[str, Any], *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [str(BIN / "tap-tiktok-ads"), "--config", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def auth(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "tap-tiktok-ads-auth"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TIKTOK_APP_SECRET": APP_SECRET, **(env or {})},
    )


def leaked(*outputs: str) -> list[str]:
    return [secret for secret in ALL_SECRETS for output in outputs if secret in output]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "ERROR" in line]


def dead_port() -> int:
    """A loopback port nothing listens on: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_crafted_api_url_is_refused_before_any_connection(
    elsewhere: Recorder, emu: Emulator, tmp_path: Path
) -> None:
    """urlparse sees 127.0.0.1 in this URL; requests connects to 127.0.0.2, in clear text."""
    crafted = f"http://127.0.0.2:{elsewhere.port}\\@{emu.root_url[7:]}/open_api/v1.3"
    result = tap(tmp_path, config_for(emu, api_url=crafted))
    assert result.returncode == 1
    assert "api_url" in error_lines(result.stderr)[0]
    assert elsewhere.received == []

    helper = auth("--api-url", crafted, "exchange", "--app-id", "1", "--auth-code", AUTH_CODE)
    assert helper.returncode == 1
    assert "api_url" in helper.stderr
    assert elsewhere.received == []
    assert not leaked(result.stdout, result.stderr, helper.stdout, helper.stderr)


@pytest.mark.parametrize("mode", MODES)
def test_a_failed_advertiser_listing_never_shows_the_app_secret(tmp_path: Path, mode: str) -> None:
    """The connection error names the request URL, whose query carries the app secret."""
    config = {
        "access_token": TOKEN,
        "app_id": "7000000001",
        "secret": APP_SECRET,
        "api_url": f"http://127.0.0.1:{dead_port()}/open_api/v1.3",
        "date": "2026-11-19",
        "max_retries": 0,
    }
    result = tap(tmp_path, config, env=flags_for(mode, tmp_path))
    assert result.returncode == 1
    assert "/oauth2/advertiser/get/" in result.stderr
    assert not leaked(result.stdout, result.stderr)
    debug = mode != "plain"
    assert ("Traceback" in result.stderr) is debug
    assert ("secret=***" in result.stderr) is debug  # the URL in the traceback, masked


def test_the_oauth_helper_traceback_is_redacted_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process, without the helper's retries (the failure is the same on each try)."""
    monkeypatch.setattr(auth_module, "TikTokClient", functools.partial(TikTokClient, max_tries=1))
    for name, value in {**DEBUG_ENV, "TAP_TIKTOK_ADS_ACCESS_TOKEN": TOKEN}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TIKTOK_APP_SECRET", APP_SECRET)
    api_url = f"http://127.0.0.1:{dead_port()}/open_api/v1.3"
    with pytest.raises(SystemExit) as exit_:
        auth_module.main(["--api-url", api_url, "advertisers", "--app-id", "7000000001"])
    assert exit_.value.code == 1
    out, err = capsys.readouterr()
    assert "Traceback" in err
    assert "/oauth2/advertiser/get/" in err
    assert not leaked(out, err)


@pytest.mark.parametrize("mode", MODES)
def test_syncs_and_discovery_in_debug_mode_never_print_a_secret(
    emu: Emulator, tmp_path: Path, mode: str
) -> None:
    """The secret scan of whole runs, including TAP_TIKTOK_ADS_DEBUG and debug log level."""
    config = config_for(emu, app_id=emu.app_id, secret=APP_SECRET)
    del config["advertiser_ids"]  # every authorized advertiser: the secret travels in a query
    flags = flags_for(mode, tmp_path)
    discovered = tap(tmp_path, config, "--discover", env=flags)
    assert discovered.returncode == 0, discovered.stderr[-2000:]
    catalog = select(json.loads(discovered.stdout), "advertisers", "campaigns")
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    synced = tap(tmp_path, config, "--catalog", str(tmp_path / "catalog.json"), env=flags)
    assert synced.returncode == 0, synced.stderr[-2000:]
    assert '"RECORD"' in synced.stdout
    if mode != "plain":
        assert "| DEBUG " in synced.stderr or '"level":"debug"' in synced.stderr
        assert "/oauth2/advertiser/get/" in synced.stderr  # urllib3 logged the URL...
    assert not leaked(discovered.stdout, discovered.stderr, synced.stdout, synced.stderr)


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"secret": 990011223344}, "secret"),
        ({"access_token": [TOKEN]}, "access_token"),
        ({"access_token": f"{TOKEN}\nX"}, "access_token"),
        ({"access_token": f"{TOKEN}ü"}, "access_token"),
    ],
)
def test_a_mistyped_secret_is_named_never_shown(
    emu: Emulator, tmp_path: Path, overrides: dict, setting: str
) -> None:
    """In debug mode, which prints the most (tracebacks, every log line)."""
    emu.clear_requests()
    result = tap(tmp_path, config_for(emu, **overrides), env=DEBUG_ENV)
    assert result.returncode == 1
    assert error_lines(result.stderr)[0].split("| ")[-1].startswith(f"{setting}: ")
    assert "990011223344" not in result.stderr
    assert not leaked(result.stdout, result.stderr)
    assert emu.requests() == []


def test_an_invalid_custom_report_is_refused_before_any_request_with_a_catalog(
    emu: Emulator, tmp_path: Path
) -> None:
    catalog: dict[str, list[Any]] = {"streams": []}
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    emu.clear_requests()
    custom = [{"name": "abc\n", "data_level": "ad"}]
    result = tap(
        tmp_path,
        config_for(emu, custom_reports=custom),
        "--catalog",
        str(tmp_path / "catalog.json"),
    )
    assert result.returncode == 1
    assert "custom_reports: [0].name" in error_lines(result.stderr)[0]
    assert emu.requests() == []


def select(catalog: dict[str, Any], *streams: str) -> dict[str, Any]:
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if not item["breadcrumb"]:
                item["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def test_settings_from_environment_variables(emu: Emulator, tmp_path: Path) -> None:
    """`--config ENV`: numbers with decimals, and one advertiser id, as users export them."""
    first = emu.world.advertisers[0]["advertiser_id"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_ADS_")} | {
        "TAP_TIKTOK_ADS_ACCESS_TOKEN": TOKEN,
        "TAP_TIKTOK_ADS_API_URL": emu.base_url,
        "TAP_TIKTOK_ADS_DATE": "2026-11-19",
        "TAP_TIKTOK_ADS_ADVERTISER_IDS": first,
        "TAP_TIKTOK_ADS_REQUEST_TIMEOUT": "30.5",
        "TAP_TIKTOK_ADS_MAX_REQUESTS_PER_SECOND": "500.5",
        "TAP_TIKTOK_ADS_RETRY_BACKOFF_SECONDS": "0.5",
    }
    command = [str(BIN / "tap-tiktok-ads"), "--config", "ENV"]

    def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *args], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
        )

    discovered = run("--discover", env=env)
    assert discovered.returncode == 0, discovered.stderr[-2000:]
    catalog = select(json.loads(discovered.stdout), "advertisers")
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    synced = run("--catalog", str(tmp_path / "catalog.json"), env=env)
    assert synced.returncode == 0, synced.stderr[-2000:]
    records = [json.loads(line) for line in synced.stdout.splitlines() if '"RECORD"' in line]
    assert [r["record"]["advertiser_id"] for r in records] == [first]

    broken = run(env={**env, "TAP_TIKTOK_ADS_MAX_RETRIES": "two"})
    assert broken.returncode == 1
    assert error_lines(broken.stderr)[0].split("| ")[-1].startswith("max_retries: ")
    assert "Traceback" not in broken.stderr


# -- the OAuth helper: the single-use auth code is never wasted ---------------------------------


def exchange(api_url: str, app_id: str, code: str, *options: str) -> Any:
    """``tap-tiktok-ads-auth exchange`` in-process; its exit code."""
    argv = ["--api-url", api_url, "exchange", "--app-id", app_id, "--auth-code", code, *options]
    with pytest.raises(SystemExit) as exit_:
        auth_module.main(argv)
    return exit_.value.code


def exchanges(emu: Emulator) -> int:
    return sum(r["path"] == "/oauth2/access_token/" for r in emu.requests())


def bad_targets(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "invalid.json").write_text("{not json")
    (tmp_path / "array.json").write_text("[1, 2]")
    (tmp_path / "folder.json").mkdir()
    real = tmp_path / "real.json"
    real.write_text('{"keep": true}')
    (tmp_path / "link.json").symlink_to(real)
    return {
        "invalid JSON": tmp_path / "invalid.json",
        "a JSON array": tmp_path / "array.json",
        "a directory": tmp_path / "folder.json",
        "a symbolic link": tmp_path / "link.json",
        "a missing folder": tmp_path / "nowhere" / "config.json",
    }


def test_a_bad_write_config_target_is_refused_before_the_code_is_spent(
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TIKTOK_APP_SECRET", APP_SECRET)
    code = emu.issue_auth_code()
    emu.clear_requests()
    for kind, target in bad_targets(tmp_path).items():
        status = exchange(emu.base_url, emu.app_id, code, "--write-config", str(target))
        _, err = capsys.readouterr()
        assert status == 1, kind
        assert err.startswith("tap-tiktok-ads-auth: --write-config: "), kind
        assert len(err.splitlines()) == 1, kind
    assert exchanges(emu) == 0
    assert (tmp_path / "real.json").read_text() == '{"keep": true}'  # the link was not followed

    # The code is still good: the user fixes the path and tries again.
    good = tmp_path / "good.json"
    status = exchange(emu.base_url, emu.app_id, code, "--write-config", str(good))
    assert status == 0
    assert json.loads(good.read_text())["access_token"] == TOKEN
    assert stat.S_IMODE(good.stat().st_mode) == 0o600


def test_an_existing_config_keeps_its_other_settings(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIKTOK_APP_SECRET", APP_SECRET)
    target = tmp_path / "tiktok.json"
    target.write_text(json.dumps({"start_date": "2026-01-01", "access_token": "old-token"}))
    status = exchange(
        emu.base_url, emu.app_id, emu.issue_auth_code(), "--write-config", str(target)
    )
    assert status == 0
    written = json.loads(target.read_text())
    assert written["start_date"] == "2026-01-01"
    assert written["access_token"] == TOKEN
    assert [p.name for p in tmp_path.iterdir()] == ["tiktok.json"]  # no temporary file left


def test_when_writing_fails_after_the_exchange_the_token_is_printed(
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def disk_full(*args: Any, **kwargs: Any) -> tuple[int, str]:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setenv("TIKTOK_APP_SECRET", APP_SECRET)
    monkeypatch.setattr(tempfile, "mkstemp", disk_full)
    target = tmp_path / "tiktok.json"
    status = exchange(
        emu.base_url, emu.app_id, emu.issue_auth_code(), "--write-config", str(target)
    )
    out, err = capsys.readouterr()
    assert status == 1
    assert "No space left on device" in out
    assert f"TAP_TIKTOK_ADS_ACCESS_TOKEN={TOKEN}" in out.splitlines()  # on the terminal...
    assert TOKEN not in err  # ...never in an error stream or a log
    assert not target.exists()


def test_an_exchange_answer_without_a_token_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_token(_: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        body = {"code": 0, "message": "OK", "request_id": "r9", "data": {"scope": [1]}}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    monkeypatch.setenv("TIKTOK_APP_SECRET", APP_SECRET)
    with Recorder("127.0.0.1", no_token) as api:
        status = exchange(f"{api.url}/open_api/v1.3", "1", AUTH_CODE, "--print-env")
    out, err = capsys.readouterr()
    assert status == 1
    assert "/oauth2/access_token/" in err
    assert "no access_token" in err
    assert "Traceback" not in err
    assert not leaked(out, err)


def test_listen_times_out_even_when_a_client_holds_an_idle_connection() -> None:
    port = dead_port()
    redirect = f"http://127.0.0.1:{port}/callback"
    command = ["listen", "--app-id", "1", "--redirect-uri", redirect, "--timeout", "1"]
    process = subprocess.Popen(
        [str(BIN / "tap-tiktok-ads-auth"), *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TIKTOK_APP_SECRET": APP_SECRET},
    )
    idle = socket.socket()
    try:
        assert process.stdout is not None
        process.stdout.readline()  # the authorization URL: the listener comes up next
        for _ in range(500):
            try:
                idle.connect(("127.0.0.1", port))
                break
            except ConnectionRefusedError:
                if process.poll() is not None:
                    break
                threading.Event().wait(0.01)
        _, err = process.communicate(timeout=60)  # a hang guard, not a speed check
    finally:
        idle.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 1
    assert "no redirect arrived" in err


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "config.json was not found"),
        (f'{{"access_token": "{TOKEN}", ', "config.json is not valid JSON (Expecting"),
        ('{"request_timeout": NaN}', "config.json is not valid JSON (NaN is not a JSON value"),
        (f'["{TOKEN}"]', "config.json must hold a JSON object"),
        ("[1]", "config.json must hold a JSON object"),
    ],
)
def test_an_unreadable_config_file_is_one_line(
    tmp_path: Path, content: str | None, needle: str
) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    result = subprocess.run(
        [str(BIN / "tap-tiktok-ads"), "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **DEBUG_ENV},
    )
    assert result.returncode == 1
    assert error_lines(result.stderr)[0].split("| ")[-1].startswith("--config: ")
    assert needle in error_lines(result.stderr)[0]
    assert not leaked(result.stdout, result.stderr)
