"""Reading TOML: the desk's one reader for files (:func:`read_toml`) and texts
(:func:`parse_toml`), with one error type, :class:`TomlError`, whose message names the file
and, for a syntax error, the line. Callers word it for their own file's purpose."""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from storage.errors import StorageError

_LINE = re.compile(r"\bat line (\d+)")


class TomlError(StorageError, ValueError):
    """A TOML file or text that cannot be read. ``kind`` is one of missing, folder, unreadable,
    encoding, syntax, nesting; ``detail`` is the message without the file; ``line`` is set for
    a syntax error. Also a ValueError, like the parser's own error."""

    def __init__(self, file: str, kind: str, detail: str, *, line: int | None = None):
        super().__init__(f"{file}: {detail}")
        self.file, self.kind, self.detail, self.line = file, kind, detail, line


def parse_toml(text: str, file: str = "TOML text") -> dict:
    """The table of a TOML text; ``file`` names it in errors."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _LINE.search(str(exc))
        hint = " (each [table] and key may appear only once: rename or remove the second one)" \
            if "twice" in str(exc) or "overwrite" in str(exc) else ""
        raise TomlError(file, "syntax", f"not valid TOML: {exc}{hint}",
                        line=int(m.group(1)) if m else None) from None
    except RecursionError:
        raise TomlError(file, "nesting", "not valid TOML: arrays or tables nested too deeply") from None


def read_toml(path: str | os.PathLike) -> dict:
    """The table of the UTF-8 TOML file at ``path``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TomlError(str(path), "missing", "file not found") from None
    except IsADirectoryError:
        raise TomlError(str(path), "folder", "cannot read: Is a directory (it is a folder, not a TOML file)") from None
    except OSError as exc:
        raise TomlError(str(path), "unreadable", f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TomlError(str(path), "encoding",
                        f"not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    return parse_toml(text, str(path))
