"""The discovered catalog as singer-sdk builds it, with each distinct property schema
converted once.

singer-sdk turns every stream's schema into its ``Schema`` object and back to a dict to write
the catalog: that conversion orders each schema's keys its own way and keeps only the keywords
it knows. The report streams repeat the same few hundred metric schemas, about 13,000
properties in all, and converting each of them took most of ``--discover``'s time after the
imports. Here each distinct flat property schema (text and lists of text, as a metric's type
and description) goes through the same conversion once, any other schema on its own, and the
entry around them through singer-sdk's own ``CatalogEntry``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from singer_sdk import Stream
from singer_sdk.singerlib import CatalogEntry, Schema

FlatKey = tuple[tuple[str, str | tuple[str, ...]], ...]


def catalog_dict(streams: Iterable[Stream]) -> dict[str, Any]:
    """The same dict as singer-sdk's ``Tap.catalog_dict`` for these streams."""
    converted: dict[FlatKey, dict[str, Any]] = {}

    def property_schema(schema: dict[str, Any]) -> dict[str, Any]:
        key = _flat_key(schema)
        if key is None:
            return Schema.from_dict(schema).to_dict()
        if key not in converted:
            converted[key] = Schema.from_dict(schema).to_dict()
        # Each entry owns its dicts and lists, as singer-sdk's do.
        return {k: v.copy() if isinstance(v, list) else v for k, v in converted[key].items()}

    entries = []
    for stream in streams:
        schema = stream.schema
        properties = schema.get("properties")
        if isinstance(properties, dict):
            # Converted without its properties ("properties" keeps its place among the keys).
            schema = {**schema, "properties": {}}
        entry = CatalogEntry(
            tap_stream_id=stream.tap_stream_id,
            stream=stream.name,
            schema=Schema.from_dict(schema),
            metadata=stream.metadata,
            key_properties=stream.primary_keys or [],
            replication_key=stream.replication_key,
            replication_method=stream.replication_method,
        ).to_dict()
        if isinstance(properties, dict):
            entry["schema"]["properties"] = {
                name: property_schema(value) for name, value in properties.items()
            }
        entries.append(entry)
    return {"streams": entries}


def _flat_key(schema: dict[str, Any]) -> FlatKey | None:
    """The schema as a key when all its values are text or lists of text, else None."""
    items: list[tuple[str, str | tuple[str, ...]]] = []
    for key, value in schema.items():
        if isinstance(value, str):
            items.append((key, value))
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            items.append((key, tuple(value)))
        else:
            return None
    return tuple(items)
