"""The wiring floor's error base: CLI, configuration, daemon, demo and data-file loading."""
from __future__ import annotations

from common.errors import YuqingError


class DeskError(YuqingError):
    """Base of every expected error of the desk's wiring (operations, data files, demo)."""
