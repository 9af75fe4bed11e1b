"""The console's errors: shown to staff on one status line (:func:`tui.app.describe_error`)."""
from __future__ import annotations

from common.errors import YuqingError


class ConsoleError(YuqingError):
    """Base of every expected console error."""


class DeskBusy(ConsoleError):
    """The database stayed locked or failed; the message is shown to staff."""


class DeskLost(DeskBusy):
    """The connection to the desk's database server dropped; the next call connects anew."""


class InvalidInput(ConsoleError, ValueError):
    """A value typed in the console is refused (e.g. an empty scheme name); nothing changed."""
