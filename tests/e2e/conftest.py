"""Real PostgreSQL and real Meltano for end-to-end tests.

PostgreSQL runs from a temporary directory on a free loopback port (as the `postgres` user when
the tests run as root, since initdb refuses root); each xdist worker that runs these tests starts
its own. Meltano runs this repository's meltano.yml. Its plugins are installed once per test run
into the project's .meltano; each test then has its own Meltano system directory (the files a
run writes, like the tap's config and state, and the system database with the saved state),
which reaches the installed plugins through links, so tests can run at the same time.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[2]
MELTANO = str(Path(sys.executable).parent / "meltano")


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Postgres:
    bin: Path
    port: int
    as_user: list[str]

    def psql(self, sql: str, database: str = "tiktok_ads") -> list[list[str]]:
        result = subprocess.run(
            [
                *self.as_user,
                str(self.bin / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-At",
                "-F",
                "\t",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def scalar(self, sql: str) -> str:
        return self.psql(sql)[0][0]

    def snapshot(self, schema: str, table: str) -> list[list[str]]:
        """Every row of a table, sorted, without the target's _sdc_ metadata columns."""
        columns = [
            row[0]
            for row in self.psql(
                "SELECT column_name FROM information_schema.columns "
                f"WHERE table_schema = '{schema}' AND table_name = '{table}' "
                "AND column_name NOT LIKE '\\_sdc\\_%' ORDER BY column_name"
            )
        ]
        listed = ", ".join(f'"{c}"' for c in columns)
        return self.psql(f'SELECT {listed} FROM "{schema}"."{table}" ORDER BY {listed}')


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.fail("PostgreSQL binaries not found: install the Debian package `postgresql`")
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = Path(tempfile.mkdtemp(prefix="tap-tiktok-pg-"))
    if as_user:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    run = lambda *args: subprocess.run([*as_user, *args], check=True, capture_output=True)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", str(data / "db"), "-U", "postgres", "-A", "trust")
    run(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data / "db"),
        "-l",
        str(data / "log"),
        "-w",
        "-o",
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off",
        "start",
    )
    server = Postgres(bin_dir, port, as_user)
    server.psql("CREATE DATABASE tiktok_ads", database="postgres")
    try:
        yield server
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop")
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def meltano_installed(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Install the project's plugins (the tap from this checkout, the targets from PyPI).

    Once per test run, whichever xdist worker comes first: a second `meltano install` would
    rebuild the virtualenvs under a pipeline another worker is running.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        install_plugins()
        return
    shared = tmp_path_factory.getbasetemp().parent  # this run's folder, common to its workers
    with FileLock(shared / "meltano-install.lock"):
        done = shared / "meltano-installed"
        if not done.exists():
            install_plugins()
            done.touch()


def install_plugins() -> None:
    result = subprocess.run(
        [MELTANO, "install"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    if result.returncode != 0:
        pytest.fail(f"meltano install failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")


def meltano_env(system_db: Path, **settings: Any) -> dict[str, str]:
    """The environment of a `meltano run` whose files all live beside ``system_db``."""
    env = {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_DATABASE_URI": f"sqlite:///{system_db}",
        "MELTANO_SYS_DIR_ROOT": str(private_system_dir(system_db.with_suffix(".meltano"))),
    }
    env.update({key: str(value) for key, value in settings.items()})
    return env


def private_system_dir(path: Path) -> Path:
    """A Meltano system directory of its own, with the project's installed plugins linked in.

    `meltano run` writes each plugin's config, catalog and state to fixed names under the system
    directory's run/ folder: two runs sharing one would read each other's files.
    """
    path.mkdir(exist_ok=True)
    for plugin_type in ("extractors", "loaders"):
        link = path / plugin_type
        if not link.exists():
            link.symlink_to(ROOT / ".meltano" / plugin_type, target_is_directory=True)
    return path
