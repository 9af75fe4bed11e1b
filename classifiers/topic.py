"""Topic domain (the 19-label taxonomy of DESIGN.md) with calibrated probabilities.

Features: the segmented words (no stop words, punctuation or numbers), optionally
pairs of adjacent words (``BIGRAMS``, off: no measured gain for ~40 us per item), and
topic hint words (one Aho-Corasick pass over the text; a hit on a
住房保障 hint adds the feature ``kw:住房保障``). The vocabulary is what the training
items contain; at prediction, unknown features are dropped. The classifier is a linear
SVM (scikit-learn ``LinearSVC``) with per-class Platt sigmoids fitted on out-of-fold
decision values (what ``CalibratedClassifierCV(ensemble=False, method="sigmoid")``
does), so the probability of the chosen label means something. Prediction is plain
numpy (weight rows gathered and summed per batch) and needs no scikit-learn or scipy.

Pure: samples arrive as arguments; ``yuqing.classify_io`` reads the seed, stored labels
and the cached model.
"""
from __future__ import annotations

import operator
import re
from collections import Counter
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Iterable, Mapping, Sequence

from classifiers.types import TOPICS, TopicResult

_SKIP = re.compile(r"^[\W\d_]+$")
_STOP = frozenset("的 了 和 是 在 有 我 我们 你 他 她 也 都 就 还 被 把 给 让 对 从 这 那 这个 那个 一个 吗 呢 啊 吧 "
                  "呀 与 及 以及 而 但 并 很 又 要 会 能 可以 已经 一直 没有 不 没 着 过 之 为 于 等 个 上 下 中".split())


@dataclass(frozen=True)
class Sample:
    tokens: tuple[str, ...]  # segmented words of title + text
    text: str  # normalised title + text (for hint words)
    label: str


class KeywordIndex:
    """Topic hint words -> topics, found with one Aho-Corasick pass."""

    def __init__(self, keywords: Mapping[str, Iterable[str]]):
        self.keywords = {t: tuple(ws) for t, ws in keywords.items()}
        for t in self.keywords:
            if t not in TOPICS:
                raise ValueError(f"topic keywords: unknown topic '{t}' (known: {' '.join(TOPICS)})")
        self._build()

    def _build(self) -> None:
        import ahocorasick_rs

        owners: dict[str, list[str]] = {}
        for topic, words in self.keywords.items():
            for w in words:
                owners.setdefault(w, []).append(topic)
        self._words = list(owners)
        self._owners = [tuple(owners[w]) for w in self._words]
        self._ac = ahocorasick_rs.AhoCorasick(self._words, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
                                              implementation=ahocorasick_rs.Implementation.ContiguousNFA) \
            if self._words else None

    def __getstate__(self):
        return {"keywords": self.keywords}

    def __setstate__(self, state):
        self.keywords = state["keywords"]
        self._build()

    def word_ids(self, text: str) -> list[int]:
        """Index (into ``words`` / ``owners``) of every hint word occurrence, in order."""
        if self._ac is None or not text:
            return []
        return [m[0] for m in self._ac.find_matches_as_indexes(text)]

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self._words)

    @property
    def owners(self) -> tuple[tuple[str, ...], ...]:
        """The topics of each word of ``words``."""
        return tuple(self._owners)

    def hits(self, text: str) -> list[tuple[str, str]]:
        """(topic, word) for every hint word occurrence."""
        if self._ac is None or not text:
            return []
        out = []
        for idx, _s, _e in self._ac.find_matches_as_indexes(text):
            for topic in self._owners[idx]:
                out.append((topic, self._words[idx]))
        return out


_KEEP: dict[str, bool] = {}
_pair = operator.add  # adjacent words joined; cheaper than a separator format


def _keep(token: str) -> bool:
    ok = token not in _STOP and not _SKIP.match(token)
    if len(_KEEP) < 200_000:
        _KEEP[token] = ok
    return ok


def _kept(token: str) -> bool:
    ok = _KEEP.get(token)
    return _keep(token) if ok is None else ok


BIGRAMS = False  # adjacent word pairs: ~+40 us per 300-character item for no measured gain


