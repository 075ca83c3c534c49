"""singer-sdk's standard tap tests, run against the emulator over real HTTP."""

from __future__ import annotations

import atexit
from datetime import date

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.tap import TapTikTokAds
from tests.conftest import PINNED_CLOCK_SKEW_HOURS

# The test class is built at import time, so the emulator must already be serving.
_EMULATOR = Emulator(seed=3, advertisers=2, today=date(2026, 11, 20)).start()
atexit.register(_EMULATOR.stop)

SAMPLE_CONFIG = {
    "access_token": _EMULATOR.access_token,
    "api_url": _EMULATOR.base_url,
    "advertiser_ids": [a["advertiser_id"] for a in _EMULATOR.world.advertisers],
    "start_date": "2026-11-18",
    "max_requests_per_second": 1000,
    "max_clock_skew_hours": PINNED_CLOCK_SKEW_HOURS,
}

TestTapTikTokAds = get_tap_test_class(
    tap_class=TapTikTokAds,
    config=SAMPLE_CONFIG,
    suite_config=SuiteConfig(max_records_limit=50),
)
