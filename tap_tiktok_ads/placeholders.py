"""How TikTok writes "no value" in a field it sends."""

from __future__ import annotations

# TikTok sends "-" for a metric it does not break down (conversions at campaign level, for
# example), and null or "" for a field that has no value. A tuple, not a set: the values
# tested against it may be lists or objects, which a set cannot hold.
MISSING = (None, "", "-")
