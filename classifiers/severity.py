"""Risk words and an estimated severity 一般 / 较大 / 重大 / 特别重大, with the reasons in words.

The tiers follow the national grading of emergencies (e.g. production-safety accidents:
deaths incl. missing >= 30 or seriously injured >= 100 -> 特别重大; 10-29 / 50-99 -> 重大;
3-9 / 10-49 -> 较大). Numbers are read from the text ("3人死亡", "致5人受伤", "死亡人数升至
12人", "数十名村民聚集", Chinese numerals). Mass gatherings, minors and schools, and wide
spread raise the estimate. A negated risk word ("未造成人员伤亡", "无人受伤") does not count.

Pure: the risk lexicon arrives as a mapping (``yuqing.classify_io`` reads data/lexicons).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from classifiers.types import SEVERITIES, SeverityResult

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_VAGUE = {"数十": 20, "几十": 20, "十余": 11, "十几": 11, "数百": 200, "几百": 200, "上百": 100, "近百": 90,
          "百余": 100, "数千": 2000, "上千": 1000, "近千": 900, "千余": 1000, "多": 3, "数": 3, "几": 3}
_NUM = r"(\d+|[零〇一二两三四五六七八九十百千万]+|数十|几十|十余|十几|数百|几百|上百|近百|百余|数千|上千|近千|千余|多|数|几)"
_UNIT = r"\s*(?:余|多)?\s*(?:名|人|位|个|户)?\s*(?:人)?"
_WHO = r"(?:群众|学生|小学生|中学生|儿童|幼儿|孩子|工人|农民工|村民|居民|游客|乘客|矿工|业主|师生|职工|员工)?"
_HARM = r"(死亡|遇难|身亡|罹难|丧生|溺亡|死|受伤|重伤|轻伤|伤|失联|失踪|被困|中毒|送医|住院)"
_CASUALTY_A = re.compile(_NUM + _UNIT + _WHO + r"\s*(?:不幸|当场|经抢救无效)?\s*" + _HARM)
_CASUALTY_B = re.compile(r"(死亡|遇难|受伤|重伤|失联|失踪|被困|中毒)(?:人数)?\s*(?:已)?(?:升至|增至|达到|达|为|共)?\s*"
                         + _NUM + r"\s*(?:余|多)?\s*(?:名|人)")
_GATHER = re.compile(_NUM + r"\s*(?:余|多)?\s*(?:名|人|位)\s*" + _WHO + r"[^。，,！!？?]{0,8}?"
                     r"(聚集|围堵|堵路|堵门|上访|讨薪|维权|静坐|拉横幅|打砸|冲突)")
_EXPLICIT = [
    (re.compile(r"特别重大"), "特别重大", "文中称「特别重大」"),
    (re.compile(r"(?<!特别)重大(?:安全|生产|生产安全|交通|火灾|责任|突发|环境|食品安全)?(?:事故|事件|险情|灾害)"),
     "重大", "文中称「重大事故/事件」"),
    (re.compile(r"较大(?:安全|生产|生产安全|交通|火灾|责任|突发|环境)?(?:事故|事件|险情)"), "较大", "文中称「较大事故/事件」"),
]
_MANY = re.compile(r"多人(死亡|遇难|身亡|失联|被困)")
_MINOR = re.compile(r"学生|小学|中学|幼儿园|幼儿|儿童|未成年|孩子|校园|学校|师生")
_NEGATORS = ("未造成", "没有造成", "无人", "未发生", "没有", "未有", "无", "未", "没", "不存在", "暂无", "并无")
_DEATH_LIKE = {"死亡", "遇难", "身亡", "罹难", "丧生", "溺亡", "死", "失联", "失踪", "被困"}
_INJURY = {"受伤", "重伤", "轻伤", "伤", "送医", "住院"}


def parse_cn_number(text: str) -> int | None:
    """'3' -> 3, '十二' -> 12, '二十五' -> 25, '一百零五' -> 105, '两千' -> 2000, '数十' -> 20."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if text in _VAGUE:
        return _VAGUE[text]
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if unit == 10000:
                total += (section + (digit or 0)) * unit
                section, digit = 0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
        else:
            return None
    return total + section + (digit or 0)


@dataclass(frozen=True)
class Counts:
    deaths: int = 0  # deaths incl. missing and trapped
    injured: int = 0
    poisoned: int = 0
    gathering: int = 0


