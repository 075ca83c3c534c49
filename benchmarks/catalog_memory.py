"""How much of the tap's memory is its catalog: `python benchmarks/catalog_memory.py`.

Runs the tap in this process with the catalog `meltano run` gives it (every stream discovered,
meltano.yml's selection applied) and stops it at its first HTTP request, before any data:
what Python holds then is schema and metadata. Prints the resident memory after the imports
and at that point, and the largest allocation sites (tracemalloc).
"""

from __future__ import annotations

import contextlib
import gc
import json
import sys
import tempfile
import tracemalloc
from pathlib import Path

import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline import selected_catalog

from tap_tiktok_ads.tap import TapTikTokAds

CONFIG = {
    "access_token": "x",
    "advertiser_ids": ["1"],
    "start_date": "2026-01-01",
    "api_url": "http://127.0.0.1:9/open_api/v1.3",  # never reached: the first request stops it
}


class FirstRequest(BaseException):
    """Raised in place of the tap's first request (BaseException: the tap does not catch it)."""


def main(top: int = 10) -> None:
    process = psutil.Process()
    catalog = selected_catalog(CONFIG)
    with tempfile.TemporaryDirectory() as tmp_dir:
        config_path, catalog_path = Path(tmp_dir) / "config.json", Path(tmp_dir) / "catalog.json"
        config_path.write_text(json.dumps(CONFIG))
        catalog_path.write_text(json.dumps(catalog, indent=2))  # as Meltano writes it
        del catalog
        gc.collect()
        before = process.memory_info().rss
        seen: dict[str, object] = {}

        def first_request(*_: object, **__: object) -> None:
            gc.collect()
            seen["rss"] = process.memory_info().rss
            seen["snapshot"] = tracemalloc.take_snapshot()
            raise FirstRequest

        requests.Session.send = first_request  # type: ignore[method-assign]
        tracemalloc.start()
        args = ["--config", str(config_path), "--catalog", str(catalog_path)]
        with contextlib.suppress(FirstRequest):
            TapTikTokAds.cli(args, standalone_mode=False)
        size = catalog_path.stat().st_size
    snapshot: tracemalloc.Snapshot = seen["snapshot"]  # type: ignore[assignment]
    stats = snapshot.statistics("lineno")
    total = sum(stat.size for stat in stats)
    print(f"catalog file {size / 2**20:.1f} MB")
    rss = int(seen["rss"])  # type: ignore[call-overload]
    # This process also built the catalog (and imported Meltano): compare the two figures.
    print(f"RSS before the tap {before / 2**20:.1f} MB, at its first request {rss / 2**20:.1f} MB")
    print(f"Python objects alive at the first request: {total / 2**20:.1f} MB; largest sites:")
    for stat in stats[:top]:
        frame = stat.traceback[0]
        print(f"  {stat.size / 2**20:6.1f} MB  {frame.filename}:{frame.lineno}")


if __name__ == "__main__":
    main()
