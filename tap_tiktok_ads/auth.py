"""``tap-tiktok-ads-auth``: get a long-lived access token through TikTok's OAuth flow.

The user authorizes the app in a browser; TikTok redirects to the app's redirect URI with an
``auth_code`` (valid one hour, single use), which ``/oauth2/access_token/`` exchanges for a
token and the advertisers it covers. The app secret is read from an environment variable or a
prompt, never from the command line (where ``ps`` shows it), and is never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import secrets
import stat
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from tap_tiktok_ads.client import PRODUCTION_API_URL, TikTokClient
from tap_tiktok_ads.errors import DEBUG_ENV, ConfigError, RefusedAPIError, TapTikTokAdsError
from tap_tiktok_ads.redaction import redact, redacted_traceback, register_secrets
from tap_tiktok_ads.settings import resolve_api_url

PORTAL_URL = "https://business-api.tiktok.com/portal/auth"
SECRET_ENV = "TIKTOK_APP_SECRET"
TOKEN_ENV = "TAP_TIKTOK_ADS_ACCESS_TOKEN"
EXCHANGE_PATH = "/oauth2/access_token/"
OPTION = "--write-config"


@dataclass(frozen=True)
class Grant:
    access_token: str
    advertiser_ids: tuple[str, ...]


def authorization_url(app_id: str, redirect_uri: str, state: str, portal: str = PORTAL_URL) -> str:
    query = urlencode({"app_id": app_id, "state": state, "redirect_uri": redirect_uri})
    return f"{portal}?{query}"


def wait_for_redirect(redirect_uri: str, state: str, timeout: float = 300) -> str:
    """Serve the loopback redirect URI once; return the auth code if ``state`` matches."""
    parsed = urlparse(redirect_uri)
    if parsed.scheme != "http" or parsed.hostname not in ("127.0.0.1", "localhost"):
        raise ConfigError("redirect_uri", "listening needs an http://127.0.0.1:PORT/... URI")
    received: dict[str, list[str]] = {}
    deadline = time.monotonic() + timeout

    class Handler(BaseHTTPRequestHandler):
        def setup(self) -> None:
            super().setup()
            # A connection that sends nothing must not hold the listener past the deadline.
            self.connection.settimeout(max(0.01, deadline - time.monotonic()))

        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            if not query:  # e.g. the browser asking for /favicon.ico
                self.send_error(404)
                return
            received.update(query)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write(b"tap-tiktok-ads: authorization received, you can close this tab.")

        def log_message(self, *args: Any) -> None:  # the query holds the code: keep it quiet
            pass

    with HTTPServer((parsed.hostname, parsed.port or 80), Handler) as server:
        while not received and (left := deadline - time.monotonic()) > 0:
            server.timeout = left
            server.handle_request()
    if not received:
        raise ConfigError("redirect_uri", f"no redirect arrived within {timeout:.0f}s")
    if received.get("state", [""])[0] != state:
        raise ConfigError("state", "the redirect's state does not match; start again")
    code = (received.get("auth_code") or received.get("code") or [""])[0]
    if not code:
        raise ConfigError("auth_code", "the redirect carried no auth_code")
    return code


def exchange_code(app_id: str, secret: str, auth_code: str, api_url: str) -> Grant:
    client = TikTokClient(access_token="", api_url=api_url, extra_secrets=(secret, auth_code))
    data = client.post(EXCHANGE_PATH, {"app_id": app_id, "secret": secret, "auth_code": auth_code})
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token.strip():
        raise RefusedAPIError(
            "the answer holds no access_token (the auth code is spent: authorize again)",
            endpoint=EXCHANGE_PATH,
        )
    register_secrets(token)
    ids = data.get("advertiser_ids")
    ids = tuple(str(i) for i in ids) if isinstance(ids, list) else ()
    return Grant(access_token=token.strip(), advertiser_ids=ids)


def list_advertisers(
    app_id: str, secret: str, access_token: str, api_url: str
) -> list[dict[str, Any]]:
    client = TikTokClient(access_token=access_token, api_url=api_url, extra_secrets=(secret,))
    data = client.get("/oauth2/advertiser/get/", {"app_id": app_id, "secret": secret})
    return list(data.get("list") or [])


def read_config_target(path: Path) -> dict[str, Any]:
    """The JSON object ``--write-config`` will update ({} for a new file), checked up front.

    It runs before the exchange, because the auth code can be spent only once: a target that
    cannot be written must be refused while the user can still fix it. Symbolic links are
    refused, not followed.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        folder = path.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise ConfigError(
                OPTION, f"cannot create {path}: no writable folder {folder}"
            ) from None
        return {}
    if stat.S_ISLNK(info.st_mode):
        raise ConfigError(OPTION, f"{path} is a symbolic link; give the real file's path")
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(OPTION, f"{path} is not a regular file")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise ConfigError(OPTION, f"cannot replace {path}: its folder is not writable")
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(descriptor, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(OPTION, f"cannot read {path} ({_reason(error)})") from None
    try:
        config = json.loads(text or "{}")
    except json.JSONDecodeError as error:  # names line and column, not the content
        raise ConfigError(OPTION, f"{path} is not valid JSON ({error}); fix it first") from None
    if not isinstance(config, dict):
        raise ConfigError(OPTION, f"{path} must hold a JSON object")
    return config


def write_config(path: Path, grant: Grant) -> None:
    """Merge the token and ids into a JSON config file readable by its owner only.

    The new content goes to a temporary file in the same folder, then replaces the target in
    one step: no half-written config, and a symbolic link put there is replaced, not followed.
    """
    config = read_config_target(path)
    config["access_token"] = grant.access_token
    config["advertiser_ids"] = list(grant.advertiser_ids)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:  # mkstemp: mode 0600
            json.dump(config, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _reason(error: BaseException) -> str:
    return error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__


def env_lines(grant: Grant) -> list[str]:
    return [
        f"{TOKEN_ENV}={grant.access_token}",
        f"TAP_TIKTOK_ADS_ADVERTISER_IDS={json.dumps(list(grant.advertiser_ids))}",
    ]


def read_secret(env_name: str) -> str:
    secret = os.environ.get(env_name) or (
        getpass.getpass("App secret: ") if sys.stdin.isatty() else ""
    )
    if not secret:
        raise ConfigError("secret", f"set the {env_name} environment variable")
    return secret


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="tap-tiktok-ads-auth", description=__doc__.split("\n")[0])
    main.add_argument("--api-url", default=PRODUCTION_API_URL, help="Business API base URL")
    commands = main.add_subparsers(dest="command", required=True)

    url = commands.add_parser("url", help="print the authorization URL")
    listen = commands.add_parser("listen", help="print the URL, wait for the redirect, exchange")
    for sub in (url, listen):
        sub.add_argument("--app-id", required=True)
        sub.add_argument("--redirect-uri", required=True)
        sub.add_argument("--portal-url", default=PORTAL_URL)
        sub.add_argument("--state", help="default: a random value")
    listen.add_argument("--timeout", type=float, default=300)

    exchange = commands.add_parser("exchange", help="exchange an auth_code for a token")
    exchange.add_argument("--app-id", required=True)
    exchange.add_argument("--auth-code", required=True)

    advertisers = commands.add_parser("advertisers", help="list the advertisers a token reads")
    advertisers.add_argument("--app-id", required=True)
    advertisers.add_argument("--access-token-env", default=TOKEN_ENV)

    for sub in (listen, exchange, advertisers):
        sub.add_argument("--secret-env", default=SECRET_ENV, help="variable holding the secret")
    for sub in (listen, exchange):
        sub.add_argument("--write-config", type=Path, help="JSON config file to create/update")
        sub.add_argument("--print-env", action="store_true", help="print TAP_TIKTOK_ADS_* lines")
    return main


def run(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    api_url = resolve_api_url(args.api_url, sandbox=False)
    if getattr(args, "write_config", None):
        read_config_target(args.write_config)  # before the single-use auth code is spent
    if args.command in ("url", "listen"):
        state = args.state or secrets.token_urlsafe(16)
        print(authorization_url(args.app_id, args.redirect_uri, state, args.portal_url), flush=True)
        if args.command == "url":
            return 0
        code = wait_for_redirect(args.redirect_uri, state, args.timeout)
        grant = exchange_code(args.app_id, read_secret(args.secret_env), code, api_url)
        return deliver(grant, args)
    if args.command == "exchange":
        grant = exchange_code(args.app_id, read_secret(args.secret_env), args.auth_code, api_url)
        return deliver(grant, args)
    token = os.environ.get(args.access_token_env) or ""
    if not token:
        raise ConfigError("access_token", f"set the {args.access_token_env} environment variable")
    for row in list_advertisers(args.app_id, read_secret(args.secret_env), token, api_url):
        print(f"{row.get('advertiser_id')}\t{row.get('advertiser_name', '')}")
    return 0


def deliver(grant: Grant, args: argparse.Namespace) -> int:
    if args.write_config:
        try:
            write_config(args.write_config, grant)
        except (OSError, ConfigError) as error:
            # The auth code is spent: the token exists only here. Show it on the terminal
            # (stdout, never a log) so it is not lost.
            reason = error.problem if isinstance(error, ConfigError) else _reason(error)
            print(
                f"Could not write {args.write_config} ({reason}). The token was issued and "
                "the auth code is spent; save these lines yourself:"
            )
            print("\n".join(env_lines(grant)), flush=True)
            return 1
        print(
            f"Wrote the token and {len(grant.advertiser_ids)} advertiser id(s) "
            f"to {args.write_config}"
        )
    if args.print_env:
        print("\n".join(env_lines(grant)))
    if not (args.write_config or args.print_env):
        print(
            f"Token received for {len(grant.advertiser_ids)} advertiser(s); "
            "use --write-config or --print-env to save it."
        )
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    try:
        sys.exit(run(argv))
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # every failure is one line (a redacted traceback in debug)
        if os.environ.get(DEBUG_ENV):
            print(redacted_traceback(error), file=sys.stderr, end="")
        text = str(error) if isinstance(error, TapTikTokAdsError) else repr(error)
        print(f"tap-tiktok-ads-auth: {redact(text)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
