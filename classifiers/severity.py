"""Risk words and an estimated severity 一般 / 较大 / 重大 / 特别重大, with the reasons in words.

The tiers follow the national grading of production-safety accidents (生产安全事故报告和调查处理
条例): deaths incl. missing >= 30 or seriously injured >= 100 -> 特别重大; 10-29 / 50-99 -> 重大;
3-9 / 10-49 -> 较大; below -> 一般. The figures come from ``classifiers.casualties`` (each number
bound to its own noun); the first reason names the number that drove the grade. How the figures
that the regulation does not name are counted, and why:

- 失联/失踪 add to the deaths (the regulation counts "死亡（含失踪）").
- 被困: alive or not is unknown while a rescue runs, and the desk must not be late: trapped people
  are added to deaths for a worst-case estimate, said so in the reason ("按最坏情况预估").
- plain 受伤 (and 送医/住院): the regulation grades on 重伤, and most reported injuries are light.
  Counting them as serious would grade "1人死亡35人受伤" 较大; ignoring them would leave a
  stampede with 200 hurt at 一般. So they grade one tier lower than 重伤 would (>= 50 -> 较大,
  >= 100 -> 重大), and from 10 up the reason says that the count of serious injuries decides.
- 中毒 follows the public-health tiers for group poisoning: >= 100 -> 较大, and 重大 with deaths.
- 聚集 (crowd size of a mass incident): >= 50 -> 较大, >= 300 -> 重大, >= 1000 -> 特别重大.
- vague amounts (十余, 数十, 近百, 多人) grade by their lower bound and say so.

Mass gatherings, minors and schools, and wide spread raise the estimate. A negated risk word
("未造成人员伤亡", "无人受伤") does not count.

Pure: the risk lexicon arrives as a mapping (``yuqing.classify_io`` reads data/lexicons).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from classifiers.casualties import Casualties, Mention, parse_casualties, parse_number
from classifiers.types import SEVERITIES, SeverityResult

_EXPLICIT = [
    (re.compile(r"特别重大"), "特别重大", "文中称「特别重大」"),
    (re.compile(r"(?<!特别)重大(?:安全|生产|生产安全|交通|火灾|责任|突发|环境|食品安全)?(?:事故|事件|险情|灾害)"),
     "重大", "文中称「重大事故/事件」"),
    (re.compile(r"较大(?:安全|生产|生产安全|交通|火灾|责任|突发|环境)?(?:事故|事件|险情)"), "较大", "文中称「较大事故/事件」"),
]
_MANY = re.compile(r"多人(死亡|遇难|身亡|失联|被困)")
_MINOR = re.compile(r"学生|小学|中学|幼儿园|幼儿|儿童|未成年|孩子|校园|学校|师生")
_NEGATORS = ("未造成", "没有造成", "无人", "未发生", "没有", "未有", "无", "未", "没", "不存在", "暂无", "并无")


def parse_cn_number(text: str) -> int | None:
    """'3' -> 3, '十二' -> 12, '一百零五' -> 105, '两千' -> 2000; a vague amount gives its lower
    bound: '数十' -> 20, '十余' -> 10, '近百' -> 90."""
    v = parse_number(text) if text else None
    return v[0] if v else None


@dataclass(frozen=True)
class Counts:
    """Figures stated in a text (lower bounds of vague amounts), one per kind."""
    deaths: int = 0
    missing: int = 0
    trapped: int = 0
    injured: int = 0  # plain 受伤, 伤者, 伤亡
    serious: int = 0  # 重伤, 危重
    minor: int = 0  # 轻伤
    poisoned: int = 0
    hospital: int = 0  # 送医, 住院
    gathering: int = 0


def counts_of(c: Casualties) -> Counts:
    return Counts(c.count("death"), c.count("missing"), c.count("trapped"), c.count("injured"), c.count("serious"),
                  c.count("minor"), c.count("poisoned"), c.count("hospital"), c.count("gathering"))


def extract_counts(text: str) -> Counts:
    """The casualty and crowd figures stated in the text."""
    return counts_of(parse_casualties(text))


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
_DEATH_TIERS = (3, 10, 30)
_SERIOUS_TIERS = (10, 50, 100)
_INJURED_TIERS = (50, 100, None)  # plain 受伤: one tier below 重伤
_POISON_TIERS = (100, None, None)
_GATHER_TIERS = (50, 300, 1000)


def _tier(n: int, tiers) -> int:
    lv = 0
    for i, t in enumerate(tiers):
        if t is not None and n >= t:
            lv = i + 1
    return lv


def _rule(n_tiers, lv: int, noun: str) -> str:
    if lv == 0:
        t = next((t for t in n_tiers if t is not None), None)
        return f"{noun}<{t}人为一般" if t else "一般"
    return f"{noun}≥{n_tiers[lv - 1]}人为{SEVERITIES[lv]}"


def _vague_note(*ms: Mention | None) -> str:
    notes = [f"「{m.raw}」为约数，按下限{m.low}人计" for m in ms if m is not None and m.vague]
    return ("；" + "；".join(notes)) if notes else ""


def grade_casualties(c: Casualties) -> list[tuple[int, str]]:
    """(level, reason) for each figure that bears on the grade, and notes (level 0) on ambiguity."""
    out: list[tuple[int, str]] = []
    if not c.mentions:
        return out
    death, missing, trapped = c.figure("death"), c.figure("missing"), c.figure("trapped")
    dead = c.count("death") + c.count("missing")
    if dead:
        lv = _tier(dead, _DEATH_TIERS)
        if missing and death:
            what = f"死亡 {death.low} 人、失联 {missing.low} 人，合计 {dead} 人"
        elif missing:
            what = f"失联 {dead} 人"
        else:
            what = f"死亡 {dead} 人"
        out.append((lv, f"{what}（{_rule(_DEATH_TIERS, lv, '死亡（含失踪）')}{_vague_note(death, missing)}）"))
    if trapped:
        worst = dead + trapped.low
        lv = _tier(worst, _DEATH_TIERS)
        out.append((lv, f"被困 {trapped.low} 人，生死未明，按最坏情况预估死亡（含失踪）{worst} 人"
                        f"（{_rule(_DEATH_TIERS, lv, '死亡（含失踪）')}{_vague_note(trapped)}）"))
    serious = c.figure("serious")
    if serious:
        lv = _tier(serious.low, _SERIOUS_TIERS)
        out.append((lv, f"重伤 {serious.low} 人（{_rule(_SERIOUS_TIERS, lv, '重伤')}{_vague_note(serious)}）"))
    injured = max((m for m in (c.figure("injured"), c.figure("hospital")) if m is not None),
                  key=lambda m: m.low, default=None)
    if injured:
        n = injured.low
        lv = _tier(n, _INJURED_TIERS)
        label = "送医" if injured.kind == "hospital" else "伤亡" if injured.noun in ("伤亡", "死伤") else "受伤"
        note = "；死伤未分，其中死亡≥3人即为较大，待核实" if label == "伤亡" and n >= _DEATH_TIERS[0] else ""
        if not serious and lv < 3 and n >= _SERIOUS_TIERS[lv]:
            # the serious-injury count, not stated, could raise the grade: say which count would
            note += f"；未说明重伤人数，若其中重伤≥{_SERIOUS_TIERS[lv]}人则为{SEVERITIES[lv + 1]}，待核实"
        out.append((lv, f"{label} {n} 人（伤情未说明，按{_rule(_INJURED_TIERS, lv, '受伤')}估计{note}"
                        f"{_vague_note(injured)}）"))
    poisoned = c.figure("poisoned")
    if poisoned:
        lv = _tier(poisoned.low, _POISON_TIERS)
        if lv and dead:
            lv = 2
        out.append((lv, f"中毒 {poisoned.low} 人（一次中毒≥100人为较大，并有死亡为重大{_vague_note(poisoned)}）"))
    gathering = c.figure("gathering")
    if gathering:
        lv = _tier(gathering.low, _GATHER_TIERS)
        out.append((lv, f"聚集约 {gathering.low} 人（{_rule(_GATHER_TIERS, lv, '聚集')}{_vague_note(gathering)}）"))
    if c.groups and out:
        out.append((0, "「" + "」「".join(dict.fromkeys(c.groups)) + "」为总人数，未计入伤亡"))
    return out


def estimate_severity(text: str, categories: Mapping[str, int] | None = None, *,
                      reposts: int | None = None, sources: int | None = None) -> SeverityResult:
    """Severity tier and the reasons, in words; the first reason is what drove the tier."""
    categories = categories or {}
    c = parse_casualties(text)  # cheap when there is no casualty wording (its own first look)
    if (not categories and not reposts and not sources and not c.mentions and "重大" not in text
            and "较大" not in text):
        return _NOTHING  # the common case: no risk word, no casualty or crowd figure
    level = 0
    reasons: list[tuple[int, str]] = []

    def raise_to(lv: int, reason: str) -> None:
        nonlocal level
        reasons.append((lv, reason))
        level = max(level, lv)

    for rx, tier, reason in _EXPLICIT if ("重大" in text or "较大" in text) else ():
        if rx.search(text):
            raise_to(SEVERITIES.index(tier), reason)
            break
    for lv, reason in grade_casualties(c):
        raise_to(lv, reason)
    if not c.figure("gathering") and categories.get("群体事件", 0) >= 3:
        raise_to(1, "群体性事件苗头（堵路、围堵等）")
    harm_cat = max(categories.get("伤亡", 0), categories.get("公共卫生", 0), categories.get("涉未成年人", 0),
                   categories.get("治安", 0) if categories.get("治安", 0) >= 3 else 0)
    if harm_cat and _MINOR.search(text):
        raise_to(max(1, level), "涉及学生、未成年人或学校")
    if not c.figure("death") and categories.get("伤亡", 0) >= 3 and _MANY.search(text):
        raise_to(1, "多人伤亡（人数未说明）")
    spread = []
    if reposts is not None and reposts >= 10000:
        spread.append(f"转发{reposts}次")
    if sources is not None and sources >= 10:
        spread.append(f"{sources}个来源报道")
    if spread and level < 3 and (level > 0 or categories):
        raise_to(level + 1, "传播广（" + "，".join(spread) + "），上调一级")
    words = [r for _, r in reasons]
    if reasons:
        # the reason that set the tier goes first
        top = next(i for i, (lv, _) in enumerate(reasons) if lv == level)
        words.insert(0, "定级依据：" + words.pop(top))
    if not words and categories:
        words.append("风险词：" + "、".join(sorted(categories)) + "；未见较大以上伤亡或聚集规模")
    return SeverityResult(SEVERITIES[level], tuple(words))


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
