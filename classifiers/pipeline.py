"""The classifier facade: text in, :class:`Classification` out.

``Classifier`` wires the parts built elsewhere in ``classifiers`` (jurisdiction matcher,
monitoring schemes, topic model, sentiment lexicon, risk lexicon, routing table). A batch
runs one ``normalize_many``, one ``cut_many`` (titles and bodies apart, so each result can
carry its words for the search index and the story engine) and one topic prediction;
everything else is a linear pass per item. Every part is optional so tests and tools can
build a partial classifier; a missing part yields its neutral result.

Pure: ``yuqing.classify_io.load_classifier`` reads the data files and the model cache.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from classifiers.routing import RoutingTable
from classifiers.schemes import SchemeSet
from classifiers.sentiment import SentimentAnalyzer
from classifiers.severity import RiskDetector
from classifiers.topic import TopicModel
from classifiers.types import Classification, Jurisdiction, SentimentResult, SeverityResult, TopicResult

Item = tuple  # (title, text) or (title, text, local_source)


class Classifier:
    def __init__(self, *, matcher=None, schemes: SchemeSet | None = None, topic_model: TopicModel | None = None,
                 sentiment: SentimentAnalyzer | None = None, routing: RoutingTable | None = None,
                 risk: RiskDetector | None = None, segmenter=None, town_names: Mapping[str, str] | None = None):
        """``town_names`` maps 9-digit town codes to names, so a village's town is co-responsible."""
        self.matcher = matcher
        self.schemes = schemes
        self.topic_model = topic_model
        self.sentiment = sentiment
        self.routing = routing
        self.risk = risk
        self.town_names = dict(town_names or {})
        if segmenter is None and topic_model is not None:
            from classifiers.segment import default_segmenter

            segmenter = default_segmenter()
        self.segmenter = segmenter

    def classify(self, title: str, text: str = "", *, local_source: bool = False) -> Classification:
        return self.classify_many([(title, text, local_source)])[0]

    def classify_many(self, items: Sequence[Item]) -> list[Classification]:
        """Classify a batch of (title, text[, local_source]) in order.

        With a segmenter, each result carries ``title_tokens`` and ``text_tokens``: the
        normalised Simplified title and body, segmented (the topic model reads the same words).
        """
        from classifiers.normalize import normalize_many

        if not items:
            return []
        titles = [str(it[0] or "") for it in items]
        bodies = [str(it[1] or "") if len(it) > 1 else "" for it in items]
        local = [bool(it[2]) if len(it) > 2 else False for it in items]
        n = len(items)
        normed = normalize_many(titles + bodies)
        title_texts = [x.text for x in normed[:n]]
        body_texts = [x.text for x in normed[n:]]
        full = list(map(_join, title_texts, body_texts))
        own = list(map(_join, [x.own for x in normed[:n]], [x.own for x in normed[n:]]))
        seg = self.segmenter
        if seg is not None:
            cut = seg.cut_many(title_texts + body_texts)
            title_tokens, body_tokens = cut[:n], cut[n:]
        else:
            title_tokens = body_tokens = [[]] * n
        if self.topic_model is not None:
            tokens = list(map(_join_tokens, title_texts, body_texts, title_tokens, body_tokens))
            topics = self.topic_model.predict_many(tokens, full)
        else:
            topics = [TopicResult("其他", 0.0)] * n
        matcher, sentiment, risk, routing = self.matcher, self.sentiment, self.risk, self.routing
        owner = routing.release_owner if routing else "区委宣传部"
        out = []
        for i in range(n):
            text = full[i]
            if matcher is not None:
                jur = matcher.match(text, local_source=local[i])
                towns = self.towns_of(jur) if jur.places else []
            else:
                jur, towns = Jurisdiction(), []
            senti = sentiment.analyze(own[i] or text) if sentiment is not None else SentimentResult("中性", 0.0)
            hits = self._scheme_hits(text, jur, towns)
            if risk is not None:
                risk_words = risk.find(text)
                severity = risk.assess(text, risk_words)
            else:
                risk_words, severity = (), SeverityResult("一般")
            if routing is not None:
                units = routing.route(topics[i].label, [d.name for d in jur.departments], towns)
            else:
                units = ()
            out.append(Classification(topics[i], senti, jur, hits, risk_words, severity, units, owner,
                                      tuple(title_tokens[i]), tuple(body_tokens[i])))
        return out

    def segment_many(self, titles: Sequence[str], texts: Sequence[str]) -> tuple[list[tuple[str, ...]],
                                                                              list[tuple[str, ...]]]:
        """The words :meth:`classify_many` puts in ``title_tokens`` / ``text_tokens``, without
        classifying: (title words per item, body words per item). For rebuilding what was
        built from classifications (the story engine after a restart) with the same words."""
        from classifiers.normalize import normalize_many

        n = len(titles)
        if n != len(texts):
            raise ValueError(f"segment_many: {n} titles but {len(texts)} texts")
        if self.segmenter is None:
            return [()] * n, [()] * n
        normed = normalize_many([str(t or "") for t in titles] + [str(x or "") for x in texts])
        cut = self.segmenter.cut_many([x.text for x in normed])
        return [tuple(t) for t in cut[:n]], [tuple(t) for t in cut[n:]]

    def _scheme_hits(self, text: str, jur: Jurisdiction, towns: Sequence[str] | None = None) -> tuple:
        """Scheme hits; a hit of a "towns" template counts only when the jurisdiction matcher
        found that town (so 武乡县 in Shanxi does not fire the 武乡镇 scheme). ``towns``:
        :meth:`towns_of` ``jur`` when already known."""
        if self.schemes is None:
            return ()
        hits = self.schemes.match(text)
        if self.matcher is None or not hits:
            return tuple(hits)
        found = None
        out = []
        for h in hits:
            scheme = self.schemes.by_name.get(h.scheme)
            if scheme is not None and scheme.place:
                if found is None:
                    found = set(towns if towns is not None else self.towns_of(jur))
                if scheme.place not in found:
                    continue
            out.append(h)
        return tuple(out)

    def towns_of(self, jur: Jurisdiction) -> list[str]:
        """Names of the district's towns / street offices involved (a village brings its town)."""
        towns: list[str] = []
        for p in jur.places:
            if not p.in_district:
                continue
            if p.level == "town":
                towns.append(p.name)
            elif p.level in ("village", "landmark") and len(p.code) >= 9:
                name = self.town_names.get(p.code[:9])
                if name:
                    towns.append(name)
        return list(dict.fromkeys(towns))

    def route(self, topic: str, jur: Jurisdiction) -> tuple[str, ...]:
        if self.routing is None:
            return ()
        departments = [d.name for d in jur.departments]
        return self.routing.route(topic, departments, self.towns_of(jur))


def _join_tokens(title: str, body: str, title_tokens: list[str], body_tokens: list[str]) -> list[str]:
    """The words of ``_join(title, body)`` from the words of each part: the segmenter never
    joins words across the punctuation mark put between them, so this equals cutting the
    joined text."""
    if title and body:
        if body.startswith(title):
            return body_tokens
        return title_tokens + ["。"] + body_tokens if title[-1] not in "。！？!?；;…" else title_tokens + body_tokens
    return title_tokens or body_tokens


def _join(title: str, body: str) -> str:
    title, body = (title or "").strip(), (body or "").strip()
    if title and body:
        if body.startswith(title):
            return body
        return f"{title}。{body}" if title[-1] not in "。！？!?；;…" else f"{title}{body}"
    return title or body
