"""Sentiment 负面 / 中性 / 正面 with a score in [-1, 1], from a lexicon and a few rules.

Rules: a negator (不/没/未 ...) shortly before a sentiment word flips it (weakly for
negative words: 不难过 is only mildly positive); degree adverbs (很/非常/有点 ...)
scale it; a question (吗/？/难道) damps positive words; "!" strengthens its clause;
Weibo bracket emoticons ([泪] [怒] [哈哈] [赞] [心]) count on their own. Clauses are
split at punctuation, and a negator or degree word acts only inside its clause.

Government news needs a few more rules. Event words (a fire, an accident, a clash, a bribe)
outweigh generic positive words: once one fires, positive words count only a little. A
negated event (未造成人员伤亡) counts as nothing, not as praise, and so does an event after a
prevention verb (防范/坚决遏制 ...事故). In meeting and notice boilerplate (召开/部署/印发/通知)
generic words count only a little; events and praise words (表彰/荣获) keep their weight.
Place and department names carry no sentiment: the gazetteer's names are matched as whole
words that hide the words inside them (平安村, 区卫生健康局), and a sentiment word directly
followed by a place suffix (新铺镇, 幸福路) is taken as part of a name.

Pure: the word lists arrive as mappings (``yuqing.classify_io`` reads data/lexicons).
"""
from __future__ import annotations

import math
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from classifiers.types import SentimentResult

_EMOTICON = re.compile(r"\[([^\[\]\s]{1,8})\]")
_CLAUSE_END = "。！？!?；;，,\n…~～、 "
_BOUNDARY = re.compile("[" + re.escape(_CLAUSE_END) + "]")
_QUESTION = ("吗", "？", "?", "难道", "凭什么", "怎么回事", "为什么", "为何")
_WINDOW = 4  # characters between a negator/degree word and its sentiment word
# courtesy words that do not make a request positive ("……希望尽快解决，谢谢")
_COURTESY = frozenset({"谢谢", "感谢", "多谢", "谢谢您", "辛苦", "希望", "期盼", "盼望"})
_REQUEST = ("恳请", "请问", "怎么办", "反映", "投诉", "举报", "求助", "希望有关", "希望相关", "希望政府", "希望领导",
            "希望能", "希望尽快", "希望开通", "希望落实", "希望加强", "请有关部门", "请相关部门", "领导您好",
            "尽快解决", "尽快处理")
# suffixes that make the word before them part of a place name, unless the next character
# shows an ordinary word (村民, 路段, 乡亲)
_PLACE_SUFFIX = (("社区", ""), ("街道", ""), ("小区", ""), ("居委会", ""), ("村委会", ""), ("镇", "长政府上里区"),
                 ("村", "民里庄干镇"), ("乡", "亲村下镇"), ("县", "城委政长"), ("路", "段面口上边况线灯人"),
                 ("街", "头上边坊"))
_SUFFIX_HEADS = frozenset(suffix[0] for suffix, _ in _PLACE_SUFFIX)
_PREVENT_WINDOW = 8  # a prevention verb acts on an event this many characters on, in its clause
EVENT_DAMP = 0.3  # positive words once an event word has fired
BOILER_DAMP = 0.3  # generic words in meeting/notice boilerplate
THRESHOLD = 0.1
CUE_SCALE = 1.0  # weights in sentiment_cues.txt: a lone 没 or ？ stays 中性, a personal voice (我, ！) leans


@dataclass(frozen=True)
class SentimentLexicon:
    positive: Mapping[str, float]
    negative: Mapping[str, float]  # weights are positive numbers; the sign is implied
    degree: Mapping[str, float] = field(default_factory=dict)
    negation: frozenset[str] = frozenset()
    emoticons: Mapping[str, float] = field(default_factory=dict)  # signed
    cues: Mapping[str, float] = field(default_factory=dict)  # signed; used only when no word fired
    events: Mapping[str, float] = field(default_factory=dict)  # disaster/accident/conflict/misconduct; weights > 0
    praise: Mapping[str, float] = field(default_factory=dict)  # 表彰, 荣获 ...: keep weight in boilerplate
    boilerplate: frozenset[str] = frozenset()  # meeting/notice markers
    prevention: frozenset[str] = frozenset()  # 防范, 遏制 ...: the event after them did not happen
    names: frozenset[str] = frozenset()  # place/department names and neutral words: no sentiment inside them


