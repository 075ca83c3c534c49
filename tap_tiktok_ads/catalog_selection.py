"""The discovered catalog with some streams selected, as a user's selection hands it to the tap.

The demo's tools, the benchmarks, the output comparison and the tests all run the tap the way
Meltano does: with the whole discovered catalog, only some streams selected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tap_tiktok_ads.tap import TapTikTokAds

#: Stream names, or each stream name with the properties to select (None: the stream's default
#: property selection, every metric marked selected-by-default).
Selection = Mapping[str, Sequence[str] | None] | Iterable[str]


def catalog_selecting(config: Mapping[str, Any], streams: Selection) -> dict[str, Any]:
    """The catalog the tap discovers with ``config``, with only ``streams`` selected."""
    wanted: Mapping[str, Sequence[str] | None] = (
        streams if isinstance(streams, Mapping) else dict.fromkeys(streams)
    )
    catalog = TapTikTokAds(config=dict(config)).catalog_dict
    for entry in catalog["streams"]:
        stream = entry["tap_stream_id"]
        for item in entry["metadata"]:
            breadcrumb, metadata = item["breadcrumb"], item["metadata"]
            if not breadcrumb:
                metadata["selected"] = stream in wanted
            elif stream in wanted:
                properties = wanted[stream]
                metadata["selected"] = (
                    metadata.get("selected-by-default") is not False
                    if properties is None
                    else breadcrumb[-1] in properties
                )
    return catalog
