"""Keep secrets out of logs, errors and exports.

``redact(text, secrets)`` is the desk's one scrubber (:func:`common.secrets.scrub_text`):
it removes webhook keys, access tokens, signatures and any known secret value from a string. ``RedactingFilter`` applies ``redact`` to every
record of a logger. ``mask_personal`` is the desk's one personal-data masker,
re-exported from :mod:`responders.masking` (alerts and exports mask alike).
"""
from __future__ import annotations

import logging
from typing import Iterable

from common.secrets import MASK
from common.secrets import scrub_text as redact
from responders.masking import mask_personal

__all__ = ["MASK", "RedactingFilter", "mask_personal", "redact"]


# ---------------------------------------------------------------- logging

class RedactingFilter(logging.Filter):
    """Rewrite each record's message (args merged) with ``redact``; install on a
    logger or handler: ``logger.addFilter(RedactingFilter(cfg.secrets()))``."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        return True
