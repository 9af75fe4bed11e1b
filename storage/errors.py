"""The storage floor's error base."""
from __future__ import annotations

from common.errors import YuqingError


class StorageError(YuqingError):
    """Base of every expected storage error (database schema, files, typed times)."""
