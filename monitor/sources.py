"""Validate source definitions (the ``[sources.ID]`` tables of sources.toml).

Every error names the file, the key and what is wrong, so staff can fix the
file without reading code.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from monitor.exceptions import ConfigError
from monitor.types import MAPPING_PRESETS, SOURCE_KINDS, SourceSpec

PLATFORMS = ("news", "weibo", "hotlist", "gov", "own", "hotline", "other")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_FIELDS: dict[str, tuple[type | tuple[type, ...], Any]] = {
    # key: (type, default)
    "name": (str, None),
    "url": (str, None),
    "kind": (str, "auto"),
    "mapping": (str, None),
    "fields": (dict, None),
    "interval": (int, 300),
    "priority": (int, 5),
    "encoding": (str, None),
    "enabled": (bool, True),
    "own_channel": (bool, False),
    "local": (bool, False),
    "platform": (str, "news"),
}
MIN_INTERVAL = 1
MAX_INTERVAL = 7 * 86400


def parse_source(source_id: str, table: Mapping[str, Any], *, file: str = "sources.toml") -> SourceSpec:
    where = f"{file}: [sources.{source_id}]"
    if not _ID_RE.match(source_id):
        raise ConfigError(f"{file}: [sources.{source_id}]: a source id may use letters, digits, '_', '-', '.' (max 64)")
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: must be a table, got {type(table).__name__}")
    unknown = sorted(set(table) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"{where}: unknown key '{unknown[0]}' (known: {', '.join(_FIELDS)})")
    values: dict[str, Any] = {}
    for key, (typ, default) in _FIELDS.items():
        if key not in table:
            values[key] = default
            continue
        value = table[key]
        if typ is int and isinstance(value, bool) or not isinstance(value, typ):
            raise ConfigError(f"{where}.{key}: expected {typ.__name__}, got {type(value).__name__} {value!r}")
        values[key] = value
    url = values["url"]
    if not url:
        raise ConfigError(f"{where}.url: missing (every source needs a URL; use file:// or manual for intake)")
    if values["kind"] != "manual" and not re.match(r"^https?://[^\s/]+", url):
        raise ConfigError(f"{where}.url: '{url}' is not an http(s) URL")
    if values["kind"] not in SOURCE_KINDS:
        raise ConfigError(f"{where}.kind: '{values['kind']}' is not one of {', '.join(SOURCE_KINDS)}")
    if values["mapping"] is not None and values["mapping"] not in MAPPING_PRESETS:
        raise ConfigError(f"{where}.mapping: '{values['mapping']}' is not one of {', '.join(MAPPING_PRESETS)}")
    if values["kind"] == "html" and not (values["fields"] or {}).get("item"):
        raise ConfigError(f"{where}.fields.item: an html source needs a CSS selector for its list items")
    if not MIN_INTERVAL <= values["interval"] <= MAX_INTERVAL:
        raise ConfigError(f"{where}.interval: {values['interval']} s is outside {MIN_INTERVAL}..{MAX_INTERVAL}")
    if not 1 <= values["priority"] <= 9:
        raise ConfigError(f"{where}.priority: {values['priority']} is outside 1 (most urgent) .. 9")
    if values["platform"] not in PLATFORMS:
        raise ConfigError(f"{where}.platform: '{values['platform']}' is not one of {', '.join(PLATFORMS)}")
    if values["encoding"]:
        import codecs

        try:
            codecs.lookup(values["encoding"])
        except LookupError:
            raise ConfigError(f"{where}.encoding: unknown encoding '{values['encoding']}'") from None
    return SourceSpec(
        id=source_id,
        name=values["name"] or source_id,
        url=url,
        kind=values["kind"],
        mapping=values["mapping"],
        fields=dict(values["fields"] or {}),
        interval=values["interval"],
        priority=values["priority"],
        encoding=values["encoding"],
        enabled=values["enabled"],
        own_channel=values["own_channel"],
        local=values["local"],
        platform=values["platform"],
    )


def parse_sources(doc: Mapping[str, Any], *, file: str = "sources.toml") -> list[SourceSpec]:
    """Parse a whole sources.toml document: ``{"sources": {id: table}}``."""
    unknown = sorted(set(doc) - {"sources"})
    if unknown:
        raise ConfigError(f"{file}: unknown top-level key '{unknown[0]}' (expected [sources.ID] tables)")
    tables = doc.get("sources", {})
    if not isinstance(tables, Mapping):
        raise ConfigError(f"{file}: 'sources' must be a table of [sources.ID] tables")
    return [parse_source(sid, table, file=file) for sid, table in tables.items()]


def source_to_table(spec: SourceSpec) -> dict[str, Any]:
    """The inverse of :func:`parse_source`, omitting defaults (for writing sources.toml)."""
    table: dict[str, Any] = {"name": spec.name, "url": spec.url}
    for key, (_typ, default) in _FIELDS.items():
        if key in table:
            continue
        value = getattr(spec, key)
        if key == "fields":
            value = dict(value) or None
        if value is not None and value != default:
            table[key] = value
    return table
