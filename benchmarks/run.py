"""Benchmarks: the real tap as a subprocess against the emulator in another process.

    python benchmarks/run.py [cpu|network|scale|many|many-100|many-2x ...]
        (default: cpu, network, scale)
    python benchmarks/run.py startup|pipeline           (slow; only when named)

(many takes about 22 minutes at 10 requests/s, many-2x twice that, many-100 about 2).

Prints a table and writes benchmarks/results/<UTC time>.json. Scenarios:

- cpu: 1 advertiser x 2,000 ads x 90 days of ad_performance_daily, default metrics, no latency.
  Its floor: the same report pages, already in memory, each decoded into typed structs (metric
  strings to int / Decimal, "-" to null), flattened and encoded as RECORD lines by a bare msgspec
  loop (floor_records_per_second).
- network: 20 advertisers x 100 ads x 90 days plus the entity streams, the emulator answering
  after 150 ms and refusing (40100) above 10 requests per second. Floor: minimum requests / 10.
- network-8: 8 advertisers x 100 ads x 90 days of ad_performance_daily only, 150 ms, 10 requests
  per second (the size of the side-by-side measure against Stitch's tap).
- top: 40 advertisers x 100 ads x 90 days of ad_performance_daily, 50 ms, 50 requests per second
  (the tap set to 50): the highest tier, where the tap's CPU rather than the limit may bind.
- scale: the cpu scenario with twice the ads, to show memory stays flat.

Walls are measured from the tap's process start, its bytecode written first (as a wheel install
writes it). The emulator keeps its encoded answers (--response-cache), so what is timed is the
tap. TAP_SOURCE=<dir> runs the tap from another tree's tap_tiktok_ads package (before/after
figures on the same emulator).
- startup, pipeline: `meltano run` on the demo world (see benchmarks/pipeline.py).
- many: an agency's daily run: 1,000 advertisers (4 ads each) x ad_performance_daily plus the
  entity streams, incremental from a saved state (bookmarks yesterday, so the 7-day attribution
  window is read again), the emulator answering after 150 ms and refusing above 10 requests per
  second. Floor: minimum requests / 10.
- many-100: the many scenario with 100 advertisers, quick enough to iterate on.
- many-2x: the many scenario with 2,000 advertisers, to show memory stays flat as they double.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tap_tiktok_ads.catalog_selection import catalog_selecting  # noqa: E402
from tap_tiktok_ads.client import encode_params  # noqa: E402
from tap_tiktok_ads.emulator.reports import ReportEngine  # noqa: E402
from tap_tiktok_ads.emulator.world import World  # noqa: E402
from tap_tiktok_ads.reports.definitions import predefined_reports  # noqa: E402
from tap_tiktok_ads.streams.report_top_view import top_view_only  # noqa: E402

BIN = Path(sys.executable).parent
TODAY = date(2026, 11, 20)
DAYS = 90
ENTITIES = ("advertisers", "campaigns", "ad_groups", "ads")
ATTRIBUTION_DAYS = 7  # the tap's default attribution_window_days


@dataclass
class Scenario:
    name: str
    advertisers: int
    campaigns: int
    adgroups: int
    ads: int
    latency_ms: float = 0
    qps: float | None = None
    entities: bool = False
    tap_settings: dict[str, Any] = field(default_factory=dict)
    incremental: bool = False  # from a state whose bookmarks are yesterday

    @property
    def first_day(self) -> date:
        """The first report day the run reads."""
        if self.incremental:
            return TODAY - timedelta(days=1 + ATTRIBUTION_DAYS)
        return TODAY - timedelta(days=DAYS - 1)


SCENARIOS = {
    # No rate limit in the CPU scenarios: the tap's own limiter is opened up too.
    "cpu": Scenario("cpu", 1, 10, 10, 20, tap_settings={"max_requests_per_second": 1000}),
    "network": Scenario("network", 20, 5, 4, 5, latency_ms=150, qps=10, entities=True),
    "network-8": Scenario("network-8", 8, 5, 4, 5, latency_ms=150, qps=10),
    "top": Scenario(
        "top", 40, 5, 4, 5, latency_ms=50, qps=50, tap_settings={"max_requests_per_second": 50}
    ),
    "scale": Scenario("scale", 1, 20, 10, 20, tap_settings={"max_requests_per_second": 1000}),
    "many": Scenario(
        "many", 1000, 2, 1, 2, latency_ms=150, qps=10, entities=True, incremental=True
    ),
    # The many scenario with 100 advertisers: the same shape, minutes instead of most of an hour.
    "many-100": Scenario(
        "many-100", 100, 2, 1, 2, latency_ms=150, qps=10, entities=True, incremental=True
    ),
    "many-2x": Scenario(
        "many-2x", 2000, 2, 1, 2, latency_ms=150, qps=10, entities=True, incremental=True
    ),
}


QUICK = ("cpu", "network", "network-8", "top", "scale")


def start_emulator(s: Scenario) -> tuple[subprocess.Popen, str]:
    command = [
        str(BIN / "python"),
        "-m",
        "tap_tiktok_ads.emulator",
        "--port",
        "0",
        "--seed",
        "7",
        "--advertisers",
        str(s.advertisers),
        "--campaigns",
        str(s.campaigns),
        "--adgroups",
        str(s.adgroups),
        "--ads",
        str(s.ads),
        "--audiences",
        "0",
        "--history-days",
        str(DAYS + 30),
        "--today",
        TODAY.isoformat(),
        "--latency-ms",
        str(s.latency_ms),
        # Answers are encoded once and kept, so the timed run measures the tap, not the emulator.
        "--response-cache",
        "100000",
    ]
    if s.qps:
        command += ["--qps", str(s.qps)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


NOW = datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=timezone.utc)


def scenario_world(s: Scenario) -> World:
    """The emulator's world for a scenario, rebuilt here from the same seed."""
    return World(
        seed=7,
        advertisers_count=s.advertisers,
        campaigns_per_advertiser=s.campaigns,
        adgroups_per_campaign=s.adgroups,
        ads_per_adgroup=s.ads,
        audiences_per_advertiser=0,
        history_days=DAYS + 30,
        now=NOW,
    )


