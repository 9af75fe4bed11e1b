"""Every message the console's workers post, in one place.

Workers call :class:`tui.facade.DeskFacade` off the UI thread and post one of
these; handlers on the main loop update widgets.
"""
from __future__ import annotations

from typing import Any

from textual.message import Message


class SnapshotReady(Message):
    """A fresh dashboard snapshot (board, stream, status)."""

    def __init__(self, snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot


class DeskFailed(Message):
    """A facade call failed; ``text`` is a one-line Chinese message for staff (``lost``: the
    server connection dropped, the next call reconnects)."""

    def __init__(self, text: str, tag: str = "", retry: Any = None, lost: bool = False) -> None:
        super().__init__()
        self.text = text
        self.tag = tag
        self.retry = retry  # what the user typed, to reopen a form with it
        self.lost = lost


class DeskChanged(Message):
    """The desk's server notified a committed change: refresh what is shown."""


class ListenState(Message):
    """The console's wait for change notifications started (``ok``) or broke off (``text`` says why)."""

    def __init__(self, ok: bool, text: str = "") -> None:
        super().__init__()
        self.ok = ok
        self.text = text


class Loaded(Message):
    """A facade call's result: ``tag`` names what was asked for."""

    def __init__(self, tag: str, result: Any) -> None:
        super().__init__()
        self.tag = tag
        self.result = result


class ActionDone(Message):
    """A write succeeded; ``text`` is the confirmation shown to staff."""

    def __init__(self, text: str, incident_id: int | None = None, result: Any = None) -> None:
        super().__init__()
        self.text = text
        self.incident_id = incident_id
        self.result = result
