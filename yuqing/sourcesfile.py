"""Edit sources.toml in place without losing staff comments: append tables, flip `enabled`."""
from __future__ import annotations

import re
from pathlib import Path

import tomli_w

from common.errors import ConfigError
from monitor.sources import parse_sources, source_to_table
from monitor.types import SourceSpec
from storage.files import write_atomic
from yuqing.config import parse_config_text, read_toml


def append_source(path: Path, spec: SourceSpec) -> None:
    doc = read_toml(path)
    if spec.id in doc.get("sources", {}):
        raise ConfigError(f"{path}: [sources.{spec.id}] already exists")
    table = source_to_table(spec)
    block = tomli_w.dumps({"sources": {spec.id: table}})
    text = path.read_text("utf-8")
    new_text = text.rstrip("\n") + "\n\n" + block
    parse_sources(parse_config_text(new_text, str(path)), file=str(path))  # never write a broken file
    write_atomic(path, new_text)


_HEADER = re.compile(r"^\s*\[\s*sources\s*\.\s*(?P<id>\"[^\"]+\"|[A-Za-z0-9_.-]+?)\s*\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")


def set_enabled_in_file(path: Path, source_id: str, enabled: bool) -> None:
    lines = path.read_text("utf-8").splitlines()
    start = None
    for i, line in enumerate(lines):
        m = _HEADER.match(line)
        if m and m.group("id").strip('"') == source_id:
            start = i
            break
    if start is None:
        raise ConfigError(f"{path}: no source '{source_id}' (see `yuqing sources`)")
    end = len(lines)
    for j in range(start + 1, len(lines)):
        if _ANY_HEADER.match(lines[j]):
            end = j
            break
    value = "true" if enabled else "false"
    for k in range(start + 1, end):
        if re.match(r"^\s*enabled\s*=", lines[k]):
            lines[k] = f"enabled = {value}"
            break
    else:
        lines.insert(start + 1, f"enabled = {value}")
    text = "\n".join(lines) + "\n"
    parse_sources(parse_config_text(text, str(path)), file=str(path))
    write_atomic(path, text)
