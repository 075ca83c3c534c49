"""``tap-tiktok-ads-auth``: get a long-lived access token through TikTok's OAuth flow.

The user authorizes the app in a browser; TikTok redirects to the app's redirect URI with an
``auth_code`` (valid one hour, single use), which ``/oauth2/access_token/`` exchanges for a
token and the advertisers it covers. The app secret is read from an environment variable or a
prompt, never from the command line (where ``ps`` shows it), and is never printed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from tap_tiktok_ads.client import PRODUCTION_API_URL, TikTokAPIError, TikTokClient
from tap_tiktok_ads.errors import ConfigError, TapTikTokAdsError
from tap_tiktok_ads.settings import resolve_api_url

PORTAL_URL = "https://business-api.tiktok.com/portal/auth"
SECRET_ENV = "TIKTOK_APP_SECRET"
TOKEN_ENV = "TAP_TIKTOK_ADS_ACCESS_TOKEN"


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

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.update(parse_qs(urlparse(self.path).query))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write(b"tap-tiktok-ads: authorization received, you can close this tab.")

        def log_message(self, *args: Any) -> None:  # the query holds the code: keep it quiet
            pass

    with HTTPServer((parsed.hostname, parsed.port or 80), Handler) as server:
        server.timeout = timeout
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
    data = client.post(
        "/oauth2/access_token/", {"app_id": app_id, "secret": secret, "auth_code": auth_code}
    )
    ids = tuple(str(i) for i in data.get("advertiser_ids") or [])
    return Grant(access_token=str(data["access_token"]), advertiser_ids=ids)


def list_advertisers(app_id: str, secret: str, access_token: str, api_url: str) -> list[dict]:
    client = TikTokClient(access_token=access_token, api_url=api_url, extra_secrets=(secret,))
    data = client.get("/oauth2/advertiser/get/", {"app_id": app_id, "secret": secret})
    return list(data.get("list") or [])


def write_config(path: Path, grant: Grant) -> None:
    """Merge the token and ids into a JSON config file readable by its owner only."""
    config: dict[str, Any] = {}
    if path.exists():
        config = json.loads(path.read_text() or "{}")
    config["access_token"] = grant.access_token
    config["advertiser_ids"] = list(grant.advertiser_ids)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through os.open
    with os.fdopen(descriptor, "w") as handle:
        json.dump(config, handle, indent=2)
        handle.write("\n")


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
        write_config(args.write_config, grant)
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
    except (TapTikTokAdsError, TikTokAPIError) as error:
        print(f"tap-tiktok-ads-auth: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