_NUM_START = re.compile(r"[\d零〇一二两三四五六七八九十百千万数几上近多]")  # where a _NUM can begin


def _finditer_num(rx: re.Pattern, text: str):
    """``rx.finditer(text)`` for a pattern that begins with ``_NUM``: the same matches, found
    faster by trying ``rx`` only where a number can begin (``re`` cannot skip ahead itself
    when a pattern begins with an alternation of classes)."""
    pos = 0
    search, match = _NUM_START.search, rx.match
    while True:
        c = search(text, pos)
        if c is None:
            return
        start = c.start()
        m = match(text, start)
        if m is None:
            pos = start + 1
        else:
            yield m
            pos = m.end()


_HARM_GATE = re.compile(r"死|伤|亡|失联|失踪|被困|中毒|送医|住院|遇难|罹难|丧生")
_GATHER_GATE = re.compile(r"聚集|围堵|堵路|堵门|上访|讨薪|维权|静坐|横幅|打砸|冲突")


def extract_counts(text: str, *, _harm: bool | None = None, _gather: bool | None = None) -> Counts:
    """Largest casualty and crowd numbers stated in the text."""
    deaths = injured = poisoned = gathering = 0
    # cheap gates (most items mention neither); the caller may have looked already
    harm = _HARM_GATE.search(text) is not None if _harm is None else _harm
    gather = _GATHER_GATE.search(text) is not None if _gather is None else _gather
    for rx in (_CASUALTY_A, _CASUALTY_B) if harm else ():
        for m in _finditer_num(rx, text) if rx is _CASUALTY_A else rx.finditer(text):
            if rx is _CASUALTY_A:
                num, harm = m.group(1), m.group(2)
            else:
                harm, num = m.group(1), m.group(2)
            if _negated(text, m.start()):
                continue
            n = parse_cn_number(num)
            if not n or n > 100000:
                continue
            if harm in _DEATH_LIKE:
                deaths = max(deaths, n)
            elif harm in _INJURY:
                injured = max(injured, n)
            elif harm == "中毒":
                poisoned = max(poisoned, n)
    for m in _finditer_num(_GATHER, text) if gather else ():
        n = parse_cn_number(m.group(1))
        if n and n < 1000000:
            gathering = max(gathering, n)
    return Counts(deaths, injured, poisoned, gathering)


_NEGATOR_CHARS = frozenset("".join(_NEGATORS))


def _negated(text: str, start: int) -> bool:
    window = text[max(0, start - 5):start]
    if _NEGATOR_CHARS.isdisjoint(window):  # the common case: no negator character nearby
        return False
    tail = window[-3:]
    for neg in _NEGATORS:
        if neg in tail or window.endswith(neg):
            return True
    return False


@dataclass(frozen=True)
class RiskLexicon:
    words: Mapping[str, tuple[str, int]]  # word -> (category, weight 1..3)


class RiskDetector:
    """Finds risk words (one Aho-Corasick pass) and estimates severity."""

    def __init__(self, lexicon: RiskLexicon):
        import ahocorasick_rs

        self.lexicon = lexicon
        self._words = list(lexicon.words)
        self._ac = ahocorasick_rs.AhoCorasick(self._words, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
                                              implementation=ahocorasick_rs.Implementation.ContiguousNFA) \
            if self._words else None

    def find(self, text: str) -> tuple[str, ...]:
        """Risk words present and not negated ("未造成人员伤亡" does not count), in order."""
        if self._ac is None or not text:
            return ()
        out: dict[str, None] = {}
        for idx, start, _end in self._ac.find_matches_as_indexes(text):
            word = self._words[idx]
            if _negated(text, start) or _negated_phrase(text, start):
                continue
            out[word] = None
        return tuple(out)

    def categories(self, words) -> dict[str, int]:
        cats: dict[str, int] = {}
        for w in words:
            cat, weight = self.lexicon.words[w]
            cats[cat] = max(cats.get(cat, 0), weight)
        return cats

    def assess(self, text: str, risk_words: tuple[str, ...] | None = None, *,
               reposts: int | None = None, sources: int | None = None) -> SeverityResult:
        if risk_words is None:
            risk_words = self.find(text)
        return estimate_severity(text, self.categories(risk_words), reposts=reposts, sources=sources)


_NEGATED_PHRASE = re.compile(r"(未造成|没有造成|未发生|无|暂无|未有)(人员|人身)?$")


