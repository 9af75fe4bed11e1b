"""The classifiers' error base (bad data files or expressions handed to pure functions)."""
from __future__ import annotations

from common.errors import YuqingError


class ClassifierError(YuqingError, ValueError):
    """Base of every expected classifier error; also a ValueError (bad input values)."""
