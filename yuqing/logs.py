"""Logging for the daemon: a rotating file in the desk home and stderr. Each line starts with
desk time and its offset (``2026-12-06T05:40:00.123+08:00``), whatever the host's zone.

Log messages carry feed text (titles, robot answers): control characters become visible
symbols (:func:`storage.visible.visible`), line breaks included, so ``tail -f desk.log``
never runs an escape sequence and one record is one line (tracebacks keep their lines);
personal data is masked on every line."""
from __future__ import annotations

import logging
import logging.handlers
import sys

from yuqing.home import DeskHome

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class DeskTimeFormatter(logging.Formatter):
    """Log times in the desk's zone with the offset (not the host's local time)."""

    def __init__(self, fmt: str = FORMAT, tz=None):
        super().__init__(fmt)
        self.tz = tz  # None: the desk's zone (storage.timeutil.desk_tz)

    def formatTime(self, record, datefmt=None):  # noqa: N802 (logging's name)
        from datetime import datetime

        from storage.timeutil import desk_tz

        return datetime.fromtimestamp(record.created, self.tz or desk_tz()).isoformat(timespec="milliseconds")

    def format(self, record):  # noqa: A003 (logging's name)
        """Like ``logging.Formatter.format``, with feed text made visible and personal data
        masked (one masker for every line of desk.log and stderr); the traceback is formatted
        afresh (another handler may have cached it raw)."""
        from responders.masking import mask_personal
        from storage.visible import visible

        record.message = visible(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        s = self.formatMessage(record)
        extra = []
        if record.exc_info:
            extra.append(self.formatException(record.exc_info))
        elif record.exc_text:
            extra.append(record.exc_text)
        if record.stack_info:
            extra.append(self.formatStack(record.stack_info))
        for part in extra:
            s += "\n" + visible(part.rstrip("\n"), multiline=True)
        return mask_personal(s)


class _LogFile(logging.handlers.RotatingFileHandler):
    """The desk log; when it cannot be written (disk full) one line on stderr says so, not a
    traceback per record, and it says so again only after writing worked in between."""

    _failing = False

    _failed_now = False

    def emit(self, record: logging.LogRecord) -> None:
        self._failed_now = False
        super().emit(record)
        if self._failing and not self._failed_now:
            self._failing = False

    def handleError(self, record: logging.LogRecord) -> None:
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            return super().handleError(record)
        self._failed_now = True
        if not self._failing:
            self._failing = True
            sys.stderr.write(f"yuqing: cannot write the desk log {self.baseFilename}: {exc.strerror or exc}; "
                             "logging to stderr only until it can\n")


def setup_logging(home: DeskHome | None, *, verbose: bool = False, stderr: bool = True) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_yuqing", False):
            root.removeHandler(h)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    handlers: list[logging.Handler] = []
    if home is not None:
        home.log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(_LogFile(home.log_path, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"))
    if stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    for h in handlers:
        h.setFormatter(DeskTimeFormatter(FORMAT))
        h._yuqing = True  # type: ignore[attr-defined]
        root.addHandler(h)
    for noisy in ("apscheduler", "aiohttp.access", "jieba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
