"""Logging for the daemon: a rotating file in the desk home and stderr."""
from __future__ import annotations

import logging
import logging.handlers
import sys

from yuqing.home import DeskHome

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(home: DeskHome | None, *, verbose: bool = False, stderr: bool = True) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_yuqing", False):
            root.removeHandler(h)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    handlers: list[logging.Handler] = []
    if home is not None:
        home.log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(
            home.log_path, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"))
    if stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    for h in handlers:
        h.setFormatter(logging.Formatter(FORMAT))
        h._yuqing = True  # type: ignore[attr-defined]
        root.addHandler(h)
    for noisy in ("apscheduler", "aiohttp.access", "jieba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