def minimum_requests(s: Scenario, streams: list[str]) -> int:
    """Requests the work needs at best: each 30-day window's pages of 1000 (TikTok's default
    pass, and the TopView pass for advertisers with TopView campaigns, which one request per
    advertiser finds out), entity pages."""
    world = scenario_world(s)
    engine = ReportEngine(world, 7)
    total = math.ceil(s.advertisers / 100)  # advertiser info (time zones) for the run
    first = s.first_day
    for advertiser in world.advertisers:
        # Whether the advertiser has TopView campaigns (one campaign listing), which TikTok's
        # reports leave out unless asked alone: then each window is read in a TopView pass too.
        total += 1
        passes = [False, True] if _has_top_view(world, advertiser["advertiser_id"]) else [False]
        for offset in range(0, (TODAY - first).days + 1, 30):
            start = first + timedelta(days=offset)
            params = {
                "advertiser_id": advertiser["advertiser_id"],
                "report_type": "BASIC",
                "data_level": "AUCTION_AD",
                "dimensions": ["ad_id", "stat_time_day"],
                "start_date": start.isoformat(),
                "end_date": min(start + timedelta(days=29), TODAY).isoformat(),
                "page_size": 1000,
            }
            for top_view in passes:
                query = top_view_only(params) if top_view else params
                rows = engine.query(query, NOW)["page_info"]["total_number"]
                total += max(1, math.ceil(rows / 1000))
        if "campaigns" in streams:
            # One listing per buying type: TopView is listed only when asked for alone.
            for kind in ("campaigns", "adgroups", "ads"):
                for buying_type, page_size in (
                    ("AUCTION", 1000),
                    ("RESERVATION_RF", 1000),
                    ("RESERVATION_TOP_VIEW", 100),
                ):
                    live = [
                        r
                        for r in world.rows(kind, advertiser["advertiser_id"])
                        if not world.is_deleted(r)
                        and world.buying_type(r) == buying_type
                        and (not s.incremental or kind != "ads" or modified(r) >= BOOKMARK)
                    ]
                    total += max(1, math.ceil(len(live) / page_size))
    if "advertisers" in streams:
        total += math.ceil(s.advertisers / 100)
    return total


