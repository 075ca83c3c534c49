"""Fitting TikTok's entity rows to a stream's JSON schema, once per record.

Two things TikTok does that a schema cannot absorb by itself:

- It sends numbers where its documentation (and our schema) says string: ids such as
  ``page_id``, and ids inside lists (``location_ids: [6252001]``, ``interest_category_ids:
  [15]``). They become strings, so a target sees one type per column.
- It adds fields before documenting them. A field the schema does not know is left out of the
  record, and said once per stream and field (singer-sdk would drop it too, but warns again for
  every new combination of unknown fields, listing known ones again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

Converter = Callable[[Any], Any]


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type", [])
    return set(kind) if isinstance(kind, list) else {kind}


def _number_to_string(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class RecordShaper:
    """Applies one stream schema to its records: string typing and unknown-field pruning."""

    def __init__(self, stream_name: str, schema: dict[str, Any], logger: logging.Logger) -> None:
        self.stream_name = stream_name
        self.logger = logger
        self.warned: set[str] = set()
        # An object's converter turns a dict into a dict.
        self._shape: Callable[[dict[str, Any]], dict[str, Any]] = self._object(schema, "")

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        return self._shape(record)

    def _compile(self, schema: dict[str, Any], path: str) -> Converter | None:
        types = _types(schema)
        if "object" in types and "properties" in schema:
            return self._object(schema, f"{path}.")
        if "array" in types and isinstance(schema.get("items"), dict):
            item = self._compile(schema["items"], f"{path}[]")
            if item is None:
                return None
            return lambda value: [item(v) for v in value] if isinstance(value, list) else value
        if "string" in types and not types & {"integer", "number", "boolean"}:
            return _number_to_string
        return None

    def _object(self, schema: dict[str, Any], prefix: str) -> Converter:
        fields = {
            name: self._compile(prop, f"{prefix}{name}")
            for name, prop in schema.get("properties", {}).items()
        }
        open_object = bool(schema.get("additionalProperties"))  # unknown keys are kept there

        def shape(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            out: dict[str, Any] = {}
            for name, item in value.items():
                if name not in fields:
                    if open_object:
                        out[name] = item
                    else:
                        self._unknown(f"{prefix}{name}")
                    continue
                convert = fields[name]
                out[name] = item if convert is None or item is None else convert(item)
            return out

        return shape

    def _unknown(self, path: str) -> None:
        if path in self.warned:
            return
        self.warned.add(path)
        self.logger.warning(
            "%s: TikTok sent field '%s', which the schema does not have; it is left out",
            self.stream_name,
            path,
        )
