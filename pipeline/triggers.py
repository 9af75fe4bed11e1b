"""When does a story become an incident candidate? Facts per story and the rule, pure.

A story becomes a candidate when it involves the district (its items name the
district's places or departments) and either (a) its items are negative with risk
words, (b) it turns hot, or (c) a scheme marked ``alert = true`` fires — each
switchable in desk.toml ``[triggers]``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from classifiers.same_event import bigrams, event_bigrams, place_bigram_test
from classifiers.types import SEVERITIES

DEFAULT_TRIGGERS_TOML = """\
[triggers]
# A story becomes an incident candidate when it involves the district and ...
negative_with_risk = true   # ... its items are negative and carry risk words (伤亡, 中毒, 维权 ...)
hot = true                  # ... it turns hot (burst against its own and the stream's baseline)
alert_schemes = true        # ... a monitoring scheme marked alert = true fires
story_window_hours = 72     # how long a story stays open to new items
"""

_KEYS = {"negative_with_risk": bool, "hot": bool, "alert_schemes": bool, "story_window_hours": (int, float)}


@dataclass(frozen=True)
class TriggerConfig:
    negative_with_risk: bool = True
    hot: bool = True
    alert_schemes: bool = True
    story_window_hours: float = 72.0


def parse_triggers(table: Mapping[str, Any] | None) -> TriggerConfig:
    if not table:
        return TriggerConfig()
    for key, value in table.items():
        if key not in _KEYS:
            raise ValueError(f"[triggers] {key}: unknown key (known: {', '.join(_KEYS)})")
        typ = _KEYS[key]
        if isinstance(value, bool) != (typ is bool) or not isinstance(value, typ):
            raise ValueError(f"[triggers] {key}: expected {'true/false' if typ is bool else 'a number'}, got {value!r}")
    cfg = TriggerConfig(**dict(table))
    if not 0 < cfg.story_window_hours <= 366 * 24:  # also refuses nan
        raise ValueError(f"[triggers] story_window_hours: must be more than 0 and at most a year (8784), "
                         f"got {cfg.story_window_hours!r}")
    return cfg


@dataclass(slots=True)
class StoryFacts:
    """What the story's items said, accumulated as they arrive. One per story in the window,
    so it is kept small: texts are remembered only once the story involves the district
    (only such stories are compared with incidents)."""

    places: dict[str, dict] = field(default_factory=dict)  # code -> {code, name, level}
    departments: dict[str, None] = field(default_factory=dict)
    units: dict[str, None] = field(default_factory=dict)
    topics: Counter = field(default_factory=Counter)
    risk_words: dict[str, None] = field(default_factory=dict)
    severity: str = "一般"
    severity_reasons: list[str] = field(default_factory=list)
    negative: int = 0
    alert_schemes: dict[str, None] = field(default_factory=dict)
    involves_district: bool = False
    hot: bool = False
    candidate_sent: bool = False
    texts: list[str] = field(default_factory=list)  # a few titles/texts, for similarity to incidents
    first_published: object = None  # earliest publication seen (aware datetime)
    _bigrams: tuple | None = field(default=None, repr=False, compare=False)

    MAX_TEXTS: ClassVar[int] = 8

    @property
    def wants_text(self) -> bool:
        """Whether :meth:`remember` would keep a text (saves converting texts nobody compares)."""
        return self.involves_district and len(self.texts) < self.MAX_TEXTS

    def remember(self, title: str, text: str, published) -> None:
        """Note an item's text (call after :meth:`add`) and publication time."""
        if self.wants_text:
            self.texts.append(f"{title} {text[:300]}")
            self._bigrams = None
        self.seen(published)

    def seen(self, published) -> None:
        """Note an item's publication time (the story's first publication is the earliest)."""
        if published is not None and (self.first_published is None or published < self.first_published):
            self.first_published = published

    @property
    def bigrams(self) -> tuple[Counter, float]:
        """Character bigrams of the remembered texts and their norm (cached until a text is added)."""
        return self._bigram_parts()[:2]

    @property
    def bigram_keys(self) -> frozenset:
        return self._bigram_parts()[2]

    def forget_bigrams(self) -> None:
        """Drop the cached bigram counts (recomputed from the texts when next needed)."""
        self._bigrams = None

    def _bigram_parts(self) -> tuple[Counter, float, frozenset]:
        if self._bigrams is None:
            grams = bigrams(self.texts)
            self._bigrams = (grams, norm(grams), frozenset(grams))
        return self._bigrams

    @property
    def town_codes(self) -> set[str]:
        return {code for code, p in self.places.items() if p.get("level") == "town"}

    def add(self, analysis: Mapping[str, Any]) -> None:
        """Fold one item's analysis (the item_analysis row shape, lists already decoded)."""
        for p in analysis.get("places", ()):
            if p.get("in_district"):
                self.places.setdefault(p["code"], {"code": p["code"], "name": p["name"], "level": p["level"]})
        for d in analysis.get("departments", ()):
            self.departments.setdefault(d, None)
        for u in analysis.get("units", ()):
            self.units.setdefault(u, None)
        self.topics[analysis.get("topic", "其他")] += 1
        for w in analysis.get("risk_words", ()):
            self.risk_words.setdefault(w, None)
        sev = analysis.get("severity", "一般")
        if SEVERITIES.index(sev) > SEVERITIES.index(self.severity):
            self.severity = sev
            self.severity_reasons = list(analysis.get("severity_reasons", ()))
        if analysis.get("sentiment") == "负面":
            self.negative += 1
        for s in analysis.get("schemes", ()):
            if s.get("alert"):
                self.alert_schemes.setdefault(s["scheme"], None)
        if analysis.get("involves_district"):
            self.involves_district = True

    @property
    def topic(self) -> str:
        if not self.topics:
            return "其他"
        ranked = [t for t, _ in self.topics.most_common() if t != "其他"]
        return ranked[0] if ranked else "其他"


