"""The desk's monitoring-schemes file: ``<home>/schemes.toml`` when the desk has its own
copy, else the bundled ``data/schemes.toml``. Reads its ``[schemes.NAME]`` tables and saves
one scheme's expression into the desk's copy (created from the bundled file on first save),
all or nothing. What an expression means is ``classifiers.schemes``' business.
"""
from __future__ import annotations

from pathlib import Path

from data import DATA_DIR
from storage.errors import StorageError
from storage.files import write_atomic
from storage.tomlfile import TomlError, read_toml

BUNDLED = DATA_DIR / "schemes.toml"
NAME = "schemes.toml"
EDITED_HEADER = "# Edited in the duty console (yuqing tui).\n"


class SchemesFileError(StorageError, ValueError):
    """The schemes file cannot be read; ``path`` and ``reason`` say which and why (``too_deep``:
    its arrays or tables are nested beyond what the reader takes)."""

    def __init__(self, path: Path, reason: str, *, too_deep: bool = False):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.too_deep = too_deep


def schemes_path(home: Path) -> Path:
    """The file in force: the desk's own copy when it has one, else the bundled one."""
    own = Path(home) / NAME
    return own if own.is_file() else BUNDLED


def _document(path: Path) -> dict:
    try:
        return read_toml(path)
    except TomlError as exc:
        if exc.kind == "missing":
            return {}
        raise SchemesFileError(path, exc.detail, too_deep=exc.kind == "nesting") from None


def read_document(home: Path) -> dict:
    """The whole file in force as parsed TOML; {} when there is no file."""
    return _document(schemes_path(home))


def schemes_of(doc: dict) -> dict[str, dict]:
    """name -> its table ({expr, alert, description, label, ...}) of a parsed schemes file."""
    return {k: dict(v) for k, v in (doc.get("schemes") or {}).items() if isinstance(v, dict)}


def read_schemes(home: Path) -> dict[str, dict]:
    """name -> its table; {} when there is no file."""
    return schemes_of(read_document(home))


def save_expression(home: Path, name: str, expr: str) -> Path:
    """Set scheme ``name``'s expression in the desk's own copy, keeping everything else; returns it."""
    import tomli_w

    doc = _document(schemes_path(home))
    doc.setdefault("schemes", {}).setdefault(name, {})["expr"] = expr
    dest = Path(home) / NAME
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(dest, EDITED_HEADER + tomli_w.dumps(doc))
    return dest