def features(tokens: Sequence[str], text: str, keywords: KeywordIndex | None, bigrams: bool = BIGRAMS) -> list[str]:
    """Feature strings of one item: kept words, adjacent kept-word pairs (optional), topic hints."""
    feats = [t for t in tokens if _kept(t)]
    if bigrams:
        feats.extend(_pair(a, b) for a, b in zip(tokens, tokens[1:]) if _kept(a) and _kept(b))
    if keywords is not None:
        feats.extend("kw:" + topic for topic, _w in keywords.hits(text))
    return feats


class TopicModel:
    """A trained topic classifier: linear weights over a vocabulary plus per-class Platt sigmoids.

    Build with :meth:`train`; save/restore with :meth:`to_arrays` / :meth:`from_arrays`
    (plain numpy arrays: no pickled library objects).
    """

    def __init__(self, classes: Sequence[str], vocabulary: Sequence[str], weights, bias, platt_a, platt_b,
                 keywords: KeywordIndex | None, info: Mapping | None = None, bigrams: bool = BIGRAMS):
        self.bigrams = bool(bigrams)
        self.classes = tuple(str(c) for c in classes)
        self.vocabulary = {str(f): i for i, f in enumerate(vocabulary)}
        self.weights = weights  # (len(vocabulary), n_classes) float32, rows gathered per feature
        self.bias = bias
        self.platt_a = platt_a
        self.platt_b = platt_b
        self.keywords = keywords
        self.info = dict(info or {})
        self._kw_ids = {t: self.vocabulary.get("kw:" + t, 0) for t in TOPICS}
        # hint word index -> the vocabulary ids of its topics' features
        self._kw_word_ids = [[self._kw_ids[t] for t in owners] for owners in keywords.owners] \
            if keywords is not None else []

    # -- persistence -----------------------------------------------------------------
    def to_arrays(self) -> dict:
        import numpy as np

        vocab = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        return {"weights": self.weights, "bias": self.bias, "platt_a": self.platt_a, "platt_b": self.platt_b,
                "classes": np.array(self.classes), "vocabulary": np.array(vocab, dtype=str),
                "bigrams": np.array(self.bigrams)}

    @classmethod
    def from_arrays(cls, arrays: Mapping, keywords: KeywordIndex | None, info: Mapping | None = None):
        import numpy as np

        classes = [str(c) for c in arrays["classes"]]
        bad = sorted(set(classes) - set(TOPICS))
        if bad:
            raise ValueError(f"model has unknown topic '{bad[0]}'")
        vocab = [str(v) for v in arrays["vocabulary"]]
        weights = np.ascontiguousarray(arrays["weights"], dtype=np.float32)
        if weights.shape != (len(vocab), len(classes)):
            raise ValueError(f"model weights have shape {weights.shape}, expected {(len(vocab), len(classes))}")
        return cls(classes, vocab, weights, np.asarray(arrays["bias"], dtype=np.float32),
                   np.asarray(arrays["platt_a"], dtype=np.float64), np.asarray(arrays["platt_b"], dtype=np.float64),
                   keywords, info, bool(arrays["bigrams"]) if "bigrams" in arrays else True)

    # -- features as vocabulary ids --------------------------------------------------
    # Index 0 of the vocabulary is reserved for "unknown" (stop words, punctuation, unseen
    # features): its weight row is zero, so mapping with a default of 0 needs no filtering.
    def _ids(self, tokens: Sequence[str], text: str) -> list[int]:
        get = self.vocabulary.get
        ids = list(map(get, tokens, repeat(0, len(tokens))))
        if self.bigrams and len(tokens) > 1:
            ids.extend(map(get, map(_pair, tokens, tokens[1:]), repeat(0, len(tokens) - 1)))
        if self.keywords is not None:
            found = self.keywords.word_ids(text)
            if found:
                ids.extend(chain.from_iterable(map(self._kw_word_ids.__getitem__, found)))
        return ids

    def _batch(self, tokens_list, texts):
        """Flat (indices, values, starts) of a batch. Each occurrence of a known feature
        weighs 1/sqrt(known feature occurrences in the item): counts scaled by the item's
        length, the same in training and prediction, with no per-feature Python work."""
        import numpy as np

        idx_all: list[int] = []
        lengths: list[int] = []
        for tokens, text in zip(tokens_list, texts):
            ids = self._ids(tokens, text) or [0]
            idx_all.extend(ids)
            lengths.append(len(ids))
        n = len(lengths)
        idx = np.fromiter(idx_all, dtype=np.intp, count=len(idx_all))
        counts = np.array(lengths, dtype=np.intp)
        starts = np.zeros(n, dtype=np.intp)
        np.cumsum(counts[:-1], out=starts[1:])
        known = np.add.reduceat(idx != 0, starts, dtype=np.intp).tolist() if n else []
        scales = np.array([k ** -0.5 if k else 0.0 for k in known], dtype=np.float32)
        return idx, np.repeat(scales, counts), starts

    # -- training -------------------------------------------------------------------
    @classmethod
    def train(cls, samples: Sequence[Sample], keywords: KeywordIndex | None = None, *, c: float = 0.5,
              folds: int = 3, info: Mapping | None = None, bigrams: bool = BIGRAMS) -> "TopicModel":
        """Fit on samples (labels from TOPICS; at least two topics)."""
        import numpy as np
        from scipy.sparse import csr_matrix
        from sklearn.model_selection import StratifiedKFold
        from sklearn.svm import LinearSVC

        if not samples:
            raise ValueError("no training samples")
        counts = Counter(s.label for s in samples)
        bad = sorted(set(counts) - set(TOPICS))
        if bad:
            raise ValueError(f"unknown topic label '{bad[0]}' (known: {' '.join(TOPICS)})")
        if len(counts) < 2:
            raise ValueError("training needs at least two topics")
        vocab: dict[str, int] = {"": 0}  # 0: unknown
        for s in samples:
            for f in features(s.tokens, s.text, keywords, bigrams):
                vocab.setdefault(f, len(vocab))
        if len(vocab) == 1:
            raise ValueError("the training samples have no usable words")
        shell = cls(sorted(counts), list(vocab), None, None, None, None, keywords, bigrams=bigrams)
        idx, vals, starts = shell._batch([s.tokens for s in samples], [s.text for s in samples])
        vals[idx == 0] = 0.0
        indptr = np.append(starts, len(idx))
        X = csr_matrix((vals, idx, indptr), shape=(len(samples), len(vocab)))
        X.sum_duplicates()
        X.eliminate_zeros()
        y = np.array([s.label for s in samples])
        svc = LinearSVC(C=c, dual=True, max_iter=5000, random_state=0).fit(X, y)
        classes = [str(k) for k in svc.classes_]
        # Platt scaling on out-of-fold decision values
        k = max(2, min(folds, min(counts.values())))
        dec = np.zeros((len(samples), len(classes)))
        for tr, te in StratifiedKFold(n_splits=k, shuffle=True, random_state=0).split(np.zeros(len(y)), y):
            if len(set(y[tr])) < len(classes):
                dec[te] = svc.decision_function(X[te])
                continue
            fold = LinearSVC(C=c, dual=True, max_iter=5000, random_state=0).fit(X[tr], y[tr])
            dec[te] = fold.decision_function(X[te])
        a = np.zeros(len(classes))
        b = np.zeros(len(classes))
        for j, label in enumerate(classes):
            a[j], b[j] = _platt(dec[:, j], (y == label).astype(float))
        weights = np.ascontiguousarray(svc.coef_.T, dtype=np.float32)
        weights[0] = 0.0
        model = cls(classes, list(vocab), weights, svc.intercept_.astype(np.float32), a, b, keywords, info, bigrams)
        model.info.setdefault("samples", len(samples))
        return model

    # -- prediction -----------------------------------------------------------------
    def decision_many(self, tokens_list: Sequence[Sequence[str]], texts: Sequence[str]):
        """Decision values (n, n_classes) for a batch: one sparse-dense product."""
        import numpy as np

        # The weight rows of every feature occurrence, scaled and summed per item: plain numpy
        # (scipy.sparse would cost the daemon ~20 MB of resident memory for the same product).
        idx, vals, starts = self._batch(tokens_list, texts)
        if not len(starts):
            return np.zeros((0, len(self.classes)))
        rows = self.weights[idx]
        rows *= vals[:, None]
        out = np.add.reduceat(rows, starts, axis=0).astype(np.float64)
        out += self.bias
        return out

    def proba_many(self, tokens_list, texts):
        import numpy as np

        dec = self.decision_many(tokens_list, texts)
        p = 1.0 / (1.0 + np.exp(np.clip(dec * self.platt_a + self.platt_b, -50, 50)))
        p /= np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        return p

    def predict_many(self, tokens_list: Sequence[Sequence[str]], texts: Sequence[str],
                     top: int = 3) -> list[TopicResult]:
        if not tokens_list:
            return []
        proba = self.proba_many(tokens_list, texts)
        order = (-proba).argsort(axis=1)[:, :top]
        classes = self.classes
        out = []
        for row, o in zip(proba.tolist(), order.tolist()):
            best = o[0]
            alts = tuple((classes[i], round(row[i], 3)) for i in o[1:])
            out.append(TopicResult(classes[best], round(row[best], 3), alts))
        return out

    def predict(self, tokens: Sequence[str], text: str) -> TopicResult:
        return self.predict_many([tokens], [text])[0]

    def explain(self, text: str) -> list[str]:
        """Hint words found in the text, as 'topic:word' (why a topic is plausible)."""
        if self.keywords is None:
            return []
        return [f"{t}:{w}" for t, w in dict.fromkeys(self.keywords.hits(text))]


