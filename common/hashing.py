"""The desk's one content hash: sha256 of an item's title and text. Items, their versions and
incident evidence store it, so the columns compare with each other."""
from __future__ import annotations

import hashlib


def content_hash(title: str | None, text: str | None) -> str:
    """Hex sha256 of ``title + "\\n" + text`` (None counts as empty)."""
    return hashlib.sha256(f"{title or ''}\n{text or ''}".encode("utf-8")).hexdigest()
