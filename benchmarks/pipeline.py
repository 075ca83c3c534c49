"""What users run: `meltano run` on the demo world, timed from the outside.

- startup: `meltano run tap-tiktok-ads target-csv` until the tap's first request to the emulator
  (Meltano's start, discovery, its select rules, the tap's start with the selected catalog).
  Twice: from this project, where the tap is installed editable (`pip_url: -e .`), so Meltano
  never caches its catalog and discovers it on every run; and as users see it, from a temporary
  project with the tap installed from a wheel built from this tree, first runs (discovery) and
  cached runs (Meltano reuses the catalog it discovered; its select rules still run).
- pipeline: `meltano run tap-tiktok-ads target-postgres` into a PostgreSQL started in a
  temporary directory, wall time split into Meltano's overhead, tap, target and emulator CPU;
  then the same tap piped straight into target-postgres with RECORD messages and with BATCH
  messages (singer-sdk `batch_config`, JSONL files), to see whether BATCH pays off.

Both are slow (a minute or more on a busy 2-core machine) and run only when named. Run
`meltano install` once first, so that no run includes installing the plugins. Each scenario
first writes the Python bytecode of the plugins' virtual environments and of the tap's sources
(`compileall`, quick once done): Meltano installs plugins with uv, which does not, and where
PYTHONDONTWRITEBYTECODE is set Python never writes it either, so every tap start would compile
singer-sdk and its dependencies again (0.35 s of CPU for discovery and again for the sync).
"""

from __future__ import annotations

import compileall
import contextlib
import copy
import glob
import json
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psutil
import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MELTANO = str(BIN / "meltano")
TODAY = date(2026, 11, 20)
# The demo's world (scripts/demo.py): seed 2026, 3 advertisers, the emulator's default sizes.
DEMO_SEED = 2026
DEMO_ADVERTISERS = 3
DEMO_DAYS = 30
# The emulator's clock is pinned to TODAY, far from this machine's.
PINNED_CLOCK_SKEW_HOURS = 876000


@dataclass
class DemoEmulator:
    process: subprocess.Popen
    base_url: str
    advertiser_ids: list[str]

    @property
    def log_url(self) -> str:
        return self.base_url.replace("/open_api/v1.3", "/__emulator/requests")

    def first_request_time(self) -> float | None:
        log = requests.get(self.log_url, timeout=30).json()
        return min((entry["time"] for entry in log), default=None)

    def clear_log(self) -> None:
        requests.delete(self.log_url, timeout=30)

    def tap_env(self) -> dict[str, str]:
        return {
            "TAP_TIKTOK_ADS_API_URL": self.base_url,
            "TAP_TIKTOK_ADS_ACCESS_TOKEN": "emulator-token",
            "TAP_TIKTOK_ADS_ADVERTISER_IDS": json.dumps(self.advertiser_ids),
            "TAP_TIKTOK_ADS_START_DATE": (TODAY - timedelta(days=DEMO_DAYS)).isoformat(),
            "TAP_TIKTOK_ADS_MAX_CLOCK_SKEW_HOURS": str(PINNED_CLOCK_SKEW_HOURS),
        }

    def tap_config(self) -> dict[str, Any]:
        return {
            "api_url": self.base_url,
            "access_token": "emulator-token",
            "advertiser_ids": self.advertiser_ids,
            "start_date": (TODAY - timedelta(days=DEMO_DAYS)).isoformat(),
            "max_clock_skew_hours": PINNED_CLOCK_SKEW_HOURS,
        }


@contextlib.contextmanager
def demo_emulator() -> Iterator[DemoEmulator]:
    command = [
        str(BIN / "python"),
        "-m",
        "tap_tiktok_ads.emulator",
        "--port",
        "0",
        "--seed",
        str(DEMO_SEED),
        "--advertisers",
        str(DEMO_ADVERTISERS),
        "--today",
        TODAY.isoformat(),
    ]
    # Its stderr is dropped: a run stopped at its first request resets connections.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        answer = requests.get(
            f"{base_url}/oauth2/advertiser/get/",
            params={"app_id": "emulator-app", "secret": "emulator-secret"},
            headers={"Access-Token": "emulator-token"},
            timeout=30,
        ).json()
        ids = [str(a["advertiser_id"]) for a in answer["data"]["list"]]
        yield DemoEmulator(process, base_url, ids)
    finally:
        process.terminate()
        process.wait()


