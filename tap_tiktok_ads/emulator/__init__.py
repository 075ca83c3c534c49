"""A loopback emulator of the TikTok Business API v1.3 for tests, the demo and benchmarks."""

from tap_tiktok_ads.emulator.faults import Faults
from tap_tiktok_ads.emulator.server import Emulator

__all__ = ["Emulator", "Faults"]
