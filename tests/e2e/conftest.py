"""Real PostgreSQL and real Meltano for end-to-end tests.

PostgreSQL runs from a temporary directory on a free loopback port (as the `postgres` user when
the tests run as root, since initdb refuses root). Meltano runs this repository's meltano.yml,
with the system database, and so the saved state, in a temporary directory per test.
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
def meltano_installed() -> None:
    """Install the project's plugins once (the tap from this checkout, the targets from PyPI)."""
    subprocess.run(
        [MELTANO, "install"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )


def meltano_env(system_db: Path, **settings: Any) -> dict[str, str]:
    env = {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_DATABASE_URI": f"sqlite:///{system_db}",
    }
    env.update({key: str(value) for key, value in settings.items()})
    return env
