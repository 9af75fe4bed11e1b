"""Online same-event grouping: TF-IDF item vectors against small story centroids.

An item's vector is its content words weighted by term frequency x inverse document
frequency over the items in the window (hashtag topics count double), cut to the
``item_terms`` heaviest and L2-normalised. A story's centroid is the time-decayed sum
of its items' vectors, cut to the ``centroid_terms`` heaviest. An item joins the story
with the best cosine x time decay when that score is at least ``threshold`` and they
share at least ``min_shared`` words; otherwise it starts a new story (merge-or-create).

Candidates come from an inverted index word -> stories (only each story's top words
are posted), counted in C by ``Counter.update`` before any cosine is computed. Posting
lists keep insertion order, so equal counts are broken the same way in every process
(a set's order of strings changes with the hash seed) and replays give the same stories.
"""
from __future__ import annotations

import math
from array import array
from collections import Counter
from operator import itemgetter
from typing import Iterable

__all__ = ["TermStats", "Clusterer"]

_WEIGHT = itemgetter(1)  # sorted(..., key=_WEIGHT, reverse=True) keeps equal weights in order, as -w did


class TermStats:
    """Document frequencies over the items currently in the window.

    Each word gets a small integer id while it is in the window (freed ids are reused),
    so an item's words can be kept as 2 bytes a word (4 once the window holds more than
    65,536 distinct words; :meth:`add_packed` / :meth:`remove_packed`) instead of a
    tuple of strings."""

    def __init__(self) -> None:
        self.df: Counter[str] = Counter()
        self.docs = 0
        self._ids: dict[str, int] = {}
        self._words: list[str | None] = []
        self._free: list[int] = []

    def add_packed(self, words: Iterable[str]) -> bytes:
        """Count one item's words; returns them packed for :meth:`remove_packed`."""
        df, ids = self.df, self._ids
        out: list[int] = []
        for w in words:
            n = df.get(w)
            if n is None:
                df[w] = 1
                i = self._new_id(w)
            else:
                df[w] = n + 1
                i = ids[w]
            out.append(i)
        self.docs += 1
        return _pack(out)

    def add_counts(self, tf: dict[str, int]) -> bytes:
        """:meth:`add_packed` of the words counted in ``tf`` (word -> occurrences)."""
        df, ids = self.df, self._ids
        out: list[int] = []
        for w, c in tf.items():
            n = df.get(w)
            if n is None:
                df[w] = c
                i = self._new_id(w)
            else:
                df[w] = n + c
                i = ids[w]
            if c == 1:
                out.append(i)
            else:
                out.extend([i] * c)
        self.docs += 1
        return _pack(out)

    def _new_id(self, w: str) -> int:
        """An id for a word not yet counted (a freed one when there is one)."""
        if self._free:
            i = self._free.pop()
            self._words[i] = w
        else:
            i = len(self._words)
            self._words.append(w)
        self._ids[w] = i
        return i

    def remove_packed(self, packed: bytes) -> None:
        ids = array(chr(packed[0]))
        ids.frombytes(memoryview(packed)[1:])
        words = self._words
        self._remove(words[i] for i in ids)

    def add(self, words: Iterable[str]) -> None:
        self.add_packed(words)

    def remove(self, words: Iterable[str]) -> None:
        self._remove(words)

    def _remove(self, words: Iterable[str]) -> None:
        df = self.df
        for w in words:
            n = df[w] - 1
            if n > 0:
                df[w] = n
            elif w in df:
                del df[w]
                i = self._ids.pop(w)
                self._words[i] = None
                self._free.append(i)
        self.docs -= 1

    def idf(self, word: str) -> float:
        return math.log((self.docs + 1) / (self.df.get(word, 0) + 1)) + 1.0


def _pack(ids: list[int]) -> bytes:
    """Word ids as bytes: a type code ("H" or "I") and the array."""
    if not ids or max(ids) < 65536:
        return b"H" + array("H", ids).tobytes()
    return b"I" + array("I", ids).tobytes()


class _Centroid:
    __slots__ = ("weights", "norm", "last_ts", "posted", "updates")

    def __init__(self) -> None:
        self.weights: dict[str, float] = {}
        self.norm = 0.0
        self.last_ts = 0.0
        self.posted: tuple[str, ...] = ()  # heaviest first (a tuple: a tenth of a frozenset's size)
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
        self._postings: dict[str, list[str]] = {}

    # ---- vectors ----------------------------------------------------------
    def vector(self, words: list[str], boosted: Iterable[str] = ()) -> dict[str, float]:
        """TF-IDF vector of one item (top ``item_terms`` words, L2-normalised)."""
        if not words:
            return {}
        return self.vector_tf(Counter(words), boosted)

    def vector_tf(self, tf: dict[str, int], boosted: Iterable[str] = ()) -> dict[str, float]:
        """:meth:`vector` of counted words (``tf`` is not changed)."""
        if not tf:
            return {}
        if boosted and any(w in tf for w in boosted):
            tf = dict(tf)
            for w in boosted:
                if w in tf:
                    tf[w] += 1
        df = self.terms.df
        logn = math.log(self.terms.docs + 1)
        log = math.log
        vec = {w: c * (logn - log(df.get(w, 0) + 1) + 1.0) for w, c in tf.items()}
        if len(vec) > self.item_terms:
            vec = dict(sorted(vec.items(), key=_WEIGHT, reverse=True)[: self.item_terms])
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
        # == counts.most_common(max_candidates) cut at ``need`` (a stable sort of the few that can pass)
        top = [kv for kv in counts.items() if kv[1] >= need]
        if len(top) > self.max_candidates:
            top = sorted(top, key=_WEIGHT, reverse=True)[: self.max_candidates]
        elif len(top) > 1:
            top.sort(key=_WEIGHT, reverse=True)
        for sid, n in top:
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
            c.weights = wts = dict(sorted(wts.items(), key=_WEIGHT, reverse=True)[: self.centroid_terms])
        c.norm = math.sqrt(sum(v * v for v in wts.values()))
        c.updates += 1
        if c.posted and c.updates % 4:
            return  # the posted words change slowly: refresh them every 4th item
        if len(wts) <= self.posted_terms:
            posted = tuple(wts)
        else:
            posted = tuple(w for w, _ in sorted(wts.items(), key=_WEIGHT, reverse=True)[: self.posted_terms])
        old = c.posted
        if posted != old:
            was, now = set(old), set(posted)
            if was != now:
                postings = self._postings
                for w in old:
                    if w not in now:
                        self._unpost(w, sid)
                for w in posted:
                    if w not in was:
                        p = postings.get(w)
                        if p is None:
                            postings[w] = [sid]
                        else:
                            p.append(sid)
            c.posted = posted

    def remove(self, sid: str) -> None:
        c = self._centroids.pop(sid, None)
        if c is None:
            return
        for w in c.posted:
            self._unpost(w, sid)

    def _unpost(self, w: str, sid: str) -> None:
        p = self._postings.get(w)
        if p is not None:
            try:
                p.remove(sid)
            except ValueError:  # pragma: no cover - posted words and postings change together
                pass
            if not p:
                del self._postings[w]

    def weights(self, sid: str) -> dict[str, float]:
        c = self._centroids.get(sid)
        return dict(c.weights) if c else {}

    def __len__(self) -> int:
        return len(self._centroids)
