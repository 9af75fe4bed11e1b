"""The root of every expected error of the desk: ``YuqingError``. Each package derives its
own base from it (``StorageError``, ``ClassifierError``, ``MonitorError``, ``ResponderError``,
``PipelineError``, ``ConsoleError``, ``DeskError``), so one ``except YuqingError`` catches
every error meant for staff and anything else is a bug. ``ConfigError`` is shared by the
packages that validate configuration files (sources.toml, desk.toml). Messages are one
line; text for staff is chosen where an error is shown."""
from __future__ import annotations


class YuqingError(Exception):
    """Base of every expected error of the desk."""


class ConfigError(YuqingError):
    """A configuration file or value is wrong. The message names file, key and problem."""