def _platt(dec, target) -> tuple[float, float]:
    """Platt's sigmoid P(y=1|d) = 1 / (1 + exp(a*d + b)): Newton steps with step halving on
    the smoothed targets of Platt (1999) / Lin, Lin & Weng (2007)."""
    import numpy as np

    dec = np.asarray(dec, dtype=np.float64)
    prior1 = float(target.sum())
    prior0 = float(len(target) - prior1)
    t = np.where(target > 0, (prior1 + 1) / (prior1 + 2), 1 / (prior0 + 2))

    def loss(a, b):
        f = dec * a + b
        # -[t log p + (1-t) log(1-p)] with p = 1/(1+e^f), stable form
        return float((np.logaddexp(0, f) - (1 - t) * f).sum())

    a, b = 0.0, float(np.log((prior0 + 1) / (prior1 + 1)))
    cur = loss(a, b)
    for _ in range(100):
        f = dec * a + b
        p = 1 / (1 + np.exp(np.clip(f, -500, 500)))
        g = t - p  # dL/df
        ga, gb = float((dec * g).sum()), float(g.sum())
        w = p * (1 - p)
        haa = float((dec * dec * w).sum()) + 1e-12
        hbb = float(w.sum()) + 1e-12
        hab = float((dec * w).sum())
        det = haa * hbb - hab * hab
        da = -(hbb * ga - hab * gb) / det
        db = -(-hab * ga + haa * gb) / det
        step = 1.0
        while step > 1e-10:
            na, nb = a + step * da, b + step * db
            new = loss(na, nb)
            if new < cur + 1e-4 * step * (ga * da + gb * db):
                break
            step /= 2
        else:
            break
        a, b, improvement, cur = na, nb, cur - new, new
        if abs(ga) < 1e-6 and abs(gb) < 1e-6 or improvement < 1e-9:
            break
    return a, b


def cross_validate(samples: Sequence[Sample], keywords: KeywordIndex | None = None, *, folds: int = 5,
                   seed: int = 0, bigrams: bool = BIGRAMS) -> tuple[float, float]:
    """Stratified k-fold (accuracy, macro-F1) of :meth:`TopicModel.train` on ``samples``."""
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    labels = np.array([s.label for s in samples])
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    pred = np.empty(len(samples), dtype=object)
    for train_idx, test_idx in skf.split(np.zeros(len(samples)), labels):
        model = TopicModel.train([samples[i] for i in train_idx], keywords, bigrams=bigrams)
        res = model.predict_many([samples[i].tokens for i in test_idx], [samples[i].text for i in test_idx])
        pred[test_idx] = [r.label for r in res]
    return float(accuracy_score(labels, pred)), float(f1_score(labels, pred, average="macro"))


def parse_keyword_lines(lines: Iterable[str]) -> dict[str, list[str]]:
    """``topic<TAB>word word ...`` lines -> mapping; ``#`` comments."""
    out: dict[str, list[str]] = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        out.setdefault(parts[0], []).extend(parts[1:])
    return out
