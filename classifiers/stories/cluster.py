"""Online same-event grouping: TF-IDF item vectors against small story centroids.

An item's vector is its content words weighted by term frequency x inverse document
frequency over the items in the window (hashtag topics count double), cut to the
``item_terms`` heaviest and L2-normalised. A story's centroid is the time-decayed sum
of its items' vectors, cut to the ``centroid_terms`` heaviest. An item joins the story
with the best cosine x time decay when that score is at least ``threshold`` and they
share at least ``min_shared`` words; otherwise it starts a new story (merge-or-create).

Candidates come from an inverted index word -> stories (only each story's top words
are posted), counted in C by ``Counter.update`` before any cosine is computed.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterable

__all__ = ["TermStats", "Clusterer"]


class TermStats:
    """Document frequencies over the items currently in the window."""

    def __init__(self) -> None:
        self.df: Counter[str] = Counter()
        self.docs = 0

    def add(self, words: Iterable[str]) -> None:
        self.df.update(words)
        self.docs += 1

    def remove(self, words: Iterable[str]) -> None:
        df = self.df
        for w in words:
            n = df[w] - 1
            if n > 0:
                df[w] = n
            else:
                del df[w]
        self.docs -= 1

    def idf(self, word: str) -> float:
        return math.log((self.docs + 1) / (self.df.get(word, 0) + 1)) + 1.0


class _Centroid:
    __slots__ = ("weights", "norm", "last_ts", "posted", "updates")

    def __init__(self) -> None:
        self.weights: dict[str, float] = {}
        self.norm = 0.0
        self.last_ts = 0.0
        self.posted: frozenset[str] = frozenset()
        self.updates = 0


class Clusterer:
    def __init__(self, *, threshold: float = 0.35, min_shared: int = 2, item_terms: int = 16,
                 centroid_terms: int = 40, posted_terms: int = 12, decay_hours: float = 24.0,
                 max_posting: int = 300, max_candidates: int = 12, probe_terms: int = 12):
        self.threshold = threshold
        self.min_shared = min_shared
        self.item_terms = item_terms
        self.centroid_terms = centroid_terms
        self.posted_terms = posted_terms
        self.decay_s = decay_hours * 3600.0
        self.max_posting = max_posting
        self.max_candidates = max_candidates
        self.probe_terms = probe_terms
        self.terms = TermStats()
        self._centroids: dict[str, _Centroid] = {}
        self._postings: dict[str, set[str]] = {}

    # ---- vectors ----------------------------------------------------------
    def vector(self, words: list[str], boosted: Iterable[str] = ()) -> dict[str, float]:
        """TF-IDF vector of one item (top ``item_terms`` words, L2-normalised)."""
        if not words:
            return {}
        tf = Counter(words)
        for w in boosted:
            if w in tf:
                tf[w] += 1
        df = self.terms.df
        logn = math.log(self.terms.docs + 1)
        log = math.log
        vec = {w: c * (logn - log(df.get(w, 0) + 1) + 1.0) for w, c in tf.items()}
        if len(vec) > self.item_terms:
            vec = dict(sorted(vec.items(), key=lambda kv: -kv[1])[: self.item_terms])
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {w: v / norm for w, v in vec.items()}

    # ---- matching ---------------------------------------------------------
    def best(self, vec: dict[str, float], ts: float) -> tuple[str | None, float, tuple[str, ...]]:
        """The best story for this vector: (story id or None, score, shared words)."""
        if not vec:
            return None, 0.0, ()
        counts: Counter[str] = Counter()
        postings = self._postings
        probe = vec if len(vec) <= self.probe_terms else sorted(vec, key=vec.__getitem__, reverse=True)[: self.probe_terms]
        for w in probe:
            p = postings.get(w)
            if p and len(p) <= self.max_posting:
                counts.update(p)
        best_id, best_score = None, 0.0
        need = self.min_shared if len(vec) >= self.min_shared else 1
        # only the stories sharing the most words can reach the threshold: score a few
        for sid, n in counts.most_common(self.max_candidates):
            if n < need:
                break
            c = self._centroids[sid]
            wts = c.weights
            dot = 0.0
            for w, v in vec.items():
                x = wts.get(w)
                if x is not None:
                    dot += v * x
            score = dot / c.norm if c.norm else 0.0
            gap = abs(ts - c.last_ts)
            if gap > 0:
                score *= math.exp(-gap / self.decay_s)
            if score > best_score:
                best_id, best_score = sid, score
        if best_id is None or best_score < self.threshold:
            return None, best_score, ()
        wts = self._centroids[best_id].weights
        shared = tuple(w for w in vec if w in wts)
        return best_id, best_score, shared

    # ---- updates ----------------------------------------------------------
    def update(self, sid: str, vec: dict[str, float], ts: float) -> None:
        c = self._centroids.get(sid)
        if c is None:
            c = self._centroids[sid] = _Centroid()
            c.last_ts = ts
        wts = c.weights
        if ts > c.last_ts:
            f = math.exp(-(ts - c.last_ts) / self.decay_s)
            if f < 0.999:
                for w in wts:
                    wts[w] *= f
            c.last_ts = ts
        for w, v in vec.items():
            wts[w] = wts.get(w, 0.0) + v
        if len(wts) > self.centroid_terms * 2 or len(wts) > self.centroid_terms and not c.posted:
            c.weights = wts = dict(sorted(wts.items(), key=lambda kv: -kv[1])[: self.centroid_terms])
        c.norm = math.sqrt(sum(v * v for v in wts.values()))
        c.updates += 1
        if c.posted and c.updates % 4:
            return  # the posted words change slowly: refresh them every 4th item
        if len(wts) <= self.posted_terms:
            posted = frozenset(wts)
        else:
            posted = frozenset(w for w, _ in sorted(wts.items(), key=lambda kv: -kv[1])[: self.posted_terms])
        if posted != c.posted:
            postings = self._postings
            for w in c.posted - posted:
                p = postings.get(w)
                if p is not None:
                    p.discard(sid)
                    if not p:
                        del postings[w]
            for w in posted - c.posted:
                postings.setdefault(w, set()).add(sid)
            c.posted = posted

    def remove(self, sid: str) -> None:
        c = self._centroids.pop(sid, None)
        if c is None:
            return
        for w in c.posted:
            p = self._postings.get(w)
            if p is not None:
                p.discard(sid)
                if not p:
                    del self._postings[w]

    def weights(self, sid: str) -> dict[str, float]:
        c = self._centroids.get(sid)
        return dict(c.weights) if c else {}

    def __len__(self) -> int:
        return len(self._centroids)
