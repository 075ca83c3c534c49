"""Check the release artifacts as a user gets them: ``make check-wheel`` (CI runs it too).

Builds the sdist and, from it, the wheel (``python -m build``), checks that both carry every file
of the package that git tracks, installs the wheel (not editable) into a fresh virtualenv, and
from that install runs ``tap-tiktok-ads --about``, ``--discover`` and a one-week sync against the
emulator the wheel ships, started on a loopback port. A file left out of the package (a stream
schema, say) fails here, where an editable install would not notice.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "tap_tiktok_ads"
ENTITY_STREAMS = ("advertisers", "campaigns", "ad_groups", "ads", "custom_audiences")
LEVELS = ("advertiser", "campaign", "ad_group", "ad")
# Streams that must have rows: every entity, and the daily report at each level.
MUST_HAVE_ROWS = (*ENTITY_STREAMS, *(f"{level}_performance_daily" for level in LEVELS))
# The emulator's world: one of everything, seeded, on a fixed day, answering its own token.
EMULATOR_ARGS = ["--port", "0", "--seed", "1", "--today", "2026-11-20"]
EMULATOR_ARGS += ["--advertisers", "1", "--campaigns", "1", "--adgroups", "1", "--ads", "1"]
EMULATOR_ARGS += ["--audiences", "1"]
# A week: one ad does not deliver every day, and a week still syncs in seconds.
SYNC_DAYS = ("2026-11-13", "2026-11-19")


class CheckFailed(Exception):
    """One line saying what the built package got wrong."""


def step(text: str) -> None:
    print(f"check-wheel: {text}", flush=True)


def clean_env() -> dict[str, str]:
    """The environment without anything that points Python at this source tree or its venv."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_ADS_")}
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"):
        env.pop(name, None)
    return env


def run(command: Sequence[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    answer = subprocess.run(
        command, cwd=cwd, env=clean_env(), capture_output=True, text=True, check=False
    )
    if answer.returncode != 0:
        shown = " ".join(str(part) for part in command)
        raise CheckFailed(f"`{shown}` exited {answer.returncode}:\n{answer.stderr[-3000:]}")
    return answer


def tracked_package_files() -> set[str]:
    listing = run(["git", "ls-files", "--", PACKAGE], cwd=ROOT).stdout.split()
    return {name for name in listing if not name.endswith(".pyc")}


def build(dist: Path) -> tuple[Path, Path]:
    step("building the sdist and, from it, the wheel")
    run([sys.executable, "-m", "build", "--outdir", dist, ROOT], cwd=ROOT)
    sdists, wheels = sorted(dist.glob("*.tar.gz")), sorted(dist.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        raise CheckFailed(f"expected one sdist and one wheel in {dist}, got {sdists + wheels}")
    return sdists[0], wheels[0]


def check_contents(sdist: Path, wheel: Path) -> None:
    expected = tracked_package_files()
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
    with tarfile.open(sdist) as archive:
        # Members are "<name>-<version>/<path>".
        in_sdist = {member.split("/", 1)[1] for member in archive.getnames() if "/" in member}
    for artifact, names in ((wheel.name, in_wheel), (sdist.name, in_sdist)):
        missing = sorted(expected - names)
        if missing:
            raise CheckFailed(f"{artifact} lacks {len(missing)} package file(s): {missing[:5]}")
    step(f"{wheel.name} and {sdist.name} hold all {len(expected)} package files")


def install(wheel: Path, venv: Path, work: Path) -> Path:
    step("installing the wheel into a fresh virtualenv")
    run([sys.executable, "-m", "venv", venv], cwd=work)
    bin_dir = venv / "bin"
    run([bin_dir / "python", "-m", "pip", "install", "--quiet", wheel], cwd=work)
    where_from = f"import {PACKAGE}; print({PACKAGE}.__file__)"
    where = run([bin_dir / "python", "-c", where_from], cwd=work)
    location = Path(where.stdout.strip()).resolve()
    if not location.is_relative_to(venv.resolve()) or location.is_relative_to(ROOT):
        raise CheckFailed(f"{PACKAGE} imports from {location}, not from the installed wheel")
    return bin_dir


def check_about(bin_dir: Path, wheel: Path, work: Path) -> None:
    about = json.loads(run([bin_dir / "tap-tiktok-ads", "--about", "--format=json"], work).stdout)
    version = wheel.name.split("-")[1]
    if about["version"] != version:
        raise CheckFailed(f"--about says version {about['version']!r}, the wheel is {version}")
    step(f"--about: {about['name']} {about['version']}")


@contextmanager
def emulator(bin_dir: Path, work: Path) -> Iterator[str]:
    process = subprocess.Popen(
        [bin_dir / "tiktok-ads-emulator", *EMULATOR_ARGS],
        cwd=work,
        env=clean_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        if not base_url.startswith("http://127."):
            raise CheckFailed(f"the installed emulator did not start (printed {base_url!r})")
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


def check_discover_and_sync(bin_dir: Path, work: Path) -> None:
    tap = bin_dir / "tap-tiktok-ads"
    with emulator(bin_dir, work) as base_url:
        config = work / "config.json"
        config.write_text(
            json.dumps(
                {
                    "access_token": "emulator-token",
                    "app_id": "emulator-app",
                    "secret": "emulator-secret",
                    "api_url": base_url,
                    "start_date": SYNC_DAYS[0],
                    "end_date": SYNC_DAYS[1],
                }
            )
        )
        catalog = json.loads(run([tap, "--config", config, "--discover"], work).stdout)
        streams = {entry["tap_stream_id"]: entry for entry in catalog["streams"]}
        empty = [name for name in ENTITY_STREAMS if not streams[name]["schema"].get("properties")]
        if empty:
            raise CheckFailed(f"--discover gives no schema for {empty}")
        step(f"--discover: {len(streams)} streams")
        output = run([tap, "--config", config], work).stdout
    records = Counter(
        message["stream"]
        for message in map(json.loads, output.splitlines())
        if message["type"] == "RECORD"
    )
    unsynced = [name for name in MUST_HAVE_ROWS if records[name] == 0]
    if unsynced:
        raise CheckFailed(f"the sync emitted no records for {unsynced}")
    days = " to ".join(SYNC_DAYS)
    step(f"sync of {days}: {sum(records.values())} records in {len(records)} streams")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the build and virtualenv")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="check-wheel-"))
    try:
        sdist, wheel = build(work / "dist")
        check_contents(sdist, wheel)
        bin_dir = install(wheel, work / "venv", work)
        check_about(bin_dir, wheel, work)
        check_discover_and_sync(bin_dir, work)
    except CheckFailed as error:
        print(f"check-wheel: FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            step(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    step("the built wheel works")
    return 0


if __name__ == "__main__":
    sys.exit(main())