def _has_top_view(world: World, advertiser_id: str) -> bool:
    """Deleted TopView campaigns count: their delivery still shows in reports."""
    return any(
        world.buying_type(c) == "RESERVATION_TOP_VIEW"
        for c in world.rows("campaigns", advertiser_id)
    )


BOOKMARK = (TODAY - timedelta(days=1)).isoformat()  # TikTok's time format sorts the same


def saved_state(s: Scenario, streams: list[str]) -> dict[str, Any]:
    """What yesterday's run left: report days and entity modify_time up to yesterday."""
    keys = {"ad_performance_daily": ("stat_time_day", BOOKMARK)}
    moment = f"{BOOKMARK}T00:00:00+00:00"
    keys.update((stream, ("modify_time", moment)) for stream in ENTITIES[1:] if stream in streams)
    ids = _advertiser_ids(s)
    return {
        "bookmarks": {
            stream: {
                "partitions": [
                    {
                        "context": {"advertiser_id": advertiser_id},
                        "replication_key": key,
                        "replication_key_value": value,
                    }
                    for advertiser_id in ids
                ]
            }
            for stream, (key, value) in keys.items()
        }
    }


def modified(row: dict[str, Any]) -> str:
    return row.get("modify_time") or row["create_time"]


class PeakRss:
    """Samples a process's resident memory until it exits."""

    def __init__(self, pid: int) -> None:
        self.peak = 0
        self._process = psutil.Process(pid)
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while True:
            try:
                self.peak = max(self.peak, self._process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)


REPORT_PATH = "/report/integrated/get/"
JSON_TYPES: dict[str, Any] = {"integer": int, "number": Decimal, "string": str}


