"""Casualty and crowd figures read from Chinese news text: who died, went missing, was trapped,
hurt, poisoned, taken to hospital or gathered, and how many — each number bound to its own noun.

A small parser, not a set of overlapping patterns. The text is cut into clauses at sentence and
phrase punctuation (。！？；，、 and newlines: a figure is never stated across a comma in news
copy, and "死亡9人，受伤14人" / "致1人死亡、35人受伤" list one figure per phrase). Inside a
clause, numbers (Arabic, full-width, Chinese numerals with 两/十/百/千/万, ranges like 三四十,
vague amounts like 十余/数十/近百/上百/多人) and casualty nouns become tokens, and one left-to-right
pass binds them:

- ``N人死亡`` / ``3死27伤`` / ``2名矿工被困``: a number followed by a person classifier or a
  person noun (名/人/位, 乘客/矿工...) and then the noun; ``1死``/``5伤`` need no classifier;
- ``死亡9人`` / ``死亡人数升至12人`` / ``聚集约600人``: a noun, then a number with a person
  classifier; taken first when the noun is still free, so "死亡2人受伤3人" and "2人死亡5人受伤"
  both come out right (a noun binds one number, a number one noun — plus the outcome that
  directly follows it: "5人一氧化碳中毒身亡" is 5 poisoned and 5 dead);
- ``35名乘客中1人死亡``: a number whose person noun is followed by 中 is a group size, never a
  casualty; numbers with other units (辆, 万元, 年, 号, 层...) never bind;
- ``升至/增至/上升到/降至``: an updated count; the latest update of a noun wins over the
  largest figure, which is otherwise kept (reports repeat and sum figures);
- ``无人死亡`` / ``未造成人员伤亡``: negated nouns bind nothing and are reported as negated;
- ``救出35名被困人员``: people rescued are not counted as trapped.

Vague amounts keep a lower and an upper bound and are flagged, so the grading can use the lower
bound and say it did. Pure: no I/O, imports nothing of ours.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Mention", "Casualties", "KINDS", "KIND_LABELS", "mentions_casualties", "parse_casualties", "parse_number"]

# kind -> the nouns that name it (longest first where they overlap)
_NOUNS = {
    "death": ("死亡", "遇难", "身亡", "罹难", "丧生", "溺亡", "殒命", "不治", "离世", "去世", "殉职", "死者"),
    "missing": ("失联", "失踪", "下落不明"),
    "trapped": ("被困", "受困", "被埋", "被掩埋"),
    "serious": ("重伤", "危重"),
    "minor": ("轻伤", "轻微伤"),
    "injured": ("受伤", "伤者", "伤员", "烧伤", "伤亡"),
    "poisoned": ("中毒",),
    "hospital": ("送医", "住院", "送院", "入院", "送往医院"),
    "gathering": ("聚集", "围堵", "堵路", "堵门", "上访", "讨薪", "维权", "静坐", "拉横幅", "打砸"),
}
# one-character forms only right after a number: "3死27伤", "一死两重伤"
_SHORT = {"死": "death", "亡": "death", "伤": "injured"}
KINDS = tuple(_NOUNS)
KIND_LABELS = {"death": "死亡", "missing": "失联（失踪）", "trapped": "被困", "serious": "重伤", "minor": "轻伤",
               "injured": "受伤", "poisoned": "中毒", "hospital": "送医", "gathering": "聚集"}
_NOUN_KIND = {w: k for k, ws in _NOUNS.items() for w in ws}

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_CN = "零〇一二两三四五六七八九十百千万"
_NUM = (r"(?:[0-9]+|(?:数|几|上|近)?[" + _CN + r"]+)(?:\s*(?:余|多|来))?|若干|数|几|多")
_WHO = ("群众|学生|小学生|中学生|大学生|儿童|幼儿|孩子|小孩|学童|工人|农民工|民工|村民|居民|游客|乘客|旅客|矿工|业主|"
        "师生|职工|员工|人员|民警|辅警|消防员|救援人员|队员|船员|食客|顾客|住户|家长|市民|患者|病人|老人|男子|女子|"
        "村民小组成员|作业人员|施工人员|务工人员|遇难者|伤者|车上人员|司乘人员|驾乘人员|人")
_CL = r"(?:名|人|位|个|例|具|口)"
_TOKEN = re.compile(
    r"(?P<neg>无人员|无人|未造成(?:其他)?(?:人员|人身)?|没有造成(?:人员)?|没有(?:人员)?|未有(?:人员)?|暂无(?:人员)?|"
    r"并无(?:人员)?|未发生(?:人员)?|无(?=伤亡|死亡|受伤))"
    r"|(?P<noun>" + "|".join(sorted(_NOUN_KIND, key=len, reverse=True)) + r")"
    r"|(?<!第)(?P<num>" + _NUM + r")"
)
_GATE = re.compile("|".join(sorted(set(_NOUN_KIND) | {"死", "伤", "亡"}, key=len, reverse=True)))
_CLAUSE_END = re.compile(r"[。！？；，!?;,\n]")
# after a number: classifier and/or person noun; 中 right after them marks a group size
_AFTER_NUM = re.compile(r"\s*(?P<cl>" + _CL + r")?\s*(?:其他|其余|另)?(?P<who>" + _WHO + r")?(?P<group>\s*(?:之中|当中|中(?![毒弹枪])))?")
# between a noun and the number that follows it ("死亡人数升至12人", "聚集约600人")
_NOUN_TO_NUM = re.compile(r"\s*(?:者|人员)?(?:及[^\d\s]{1,3})?(?:人数|数)?\s*(?:由)?\s*(?:已经|已|共|累计|一度|最多时|目前)?\s*"
                          r"(?P<upd>上升到|上升至|升至|增至|增加到|增加至|升为|增为|降至|减至|减少为|减少到)?\s*"
                          r"(?:达到|达|为|是|至|有)?\s*(?:约|近|超过)?\s*$")
_UPDATE_AFTER = re.compile(r"\s*(?:" + _CL + r")?\s*(?:上升到|上升至|升至|增至|增加到|增加至|降至|减至|减少为|减少到)\s*$")
# words that make a following count one of people saved, or people doing the saving
_BLOCK = re.compile(r"救出|救治|获救|生还|升井|脱困|脱险|采访|看望|慰问|疏散|转移|安置|出动|派出|调派|组织")


@dataclass(frozen=True)
class Mention:
    kind: str  # one of KINDS
    low: int
    high: int | None  # None: open-ended ("上百", "20多"); == low for an exact figure
    vague: bool
    update: bool  # stated as an updated count ("升至12人")
    noun: str  # the noun as written ("遇难", "死")
    raw: str  # the number as written ("35", "十余", "数十")
    evidence: str  # the clause it was read from
    start: int  # offset of the number in the text

    @property
    def number_text(self) -> str:
        if not self.vague:
            return str(self.low)
        if self.high is None:
            return f"{self.low}以上"
        return f"{self.low}–{self.high}"


@dataclass(frozen=True)
class Casualties:
    mentions: tuple[Mention, ...] = ()
    negated: tuple[str, ...] = ()  # nouns stated as not having happened ("无人死亡" -> 死亡)
    groups: tuple[str, ...] = ()  # group sizes seen and not counted ("35名乘客中")

    def figure(self, kind: str) -> Mention | None:
        """The figure for a kind: its latest stated update, else its largest (lower-bound) count."""
        ms = [m for m in self.mentions if m.kind == kind]
        if not ms:
            return None
        updates = [m for m in ms if m.update]
        if updates:
            return updates[-1]
        return max(ms, key=lambda m: (m.low, not m.vague))

    def count(self, kind: str) -> int:
        m = self.figure(kind)
        return m.low if m else 0


_NOTHING = Casualties()


def parse_number(text: str) -> tuple[int, int | None, bool] | None:
    """``(low, high, vague)`` for a number as written: '35' -> (35, 35, False), '十余' -> (10, 19, True),
    '数十' -> (20, 99, True), '近百' -> (90, 99, True), '上百' -> (100, None, True), '三四十' -> (30, 40, True),
    '20多' -> (20, 29, True), '多' -> (2, None, True). None for what is not a number."""
    s = text.replace(" ", "").translate(_FULLWIDTH)
    if not s:
        return None
    if s in ("多", "若干"):
        return 2, None, True
    if s in ("数", "几"):
        return 2, 9, True
    suffix = ""
    if s[-1] in "余多来" and len(s) > 1:
        suffix, s = s[-1], s[:-1]
    prefix = ""
    if s[0] in "数几上近" and len(s) > 1:
        prefix, s = s[0], s[1:]
    if s.isdigit():
        n = int(s)
        lo, hi = n, n
    else:
        rng = _RANGE.search(s)
        if rng and not prefix:
            lo_s, hi_s = s[:rng.start()] + rng.group(1) + s[rng.end():], s[:rng.start()] + rng.group(2) + s[rng.end():]
            lo, hi = _cn_value(lo_s), _cn_value(hi_s)
            if lo is None or hi is None:
                return None
            return lo, hi, True
        n = _cn_value(s)
        if n is None:
            return None
        lo = hi = n
    if prefix in ("数", "几"):
        if n == 0 or s not in ("十", "百", "千", "万"):
            return None
        return 2 * n, 10 * n - 1, True
    if prefix == "上":
        if s not in ("十", "百", "千", "万"):
            return None
        return n, None, True
    if prefix == "近":
        return n - max(1, n // 10), n - 1, True  # 近百 -> 90-99, 近三百 -> 270-299
    if suffix in ("余", "多"):
        # "十余" / "二十多" / "300余": more than n, below the next step of its last unit
        step = 1 if s.isdigit() and n < 10 else _step(s, n)
        return n, n + step - 1 if step > 1 else None, True
    if suffix == "来":
        return max(1, n - n // 10), n + n // 10, True
    return lo, hi, False


_FULLWIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)})
_RANGE = re.compile(r"([一二两三四五六七八])([二三四五六七八九])")


def _step(s: str, n: int) -> int:
    """The unit a 余/多 amount counts in: '十' -> 10, '二十' -> 10, '三百' -> 100, '300' -> 100, '12' -> 1."""
    if s.isdigit():
        z = len(s) - len(s.rstrip("0"))
        return 10 ** z if z else 1
    last = s[-1]
    return _CN_UNITS.get(last, 1)


def _cn_value(text: str) -> int | None:
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            if digit is not None and digit != 0 and _CN_DIGITS[ch] != 0:
                return None  # "三四" without a unit is a range, handled by the caller
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


def _range_ok(s: str) -> bool:
    m = _RANGE.search(s)
    if not m:
        return True
    a, b = _CN_DIGITS[m.group(1)], _CN_DIGITS[m.group(2)]
    return b == a + 1


def mentions_casualties(text: str) -> bool:
    """Whether the text has any casualty or crowd wording at all (the parser's own cheap gate)."""
    return _GATE.search(text) is not None


def parse_casualties(text: str) -> Casualties:
    """Every casualty and crowd figure stated in ``text``, each bound to its own noun."""
    if not text or _GATE.search(text) is None:
        return _NOTHING  # the common case: no casualty or crowd wording at all
    text = text.translate(_FULLWIDTH)
    mentions: list[Mention] = []
    negated: list[str] = []
    groups: list[str] = []
    pos, n = 0, len(text)
    while pos < n:
        m = _GATE.search(text, pos)
        if m is None:
            break
        end_m = _CLAUSE_END.search(text, m.end())
        end = end_m.start() if end_m else n
        start = pos
        prev_end = text.rfind("\n", pos, m.start())
        for ch in "。！？；，!?;,":
            k = text.rfind(ch, pos, m.start())
            if k > prev_end:
                prev_end = k
        if prev_end >= 0 and prev_end >= pos:
            start = prev_end + 1
        _parse_clause(text, start, end, mentions, negated, groups)
        pos = end + 1
    return Casualties(tuple(mentions), tuple(dict.fromkeys(negated)), tuple(groups))


def _parse_clause(text: str, start: int, end: int, out: list[Mention], negated: list[str],
                  groups: list[str]) -> None:
    clause = text[start:end]
    # tokens: (type, value, start, end, extra); type in "num", "noun", "neg"
    toks: list[list] = []
    for t in _TOKEN.finditer(clause):
        if t.group("noun"):
            toks.append(["noun", t.group("noun"), t.start(), t.end(), None])
        elif t.group("neg"):
            toks.append(["neg", t.group("neg"), t.start(), t.end(), None])
        else:
            raw = t.group("num")
            val = parse_number(raw) if _range_ok(raw) else None
            if val is None:
                continue
            after = _AFTER_NUM.match(clause, t.end())
            nxt = clause[t.end():t.end() + 1]
            short = nxt in _SHORT or clause.startswith(("重伤", "轻伤"), t.end())
            arabic = raw[0].isdigit()
            personal = bool(after.group("cl") or after.group("who"))
            if not (arabic or personal or short):
                continue  # a Chinese numeral inside a word ("一氧化碳", "一度", "万幸")
            if raw in ("数", "几", "多", "若干") and not personal:
                continue
            toks.append(["num", val, t.start(), t.end(), (after, short, personal, raw)])
    if not toks:
        return
    used_noun: set[int] = set()
    pending: dict[int, int] = {}  # number token -> noun token it updates ("由15人减少为9人")
    # negated nouns bind nothing: "无人死亡", "未造成人员伤亡"
    for i, tok in enumerate(toks):
        if tok[0] == "neg" and i + 1 < len(toks) and toks[i + 1][0] == "noun" \
                and toks[i + 1][2] - tok[3] <= 2:
            used_noun.add(i + 1)
            negated.append(toks[i + 1][1])
    for i, tok in enumerate(toks):
        if tok[0] != "num":
            continue
        (low, high, vague), (after, short, personal, raw) = tok[1], tok[4]
        if i in pending:
            j = pending[i]
            out.append(Mention(_NOUN_KIND[toks[j][1]], low, high, vague, True, toks[j][1], raw, clause, start + tok[2]))
            continue
        # a noun on the left, still free: "死亡9人", "遇难人数升至19人"
        j = i - 1
        if j >= 0 and toks[j][0] == "noun" and j not in used_noun and after.group("cl") \
                and not after.group("group"):
            g = _NOUN_TO_NUM.match(clause[toks[j][3]:tok[2]])
            if g:
                kind = _NOUN_KIND[toks[j][1]]
                used_noun.add(j)
                k = i + 1
                if k < len(toks) and toks[k][0] == "num" and _UPDATE_AFTER.match(clause[tok[3]:toks[k][2]]):
                    pending[k] = j  # the earlier figure is replaced by the one after it
                    continue
                if not (kind == "trapped" and _BLOCK.search(clause, 0, toks[j][2])):
                    out.append(Mention(kind, low, high, vague, bool(g.group("upd")), toks[j][1], raw, clause,
                                       start + tok[2]))
                continue
        if after.group("group"):
            groups.append(clause[tok[2]:after.end()])
            continue
        # a noun on the right: "3人死亡", "2名矿工被困", "3死27伤"
        k = i + 1
        if short and (k >= len(toks) or toks[k][0] != "noun" or toks[k][2] != tok[3]):
            ch = clause[tok[3]]
            noun = clause[tok[3]:tok[3] + 2] if clause.startswith(("重伤", "轻伤"), tok[3]) else ch
            kind = _NOUN_KIND.get(noun) or _SHORT[ch]
            out.append(Mention(kind, low, high, vague, False, noun, raw, clause, start + tok[2]))
            continue
        if k >= len(toks) or toks[k][0] != "noun" or k in used_noun:
            continue
        noun = toks[k][1]
        kind = _NOUN_KIND[noun]
        gap = clause[after.end():toks[k][2]]
        limit = 12 if kind == "gathering" else 8
        if not (personal or toks[k][2] == tok[3]) or len(gap) > limit or _BLOCK.search(gap) \
                or (kind == "trapped" and _BLOCK.search(clause, 0, toks[k][2])):
            continue
        used_noun.add(k)
        out.append(Mention(kind, low, high, vague, False, noun, raw, clause, start + tok[2]))
        # the outcome right after: "5人一氧化碳中毒身亡", "3人受伤送医"
        last = k
        while last + 1 < len(toks) and toks[last + 1][0] == "noun" and last + 1 not in used_noun:
            between = clause[toks[last][3]:toks[last + 1][2]]
            if len(between) > 6 or any(c in between for c in "和及与或、"):
                break
            last += 1
            used_noun.add(last)
            nk = _NOUN_KIND[toks[last][1]]
            if nk != kind:
                out.append(Mention(nk, low, high, vague, False, toks[last][1], raw, clause, start + tok[2]))
