"""One exception tree for intake. Expected I/O and format errors are wrapped here;
anything else is a bug and propagates."""
from __future__ import annotations

from common.errors import ConfigError, YuqingError

# A wrong source definition raises the desk's one ConfigError (shared with desk.toml).
__all__ = ["ConfigError", "MonitorError", "ParseError", "RetrieveError", "FetchTimeout", "ResponseTooLarge",
           "TooManyRedirects", "HTTPStatusError", "ConnectError", "ImportRowError"]


class MonitorError(YuqingError):
    """Base of every expected intake error."""


class ParseError(MonitorError):
    """Nothing usable could be parsed from a document."""


class RetrieveError(MonitorError):
    """A fetch failed. ``kind`` is a short machine word (timeout, too_large, http, ...)."""

    kind = "retrieve"

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class FetchTimeout(RetrieveError):
    kind = "timeout"


class ResponseTooLarge(RetrieveError):
    kind = "too_large"


class TooManyRedirects(RetrieveError):
    kind = "redirects"


class HTTPStatusError(RetrieveError):
    kind = "http"

    def __init__(self, status: int, message: str, *, retry_after: float | None = None):
        super().__init__(message, retry_after=retry_after)
        self.status = status


class ConnectError(RetrieveError):
    kind = "connect"


class ImportRowError(MonitorError):
    """One bad row of a manual-intake CSV: names the row number and the problem."""

    def __init__(self, row: int, message: str):
        super().__init__(f"row {row}: {message}")
        self.row = row