def report_pages(base_url: str, log: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
    """(advertiser id, answer body) of each report request the tap made, asked again."""
    pages = []
    with requests.Session() as session:
        session.headers["Access-Token"] = "emulator-token"
        for entry in log:
            if entry.get("path") == REPORT_PATH and entry.get("code") == 0:
                params = encode_params(entry["params"])
                body = session.get(base_url + REPORT_PATH, params=params, timeout=60).content
                pages.append((str(entry["params"]["advertiser_id"]), body))
    return pages


def floor_records_per_second(pages: list[tuple[str, bytes]], passes: int = 3) -> float:
    """The best of ``passes`` of :func:`page_loop_records_per_second` (other processes share
    the machine: the best pass is the one least disturbed)."""
    return max(page_loop_records_per_second(pages) for _ in range(passes))


def page_loop_records_per_second(pages: list[tuple[str, bytes]]) -> float:
    """Report pages, in memory, turned into RECORD lines by a bare msgspec loop: each page
    decoded into typed structs (lax: "4486" -> 4486, "3920.000" -> Decimal; "-" and "" made
    null on the bytes first), each row flattened and encoded."""
    report = next(d for d in predefined_reports() if d.name == "ad_performance_daily")
    metrics = [m for m in report.available_metrics() if m.default]
    metric_fields = [(m.name, JSON_TYPES[m.json_type] | None, None) for m in metrics]
    dimensions = msgspec.defstruct("Dimensions", [("ad_id", str), ("stat_time_day", str)])
    values = msgspec.defstruct("Metrics", metric_fields)
    row = msgspec.defstruct("Row", [("dimensions", dimensions), ("metrics", values)])
    data = msgspec.defstruct("Data", [("list", list[row])])  # type: ignore[valid-type]
    envelope = msgspec.defstruct("Envelope", [("data", data)])
    record = msgspec.defstruct(
        "Record",
        [
            ("ad_id", str),
            ("stat_time_day", str),
            *metric_fields,
            ("advertiser_id", str, ""),
            ("is_top_view", bool, False),
        ],
    )
    decoder = msgspec.json.Decoder(envelope, strict=False)
    encoder = msgspec.json.Encoder(decimal_format="number")
    astuple = msgspec.structs.astuple
    buffer = bytearray()
    count = 0
    with open(os.devnull, "wb") as sink:
        started = time.perf_counter()
        for advertiser_id, body in pages:
            rows = decoder.decode(body.replace(b'"-"', b"null").replace(b'""', b"null"))
            moment = datetime.now(timezone.utc)
            for item in rows.data.list:
                day = item.dimensions.stat_time_day[:10]
                flat = record(
                    item.dimensions.ad_id, day, *astuple(item.metrics), advertiser_id, False
                )
                message = {"type": "RECORD", "stream": "ad_performance_daily", "record": flat}
                message["time_extracted"] = moment
                encoder.encode_into(message, buffer, -1)
                buffer.extend(b"\n")
                count += 1
            sink.write(buffer)
            buffer.clear()
        elapsed = time.perf_counter() - started
    return count / elapsed


def run(s: Scenario) -> dict[str, Any]:
    streams = ["ad_performance_daily", *(ENTITIES if s.entities else ())]
    emulator, base_url = start_emulator(s)
    try:
        config = {
            "access_token": "emulator-token",
            "api_url": base_url,
            "advertiser_ids": _advertiser_ids(s),
            "start_date": (TODAY - timedelta(days=DAYS - 1)).isoformat(),
            "attribution_window_days": ATTRIBUTION_DAYS,
            # The emulator's clock is pinned to TODAY: the tap believes it (not this machine's
            # date), so it reads the scenario's days and no window after them.
            "max_clock_skew_hours": 876_000,
            **s.tap_settings,
        }
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            (tmp_path / "config.json").write_text(json.dumps(config))
            (tmp_path / "catalog.json").write_text(json.dumps(catalog_selecting(config, streams)))
            state = saved_state(s, streams) if s.incremental else {}
            (tmp_path / "state.json").write_text(json.dumps(state))
            output = tmp_path / "out.jsonl"
            if not s.incremental:  # the emulator renders its answers before the timed run
                warm_up(s, base_url, tmp_path, config)
            requests.delete(base_url.replace("/open_api/v1.3", "/__emulator/requests"), timeout=10)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            with output.open("wb") as sink:
                tap = subprocess.Popen(
                    [
                        *tap_command(),
                        "--config",
                        str(tmp_path / "config.json"),
                        "--catalog",
                        str(tmp_path / "catalog.json"),
                        "--state",
                        str(tmp_path / "state.json"),
                    ],
                    stdout=sink,
                    stderr=subprocess.DEVNULL,
                    env=tap_environment(),
                    cwd=tmp_path,  # `python -m` imports from its working directory first
                )
                rss = PeakRss(tap.pid)
                tap.wait()
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            log = requests.get(
                base_url.replace("/open_api/v1.3", "/__emulator/requests"), timeout=30
            ).json()
            records = sum(1 for line in output.open("rb") if line.startswith(b'{"type":"RECORD"'))
            floor = floor_records_per_second(report_pages(base_url, log)) if not s.qps else None
            state_bytes = sum(
                len(line) for line in output.open("rb") if line.startswith(b'{"type":"STATE"')
            )
    finally:
        emulator.terminate()
        emulator.wait()
    minimum = minimum_requests(s, streams)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = {
        "scenario": s.name,
        "exit_code": tap.returncode,
        "records": records,
        "wall_s": round(wall, 2),
        "records_per_s": round(records / wall),
        "cpu_s": round(cpu, 2),
        "peak_rss_mb": round(rss.peak / 2**20, 1),
        "requests": len(log),
        "min_requests": minimum,
        "requests_ratio": round(len(log) / minimum, 3),
        "refused_40100": sum(1 for r in log if r.get("code") == 40100),
        "state_mb": round(state_bytes / 2**20, 1),
    }
    if floor:
        result["floor_records_per_s"] = round(floor)
        result["floor_ratio"] = round(records / wall / floor, 3)
    if s.qps:
        result["rate_floor_s"] = round(minimum / s.qps, 2)
        result["wall_vs_rate_floor"] = round(wall / (minimum / s.qps), 3)
    return result


def warm_up(s: Scenario, base_url: str, tmp_path: Path, config: dict[str, Any]) -> None:
    """One untimed run, the emulator without latency or limit, so that the timed run is
    answered from the emulator's response cache and measures the tap, not the emulator."""
    settings_url = base_url.replace("/open_api/v1.3", "/__emulator/config")
    requests.post(settings_url, json={"latency_ms": 0, "qps": None}, timeout=10)
    (tmp_path / "warm.json").write_text(json.dumps({**config, "max_requests_per_second": 1000}))
    subprocess.run(  # the same tap as the timed run, so that it asks the same requests
        [
            *tap_command(),
            "--config",
            str(tmp_path / "warm.json"),
            "--catalog",
            str(tmp_path / "catalog.json"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=tap_environment(),
        cwd=tmp_path,  # `python -m` imports from its working directory first
        check=True,
    )
    requests.post(settings_url, json={"latency_ms": s.latency_ms, "qps": s.qps}, timeout=10)


def tap_command() -> list[str]:
    """The tap, from this tree or (TAP_SOURCE) from another tree's package."""
    if os.environ.get("TAP_SOURCE"):
        return [str(BIN / "python"), "-m", "tap_tiktok_ads"]
    return [str(BIN / "tap-tiktok-ads")]


def tap_environment() -> dict[str, str]:
    source = os.environ.get("TAP_SOURCE")
    return {**os.environ, "PYTHONPATH": source} if source else dict(os.environ)


def _advertiser_ids(s: Scenario) -> list[str]:
    return [a["advertiser_id"] for a in scenario_world(s).advertisers]


# Slow `meltano run` scenarios (benchmarks/pipeline.py), run only when named.
SLOW_SCENARIOS = ("startup", "pipeline")


def run_slow(names: list[str]) -> None:
    """Each slow scenario's results, printed as JSON lines and written to benchmarks/results."""
    import pipeline  # benchmarks/ is on sys.path when this file runs as a script

    measures = {"startup": pipeline.measure_startups, "pipeline": pipeline.measure_pipeline}
    results = [result for name in names for result in measures[name]()]
    for result in results:
        print(json.dumps(result))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load = [round(x, 1) for x in os.getloadavg()]
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (out_dir / f"{stamp}-{'-'.join(names)}.json").write_text(
        json.dumps({"machine": machine, "load_average": load, "results": results}, indent=2)
    )
    print(f"machine: {machine}; load average {load}; written to benchmarks/results/{stamp}-*.json")


def main(names: list[str]) -> None:
    slow = [name for name in names if name in SLOW_SCENARIOS]
    if slow:
        run_slow(slow)
        names = [name for name in names if name not in SLOW_SCENARIOS]
        if not names:
            return
    import pipeline  # benchmarks/ is on sys.path when this file runs as a script

    pipeline.compile_tap_sources()
    results = [run(SCENARIOS[name]) for name in names or QUICK]
    columns = [
        "scenario",
        "records",
        "wall_s",
        "records_per_s",
        "cpu_s",
        "peak_rss_mb",
        "requests",
        "min_requests",
        "requests_ratio",
        "refused_40100",
        "floor_ratio",
        "wall_vs_rate_floor",
    ]
    print(" | ".join(columns))
    for result in results:
        print(" | ".join(str(result.get(c, "")) for c in columns))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (out_dir / f"{stamp}.json").write_text(
        json.dumps({"machine": machine, "results": results}, indent=2)
    )
    print(f"machine: {machine}; written to benchmarks/results/{stamp}.json")
    if any(r["exit_code"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