def _negated_phrase(text: str, start: int) -> bool:
    # "未造成人员伤亡", "无人员伤亡": a negator then 人员 before the word
    return _NEGATED_PHRASE.search(text[max(0, start - 7):start]) is not None


_NOTHING = SeverityResult("一般", ())


def estimate_severity(text: str, categories: Mapping[str, int] | None = None, *,
                      reposts: int | None = None, sources: int | None = None) -> SeverityResult:
    """Severity tier and the reasons, in words."""
    categories = categories or {}
    harm = _HARM_GATE.search(text) is not None
    gather = not harm and _GATHER_GATE.search(text) is not None
    if (not categories and not reposts and not sources and not harm and not gather and "重大" not in text
            and "较大" not in text):
        return _NOTHING  # the common case: no risk word, no casualty or crowd wording
    if harm:
        gather = _GATHER_GATE.search(text) is not None
    level = 0
    reasons: list[str] = []

    def raise_to(lv: int, reason: str) -> None:
        nonlocal level
        reasons.append(reason)
        level = max(level, lv)

    for rx, tier, reason in _EXPLICIT if ("重大" in text or "较大" in text) else ():
        if rx.search(text):
            raise_to(SEVERITIES.index(tier), reason)
            break
    c = extract_counts(text, _harm=harm, _gather=gather)
    if c.deaths:
        lv = 3 if c.deaths >= 30 else 2 if c.deaths >= 10 else 1 if c.deaths >= 3 else 0
        raise_to(lv, f"死亡（含失联、被困）{c.deaths}人（{_rule('deaths', lv)}）")
    if c.injured:
        lv = 3 if c.injured >= 100 else 2 if c.injured >= 50 else 1 if c.injured >= 10 else 0
        raise_to(lv, f"受伤{c.injured}人（{_rule('injured', lv)}）")
    if c.poisoned:
        lv = 2 if c.poisoned >= 100 else 1 if c.poisoned >= 30 else 0
        raise_to(lv, f"中毒{c.poisoned}人（{_rule('poisoned', lv)}）")
    if c.gathering:
        lv = 3 if c.gathering >= 1000 else 2 if c.gathering >= 300 else 1 if c.gathering >= 50 else 0
        raise_to(lv, f"聚集约{c.gathering}人（{_rule('gathering', lv)}）")
    elif categories.get("群体事件", 0) >= 3:
        raise_to(1, "群体性事件苗头（堵路、围堵等）")
    harm = max(categories.get("伤亡", 0), categories.get("公共卫生", 0), categories.get("涉未成年人", 0),
               categories.get("治安", 0) if categories.get("治安", 0) >= 3 else 0)
    if harm and _MINOR.search(text):
        raise_to(max(1, level), "涉及学生、未成年人或学校")
    if not c.deaths and categories.get("伤亡", 0) >= 3 and _MANY.search(text):
        raise_to(1, "多人伤亡")
    spread = []
    if reposts is not None and reposts >= 10000:
        spread.append(f"转发{reposts}次")
    if sources is not None and sources >= 10:
        spread.append(f"{sources}个来源报道")
    if spread and level < 3 and (level > 0 or categories):
        raise_to(level + 1, "传播广（" + "，".join(spread) + "），上调一级")
    if not reasons and categories:
        reasons.append("风险词：" + "、".join(sorted(categories)) + "；未见较大以上伤亡或聚集规模")
    return SeverityResult(SEVERITIES[level], tuple(reasons))


def _rule(kind: str, lv: int) -> str:
    bounds = {"deaths": ("<3人", "≥3人", "≥10人", "≥30人"), "injured": ("<10人", "≥10人", "≥50人", "≥100人"),
              "poisoned": ("<30人", "≥30人", "≥100人", ""), "gathering": ("<50人", "≥50人", "≥300人", "≥1000人")}
    return f"{bounds[kind][lv]}为{SEVERITIES[lv]}"


def parse_risk_lines(lines) -> dict[str, tuple[str, int]]:
    """``word<TAB>category<TAB>weight`` lines -> mapping; ``#`` comments."""
    out: dict[str, tuple[str, int]] = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 2:
            raise ValueError(f"risk lexicon line needs word and category: {line!r}")
        try:
            weight = int(parts[2]) if len(parts) > 2 else 1
        except ValueError:
            raise ValueError(f"bad weight in risk lexicon line: {line!r}") from None
        out[parts[0]] = (parts[1], max(1, min(3, weight)))
    return out
