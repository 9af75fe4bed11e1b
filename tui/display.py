"""How the console names things staff read: sources, monitoring schemes and actors.

Ids (``weibo``, ``district_emergency``, ``system``) are configuration and storage keys; the
console shows the configured Chinese name instead, through the functions here, so every screen
names a thing the same way. The facade reads the names (``DeskFacade.display_names``); the
app keeps the latest :class:`DisplayNames` and the widgets ask it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

SYSTEM_LABEL = "系统"
#: Actors that are the desk itself (the pipeline, the daemon), not a person.
SYSTEM_ACTORS = frozenset({"", "system", "daemon", "pipeline"})


@dataclass(frozen=True)
class DisplayNames:
    """Display names by id: sources (``sources.name``), schemes (``label`` in schemes.toml; a
    template's instances ``NAME:PLACE`` read as its label and the place), staff (by staff id and
    by OS login)."""

    sources: Mapping[str, str] = field(default_factory=dict)
    schemes: Mapping[str, str] = field(default_factory=dict)
    staff: Mapping[str, str] = field(default_factory=dict)

    def source(self, source_id: str | None) -> str:
        return source_label(source_id, self.sources)

    def scheme(self, name: str | None) -> str:
        return scheme_label(name, self.schemes)

    def actor(self, actor: str | None) -> str:
        return actor_label(actor, self.staff)

    def with_staff(self, names: Mapping[str, str] | None) -> "DisplayNames":
        """These names with more actor names (e.g. an incident's, read with it) added."""
        if not names:
            return self
        return DisplayNames(self.sources, self.schemes, {**self.staff, **names})

    def relabel(self, text: str) -> str:
        """``text`` with every known scheme id replaced by its label (stored triggers name ids)."""
        return relabel_schemes(text, self.schemes)


def actor_label(actor: str | None, staff: Mapping[str, str] | None = None) -> str:
    """The one way the console names who did something: 系统 for the desk itself (``system``,
    ``[system]``), a staff member's name for their staff id or login, else the actor as recorded."""
    a = (actor or "").strip()
    if a.startswith("[") and a.endswith("]"):
        a = a[1:-1].strip()
    if a.lower() in SYSTEM_ACTORS:
        return SYSTEM_LABEL
    return (staff or {}).get(a, a)


def source_label(source_id: str | None, sources: Mapping[str, str] | None = None) -> str:
    sid = source_id or ""
    return (sources or {}).get(sid) or sid or "—"


def scheme_label(name: str | None, labels: Mapping[str, str] | None = None) -> str:
    """A scheme's label; ``template:铺镇`` reads as the template's label（铺镇）."""
    n = name or ""
    labels = labels or {}
    if n in labels:
        return labels[n]
    base, sep, place = n.partition(":")
    if sep and base in labels:
        return f"{labels[base]}（{place}）"
    return n or "—"


def relabel_schemes(text: str, labels: Mapping[str, str] | None = None) -> str:
    if not text or not labels:
        return text or ""
    names = sorted(labels, key=len, reverse=True)
    pattern = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, names)) + r")(?::([^\s、，,；;）)]+))?")
    return pattern.sub(lambda m: scheme_label(m.group(0), labels), text)


def fit_names(names: Sequence[str], width: int, *, sep: str = "、") -> str:
    """As many whole names as fit in ``width`` cells, then 等N个: a unit's name is never cut
    in the middle (only a single name longer than the column is, by the table)."""
    from rich.cells import cell_len

    names = [n for n in names if n]
    if not names:
        return "—"
    whole = sep.join(names)
    if cell_len(whole) <= width:
        return whole
    for k in range(len(names) - 1, 0, -1):
        text = f"{sep.join(names[:k])} 等{len(names)}个"
        if cell_len(text) <= width:
            return text
    return f"{names[0]} 等{len(names)}个" if len(names) > 1 else names[0]


#: A source's stored last error is "ErrorClass: English detail" (monitor.collector.describe_error);
#: staff read its kind in Chinese, the detail only in the details view.
_SOURCE_ERRORS = (
    ("FetchTimeout", "超时：网站长时间没有响应"),
    ("ResponseTooLarge", "响应过大，超过采集上限"),
    ("TooManyRedirects", "重定向过多"),
    ("ParseError", "内容无法解析（格式不符或页面改版）"),
    ("StoreFull", "磁盘已满，无法保存"),
    ("ConfigError", "信源配置有误"),
)
_CONNECT_ERRORS = (
    ("resolve the host name", "无法解析网站域名"),
    ("TLS/certificate", "网站证书错误"),
    ("server disconnected", "网站中断了连接"),
    ("invalid HTTP response", "网站返回的内容不合规范"),
    ("broken response body", "网站返回的内容不完整"),
)


def source_error_label(message: str | None) -> str:
    """What went wrong with a source, in Chinese, from its stored last error."""
    text = (message or "").strip()
    if not text:
        return "无"
    kind, _, detail = text.partition(":")
    kind = kind.strip()
    if kind == "HTTPStatusError":
        m = re.search(r"HTTP (\d{3})", detail)
        return f"网站返回错误状态码 {m.group(1)}" if m else "网站返回错误状态码"
    if kind == "ConnectError":
        for needle, label in _CONNECT_ERRORS:
            if needle in detail:
                return label
        return "无法连接网站"
    if kind == "RetrieveError":
        return "信源地址有误或无法请求"
    for name, label in _SOURCE_ERRORS:
        if kind == name:
            return label
    if "No space left" in text or "disk is full" in text:
        return "磁盘已满，无法保存"
    return "采集出错"
