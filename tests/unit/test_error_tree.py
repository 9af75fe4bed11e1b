"""Every exception class defined in our packages descends from the one root, YuqingError."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

from common.errors import ConfigError, YuqingError

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("common", "storage", "classifiers", "monitor", "responders", "pipeline", "tui", "yuqing")
# Modules that run something when imported (entry points), not libraries.
SKIP = {"yuqing.__main__"}


def _modules():
    for pkg in PACKAGES:
        if not (REPO / pkg / "__init__.py").is_file():
            continue
        yield pkg
        for info in pkgutil.walk_packages([str(REPO / pkg)], prefix=f"{pkg}."):
            if info.name not in SKIP:
                yield info.name


def test_every_exception_class_descends_from_yuqing_error():
    checked, strays = 0, []
    for name in _modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != name or not issubclass(cls, BaseException):
                continue
            checked += 1
            if not issubclass(cls, YuqingError):
                strays.append(f"{name}.{cls.__qualname__}")
    assert not strays, f"exception classes outside the YuqingError tree: {strays}"
    assert checked >= 30  # the walk really found the tree (monitor, responders, alerts, tui, yuqing ...)


def test_config_problems_share_one_type():
    from monitor.exceptions import ConfigError as SourcesConfigError

    assert SourcesConfigError is ConfigError and issubclass(ConfigError, YuqingError)
