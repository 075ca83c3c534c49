"""meltano-hub/tap-tiktok-ads.yml is scripts/hub_definition.py's output and agrees with --about."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import tomllib
import yaml

from tap_tiktok_ads.tap import TapTikTokAds

ROOT = Path(__file__).resolve().parent.parent
DEFINITION = ROOT / "meltano-hub" / "tap-tiktok-ads.yml"
# Setting kinds Meltano accepts, by the JSON types a setting's schema allows.
KINDS_BY_TYPE = {
    "string": {"string", "password", "date_iso8601", "options"},
    "integer": {"integer", "options"},
    # Fractional numbers travel as text through Meltano (see settings.numbers_given_as_text).
    "number": {"string", "options"},
    "boolean": {"boolean"},
    "array": {"array"},
    "object": {"object"},
}


def load_script() -> ModuleType:
    path = ROOT / "scripts" / "hub_definition.py"
    spec = importlib.util.spec_from_file_location("hub_definition", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hub_definition = load_script()


@pytest.fixture(scope="module")
def about() -> dict[str, Any]:
    answer = subprocess.run(
        [Path(sys.executable).parent / "tap-tiktok-ads", "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(answer.stdout)


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    return yaml.safe_load(DEFINITION.read_text())


def test_the_committed_file_is_the_scripts_output(about: dict[str, Any]) -> None:
    expected = hub_definition.render(hub_definition.definition(about))
    assert DEFINITION.read_text() == expected, "meltano-hub/ is stale: run `make hub`"


def schema_at(about: Mapping[str, Any], dotted: str) -> Mapping[str, Any]:
    """The schema of a setting, following a dotted name into nested settings."""
    schema: Mapping[str, Any] = about["settings"]
    for part in dotted.split("."):
        schema = schema["properties"][part]
    return schema


def json_types(schema: Mapping[str, Any] | str) -> set[str]:
    if not isinstance(schema, Mapping):
        return set()
    declared = schema.get("type", [])
    types = {declared} if isinstance(declared, str) else set(declared)
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        types |= json_types(branch)
    return types - {"null"}


def test_every_setting_of_the_tap_is_in_the_definition_once(
    about: dict[str, Any], committed: dict[str, Any]
) -> None:
    names = [s["name"] for s in committed["settings"]]
    assert len(names) == len(set(names))
    assert {name.split(".")[0] for name in names} == set(about["settings"]["properties"])
    for name in names:
        schema_at(about, name)  # a KeyError names a setting the tap does not have


def test_each_setting_says_what_the_tap_says(
    about: dict[str, Any], committed: dict[str, Any]
) -> None:
    for entry in committed["settings"]:
        schema = schema_at(about, entry["name"])
        assert entry["label"]
        assert " ".join(entry["description"].split()) == " ".join(schema["description"].split())
        assert entry.get("sensitive", False) is bool(schema.get("secret")), entry["name"]
        assert entry.get("value") == schema.get("default"), entry["name"]
        assert [o["value"] for o in entry.get("options", [])] == schema.get("enum", [])
        allowed = set().union(*(KINDS_BY_TYPE[t] for t in json_types(schema)))
        assert entry["kind"] in allowed, (entry["name"], entry["kind"], json_types(schema))
        if schema.get("format") == "date":
            assert entry["kind"] == "date_iso8601"


def test_secrets_are_passwords_nobody_sees(committed: dict[str, Any]) -> None:
    secrets = {s["name"] for s in committed["settings"] if s.get("sensitive")}
    assert {"access_token", "secret"} <= secrets
    assert all(s["kind"] == "password" for s in committed["settings"] if s.get("sensitive"))


def test_the_plugin_is_the_installable_tap(
    about: dict[str, Any], committed: dict[str, Any]
) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert committed["pip_url"] == project["name"]
    assert committed["name"] == about["name"] in project["scripts"]
    assert committed["namespace"] == "tap_tiktok_ads"
    assert committed["capabilities"] == sorted(about["capabilities"])
    assert committed["settings_group_validation"] == [sorted(about["settings"]["required"])]
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    extractor = next(p for p in project["plugins"]["extractors"] if p["name"] == about["name"])
    assert committed["select"] == extractor["select"]
    for key in ("variant", "label", "description"):
        assert committed[key], key


def test_groups_of_settings_get_dotted_names_and_free_maps_stay_objects() -> None:
    about = {
        "name": "tap-x",
        "capabilities": ["discover", "about"],
        "settings": {
            "properties": {
                "batch": {
                    "type": ["object", "null"],
                    "properties": {"format": {"type": "string", "description": "Format."}},
                },
                "maps": {
                    "type": ["object", "null"],
                    "properties": {"__else__": {"const": "__NULL__"}},
                    "additionalProperties": {"type": "object"},
                    "description": "Free-form map.",
                },
            }
        },
    }
    settings = hub_definition.definition(about)["settings"]
    assert [(s["name"], s["kind"]) for s in settings] == [
        ("batch.format", "string"),
        ("maps", "object"),
    ]


@pytest.mark.parametrize(
    ("schema", "kind"),
    [
        ({"type": ["string"], "secret": True}, "password"),
        ({"type": ["string", "null"], "format": "date"}, "date_iso8601"),
        ({"type": ["string", "null"], "enum": ["a", "b"]}, "options"),
        ({"anyOf": [{"type": "array"}, {"type": "string"}, "null"]}, "array"),
        ({"type": ["number", "null"]}, "string"),
        ({"type": ["integer", "null"]}, "integer"),
        ({"type": ["boolean", "null"]}, "boolean"),
        ({"oneOf": [{"type": ["number"]}, {"type": ["string"]}, {"type": "null"}]}, "string"),
    ],
)
def test_kinds_follow_the_json_schema(schema: dict[str, Any], kind: str) -> None:
    assert hub_definition.kind_of(schema) == kind


def test_a_setting_without_a_description_stops_the_script() -> None:
    about = {
        "name": "tap-x",
        "capabilities": [],
        "settings": {"properties": {"page_limit": {"type": "integer"}}},
    }
    with pytest.raises(SystemExit, match="page_limit"):
        hub_definition.definition(about)


# One value of each kind, as a user sets them in the environment of `meltano run`.
ENVIRONMENT = {
    "TAP_TIKTOK_ADS_ACCESS_TOKEN": "hub-definition-token",
    "TAP_TIKTOK_ADS_ADVERTISER_IDS": '["7001", "7002"]',
    "TAP_TIKTOK_ADS_START_DATE": "2026-01-01",
    "TAP_TIKTOK_ADS_PAGE_SIZE": "250",
    "TAP_TIKTOK_ADS_MAX_REQUESTS_PER_SECOND": "5",
    "TAP_TIKTOK_ADS_INCLUDE_DELETED": "true",
    "TAP_TIKTOK_ADS_WEEK_START_DAY": "sunday",
    "TAP_TIKTOK_ADS_BATCH_CONFIG_ENCODING_FORMAT": "jsonl",
}


@pytest.mark.e2e
def test_meltano_adds_the_definition_and_the_tap_accepts_what_meltano_passes(
    tmp_path: Path,
) -> None:
    (tmp_path / "meltano.yml").write_text(
        "project_id: hub-definition-test\ndefault_environment: dev\nenvironments:\n- name: dev\n"
        "send_anonymous_usage_stats: false\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_ADS_")}
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    meltano = Path(sys.executable).parent / "meltano"
    add: list[str | Path] = [meltano, "add", "extractor", "tap-tiktok-ads"]
    add += ["--from-ref", DEFINITION, "--no-install"]
    subprocess.run(add, cwd=tmp_path, env=env, capture_output=True, check=True)
    printed = subprocess.run(
        [meltano, "config", "--unsafe", "print", "tap-tiktok-ads", "--format=json"],
        cwd=tmp_path,
        env={**env, **ENVIRONMENT},
        capture_output=True,
        text=True,
        check=True,
    )
    config = json.loads(printed.stdout)
    assert config["advertiser_ids"] == ["7001", "7002"]
    assert config["page_size"] == 250
    assert config["include_deleted"] is True
    assert config["batch_config"] == {"encoding": {"format": "jsonl"}}
    tap = TapTikTokAds(config=config, validate_config=True, setup_mapper=False)
    assert tap.settings.advertiser_ids == ("7001", "7002")
    assert tap.settings.max_requests_per_second == 5
    assert tap.settings.dates.start == date(2026, 1, 1)
    assert tap.settings.dates.week_start == 6  # Sunday
    assert tap.settings.include_deleted is True