def tap_source_env() -> dict[str, str]:
    """The environment, with TAP_SOURCE=<dir> the tap's package taken from another tree (as in
    benchmarks/run.py), for the commands and the catalog pass only: Meltano does not hand
    PYTHONPATH to its plugins, so `meltano run` always runs the tap installed for the project."""
    source = os.environ.get("TAP_SOURCE")
    return {**os.environ, "PYTHONPATH": source} if source else dict(os.environ)


def meltano_env(emulator: DemoEmulator, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        # Runs keep their state out of the project's system database.
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp}/meltano.db",
        "TARGET_CSV_OUTPUT_PATH": str(tmp / "csv"),
        **emulator.tap_env(),
    }


class TreeCpu:
    """Samples the CPU seconds of a process tree, per process, until the root exits.

    A process's last sample is at most one interval old when it exits, so short-lived
    children are under-counted by up to that interval.
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.root = psutil.Process(pid)
        self.cpu: dict[int, float] = {}
        self.cmdline: dict[int, list[str]] = {}
        self._interval = interval
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while self.root.is_running() and self.root.status() != psutil.STATUS_ZOMBIE:
            with contextlib.suppress(psutil.Error):
                for process in [self.root, *self.root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        times = process.cpu_times()
                        self.cpu[process.pid] = times.user + times.system
                        # Read again each time: a child seen between fork and exec still
                        # shows its parent's command line, and an exited one shows none.
                        self.cmdline[process.pid] = process.cmdline() or self.cmdline.get(
                            process.pid, []
                        )
            time.sleep(self._interval)

    def join(self) -> None:
        self._thread.join()

    def by_role(self) -> dict[str, float]:
        """CPU seconds of Meltano itself, the tap's discovery, the tap's sync and the target."""
        roles: dict[str, float] = {}
        for pid, seconds in self.cpu.items():
            role = _role(self.cmdline.get(pid, []), pid == self.root.pid)
            roles[role] = roles.get(role, 0) + seconds
        return {role: round(seconds, 2) for role, seconds in sorted(roles.items())}


def _role(cmdline: list[str], is_root: bool) -> str:
    text = " ".join(cmdline)
    if is_root:
        return "meltano_cpu_s"
    if "tap-tiktok-ads" in text:
        return "discovery_cpu_s" if "--discover" in cmdline else "tap_cpu_s"
    if "target-" in text:
        return "target_cpu_s"
    return "other_cpu_s"


def process_cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def compile_plugins(project: Path = ROOT) -> None:
    """Bytecode for the plugins' virtual environments and the tap's sources, as after a first run
    on a machine where Python may write it (uv, which Meltano installs plugins with, does not)."""
    for folder in sorted((project / ".meltano").glob("*/*/venv/lib")):
        compileall.compile_dir(folder, quiet=2, workers=0)
    compile_tap_sources()


def compile_tap_sources() -> None:
    """Bytecode for this tree's tap and TAP_SOURCE's, as a wheel install writes it (pip compiles
    on install): where PYTHONDONTWRITEBYTECODE is set, a source tree would otherwise be compiled
    at every start, about 0.05 CPU seconds a user of the installed tap never pays."""
    trees = [ROOT, *([Path(os.environ["TAP_SOURCE"])] if os.environ.get("TAP_SOURCE") else [])]
    for tree in trees:
        compileall.compile_dir(tree / "tap_tiktok_ads", quiet=2, workers=0)


# -- startup -------------------------------------------------------------------------------


def measure_startup(
    emulator: DemoEmulator | None = None, project: Path = ROOT, full_refresh: bool = True
) -> dict[str, Any]:
    """Seconds from `meltano run` to the tap's first request; the run is stopped there.

    ``project``: the Meltano project run from (this one, or the installed one below). An
    ``emulator`` given is kept for several runs: Meltano's catalog cache key includes the tap's
    settings, the emulator's URL among them, so cached runs need the same emulator.
    ``full_refresh``: `--full-refresh`, which also makes Meltano discover the catalog again
    (each run has its own empty system database, so there is no state either way).
    """
    with contextlib.ExitStack() as stack:
        if emulator is None:
            emulator = stack.enter_context(demo_emulator())
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        emulator.clear_log()
        started = time.time()
        refresh = ["--full-refresh"] if full_refresh else []
        meltano = subprocess.Popen(
            [MELTANO, "run", "tap-tiktok-ads", "target-csv", *refresh],
            cwd=project,
            env=meltano_env(emulator, tmp),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        cpu = TreeCpu(meltano.pid, interval=0.05)
        first = None
        while first is None and meltano.poll() is None:
            first = emulator.first_request_time()
            time.sleep(0.05)
        os.killpg(meltano.pid, signal.SIGTERM)
        meltano.wait()
        cpu.join()
    if first is None:
        raise RuntimeError("meltano run ended before the tap's first request")
    roles = {"discovery_cpu_s": 0.0, **cpu.by_role()}
    return {"scenario": "startup", "to_first_request_s": round(first - started, 2), **roles}


# -- start-up as users see it: the tap installed from its wheel -----------------------------


@contextlib.contextmanager
def installed_project() -> Iterator[Path]:
    """A temporary Meltano project with this project's meltano.yml, the tap installed from a
    wheel built from this tree (not editable, as users install it from a package index) and
    target-csv; `meltano install` and the bytecode are done before anything is timed."""
    with tempfile.TemporaryDirectory(prefix="tap-tiktok-bench-installed-") as tmp_dir:
        tmp = Path(tmp_dir)
        # As scripts/check_wheel.py does: the sdist, then the wheel from it (no build/ here).
        subprocess.run(
            [str(BIN / "python"), "-m", "build", "--outdir", str(tmp / "dist"), str(ROOT)],
            check=True,
            capture_output=True,
        )
        (wheel,) = (tmp / "dist").glob("*.whl")
        project = yaml.safe_load((ROOT / "meltano.yml").read_text())
        tap = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-tiktok-ads")
        tap["pip_url"] = str(wheel)
        root = tmp / "project"
        root.mkdir()
        (root / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))
        env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
        for name in ("tap-tiktok-ads", "target-csv"):
            subprocess.run(
                [MELTANO, "install", name], cwd=root, env=env, check=True, capture_output=True
            )
        compile_plugins(root)
        yield root


def catalog_cache(project: Path) -> list[Path]:
    """The files in which Meltano keeps the tap's discovered catalog and its cache key."""
    run_dir = project / ".meltano" / "run" / "tap-tiktok-ads"
    return [run_dir / "tap.properties.json", run_dir / "tap.properties.cache_key"]


