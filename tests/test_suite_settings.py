"""The suite's own rules: nothing in it may fail because the machine is slow."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings


def test_the_ci_hypothesis_profile_never_judges_speed() -> None:
    profile = settings.get_profile("ci")
    assert profile.deadline is None
    assert HealthCheck.too_slow in profile.suppress_health_check


@pytest.mark.skipif("HYPOTHESIS_PROFILE" in os.environ, reason="another profile was asked for")
def test_the_ci_hypothesis_profile_is_in_force_by_default() -> None:
    assert settings.default == settings.get_profile("ci")
