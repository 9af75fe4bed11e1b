"""Online same-event grouping: TF-IDF item vectors against small story centroids.

An item's vector is its content words weighted by term frequency x inverse document
frequency over the items in the window (hashtag topics count double), cut to the
``item_terms`` heaviest and L2-normalised. A story's centroid is the time-decayed sum
of its items' vectors, cut to the ``centroid_terms`` heaviest. An item joins the story
with the best cosine x time decay when that score is at least ``threshold`` and they
share at least ``min_shared`` words; otherwise it starts a new story (merge-or-create).

Candidates come from an inverted index word -> stories (only each story's top words
are posted), counted in C (``collections._count_elements``, the helper behind
``Counter.update``) before any cosine is computed. Posting lists keep insertion order, so
equal counts are broken the same way in every process (a set's order of strings changes
with the hash seed) and replays give the same stories.

Speed: the per-word work runs in C where it can (counting, filtering, dot products as
``sum(map(mul, ...))``, document frequencies as a numpy array by word id) while doing
the same float operations in the same order as the plain formulas, so the stories are
bit for bit those of the straightforward code (tests/unit/test_stories_speedups.py).
"""
from __future__ import annotations

import math
from collections import Counter
from itertools import chain, compress, repeat
from operator import itemgetter
from operator import add as _add
from operator import mul as _mul
from typing import Iterable, Mapping

import numpy as np

try:  # the C helper behind Counter.update(iterable): counts into a plain dict without Python-level calls
    from collections import _count_elements
except ImportError:  # pragma: no cover - other Python implementations
    def _count_elements(mapping, iterable):
        get = mapping.get
        for x in iterable:
            mapping[x] = get(x, 0) + 1

__all__ = ["TermStats", "Clusterer"]

_WEIGHT = itemgetter(1)  # sorted(..., key=_WEIGHT, reverse=True) keeps equal weights in order, as -w did


class TermStats:
    """Document frequencies over the items currently in the window.

    Each word gets a small integer id while it is in the window (freed ids are reused;
    id 0 is never given: it stands for a word not in the window), and the counts are a
    numpy array indexed by id, so counting an item in or out is a few vector operations.
    An item's words are kept as 2 bytes a word (4 once the window holds more than
    65,536 distinct words; :meth:`add_packed` / :meth:`remove_packed`) instead of a
    tuple of strings. Each occurrence of a word counts (not only one per item)."""

    def __init__(self) -> None:
        self.docs = 0
        self._ids: dict[str, int] = {}
        self._words: list[str | None] = [None]
        self._free: list[int] = []
        self._df = np.zeros(1024, dtype=np.int64)  # by word id; [0] stays 0

    @property
    def df(self) -> dict[str, int]:
        """word -> occurrences in the window (a copy, in id order)."""
        d = self._df
        return {w: int(d[i]) for w, i in sorted(self._ids.items(), key=_WEIGHT)}

    def count(self, word: str) -> int:
        i = self._ids.get(word)
        return int(self._df[i]) if i is not None else 0

    def ids(self, words: Iterable[str]) -> list[int]:
        """Word ids, 0 for words not in the window."""
        return list(map(self._ids.get, words, _ZEROS))

    def add_packed(self, words: Iterable[str]) -> bytes:
        """Count one item's words; returns them packed for :meth:`remove_packed`."""
        return self.add_words(words if isinstance(words, list) else list(words))

    def add_counts(self, tf: dict[str, int]) -> bytes:
        """:meth:`add_packed` of the words counted in ``tf`` (word -> occurrences)."""
        return self.add_words([w for w, c in tf.items() for _ in range(c)])

    def add_words(self, words: list[str]) -> bytes:
        """Count one item's words (occurrences); returns their ids packed."""
        ids = self._ids
        out = list(map(ids.get, words))
        if None in out:  # words new to the window: ids in order of first occurrence
            for k, i in enumerate(out):
                if i is None:
                    w = words[k]
                    i = ids.get(w)
                    out[k] = self._new_id(w) if i is None else i
        self.docs += 1
        if not out:
            return b"H"
        arr = np.array(out, dtype=np.intp)
        np.add.at(self._df, arr, 1)
        if int(arr.max()) < 65536:
            return b"H" + arr.astype(np.uint16).tobytes()
        return b"I" + arr.astype(np.uint32).tobytes()

    def _new_id(self, w: str) -> int:
        """An id for a word not yet counted (a freed one when there is one)."""
        if self._free:
            i = self._free.pop()
            self._words[i] = w
        else:
            i = len(self._words)
            self._words.append(w)
            if i >= self._df.size:
                self._df = np.concatenate([self._df, np.zeros(self._df.size, dtype=np.int64)])
        self._ids[w] = i
        return i

    def remove_packed(self, packed: bytes) -> None:
        self.docs -= 1
        if len(packed) <= 1:
            return
        arr = np.frombuffer(packed, dtype=np.uint16 if packed[0] == 72 else np.uint32, offset=1).astype(np.intp)
        df = self._df
        np.subtract.at(df, arr, 1)
        gone = arr[df[arr] <= 0]
        if gone.size:
            words, ids, free = self._words, self._ids, self._free
            for i in dict.fromkeys(gone.tolist()):
                df[i] = 0
                del ids[words[i]]
                words[i] = None
                free.append(i)

    def add(self, words: Iterable[str]) -> None:
        self.add_packed(words)

    def remove(self, words: Iterable[str]) -> None:
        ids = self._ids
        known = [ids[w] for w in words if w in ids]  # a word not counted is ignored
        self.remove_packed(b"I" + np.array(known, dtype=np.uint32).tobytes())

    def idf(self, word: str) -> float:
        return math.log((self.docs + 1) / (self.count(word) + 1)) + 1.0