def measure_project_startups(runs: int = 3) -> list[dict[str, Any]]:
    """`meltano run` to the first request, in rounds so that the machine's other work weighs on
    each kind alike: this project (editable tap, discovery on every run), then the tap installed
    from its wheel, a first run (no cached catalog: discovery runs) and a cached run (Meltano
    reuses the catalog it discovered, keyed by the tap's settings; its select rules still run)."""
    kinds: dict[str, list[dict[str, Any]]] = {
        "startup": [],
        "startup_installed_first_run": [],
        "startup_installed_cached": [],
    }
    with installed_project() as project, demo_emulator() as emulator:
        for _ in range(runs):
            kinds["startup"].append(measure_startup(emulator))
            for path in catalog_cache(project):
                path.unlink(missing_ok=True)
            first = measure_startup(emulator, project, full_refresh=False)
            kinds["startup_installed_first_run"].append(first)
            cached = measure_startup(emulator, project, full_refresh=False)
            if cached["discovery_cpu_s"]:
                raise RuntimeError("a cached run ran discovery: Meltano did not use its cache")
            kinds["startup_installed_cached"].append(cached)
    return [_medians(name, results) for name, results in kinds.items()]


def measure_commands() -> dict[str, Any]:
    """Wall and CPU seconds of `tap-tiktok-ads --about` and `--discover`."""
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp_dir:
        config = Path(tmp_dir) / "config.json"
        config.write_text(
            json.dumps({"access_token": "x", "advertiser_ids": ["1"], "start_date": "2026-01-01"})
        )
        output = Path(tmp_dir) / "out"
        commands = {"about": ["--about"], "discover": ["--config", str(config), "--discover"]}
        for name, args in commands.items():
            started = time.perf_counter()
            with output.open("wb") as sink:
                process = subprocess.Popen(
                    [str(BIN / "tap-tiktok-ads"), *args],
                    stdout=sink,
                    stderr=subprocess.DEVNULL,
                    env=tap_source_env(),
                )
                cpu = _wait_cpu(process)
            if process.returncode:
                raise RuntimeError(f"tap-tiktok-ads {' '.join(args)} failed")
            result[f"{name}_s"] = round(time.perf_counter() - started, 2)
            result[f"{name}_cpu_s"] = round(cpu, 2)
            result[f"{name}_bytes"] = output.stat().st_size
    return result


