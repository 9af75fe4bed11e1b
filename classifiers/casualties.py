"""Casualty and crowd figures read from Chinese news text: who died, went missing, was trapped,
hurt, poisoned, taken to hospital or gathered, and how many — each number bound to its own noun.

A small parser, not a set of overlapping patterns. Only sentences (。！？ and newlines) with a
casualty word are read, clause by clause (，；: news copy states a figure and its noun inside one
phrase, "死亡9人，受伤14人"). Numbers (Arabic, full-width, Chinese numerals with 两/十/百/千/万,
"5万", ranges like 三四十, vague amounts like 十余/数十/近百/上百/多人) count people only when a
person classifier or person noun follows (名/人/位, 乘客/矿工...) or a one-character casualty word
("3死27伤"); dates, road numbers, "3辆", "万元", "福景001" are not counts. One left-to-right pass
then binds them:

- ``3人死亡`` / ``2名矿工被困``: a number, then its noun; ``死亡9人`` / ``死亡人数升至12人`` /
  ``聚集约600人``: a noun, then its number — taken first while the noun is still free, so
  "死亡2人受伤3人" and "2人死亡5人受伤" both come out right. A noun takes one number and a number
  one noun, plus the outcome right after it ("5人一氧化碳中毒身亡": 5 poisoned, 5 dead).
- ``35名乘客中1人死亡``: a number whose person noun is followed by 中 is a group size.
- ``升至/增至/上升到/降至``: an updated count; the latest update of a kind wins.
- within a sentence, figures of one kind side by side add up ("3人当场死亡，另有1人抢救无效死亡");
  after 其中/包括 they are a breakdown of a total, and count only if they exceed it; across
  sentences the largest figure is kept (reports repeat their totals).
- ``无人死亡`` / ``未造成人员伤亡``: negated nouns bind nothing and are reported as negated.
- ``救出35名被困人员`` / ``10名失联人员已全部找到``: people rescued or found are no longer trapped
  or missing ("找到3名失联人员遗体": found dead).
- a clause without a number that tells what became of the people just counted ("发现14名被困矿工，
  经确认已遇难"; "一名工人…坠落，不治身亡") gives them that outcome — the one way a figure reaches
  past a comma, and never past a sentence.

Vague amounts keep a lower and an upper bound and are flagged, so grading can use the lower bound
and say so. Pure: no I/O, imports nothing of ours.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Mention", "Casualties", "KINDS", "mentions_casualties", "parse_casualties", "parse_number"]

# kind -> the nouns that name it (longest first where they overlap)
_NOUNS = {
    "death": ("死亡", "遇难", "身亡", "罹难", "丧生", "溺亡", "坠亡", "殒命", "不治", "离世", "去世", "殉职", "死者",
              "遗体", "尸体"),
    "missing": ("失联", "失踪", "下落不明", "生死不明", "生死未明"),
    "trapped": ("被困", "受困", "被埋", "被掩埋"),
    "serious": ("重伤", "危重", "重症"),
    "minor": ("轻伤", "轻微伤", "轻微划伤"),
    "injured": ("受伤", "伤者", "伤员", "烧伤", "划伤", "伤亡", "死伤"),  # 伤亡/死伤: dead and hurt not told apart
    "poisoned": ("中毒",),
    "hospital": ("送医", "住院", "送院", "入院", "留院", "在院", "送往医院"),
    "gathering": ("聚集", "围堵", "堵路", "堵门", "上访", "讨薪", "维权", "静坐", "拉横幅", "打砸"),
}
# one-character forms only right after a number: "3死27伤", "一死两重伤"
_SHORT = {"死": "death", "亡": "death", "伤": "injured"}
KINDS = tuple(_NOUNS)
_NOUN_KIND = {w: k for k, ws in _NOUNS.items() for w in ws}

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_CN = "零〇一二两三四五六七八九十百千万"
_NUM = (r"(?:[0-9]+(?:\.[0-9]+)?\s*[万千百]?|(?:数|几|上|近)?[" + _CN + r"]+)(?:\s*(?:余|多|来))?|若干|数|几|多")
_AGE = r"(?:[0-9]{1,3}|[一二三四五六七八九十]{1,3})\s*(?:岁|周岁)"
_WHO = ("群众|学生|小学生|中学生|大学生|初中生|高中生|女学生|男学生|女生|男生|新生|毕业生|儿童|幼儿|孩子|小孩|学童|"
        "工人|农民工|民工|村民|居民|游客|乘客|旅客|矿工|业主|师生|职工|员工|人员|民警|辅警|消防员|救援人员|队员|"
        "船员|食客|顾客|住户|家长|市民|患者|病人|老人|男子|女子|村民小组成员|作业人员|施工人员|务工人员|遇难者|伤者|"
        "车上人员|司乘人员|驾乘人员|人")
_CL = r"(?:名|人|位|个|例|具|口)"
_TOKEN = re.compile(
    r"(?P<neg>无人员|无人|未造成(?:其他)?(?:人员|人身)?|没有造成(?:人员)?|没有(?:人员)?|未有(?:人员)?|暂无(?:人员)?|"
    r"并无(?:人员)?|未发生(?:人员)?|无(?=伤亡|死亡|受伤))"
    r"|(?<!在)(?P<noun>" + "|".join(sorted(_NOUN_KIND, key=len, reverse=True)) + r")(?!院?途中)"  # 送医途中: on the way
    r"|(?<!第)(?P<num>" + _NUM + r")"
)
_NOUN_START = re.compile(r"\s*(?:" + "|".join(sorted(_NOUN_KIND, key=len, reverse=True)) + r"|[死伤亡])")
# the cheap first look: a casualty word, or a one-character one right after a number ("3死27伤");
# two patterns, as one alternation of both kinds is several times slower to search
_GATE_WORDS = re.compile("|".join(sorted(_NOUN_KIND, key=len, reverse=True)))
_GATE_SHORT = re.compile(r"[0-9" + _CN + r"][人名]?\s*[死伤亡]")
_NUM_CHAR = re.compile(r"[0-9" + _CN + r"数几多若]")
_FULLWIDTH_DIGIT = re.compile("[\uff10-\uff19]")


_CLAUSE_END = re.compile(r"[。！？；，!?;,\n]")
# after a number: classifier and/or person noun; 中 right after them marks a group size
_AFTER_NUM = re.compile(r"\s*(?P<cl>" + _CL + r")?\s*(?:其他|其余|另)?(?:" + _AGE + r")?\s*(?P<who>" + _WHO + r")?"
                        r"(?P<group>\s*(?:之中|当中|中(?![毒弹枪])))?")
# between a noun and the number that follows it ("死亡人数升至12人", "聚集约600人")
_NOUN_TO_NUM = re.compile(r"\s*(?:者|人员|症)?(?:及[^\d\s]{1,3})?(?:人数|数)?\s*(?:由)?\s*"
                          r"(?:已经|已|共|累计|一度|最多时|目前)?\s*"
                          r"(?P<upd>上升到|上升至|升至|增至|增加到|增加至|升为|增为|降至|减至|减少为|减少到)?\s*"
                          r"(?:达到|达|为|是|至|有)?\s*(?:约|近|超过)?\s*$")
_UPDATE_AFTER = re.compile(r"\s*(?:" + _CL + r")?\s*(?:上升到|上升至|升至|增至|增加到|增加至|降至|减至|减少为|减少到)\s*$")
# verbs that make a count one of people doing the saving, not of victims ("3名医生赶到救治伤员")
_BLOCK = re.compile(r"救出|救治|采访|看望|慰问|疏散|转移|安置|出动|派出|调派|组织|赶到|赶赴|前往|参与|协助|包扎")
# people trapped or missing who are then found, freed or rescued are no longer trapped or missing
_RESCUED = re.compile(r"救出|获救|生还|升井|脱困|脱险|挖出|救下|送出|找到|联系上|取得联系")
_RESCUE_VERB = re.compile(r"(?:救出|救下|送出|找到|挖出)(?:了)?$")  # "救出35名被困人员"
# a clause with no number that only tells what became of the people just counted ("经确认已遇难")
_OUTCOME_LEAD = re.compile(r"(?:已|均|全部|都|后|但|不幸|当场|即|伤重|抢救无效|仅|受)$")
_BODIES = re.compile(r"遗体|尸体|遇难|死者")
_GAP_BREAK = re.compile(r"[0-9、和及与或]")
_SENTENCE_END = re.compile(r"[。！？!?\n]")
_PART = re.compile(r"其中|包括")


def _gate(text: str, pos: int = 0) -> int:
    """Offset of the first casualty wording at or after ``pos``, or -1."""
    a = _GATE_WORDS.search(text, pos)
    # most texts have none of 死/伤/亡 at all, and `in` is far cheaper than a pattern search
    b = _GATE_SHORT.search(text, pos) if ("死" in text or "伤" in text or "亡" in text) else None
    if a is None:
        return b.start() if b else -1
    return a.start() if b is None or a.start() < b.start() else b.start()


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
    sentence: int = 0  # which sentence (。！？) of the text
    part: bool = False  # a breakdown of a total ("其中2人死亡")

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
        """The figure for a kind: its latest stated update; else, per sentence, the sum of the
        figures stated side by side ("3人当场死亡，另有1人抢救无效死亡") or of a breakdown
        ("其中4人当场死亡，2人经抢救无效死亡"), whichever is larger; the largest sentence wins
        (reports repeat their totals from sentence to sentence)."""
        ms = [m for m in self.mentions if m.kind == kind]
        if not ms:
            return None
        updates = [m for m in ms if m.update]
        if updates:
            return updates[-1]
        best = None
        for sent in dict.fromkeys(m.sentence for m in ms):
            whole = _sum([m for m in ms if m.sentence == sent and not m.part])
            parts = _sum([m for m in ms if m.sentence == sent and m.part])
            for cand in (whole, parts):
                if cand is not None and (best is None or (cand.low, not cand.vague) > (best.low, not best.vague)):
                    best = cand
        return best

    def count(self, kind: str) -> int:
        m = self.figure(kind)
        return m.low if m else 0


def _sum(ms: list[Mention]) -> Mention | None:
    if len(ms) <= 1:
        return ms[0] if ms else None
    high = None if any(m.high is None for m in ms) else sum(m.high for m in ms)
    first = ms[0]
    return Mention(first.kind, sum(m.low for m in ms), high, any(m.vague for m in ms), False, first.noun,
                   "+".join(m.raw for m in ms), "；".join(dict.fromkeys(m.evidence for m in ms)), first.start,
                   first.sentence, first.part)


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
    mixed = _MIXED.fullmatch(s)
    if mixed:  # "35", "5万", "28.6万"
        n = int(float(mixed.group(1)) * _CN_UNITS.get(mixed.group(2) or "", 1))
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
        step = _step(s, n)
        return n, n + step - 1 if step > 1 else None, True
    if suffix == "来":
        return max(1, n - n // 10), n + n // 10, True
    return lo, hi, False


_FULLWIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)})
_MIXED = re.compile(r"([0-9]+(?:\.[0-9]+)?)([万千百])?")
_RANGE = re.compile(r"([一二两三四五六七八])([二三四五六七八九])")


def _step(s: str, n: int) -> int:
    """The unit a 余/多 amount counts in: '十' -> 10, '二十' -> 10, '三百' -> 100, '300' -> 100, '12' -> 1,
    '5万' -> 10000."""
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
    return _gate(text) >= 0


def parse_casualties(text: str) -> Casualties:
    """Every casualty and crowd figure stated in ``text``, each bound to its own noun."""
    if not text or _gate(text) < 0:
        return _NOTHING  # the common case: no casualty or crowd wording at all
    if _FULLWIDTH_DIGIT.search(text):
        text = text.translate(_FULLWIDTH)
    mentions: list[Mention] = []
    negated: list[str] = []
    groups: list[str] = []
    n = len(text)
    sent_start, sent_no = 0, 0
    while sent_start < n:
        at = _gate(text, sent_start)
        if at < 0:
            break
        # the sentence around the first casualty word, then its clauses one by one
        for e in _SENTENCE_END.finditer(text, sent_start, at):
            sent_start = e.end()
            sent_no += 1
        e = _SENTENCE_END.search(text, at + 1)
        sent_end = e.start() if e else n
        state = {"part": False}
        pos = sent_start
        for c in _CLAUSE_END.finditer(text, sent_start, sent_end):
            if c.start() > pos:
                _parse_clause(text, pos, c.start(), sent_no, state, mentions, negated, groups)
            pos = c.end()
        if sent_end > pos:
            _parse_clause(text, pos, sent_end, sent_no, state, mentions, negated, groups)
        sent_start, sent_no = sent_end + 1, sent_no + 1
    return Casualties(tuple(mentions), tuple(dict.fromkeys(negated)), tuple(groups))


def _parse_clause(text: str, start: int, end: int, sent_no: int, state: dict, out: list[Mention],
                  negated: list[str], groups: list[str]) -> None:
    clause = text[start:end]
    if _NUM_CHAR.search(clause) is None and _gate(clause) < 0 and _PART.search(clause) is None:
        return  # neither a number nor a casualty word: nothing to read, nothing to forget
    # tokens: [type, value, start, end, extra]; type in "num", "noun", "neg", "part"
    toks: list[list] = []
    for t in _TOKEN.finditer(clause):
        if t.group("noun"):
            toks.append(["noun", t.group("noun"), t.start(), t.end(), None])
        elif t.group("neg"):
            toks.append(["neg", t.group("neg"), t.start(), t.end(), None])
        else:
            raw = t.group("num")
            prev = clause[t.start() - 1] if t.start() else ""
            if raw[0].isdigit() and ((raw[0] == "0" and len(raw) > 1) or (prev.isascii() and prev.isalnum())):
                continue  # a code or a name ("福景001", "G244"), not a count
            val = parse_number(raw) if _range_ok(raw) else None
            if val is None:
                continue
            after = _AFTER_NUM.match(clause, t.end())
            short = _short_at(clause, t.end()) or (after.group("cl") and _short_at(clause, after.end(), strict=True))
            cl = after.group("cl")
            if cl and cl not in "名人位" and not after.group("who"):
                # 个/口/具/例 count anything ("45个村"): a person only when a casualty word or the end follows
                rest = clause[after.end():]
                if rest.strip() and not _NOUN_START.match(rest) \
                        and not (cl == "具" and _BODIES.search(rest, 0, 16)):  # "12具疑似…遇难者遗体"
                    cl = None
            personal = bool(cl or after.group("who"))
            if not (personal or short):
                continue  # a date, a road number, "3辆", "一氧化碳", "一度", "万幸"
            if raw in ("数", "几", "多", "若干") and not personal:
                continue
            toks.append(["num", val, t.start(), t.end(), (after, short, personal, raw)])
    parts_from = min((p.start() for p in _PART.finditer(clause)), default=None)
    first = len(out)
    bound: set[int] = set()  # start offsets of the numbers bound in this clause
    if (state.get("prev") or state.get("unbound")) and not any(t[0] == "num" for t in toks):
        _carry_outcome(clause, start, sent_no, toks, state, out)
    used_noun: set[int] = set()
    pending: dict[int, int] = {}  # number token -> noun token it updates ("由15人减少为9人")

    def emit(kind: str, val, upd: bool, noun: str, raw: str, at: int, part: bool = False) -> None:
        low, high, vague = val
        bound.add(at)
        part = part or state["part"] or (parts_from is not None and parts_from < at)
        out.append(Mention(kind, low, high, vague, upd, noun, raw, clause, start + at, sent_no, part))

    def rescued(num_tok) -> bool:
        # "救出35名被困人员", "10名失联人员已全部找到", "被困13名矿工全部成功升井"
        return _RESCUED.search(clause, num_tok[2]) is not None \
            or _RESCUE_VERB.search(clause, max(0, num_tok[2] - 3), num_tok[2]) is not None

    # negated nouns bind nothing: "无人死亡", "未造成人员伤亡"
    for i, tok in enumerate(toks):
        if tok[0] == "neg" and i + 1 < len(toks) and toks[i + 1][0] == "noun" \
                and toks[i + 1][2] - tok[3] <= 2:
            used_noun.add(i + 1)
            negated.append(toks[i + 1][1])
    for i, tok in enumerate(toks):
        if tok[0] != "num":
            continue
        val, (after, short, personal, raw) = tok[1], tok[4]
        if i in pending:
            j = pending[i]
            emit(_NOUN_KIND[toks[j][1]], val, True, toks[j][1], raw, tok[2])
            continue
        # a noun on the left, still free: "死亡9人", "遇难人数升至19人"
        j = i - 1
        if j >= 0 and toks[j][0] == "noun" and j not in used_noun and personal and after.group("cl") \
                and not after.group("group"):
            g = _NOUN_TO_NUM.match(clause[toks[j][3]:tok[2]])
            if g:
                kind = _NOUN_KIND[toks[j][1]]
                k = i + 1
                if k < len(toks) and toks[k][0] == "num" and _UPDATE_AFTER.match(clause[tok[3]:toks[k][2]]):
                    used_noun.add(j)
                    pending[k] = j  # the earlier figure is replaced by the one after it
                    continue
                if not (kind in ("trapped", "missing") and rescued(tok)):
                    used_noun.add(j)
                    emit(kind, val, bool(g.group("upd")), toks[j][1], raw, tok[2])
                    # "住院治疗伤员604人": the noun before it names the same people
                    if j >= 1 and toks[j - 1][0] == "noun" and j - 1 not in used_noun \
                            and toks[j][2] - toks[j - 1][3] <= 4 \
                            and not _GAP_BREAK.search(clause, toks[j - 1][3], toks[j][2]) \
                            and _NOUN_KIND[toks[j - 1][1]] != kind:
                        used_noun.add(j - 1)
                        emit(_NOUN_KIND[toks[j - 1][1]], val, False, toks[j - 1][1], raw, tok[2])
                    continue
        if after.group("group"):
            groups.append(clause[tok[2]:after.end()])
            continue
        # a noun on the right: "3人死亡", "2名矿工被困", "3死27伤", "4人死"
        k = i + 1
        if short and (k >= len(toks) or toks[k][0] != "noun" or toks[k][2] not in (tok[3], after.end())):
            at = tok[3] if _short_at(clause, tok[3]) else after.end()
            noun = clause[at:at + 2] if clause.startswith(("重伤", "轻伤"), at) else clause[at]
            emit(_NOUN_KIND.get(noun) or _SHORT[noun], val, False, noun, raw, tok[2])
            continue
        if k >= len(toks) or toks[k][0] != "noun" or k in used_noun:
            continue
        noun = toks[k][1]
        kind = _NOUN_KIND[noun]
        gap = clause[after.end():toks[k][2]]
        if not (personal or toks[k][2] == tok[3]) or len(gap) > 16 or _BLOCK.search(gap):
            continue
        if kind in ("trapped", "missing") and rescued(tok):
            # "找到3名失联人员遗体": found dead; otherwise found alive, and no longer a casualty
            if k + 1 < len(toks) and toks[k + 1][0] == "noun" and toks[k + 1][1] in ("遗体", "尸体") \
                    and toks[k + 1][2] - toks[k][3] <= 4:
                used_noun.update((k, k + 1))
                emit("death", val, False, toks[k + 1][1], raw, tok[2])
            continue
        used_noun.add(k)
        emit(kind, val, False, noun, raw, tok[2])
        # the outcome right after: "5人一氧化碳中毒身亡", "3人受伤送医"
        last = k
        while last + 1 < len(toks) and toks[last + 1][0] == "noun" and last + 1 not in used_noun:
            between = clause[toks[last][3]:toks[last + 1][2]]
            if len(between) > 6 or any(c in between for c in "和及与或、"):
                break
            last += 1
            used_noun.add(last)
            nk = _NOUN_KIND[toks[last][1]]
            if nk != kind and not (kind == "trapped" and nk == "missing"):  # 被困，生死不明: one figure
                # "5人属一氧化碳中毒，2人送医后因中毒死亡": the 2 are part of the 5 already stated
                again = any(m.kind == nk and m.sentence == sent_no for m in out)
                emit(nk, val, False, toks[last][1], raw, tok[2], again)
    if parts_from is not None:
        state["part"] = True
    if not toks:
        return  # "不慎从作业平台上坠落": nothing counted here; the people counted before stay in view
    state["prev"] = list(range(first, len(out)))
    state["unbound"] = None
    for t in toks:
        if t[0] == "num" and t[2] not in bound and t[4][2] and not t[4][0].group("group"):
            state["unbound"] = t


def _carry_outcome(clause: str, start: int, sent_no: int, toks: list, state: dict, out: list[Mention]) -> None:
    """A clause without a number that says what became of the people just counted: "发现14名被困矿工，
    经确认已遇难" and "另一名失踪，被搜救发现时已不幸身亡" turn that figure into deaths; "一名工人…坠落，
    不治身亡" and "一人…侥幸逃生，仅受轻伤" give a number no noun had taken its noun."""
    for i, t in enumerate(toks):
        kind = _NOUN_KIND[t[1]] if t[0] == "noun" else None
        if kind not in ("death", "serious", "minor", "injured") or (i and toks[i - 1][0] == "neg") \
                or clause.startswith(("人数", "者", "人员"), t[3]):
            continue  # "死亡人数尚在统计中" says nothing of the people just counted
        before = clause[:t[2]]
        if not (_OUTCOME_LEAD.search(before) or (not before.strip() and t[1] in ("不治", "身亡", "遇难", "溺亡"))):
            continue
        if kind != "death":  # "一人…侥幸逃生，仅受轻伤": only a number not yet bound
            n = state.get("unbound")
            if n:
                (low, high, vague), raw = n[1], n[4][3]
                out.append(Mention(kind, low, high, vague, False, t[1], raw, clause, start, sent_no, state["part"]))
                state["unbound"] = None
            return
        prev = [out[j] for j in state.get("prev", ()) if out[j].kind != "death"]
        if prev:
            m = prev[-1]
            idx = out.index(m)
            dead = Mention("death", m.low, m.high, m.vague, m.update, t[1], m.raw, m.evidence, m.start, m.sentence,
                           m.part)
            if m.kind in ("trapped", "missing"):
                out[idx] = dead  # they were trapped or missing; now they are counted dead
            else:
                out.append(dead)
        elif state.get("unbound"):
            n = state["unbound"]
            (low, high, vague), raw = n[1], n[4][3]
            out.append(Mention("death", low, high, vague, False, t[1], raw, clause, start, sent_no, state["part"]))
            state["unbound"] = None
        return


def _short_at(clause: str, at: int, strict: bool = False) -> bool:
    """A one-character casualty word at ``at`` ("3死27伤", "一死两重伤"); after a classifier
    ("4人死") only where the phrase ends there or the next figure follows."""
    ch = clause[at:at + 1]
    if ch not in _SHORT and not clause.startswith(("重伤", "轻伤"), at):
        return False
    if not strict:
        return True
    nxt = clause[at + 1:at + 2]
    return nxt == "" or nxt.isspace() or nxt.isdigit() or nxt in _CN