_ZEROS = repeat(0)
_ZEROF = repeat(0.0)


_LOG1 = np.log1p(np.zeros(0))  # log(n + 1) by n, each from math.log (grown on demand)


def _logs(upto: int) -> np.ndarray:
    global _LOG1
    n = _LOG1.size
    if upto >= n:
        size = max(upto + 1, 2 * n, 4096)
        _LOG1 = np.concatenate([_LOG1, np.array([math.log(k + 1) for k in range(n, size)])])
    return _LOG1


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
        terms = self.terms
        logn = math.log(terms.docs + 1)
        n = len(tf)
        dfv = terms._df[np.fromiter(map(terms._ids.get, tf, _ZEROS), dtype=np.intp, count=n)]
        logs = _logs(int(dfv.max()))
        # c * (log(docs + 1) - log(df + 1) + 1): the same float operations, in the same order, as in Python
        w = np.fromiter(tf.values(), dtype=np.float64, count=n) * ((logn - logs[dfv]) + 1.0)
        words = list(tf)
        if n > self.item_terms:
            order = np.argsort(-w, kind="stable")[: self.item_terms]
            words = list(map(words.__getitem__, order.tolist()))
            vals = w[order].tolist()
        else:
            vals = w.tolist()
        norm = math.sqrt(sum(map(_mul, vals, vals))) or 1.0
        return dict(zip(words, map(norm.__rtruediv__, vals)))

    # ---- matching ---------------------------------------------------------
    def best(self, vec: dict[str, float], ts: float) -> tuple[str | None, float, tuple[str, ...]]:
        """The best story for this vector: (story id or None, score, shared words)."""
        if not vec:
            return None, 0.0, ()
        postings = self._postings
        probe = vec if len(vec) <= self.probe_terms else sorted(vec, key=vec.__getitem__, reverse=True)[: self.probe_terms]
        cap = self.max_posting
        lists = [p for p in map(postings.get, probe) if p and len(p) <= cap]
        if not lists:
            return None, 0.0, ()
        counts: dict[str, int] = {}
        _count_elements(counts, chain.from_iterable(lists) if len(lists) > 1 else lists[0])
        best_id, best_score = None, 0.0
        need = self.min_shared if len(vec) >= self.min_shared else 1
        # only the stories sharing the most words can reach the threshold: score a few
        # == counts.most_common(max_candidates) cut at ``need`` (a stable sort of the few that can pass)
        top = list(compress(counts.items(), map(need.__le__, counts.values())))
        if len(top) > self.max_candidates:
            top = sorted(top, key=_WEIGHT, reverse=True)[: self.max_candidates]
        elif len(top) > 1:
            top.sort(key=_WEIGHT, reverse=True)
        centroids, vget, decay_s, exp = self._centroids, vec.__getitem__, self.decay_s, math.exp
        for sid, n in top:
            c = centroids[sid]
            wts = c.weights
            # the shared words in the vector's order, summed left to right: the float a loop gives
            shared = list(filter(wts.__contains__, vec))
            dot = sum(map(_mul, map(vget, shared), map(wts.__getitem__, shared)), 0.0)
            score = dot / c.norm if c.norm else 0.0
            gap = abs(ts - c.last_ts)
            if gap > 0:
                score *= exp(-gap / decay_s)
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
            if f < 0.999:  # decay every weight (a new dict in one C-level pass, same keys, same order)
                c.weights = wts = dict(zip(wts, map(f.__mul__, wts.values())))
            c.last_ts = ts
        # wts[w] = wts.get(w, 0.0) + v for each word of the vector (its words are distinct)
        wts.update(zip(vec, map(_add, map(wts.get, vec, _ZEROF), vec.values())))
        if len(wts) > self.centroid_terms * 2 or len(wts) > self.centroid_terms and not c.posted:
            c.weights = wts = dict(sorted(wts.items(), key=_WEIGHT, reverse=True)[: self.centroid_terms])
        vals = list(wts.values())
        c.norm = math.sqrt(sum(map(_mul, vals, vals)))
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

    def weights_view(self, sid: str) -> Mapping[str, float]:
        """The centroid's weights themselves (not a copy): read them, do not keep them."""
        c = self._centroids.get(sid)
        return c.weights if c else {}

    def __len__(self) -> int:
        return len(self._centroids)