class SentimentAnalyzer:
    """Score texts with a :class:`SentimentLexicon`; one automaton, built once."""

    def __init__(self, lexicon: SentimentLexicon, threshold: float = THRESHOLD):
        import ahocorasick_rs

        self.lexicon = lexicon
        self.threshold = threshold
        kinds: dict[str, tuple[str, float]] = {}
        for w in lexicon.negation:
            kinds[w] = ("neg", 0.0)
        for w, v in lexicon.degree.items():
            kinds[w] = ("deg", float(v))
        for w, v in lexicon.negative.items():
            kinds[w] = ("val", -abs(float(v)))
        for w, v in lexicon.positive.items():
            kinds[w] = ("val", abs(float(v)))
        for w, v in lexicon.events.items():
            kinds[w] = ("val", -abs(float(v)))
        for w, v in lexicon.praise.items():
            kinds[w] = ("val", abs(float(v)))
        for w in lexicon.prevention:
            kinds[w] = ("prev", 0.0)
        for w in lexicon.names:
            kinds.setdefault(w, ("name", 0.0))
        self._words = list(kinds)
        self._kinds = [kinds[w] for w in self._words]
        self._val = frozenset(i for i, (kind, _v) in enumerate(self._kinds) if kind == "val")
        index = {w: i for i, w in enumerate(self._words)}
        self._event = frozenset(index[w] for w in lexicon.events if self._kinds[index[w]][0] == "val")
        # words that keep their weight in boilerplate
        self._strong = self._event | frozenset(index[w] for w in lexicon.praise)
        self._boiler_ac = ahocorasick_rs.AhoCorasick(list(lexicon.boilerplate)) if lexicon.boilerplate else None
        # positive courtesy words, damped inside a request
        self._courtesy = frozenset(i for i, w in enumerate(self._words) if w in _COURTESY)
        self._ac = ahocorasick_rs.AhoCorasick(self._words, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
                                              implementation=ahocorasick_rs.Implementation.ContiguousNFA) \
            if self._words else None
        self._cues = tuple(self.lexicon.cues.items())

    def raw(self, text: str) -> tuple[float, list[str]]:
        """The unbounded total and the words that contributed."""
        total = 0.0
        words: list[str] = []
        if "[" in text:
            emo = self.lexicon.emoticons
            for m in _EMOTICON.finditer(text):
                v = emo.get(m.group(1))
                if v:
                    total += v
                    words.append(m.group(0))
            text = _EMOTICON.sub("。", text)
        matches = self._ac.find_matches_as_indexes(text) if self._ac is not None and text else ()
        val = self._val
        boiler = self._boiler_ac is not None and bool(self._boiler_ac.find_matches_as_indexes(text))
        for m in matches:
            if m[0] in val:
                break
        else:
            if not words and not boiler:  # no emoticon either: weak cues (questions, sighs, ellipses)
                total += CUE_SCALE * self._cue_total(text)
            return total, words
        # clause boundaries: positions of punctuation; a character's clause is the
        # number of boundaries before it
        bounds = [m.start() for m in _BOUNDARY.finditer(text)]
        request = None  # is the text a request? Looked up at the first courtesy word
        kinds, all_words, courtesy = self._kinds, self._words, self._courtesy
        events, strong = self._event, self._strong
        pending_neg = prev_end = -100
        deg_end, deg_value = -100, 1.0
        neg_clause = deg_clause = prev_clause = -1
        event_fired = False
        clause_values: dict[int, float] = {}
        for idx, start, end in matches:
            kind, value = kinds[idx]
            if kind == "name":
                continue
            clause = bisect_left(bounds, start)
            if kind == "neg":
                pending_neg, neg_clause = end, clause
                continue
            if kind == "deg":
                deg_end, deg_value, deg_clause = end, value, clause
                continue
            if kind == "prev":
                prev_end, prev_clause = end, clause
                continue
            if _in_place_name(text, end):
                continue
            v = value
            if v < 0 and prev_clause == clause and start - prev_end <= _PREVENT_WINDOW:
                continue  # 防范/遏制 ... 事故: the event is what is to be prevented
            if idx in events:
                if neg_clause == clause and start - pending_neg <= _WINDOW:
                    pending_neg = -100
                    continue  # 未造成人员伤亡: nothing happened, which is no praise either
                event_fired = True
            elif boiler and idx not in strong:
                v *= BOILER_DAMP
            if v > 0 and idx in courtesy:
                if request is None:
                    request = any(r in text for r in _REQUEST)
                if request:
                    v *= 0.3
            if deg_clause == clause and start - deg_end <= _WINDOW:
                v *= deg_value
            if neg_clause == clause and start - pending_neg <= _WINDOW:
                v = -0.8 * v if v > 0 else -0.4 * v
                pending_neg = -100
            clause_values[clause] = clause_values.get(clause, 0.0) + v
            words.append(all_words[idx])
        n_bounds, n_text = len(bounds), len(text)
        if event_fired:
            clause_values = {c: v * EVENT_DAMP if v > 0 else v for c, v in clause_values.items()}
        for c, v in clause_values.items():
            end = bounds[c] if c < n_bounds else n_text
            end_ch = text[end] if end < n_text else ""
            if v > 0:
                if end_ch in "？?":
                    v *= 0.3
                else:
                    seg = text[bounds[c - 1] + 1 if c > 0 else 0:end]
                    for q in _QUESTION:
                        if q in seg:
                            v *= 0.3
                            break
                    else:
                        if end_ch in "！!":
                            v *= 1.2
            elif end_ch in "！!":
                v *= 1.2
            total += v
        return total, words

    def _cue_total(self, text: str) -> float:
        return sum([v for cue, v in self._cues if cue in text])

    def analyze(self, text: str) -> SentimentResult:
        total, words = self.raw(text or "")
        score = math.tanh(total / 2.0)
        if score > self.threshold:
            label = "正面"
        elif score < -self.threshold:
            label = "负面"
        else:
            label = "中性"
        return SentimentResult(label, round(score, 3), tuple(dict.fromkeys(words)))

    def analyze_many(self, texts: Iterable[str]) -> list[SentimentResult]:
        return [self.analyze(t) for t in texts]


