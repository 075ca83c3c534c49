"""Errors the tap raises on purpose, each meant to be read by a person as one line."""

from __future__ import annotations

# Set to print the full (redacted) traceback under each error line.
DEBUG_ENV = "TAP_TIKTOK_ADS_DEBUG"


class TapTikTokAdsError(Exception):
    """Base class of every error the tap raises deliberately."""


class ConfigError(TapTikTokAdsError, ValueError):
    """A setting is missing, malformed or in conflict with another.

    The message always starts with the setting's name so users know what to fix.
    """

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")
