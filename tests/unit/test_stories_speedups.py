"""The story stage's fast paths give exactly what the plain formulas give (same floats, same order)."""
from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np

from classifiers.stories.cluster import Clusterer, TermStats
from classifiers.stories.labels import top_keywords
from classifiers.stories.minhash import BandTable

WORDS = ["汉台", "暴雨", "积水", "车库", "业主", "物业", "排水", "消防", "火灾", "撤离", "招生", "报名", "ai", "汉中市"]


def test_term_stats_match_a_plain_counter_through_adds_and_removes():
    rng = random.Random(1)
    ts, ref, live = TermStats(), Counter(), []
    for step in range(3000):
        if live and rng.random() < 0.45:
            words, packed = live.pop(rng.randrange(len(live)))
            ts.remove_packed(packed)
            ref.subtract(words)
            ref = +ref
        else:
            words = [rng.choice(WORDS) + str(rng.randrange(40)) for _ in range(rng.randint(0, 12))]
            live.append((words, ts.add_words(words)))
            ref.update(words)
        if step % 97 == 0:
            assert ts.df == dict(ref) and ts.docs == len(live)
            assert all(ts.count(w) == n for w, n in ref.items())
    for _, packed in live:
        ts.remove_packed(packed)
    assert ts.df == {} and ts.docs == 0 and not ts._df.any()
    assert len(ts._words) < 600  # freed ids were reused


def test_term_stats_compat_methods():
    ts = TermStats()
    ts.add(["汉台", "暴雨"])
    packed = ts.add_counts({"暴雨": 2})
    assert ts.df == {"汉台": 1, "暴雨": 3} and ts.ids(["暴雨", "新词"])[1] == 0
    ts.remove(["汉台", "不在窗口"])  # a word never counted is ignored
    ts.remove_packed(packed)
    assert ts.df == {"暴雨": 1} and ts.docs == 0  # each removal is one document less
    assert ts.idf("暴雨") == math.log(1 / 2) + 1.0


def _reference_vector(tf, boosted, df, docs, item_terms=16):
    """The plain formula: c * (log(docs + 1) - log(df + 1) + 1), top terms by weight (stable), L2."""
    tf = dict(tf)
    for w in boosted:
        if w in tf:
            tf[w] += 1
    logn = math.log(docs + 1)
    vec = {w: c * (logn - math.log(df.get(w, 0) + 1) + 1.0) for w, c in tf.items()}
    if len(vec) > item_terms:
        vec = dict(sorted(vec.items(), key=lambda kv: kv[1], reverse=True)[:item_terms])
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {w: v / norm for w, v in vec.items()}


def test_vectors_are_the_plain_formula_to_the_last_bit():
    rng = random.Random(2)
    cl = Clusterer()
    vocab = [f"{a}{b}" for a in WORDS for b in "甲乙丙丁戊"]
    for n in range(400):
        words = [rng.choice(vocab) for _ in range(rng.randint(1, 60))]
        tf = Counter(words)
        boosted = tuple(rng.sample(vocab, 2))
        got = cl.vector_tf(tf, boosted)
        want = _reference_vector(tf, boosted, cl.terms.df, cl.terms.docs)
        assert list(got.items()) == list(want.items())  # same words, same order, same floats
        cl.terms.add_words(words)
        if n % 3 == 0:  # many occurrences of a word: its count exceeds the documents (negative weights)
            cl.terms.add_words([vocab[0]] * 500)


def test_top_keywords_order_heaviest_then_word():
    rng = random.Random(3)
    for _ in range(3000):
        weights = {"".join(rng.choice("汉台暴雨积水车库") for _ in range(rng.randint(1, 3))):
                   rng.choice([0.5, 0.25, 0.0, -0.0, 1.0, rng.random()]) for _ in range(rng.randrange(30))}
        chosen = []
        for w, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])):
            if not any(w in c or c in w for c in chosen):
                chosen.append(w)
            if len(chosen) == 4:
                break
        assert top_keywords(weights) == tuple(chosen)


def test_band_table_lookup_finds_every_sequence_of_a_key():
    rng = np.random.default_rng(4)
    table = BandTable()
    keys = rng.integers(0, 50, 400, dtype=np.uint32)  # many repeats
    for seq, k in enumerate(keys.tolist()):
        table.add([k, k + 1000], seq)
    table.merge(0)
    q = rng.integers(0, 1100, (30, 16), dtype=np.uint32)
    q[0, :] = 4_000_000_000  # beyond every key
    got = table.lookup_sorted(q)
    for row, hits in zip(q.tolist(), got):
        want = [s for k in row for s, kk in enumerate(keys.tolist()) for kk2 in (kk, kk + 1000) if kk2 == k]
        assert sorted(hits) == sorted(want)
    assert BandTable().lookup_sorted(q) == [()] * 30