def _in_place_name(text: str, end: int) -> bool:
    """Is the word ending at ``end`` the head of a place name (新铺镇, 幸福路)?"""
    if end >= len(text) or text[end] not in _SUFFIX_HEADS:
        return False
    for suffix, ordinary_next in _PLACE_SUFFIX:
        if text.startswith(suffix, end):
            nxt = text[end + len(suffix):end + len(suffix) + 1]
            return not (nxt and nxt in ordinary_next)
    return False


def parse_sections(lines: Iterable[str]) -> dict[str, dict[str, float]]:
    """``[section]`` headers followed by weighted lines (see :func:`parse_weighted_lines`)."""
    out: dict[str, list[str]] = {}
    current = None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = out.setdefault(stripped[1:-1].strip(), [])
            continue
        if current is None:
            if stripped and not stripped.startswith("#"):
                raise ValueError(f"line before any [section] header: {stripped!r}")
            continue
        current.append(line)
    return {name: parse_weighted_lines(body) for name, body in out.items()}


def parse_weighted_lines(lines: Iterable[str], default: float = 1.0) -> dict[str, float]:
    """``word<TAB>weight`` lines (weight optional, ``#`` comments) -> dict."""
    out: dict[str, float] = {}
    for line in lines:
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not line:
            continue
        parts = line.split()
        try:
            out[parts[0]] = float(parts[1]) if len(parts) > 1 else default
        except ValueError:
            raise ValueError(f"bad weight in lexicon line: {line!r}") from None
    return out