# -- PostgreSQL ----------------------------------------------------------------------------


@dataclass
class Postgres:
    bin: Path
    port: int
    as_user: list[str]
    data: Path

    def psql(self, sql: str, database: str = "tiktok_ads") -> str:
        command = [*self.as_user, str(self.bin / "psql"), "-h", "127.0.0.1"]
        command += ["-p", str(self.port), "-U", "postgres", "-d", database, "-At", "-c", sql]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def reset(self) -> None:
        self.psql("DROP DATABASE IF EXISTS tiktok_ads", database="postgres")
        self.psql("CREATE DATABASE tiktok_ads", database="postgres")

    def rows(self, schema: str = "tiktok_ads") -> int:
        tables = self.psql(
            f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'"
        ).split()
        return sum(int(self.psql(f'SELECT count(*) FROM {schema}."{t}"')) for t in tables)


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    """PostgreSQL on a free loopback port, as in tests/e2e (as `postgres` when root)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb")]
    if not found[-1]:
        raise RuntimeError("PostgreSQL binaries not found: install the Debian package postgresql")
    bin_dir = Path(found[-1]).parent
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = Path(tempfile.mkdtemp(prefix="tap-tiktok-bench-pg-"))
    if as_user:
        shutil.chown(data, "postgres", "postgres")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True)

    run(str(bin_dir / "initdb"), "-D", str(data / "db"), "-U", "postgres", "-A", "trust")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data / "db"),
        "-l",
        str(data / "log"),
        "-w",
        "-o",
        options,
        "start",
    )
    server = Postgres(bin_dir, port, as_user, data)
    try:
        server.psql("CREATE DATABASE tiktok_ads", database="postgres")
        yield server
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop")
        shutil.rmtree(data, ignore_errors=True)


# -- pipeline ------------------------------------------------------------------------------


def meltano_pipeline(emulator: DemoEmulator, server: Postgres) -> dict[str, Any]:
    server.reset()
    with tempfile.TemporaryDirectory() as tmp_dir:
        env = meltano_env(emulator, Path(tmp_dir))
        env.update(
            {
                "TARGET_POSTGRES_HOST": "127.0.0.1",
                "TARGET_POSTGRES_PORT": str(server.port),
                "TARGET_POSTGRES_USER": "postgres",
                # target-postgres wants one; trust authentication ignores it.
                "TARGET_POSTGRES_PASSWORD": "trust-auth-ignores-it",
                "TARGET_POSTGRES_DATABASE": "tiktok_ads",
            }
        )
        emulator.clear_log()
        emulator_cpu = process_cpu(psutil.Process(emulator.process.pid))
        started = time.time()
        meltano = subprocess.Popen(
            [MELTANO, "run", "tap-tiktok-ads", "target-postgres", "--full-refresh"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(tmp_dir) / "meltano.log", "w"),  # noqa: SIM115
        )
        cpu = TreeCpu(meltano.pid)
        meltano.wait()
        wall = time.time() - started
        cpu.join()
        if meltano.returncode:
            lines = (Path(tmp_dir) / "meltano.log").read_text().splitlines()
            errors = [line for line in lines if "error" in line.lower()][:20]
            raise RuntimeError("meltano run failed:\n" + "\n".join(errors or lines[-20:]))
    first = emulator.first_request_time() or started
    rows = server.rows()
    return {
        "scenario": "pipeline",
        "mode": "meltano run",
        "rows": rows,
        "wall_s": round(wall, 1),
        "to_first_request_s": round(first - started, 1),
        "rows_per_s": round(rows / wall),
        **cpu.by_role(),
        "emulator_cpu_s": round(
            process_cpu(psutil.Process(emulator.process.pid)) - emulator_cpu, 2
        ),
    }


def project_select_rules() -> list[Any]:
    """The metadata rules `meltano run` builds from meltano.yml: everything off, then `select`."""
    import structlog
    from meltano.core.plugin.singer.catalog import select_metadata_rules

    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    tap = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-tiktok-ads")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    return select_metadata_rules(["!*.*"]) + select_metadata_rules(tap["select"])


def selected_catalog(config: dict[str, Any]) -> dict[str, Any]:
    """The tap's catalog with meltano.yml's select rules applied, as `meltano run` does."""
    from meltano.core.plugin.singer.catalog import MetadataExecutor

    from tap_tiktok_ads.tap import TapTikTokAds

    catalog = copy.deepcopy(TapTikTokAds(config=config).catalog_dict)
    MetadataExecutor(project_select_rules()).visit(catalog)
    return catalog


def measure_catalog_pass() -> dict[str, Any]:
    """CPU seconds of each step `meltano run` takes on the discovered catalog, in this process
    with Meltano's own functions: reading discovery's output line by line, the JSON check,
    reading it again, the select rules, writing it back (indented)."""
    import asyncio

    from meltano.core.plugin.singer.catalog import MetadataExecutor
    from meltano.core.plugin.singer.tap import _stream_redirect
    from meltano.core.setting_definition import json_dumps

    rules = project_select_rules()
    with tempfile.TemporaryDirectory() as tmp_dir:
        config = Path(tmp_dir) / "config.json"
        config.write_text(
            json.dumps({"access_token": "x", "advertiser_ids": ["1"], "start_date": "2026-01-01"})
        )
        discovered = Path(tmp_dir) / "catalog.json"
        command = [str(BIN / "tap-tiktok-ads"), "--config", str(config), "--discover"]
        discovered.write_bytes(
            subprocess.run(command, capture_output=True, check=True, env=tap_source_env()).stdout
        )

        async def redirect() -> None:
            cat = await asyncio.create_subprocess_exec(
                "cat", str(discovered), stdout=asyncio.subprocess.PIPE
            )
            with open(os.devnull, "wb") as sink:
                await asyncio.gather(_stream_redirect(cat.stdout, sink), cat.wait())

        steps: dict[str, float] = {}
        started = time.process_time()

        def step(name: str) -> None:
            nonlocal started
            steps[name] = round(time.process_time() - started, 3)
            started = time.process_time()

        asyncio.run(redirect())
        step("read_discovery_lines_cpu_s")
        text = discovered.read_text()
        json.loads(text)
        step("check_json_cpu_s")
        catalog = json.loads(text)
        step("load_json_cpu_s")
        MetadataExecutor(rules).visit(catalog)
        step("select_rules_cpu_s")
        json_dumps(catalog, indent=2)
        step("write_json_cpu_s")
    entries = sum(len(stream["metadata"]) for stream in catalog["streams"])
    return {
        "catalog_bytes": len(text.encode()),
        "catalog_lines": text.count("\n") + 1,
        "metadata_entries": entries,
        "select_rules": len(rules),
        **steps,
        "meltano_import_cpu_s": round(meltano_import_cpu(), 3),
    }


def meltano_import_cpu() -> float:
    """CPU seconds of a Python process that imports Meltano's command line and exits: the part
    of every `meltano run` spent before Meltano reads the project."""
    process = subprocess.Popen([str(BIN / "python"), "-c", "import meltano.cli"])
    return _wait_cpu(process)


def piped_pipeline(
    emulator: DemoEmulator, server: Postgres, catalog: dict[str, Any], batch: str | None
) -> dict[str, Any]:
    """The tap's output piped straight into target-postgres, without Meltano.

    ``batch``: None for RECORD messages, else the compression of the BATCH JSONL files.
    """
    server.reset()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        config = emulator.tap_config()
        if batch:
            (tmp / "batches").mkdir()
            config["batch_config"] = {
                "encoding": {"format": "jsonl", "compression": batch},
                "storage": {"root": f"file://{tmp / 'batches'}", "prefix": "batch-"},
                "batch_size": 10000,
            }
        (tmp / "tap.json").write_text(json.dumps(config))
        (tmp / "catalog.json").write_text(json.dumps(catalog))
        target_config = {
            "host": "127.0.0.1",
            "port": server.port,
            "user": "postgres",
            "password": "trust-auth-ignores-it",
            "database": "tiktok_ads",
            "default_target_schema": "tiktok_ads",
            "load_method": "upsert",
            "use_copy": True,
            "validate_records": False,
            "add_record_metadata": True,
        }
        (tmp / "target.json").write_text(json.dumps(target_config))
        tap_bin = ROOT / ".meltano/extractors/tap-tiktok-ads/venv/bin/tap-tiktok-ads"
        target_bin = ROOT / ".meltano/loaders/target-postgres/venv/bin/target-postgres"
        started = time.time()
        tap = subprocess.Popen(
            [
                str(tap_bin),
                "--config",
                str(tmp / "tap.json"),
                "--catalog",
                str(tmp / "catalog.json"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        target = subprocess.Popen(
            [str(target_bin), "--config", str(tmp / "target.json")],
            stdin=tap.stdout,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / "target.log", "w"),  # noqa: SIM115
        )
        assert tap.stdout is not None
        tap.stdout.close()
        tap_cpu = _wait_cpu(tap)
        target_cpu = _wait_cpu(target)
        wall = time.time() - started
        if tap.returncode or target.returncode:
            raise RuntimeError(f"piped run failed: {(tmp / 'target.log').read_text()[-2000:]}")
    rows = server.rows()
    return {
        "scenario": "pipeline",
        "mode": f"tap | target, BATCH jsonl ({batch})" if batch else "tap | target, RECORD",
        "rows": rows,
        "wall_s": round(wall, 1),
        "rows_per_s": round(rows / wall),
        "tap_cpu_s": round(tap_cpu, 2),
        "target_cpu_s": round(target_cpu, 2),
    }


def _wait_cpu(process: subprocess.Popen) -> float:
    """Waits for a child and returns its own CPU seconds (from wait4's resource usage)."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def measure_pipeline(piped: bool = True) -> list[dict[str, Any]]:
    compile_plugins()
    results = []
    with demo_emulator() as emulator, postgres() as server:
        results.append(meltano_pipeline(emulator, server))
        if piped:
            catalog = selected_catalog(emulator.tap_config())
            # singer-sdk 0.54's JSONL batcher gzips whatever the config says, so a target told
            # `"compression": "none"` fails on the files: gzip is the only working choice.
            for batch in (None, "gzip"):
                results.append(piped_pipeline(emulator, server, catalog, batch))
    return results


def measure_startups(runs: int = 3) -> list[dict[str, Any]]:
    """The commands, Meltano's steps on the catalog and the start of `meltano run`, several
    times: medians and every run."""
    compile_plugins()
    commands = [measure_commands() for _ in range(runs)]
    catalog_passes = [measure_catalog_pass() for _ in range(runs)]
    return [
        _medians("commands", commands),
        _medians("catalog_pass", catalog_passes),
        *measure_project_startups(runs),
    ]


def _medians(name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    numbers = [
        key
        for key, value in runs[0].items()
        if isinstance(value, float | int) and all(key in run for run in runs)
    ]
    medians = {key: round(statistics.median(run[key] for run in runs), 2) for key in numbers}
    return {"scenario": name, "runs": len(runs), **medians, "each": runs}


if __name__ == "__main__":
    for item in [*measure_startups(), *measure_pipeline()]:
        print(json.dumps(item))
