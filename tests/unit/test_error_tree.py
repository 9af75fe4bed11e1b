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


def test_staff_words_are_chosen_where_errors_are_shown():
    import re

    from responders.exceptions import IncidentNotFound, ProposalNotFound, UnknownUnit
    from responders.wording import staff_message
    from tui.app import describe_error

    errors = [IncidentNotFound(9), ProposalNotFound(4), UnknownUnit("区环保委", ["区生态环境分局"]), UnknownUnit("某某", [])]
    assert not any(re.search(r"[\u4e00-\u9fff]{2}", str(e).replace("区环保委", "").replace("区生态环境分局", "")
                             .replace("某某", "")) for e in errors)  # the types carry facts, not staff's words
    assert [staff_message(e) for e in errors] == [
        "事件 #9 不存在", "发布检测提议 #4 不存在", "未知单位「区环保委」，最接近的：区生态环境分局（未作任何更改）",
        "未知单位「某某」，请用地名录中的部门或镇办名称（未作任何更改）"]
    assert describe_error(errors[0]) == "事件 #9 不存在"
