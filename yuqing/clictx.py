"""Helpers shared by the CLI commands: the desk home from the group option, config errors as one line."""
from __future__ import annotations

import click

from monitor.exceptions import MonitorError
from yuqing.home import DeskHome, resolve_home


def home_from(ctx: click.Context) -> DeskHome:
    obj = ctx.find_root().obj or {}
    return resolve_home(obj.get("home"))


def load_config_or_exit(ctx: click.Context):
    from yuqing.config import load_config

    home = home_from(ctx)
    try:
        return load_config(home)
    except MonitorError as exc:
        raise click.ClickException(str(exc)) from None


def fail(message: str) -> None:
    raise click.ClickException(message)


def std_stream(name: str, *, encoding: str = "utf-8", errors: str = "strict"):
    """``sys.stdin`` / ``sys.stdout`` set to ``encoding`` (JSONL is UTF-8 whatever the locale
    says). Replaces click's get_text_stream, deprecated in Click 8.5."""
    import io
    import sys

    stream = getattr(sys, name)
    try:
        stream.reconfigure(encoding=encoding, errors=errors)
    except (AttributeError, ValueError, io.UnsupportedOperation):  # not a TextIOWrapper, or already read
        pass
    return stream
