"""``python -m tap_tiktok_ads.emulator``: serve the emulator until interrupted.

The first line on stdout is the base URL, so scripts can start it with port 0 and read it.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from datetime import date, datetime

from tap_tiktok_ads.emulator import Emulator, Faults
from tap_tiktok_ads.emulator.faults import KINDS
from tap_tiktok_ads.emulator.reports import AD_CAP


def parse_fault(text: str) -> tuple[str, float]:
    kind, _, rate = text.partition("=")
    if kind not in KINDS or not rate:
        raise argparse.ArgumentTypeError(f"use KIND=RATE with KIND one of {', '.join(KINDS)}")
    return kind, float(rate)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tiktok-ads-emulator", description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--advertisers", type=int, default=3)
    p.add_argument("--campaigns", type=int, default=4, help="per advertiser")
    p.add_argument("--adgroups", type=int, default=2, help="per campaign")
    p.add_argument("--ads", type=int, default=3, help="per ad group")
    p.add_argument("--audiences", type=int, default=5, help="per advertiser")
    p.add_argument("--history-days", type=int, default=60)
    p.add_argument("--today", type=date.fromisoformat, help="the emulator's date (YYYY-MM-DD)")
    p.add_argument("--now", type=datetime.fromisoformat, help="the emulator's clock (ISO)")
    p.add_argument("--access-token", default="emulator-token")
    p.add_argument("--app-id", default="emulator-app")
    p.add_argument("--secret", default="emulator-secret")
    p.add_argument("--latency-ms", type=float, default=0)
    p.add_argument("--qps", type=float, help="answer 40100 above this many requests per second")
    p.add_argument("--fault", type=parse_fault, action="append", default=[], metavar="KIND=RATE")
    p.add_argument("--fault-seed", type=int, default=0)
    p.add_argument("--too-large-days", type=int, help="answer 40067 for longer report spans")
    p.add_argument(
        "--ad-cap",
        type=_positive,
        default=AD_CAP,
        help="ad-level reports covering this many ads or more answer for the newest ones only, "
        "with the X-Tt-Ads-Throttle header (TikTok: 20000)",
    )
    p.add_argument(
        "--response-cache",
        type=int,
        default=0,
        help="keep this many encoded answers (benchmarks: measure the tap, not us)",
    )
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    emulator = Emulator(
        seed=args.seed,
        advertisers=args.advertisers,
        campaigns=args.campaigns,
        adgroups=args.adgroups,
        ads=args.ads,
        audiences=args.audiences,
        history_days=args.history_days,
        today=args.today,
        now=args.now,
        access_token=args.access_token,
        app_id=args.app_id,
        secret=args.secret,
        latency_ms=args.latency_ms,
        qps=args.qps,
        faults=Faults(rates=dict(args.fault), seed=args.fault_seed),
        too_large_days=args.too_large_days,
        response_cache=args.response_cache,
        ad_cap=args.ad_cap,
        host=args.host,
        port=args.port,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with emulator:
        print(emulator.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    sys.exit(0)


if __name__ == "__main__":
    main()
