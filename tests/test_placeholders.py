"""TikTok's "no value" placeholders are read the same way everywhere, from one constant."""

from __future__ import annotations

import ast
from datetime import timezone
from pathlib import Path

import pytest

import tap_tiktok_ads
from tap_tiktok_ads.dates import day_part, epoch_to_rfc3339, tiktok_utc_to_rfc3339
from tap_tiktok_ads.placeholders import MISSING
from tap_tiktok_ads.reports.definitions import ReportDefinition
from tap_tiktok_ads.reports.records import RecordBuilder, to_integer, to_number, to_string


@pytest.mark.parametrize("value", MISSING)
def test_every_reader_takes_a_placeholder_for_no_value(value: object) -> None:
    assert to_integer(value) is None
    assert to_number(value) is None
    assert to_string(value) is None
    assert tiktok_utc_to_rfc3339(value) is None
    assert epoch_to_rfc3339(value) is None  # type: ignore[arg-type]


def test_a_real_value_is_not_a_placeholder() -> None:
    assert to_integer("0") == 0
    assert to_string("--") == "--"


@pytest.mark.parametrize(
    ("label", "day"),
    [("2026-11-19 00:00:00", "2026-11-19"), ("2026-11-19", "2026-11-19")],
)
def test_report_day_is_the_label_s_date_part(label: str, day: str) -> None:
    assert day_part(label) == day


def test_report_records_cut_the_day_with_the_dates_function() -> None:
    definition = ReportDefinition("daily_campaigns", "BASIC", "campaign", "daily")
    builder = RecordBuilder(definition, [], timezone.utc)
    record = builder.build(
        {"dimensions": {"campaign_id": "1", "stat_time_day": "2026-11-19 00:00:00"}}, "7"
    )
    assert record["stat_time_day"] == "2026-11-19"


def placeholder_tuples(source: Path) -> int:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    return len(
        [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Tuple)
            and all(isinstance(item, ast.Constant) for item in node.elts)
            and "-" in [item.value for item in node.elts]  # type: ignore[attr-defined]
            and None in [item.value for item in node.elts]  # type: ignore[attr-defined]
        ]
    )


def test_no_module_but_placeholders_lists_them() -> None:
    package = Path(tap_tiktok_ads.__file__).parent
    offenders = [
        str(path.relative_to(package))
        for path in sorted(package.rglob("*.py"))
        if path.name != "placeholders.py"
        and "emulator" not in path.relative_to(package).parts
        and placeholder_tuples(path)
    ]
    assert offenders == []
