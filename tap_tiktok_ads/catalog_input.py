"""The input catalog, reduced to what a sync reads of it.

Meltano hands the tap the whole discovered catalog, every stream with its schema and one
metadata entry per property (the report streams offer hundreds of metrics each), of which a
run usually selects a few streams. singer-sdk keeps the parsed catalog for the whole run, and
each stream keeps a copy of its schema, its metadata and a selection mask made from them:
about 15 MB of Python objects for the streams that are never read, held while records flow.

A stream that is not selected is only asked for its selection, keys and replication settings
(and its replication key's type). Its entry is kept with those: its top-level fields, its root
metadata, and the schema and metadata of its key and replication key properties. singer-sdk's
stream maps see the same schema either way: it drops every property of a stream that is not
selected. Entries with no root metadata and those of streams whose children may be selected
are not reduced so (they are treated as selected streams, below); entries of an unexpected
shape are kept whole.

A selected stream keeps all its metadata (the selection mask is made from it) but not the
schema of the top-level properties its metadata deselects: a report stream offers hundreds of
metrics and a run selects a few dozen, and singer-sdk parses, copies and converts the schema
of every one of them before the first request, to use only the selected ones (the schema of
its stream maps and SCHEMA messages, the record types it conforms).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from singer_sdk.singerlib import MetadataMapping


def without_unselected_detail(catalog: dict[str, Any], keep: Collection[str]) -> dict[str, Any]:
    """``catalog`` with the entries of unselected streams reduced and the deselected properties
    of the others left out of their schema (see the module docstring); the entries of the
    streams named in ``keep`` are never reduced. ``catalog`` is left unchanged."""
    streams = catalog.get("streams")
    if not isinstance(streams, list):
        return catalog
    return {**catalog, "streams": [_entry(entry, keep) for entry in streams]}


def _entry(entry: Any, keep: Collection[str]) -> Any:
    if not _judgeable(entry):
        return entry
    if entry.get("tap_stream_id") not in keep and _unselected(entry["metadata"]):
        return _reduced(entry)
    return _pruned(entry)


def _judgeable(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    schema, metadata = entry.get("schema"), entry.get("metadata")
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return False
    return isinstance(metadata, list) and all(_well_formed(item) for item in metadata)


def _well_formed(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("breadcrumb"), list)
        and isinstance(item.get("metadata"), dict)
    )


def _unselected(metadata: list[dict[str, Any]]) -> bool:
    roots = [item for item in metadata if not item["breadcrumb"]]
    # singer-sdk selects a stream whose metadata is empty: judged on the root entries alone,
    # an entry with property metadata but no root would look selected when it is not.
    return bool(roots) and not _root_selected(roots)


def _root_selected(roots: list[dict[str, Any]]) -> bool:
    """The stream's selection as singer-sdk resolves it (only the root entry decides it)."""
    return bool(MetadataMapping.from_iterable(roots).resolve_selection().get((), True))


def _reduced(entry: dict[str, Any]) -> dict[str, Any]:
    names = set(_key_names(entry))
    schema = entry["schema"]
    properties = {name: value for name, value in schema["properties"].items() if name in names}
    metadata = [item for item in entry["metadata"] if _kept(item["breadcrumb"], names)]
    return {**entry, "schema": {**schema, "properties": properties}, "metadata": metadata}


def _pruned(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry without the schema of the top-level properties its metadata deselects (the
    entry itself when there are none)."""
    deselected = {
        item["breadcrumb"][1]
        for item in entry["metadata"]
        if _top_level(item["breadcrumb"]) and _deselected(item["metadata"])
    } - set(_key_names(entry))
    schema = entry["schema"]
    properties = schema["properties"]
    if not deselected.intersection(properties):
        return entry
    kept = {name: value for name, value in properties.items() if name not in deselected}
    return {**entry, "schema": {**schema, "properties": kept}}


def _top_level(breadcrumb: list[Any]) -> bool:
    return len(breadcrumb) == 2 and breadcrumb[0] == "properties" and isinstance(breadcrumb[1], str)


def _deselected(metadata: dict[str, Any]) -> bool:
    """Deselected whatever else the stream's metadata says: singer-sdk takes ``selected`` as
    given unless the property is included automatically (an unsupported one is never
    selected either way)."""
    return metadata.get("selected") is False and metadata.get("inclusion") != "automatic"


def _key_names(entry: dict[str, Any]) -> Iterator[str]:
    """The key and replication key properties the entry or its root metadata names."""
    roots = [item["metadata"] for item in entry["metadata"] if not item["breadcrumb"]]
    for source in (entry, *roots):
        for field in ("key_properties", "table-key-properties", "valid-replication-keys"):
            value = source.get(field)
            if isinstance(value, list):
                yield from (name for name in value if isinstance(name, str))
        for field in ("replication_key", "replication-key"):
            value = source.get(field)
            if isinstance(value, str):
                yield value


def _kept(breadcrumb: list[Any], names: set[str]) -> bool:
    if not breadcrumb:
        return True
    return len(breadcrumb) >= 2 and isinstance(breadcrumb[1], str) and breadcrumb[1] in names
