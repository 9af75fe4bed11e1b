"""Writing a file whole or not at all: the desk's one write-then-rename (:func:`write_atomic`).
Readers see the old file or the new one, never a part; a failed write leaves no temporary
file behind."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

TEMP_SUFFIX = ".tmp"


def write_atomic(path: str | os.PathLike, data: bytes | str | Callable[[BinaryIO], None], *,
                 mode: int = 0o600) -> Path:
    """Put ``data`` (bytes, UTF-8 text, or a function writing to a binary file) at ``path``:
    written to a temporary file in the same folder (``.<name>.<random>.tmp``), flushed to
    disk, given ``mode`` (desk files are private: owner only), then renamed over ``path``.
    Raises OSError; the folder must exist."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode != 0o600:  # mkstemp's own mode
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
