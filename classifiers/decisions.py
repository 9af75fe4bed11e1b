"""Does an own-channel title announce a 行政许可 (administrative licence) or 行政处罚 (administrative
penalty) decision? Such a decision must be disclosed within 7 working days (双公示; the open-government
plan's §三(五)), so the desk starts a working-day clock for it.

:func:`decision_kind` returns ``"行政处罚"``, ``"行政许可"`` or None. A title announces a decision
when it names the decision document (行政处罚决定书, 准予(…)行政许可决定书, …许可的决定), carries a
decision's document number (…罚〔2025〕7号, …罚决字〔2023〕第11号, …许准字(2015)第01号) or reports
that someone was penalised (…被处罚). Titles about the rules rather than a decision — 裁量基准,
事项清单, 办法, 规定, 目录, 征求意见 … — never do, nor do the notices before a decision (事先告知书,
听证告知书, 责令改正). Measured on ``tests/data/decision_titles.tsv`` (real titles).

Pure: no I/O; imports nothing of ours.
"""
from __future__ import annotations

import re

PENALTY = "行政处罚"
LICENCE = "行政许可"

_YEAR_BRACKET = r"\s*[〔\[\(（【]\s*(?:19|20)\d{2}\s*[〕\]\)）】]"
# a penalty decision's number: 罚〔2025〕, 罚字〔2024〕, 罚决字〔2020〕, 罚网字〔2021〕, 处罚〔2024〕 —
# not 罚告字 (the advance notice) nor 罚听告字 (the hearing notice)
_PENALTY_NUMBER = re.compile(r"罚(?:决字|决|字|网字|处字)?" + _YEAR_BRACKET)
_PENALTY_DOC = re.compile(r"(?:行政)?处罚决定书|被(?:依法)?(?:行政)?处罚|处罚决定公开|行政处罚决定公示")
# a licence decision: 许可决定书, 准予(…)许可, 许可的决定, or its number 许准字/许决字/许可〔2025〕
_LICENCE_DOC = re.compile(r"(?:行政)?许可决定书|准予[^，。；]{0,30}?许可|许可的决定")
_LICENCE_NUMBER = re.compile(r"许(?:准字|决字|可)" + _YEAR_BRACKET)
# a decision not to penalise or not to license is no decision that must be disclosed
_DECLINED = re.compile(r"不(?:准)?予(?:行政)?(?:处罚|许可)")
# about the rules, not a decision
_RULES = re.compile(r"裁量|基准|事项清单|权力清单|责任清单|目录|办法|规定|规程|细则|条例|程序|流程|指南|范本|"
                    r"式样|格式|征求意见|解读|培训|怎么|如何|哪些|什么|告知书|责令改正|实施方案|管理规范")


def decision_kind(title: str) -> str | None:
    """``行政处罚``, ``行政许可`` or None: the decision an own-channel title announces."""
    text = _DECLINED.sub("", re.sub(r"\s+", "", title or ""))
    if not text:
        return None
    penalty = bool(_PENALTY_NUMBER.search(text) or _PENALTY_DOC.search(text))
    licence = bool(_LICENCE_NUMBER.search(text) or _LICENCE_DOC.search(text))
    if not (penalty or licence):
        return None
    # a rules word only vetoes a title without a decision's own document name or number
    if _RULES.search(text) and not (_PENALTY_NUMBER.search(text) or _LICENCE_NUMBER.search(text)
                                    or re.search(r"决定书", text)):
        return None
    return PENALTY if penalty else LICENCE