def trigger_reason(facts: StoryFacts, cfg: TriggerConfig) -> str | None:
    """Why the story is a candidate, in words; None when it is not."""
    if not facts.involves_district:
        return None
    reasons = []
    if cfg.negative_with_risk and facts.negative and facts.risk_words:
        reasons.append(f"涉及本辖区，负面且含风险词（{'、'.join(list(facts.risk_words)[:5])}）")
    if cfg.hot and facts.hot:
        reasons.append("涉及本辖区，热度爆发")
    if cfg.alert_schemes and facts.alert_schemes:
        reasons.append(f"命中告警方案（{'、'.join(facts.alert_schemes)}）")
    return "；".join(reasons) or None


WEAK_JOIN_SIMILARITY = 0.2


def similarity(a_texts, b_texts) -> float:
    """Cosine of character-bigram counts of two groups of texts (Chinese characters only)."""
    return cosine(bigrams(a_texts), bigrams(b_texts))


def norm(grams: Counter) -> float:
    return sum(v * v for v in grams.values()) ** 0.5


def cosine(a: Counter, b: Counter, a_norm: float | None = None, b_norm: float | None = None, *,
           a_keys: frozenset | None = None, b_keys: frozenset | None = None) -> float:
    """Cosine of two bigram counts; given their key sets, the common keys come from a C-level
    set intersection over the smaller one (the hot path when a story meets many incidents)."""
    if not a or not b:
        return 0.0
    common = a_keys & b_keys if a_keys is not None and b_keys is not None else a.keys() & b.keys()
    dot = sum([a[k] * b[k] for k in common])
    if not dot:
        return 0.0
    denom = (a_norm if a_norm is not None else norm(a)) * (b_norm if b_norm is not None else norm(b))
    return dot / denom if denom else 0.0


def weak_join_reason(facts: StoryFacts, incident_towns: set[str], incident_bigrams: Counter, *,
                     incident_norm: float | None = None, incident_keys: frozenset | None = None,
                     threshold: float = WEAK_JOIN_SIMILARITY, region_names: tuple[str, ...] = ()) -> str | None:
    """A story may belong to an open incident of the same town when it tells the same event:
    similar content once place names are set aside (two events in one town share the town's
    name and nothing else), and shared event words (e.g. the first citizen post before any risk
    word appeared). ``region_names`` (the district's and city's names) are set aside too."""
    if not facts.involves_district or not (facts.town_codes & incident_towns):
        return None
    grams, grams_norm, keys = facts._bigram_parts()
    if incident_keys is None:
        incident_keys = frozenset(incident_bigrams)
    is_place = place_bigram_test([p["name"] for p in facts.places.values()], region_names)
    common = keys & incident_keys
    score = _cosine_without(grams, incident_bigrams, is_place, grams_norm, incident_norm, common)
    if score < threshold:
        return None
    if event_bigrams(common, is_place) is None:
        return None
    names = "、".join(p["name"] for c, p in facts.places.items() if c in incident_towns)
    return f"同一镇办（{names}）且为同一事件（去除地名后内容相似度 {score:.2f}），并入已有事件"


def _cosine_without(a: Counter, b: Counter, drop, a_norm: float | None, b_norm: float | None,
                    common: frozenset) -> float:
    """Cosine of two bigram counts leaving out the bigrams ``drop`` accepts (norms adjusted)."""
    dot = sum([a[k] * b[k] for k in common if not drop(k)])
    if not dot:
        return 0.0
    a2 = (a_norm if a_norm is not None else norm(a)) ** 2 - sum(v * v for k, v in a.items() if drop(k))
    b2 = (b_norm if b_norm is not None else norm(b)) ** 2 - sum(v * v for k, v in b.items() if drop(k))
    return dot / (a2 * b2) ** 0.5 if a2 > 0 and b2 > 0 else 0.0
