"""The released package: its distribution name, and versions that come from git tags."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from tap_tiktok_ads import DISTRIBUTION

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GIT_IDENTITY = ["-c", "user.name=Release Test", "-c", "user.email=release@example.invalid"]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_distribution_constant_is_the_project_name() -> None:
    assert pyproject()["project"]["name"] == DISTRIBUTION


def test_about_shows_the_installed_distribution_version(tmp_path: Path) -> None:
    """The version the tap reports is its installed distribution's, read the way users' tools do.

    Both are read in fresh processes started outside the source tree: a ``*.egg-info`` folder
    there (left by builds) would otherwise shadow the installed metadata.
    """
    answer = subprocess.run(
        [BIN / "tap-tiktok-ads", "--about", "--format=json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    about = json.loads(answer.stdout)
    read_version = f"import importlib.metadata as m; print(m.version({DISTRIBUTION!r}))"
    installed = subprocess.run(
        [sys.executable, "-c", read_version],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert about["name"] == "tap-tiktok-ads"
    assert about["version"] == installed.stdout.strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", about["version"]), about["version"]


def test_version_is_not_written_in_the_project_file() -> None:
    project = pyproject()["project"]
    assert "version" not in project
    assert "version" in project["dynamic"]


def scm_version(root: Path) -> str:
    config = root / "pyproject.toml"
    answer = subprocess.run(
        [sys.executable, "-m", "setuptools_scm", "--root", root, "--config", config],
        capture_output=True,
        text=True,
        check=True,
    )
    return answer.stdout.strip()


def git(repo: Path, *args: str) -> str:
    answer = subprocess.run(
        ["git", *GIT_IDENTITY, "-C", repo, *args], capture_output=True, text=True, check=True
    )
    return answer.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository holding this project's pyproject.toml, one commit, no tags."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    git(tmp_path, "init", "--quiet")
    git(tmp_path, "add", "pyproject.toml")
    git(tmp_path, "commit", "--quiet", "-m", "first")
    return tmp_path


def test_an_untagged_clone_builds_a_dev_release_of_the_first_version(repo: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    version = scm_version(repo)
    match = re.fullmatch(r"0\.1\.0\.dev1\+g([0-9a-f]+)", version)
    assert match, version
    assert commit.startswith(match.group(1))


def test_a_tag_is_the_version_and_later_commits_are_dev_releases_of_the_next(repo: Path) -> None:
    git(repo, "tag", "v1.4.0")
    assert scm_version(repo) == "1.4.0"
    git(repo, "commit", "--quiet", "--allow-empty", "-m", "second")
    assert re.fullmatch(r"1\.4\.1\.dev1\+g[0-9a-f]+", scm_version(repo))


def test_a_source_tree_without_git_still_has_a_version(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert scm_version(tmp_path) == "0.1.0.dev0"


CHANGELOG_HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?$")


def changelog_sections() -> list[tuple[str, str | None]]:
    lines = (ROOT / "CHANGELOG.md").read_text().splitlines()
    headings = [CHANGELOG_HEADING.match(line) for line in lines if line.startswith("## ")]
    assert all(headings), "every '## ' heading reads '## [version] - YYYY-MM-DD'"
    return [(m["version"], m["date"]) for m in headings if m]


def release_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_the_changelog_keeps_unreleased_first_then_releases_newest_first() -> None:
    sections = changelog_sections()
    assert sections[0] == ("Unreleased", None)
    released = sections[1:]
    assert released, "at least one released version"
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) and d for v, d in released), released
    keys = [release_key(v) for v, _ in released]
    assert keys == sorted(keys, reverse=True)
    dates = [d or "" for _, d in released]
    assert dates == sorted(dates, reverse=True)


def test_the_latest_tag_has_a_changelog_section() -> None:
    described = subprocess.run(
        ["git", "-C", ROOT, "describe", "--tags", "--abbrev=0", "--match", "v[0-9]*"],
        capture_output=True,
        text=True,
        check=False,
    )
    released = {version for version, _ in changelog_sections()[1:]}
    # A clone without tags builds dev releases of the first version, which is in the changelog.
    tag = described.stdout.strip() if described.returncode == 0 else "v0.1.0"
    assert tag.removeprefix("v") in released
