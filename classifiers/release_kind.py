"""What kind of government document a title (and its opening) is: a release about an event, or a measure.

:func:`release_kind` reads the kind of a release from the document itself: a final result
(处置结果, 调查结果, 结果通报 ...), a progress update (进展, 续报, 动态 ...) or an authoritative
statement (情况通报, 通报, 回应, 说明, 声明 ...). The most specific kind wins, so
"关于…处置结果的通报" is a final result, not a 通报. The title decides; the opening is read
only when the title names no specific kind, and then only for sentences that announce what
follows ("现将处置结果通报如下"), not what will come later ("处置结果将及时公布").

:func:`title_style` tells a release-style title from a measure-style one (专项整治, 会议, 部署,
检查, 印发 ... with no release word): a notice launching a campaign after an incident is related
to it but does not answer it.

Pure: no I/O.
"""
from __future__ import annotations

import re

FINAL = "final"
PROGRESS = "progress"
AUTHORITATIVE = "authoritative"

_FINAL_WORDS = ("处置结果", "处理结果", "调查结果", "结果通报", "调查处理情况", "处理情况的通报", "查处情况",
                "调查报告", "问责情况", "追责问责", "处理意见的通报")
_PROGRESS_WORDS = ("最新进展", "进展情况", "进展", "续报", "最新情况", "最新", "动态", "再通报", "第二次通报", "第三次通报")
_AUTHORITATIVE_WORDS = ("情况通报", "警情通报", "通报", "情况说明", "说明", "回应", "答复", "回复", "声明", "澄清",
                        "辟谣", "不实", "谣言", "权威发布", "发布会")
_MEASURE_WORDS = ("专项整治", "专项行动", "专项检查", "整治", "排查", "部署", "会议", "召开", "检查", "督导",
                  "督查", "培训", "演练", "预案", "方案", "印发", "活动", "宣传", "通知", "工作要点",
                  "座谈", "调研", "推进会", "讲话")
# An opening announcing what the document itself reports (not what will follow later).
_OPENING_FINAL = re.compile(r"现将.{0,16}?(处置结果|处理结果|调查结果|调查处理情况|处理情况)")
_OPENING_PROGRESS = re.compile(r"现将.{0,16}?进展|最新进展|续报")

KIND_LABELS = {FINAL: "处置结果", PROGRESS: "进展/动态", AUTHORITATIVE: "情况通报/权威发布"}


def _first(text: str, words: tuple[str, ...]) -> str | None:
    return next((w for w in words if w in text), None)


def release_kind(title: str, opening: str = "") -> tuple[str | None, str]:
    """(kind, the words that decided it) of a document; kind is None when nothing marks a release."""
    title = title or ""
    for kind, words in ((FINAL, _FINAL_WORDS), (PROGRESS, _PROGRESS_WORDS)):
        w = _first(title, words)
        if w:
            return kind, f"标题含「{w}」"
    head = (opening or "")[:300]
    m = _OPENING_FINAL.search(head)
    if m:
        return FINAL, f"正文开头「{m.group(0)}」"
    m = _OPENING_PROGRESS.search(head)
    if m:
        return PROGRESS, f"正文开头「{m.group(0)}」"
    w = _first(title, _AUTHORITATIVE_WORDS)
    if w:
        return AUTHORITATIVE, f"标题含「{w}」"
    return None, ""


def title_style(title: str) -> tuple[str | None, str]:
    """("release" | "measure" | None, the deciding word) of a title."""
    title = title or ""
    w = _first(title, _FINAL_WORDS + _PROGRESS_WORDS + _AUTHORITATIVE_WORDS)
    if w:
        return "release", w
    w = _first(title, _MEASURE_WORDS)
    if w:
        return "measure", w
    return None, ""
