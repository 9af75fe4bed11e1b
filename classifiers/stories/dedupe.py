"""Near-duplicate detection over a sliding window, with bounded memory.

An item is a near-duplicate of an earlier one when, after normalisation (Traditional
→ Simplified, repost markers, ``//@user:`` chains, 回复@x:, hashtags, emoticons such as
``[哈哈]``, URLs, @mentions, punctuation and spaces removed), one of these holds:

* ``exact``: the cleaned content is equal (catches punctuation/emoji/hashtag noise,
  Traditional copies and bare reposts "转发微博//@a: ...");
* ``repost``: a part of a repost chain equals the other's content or a chain part
  (a repost with its own comment still quotes the original);
* ``prefix``: one is a prefix of the other (truncated copies, "...全文": their Jaccard
  is low but their containment is high);
* ``similar``: the MinHash estimate of the Jaccard similarity of the character
  3-gram sets is high (edited copies).

MinHash is our own numpy code, one-permutation hashing with densification: the 3-gram
hashes of a whole batch come from code points in one vector operation and each shingle
is hashed once (not once per permutation), so a signature costs a few microseconds
and no per-shingle Python call. A repost is compared by the text it quotes. The LSH table is two sorted numpy
arrays (merged in batches) plus a small dict for recent items: a Python dict with one
entry per band and item would cost ~150 bytes an entry, 250 MB at 100,000 items.
Everything is keyed by an arrival sequence number; items leave in arrival order when
they are older than the window or when ``max_items`` is exceeded.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

__all__ = ["DedupeKey", "Match", "NearDuplicateIndex", "clean_for_dedupe", "make_keys"]

MIN_EXACT_CHARS = 6  # shorter content ("哈哈哈", "转发微博") never counts as a duplicate
MIN_SIMILAR_CHARS = 10
MIN_DISTINCT_CHARS = 4  # MinHash below this is too noisy
PREFIX_CHARS = 12  # a prefix copy must share at least this much
HEAD_CHARS = 192  # kept per item to check prefixes exactly (a truncated Weibo post is ~140)

_MARKERS = re.compile(
    r"转发微博|轉發微博|^\s*(?:转发|轉發|repost|rt)\s*[:：]?|回复\s*@[^:：\s]{1,40}\s*[:：]|"
    r"https?://\S+|www\.\S+|\[[^\[\]\s]{1,8}\]|#[^#\n]{1,60}?#|@[^\s:：,，。!！?？@/]{1,30}",
    re.I,
)
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CHAIN_HEAD = re.compile(r"^@[^:：]{1,40}:\s*")

_MASK32 = np.uint64(0xFFFFFFFF)
_P1, _P2, _P3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9)
_MIX = np.uint64(0xFF51AFD7ED558CCD)


def clean_for_dedupe(text: str) -> str:
    """Markers, hashtags, emoticons, URLs, mentions and every non-word character removed;
    lower case. ``text`` must already be Simplified (see classifiers.normalize)."""
    return _NOT_WORD.sub("", _MARKERS.sub(" ", text.lower()))


@dataclass(frozen=True)
class DedupeKey:
    content: str  # cleaned own words + quoted chain
    segments: tuple[str, ...]  # further texts looked up exactly and by prefix (none by default)
    size: int  # number of distinct 3-gram shingles
    signature: np.ndarray | None  # MinHash (uint32), None when content is too short


@dataclass(frozen=True)
class Match:
    item_id: str  # the indexed item that matched
    root_id: str  # the first item of its duplicate group
    kind: str  # exact | repost | prefix | similar
    score: float  # 1.0 for exact/repost/prefix, the Jaccard estimate for similar


def _shingle_hashes(contents: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of the character 3-grams of many texts in one vector pass:
    (hashes, owner index per hash). A text shorter than 3 characters is one shingle."""
    if not contents:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    joined = "\x00\x00".join(contents)
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lens = np.fromiter((len(c) for c in contents), dtype=np.int64, count=len(contents))
    starts = np.concatenate(([0], np.cumsum(lens + 2)[:-1]))
    n = cp.size
    g = cp[: n - 2] * _P1 + cp[1: n - 1] * _P2 + cp[2:] * _P3 if n >= 3 else cp * _P1
    g ^= g >> np.uint64(29)
    g *= _MIX
    g ^= g >> np.uint64(32)
    # valid 3-gram starts: start .. start + len - 3 of each text (at least one per text)
    counts = np.maximum(lens - 2, 1)
    owner = np.repeat(np.arange(len(contents)), counts)
    offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    pos = np.repeat(starts, counts) + offs
    pos = np.minimum(pos, g.size - 1)
    return g[pos], owner


def _signatures(contents: list[str], num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """One-permutation MinHash with densification (Shrivastava 2017): each shingle is
    hashed once; its top bits choose one of ``num_perm`` bins and the bin keeps the
    minimum of the low 32 bits. Empty bins borrow from the next non-empty bin. The cost
    is O(shingles), not O(shingles x permutations). Returns (signatures, set sizes)."""
    h, owner = _shingle_hashes(contents)
    k = num_perm
    bits = k.bit_length() - 1
    bins = (h >> np.uint64(64 - bits)).astype(np.int64)
    vals = (h & _MASK32).astype(np.uint32)
    flat = np.full(len(contents) * k, np.uint32(0xFFFFFFFF), dtype=np.uint32)
    np.minimum.at(flat, owner * k + bins, vals)
    sig = flat.reshape(len(contents), k)
    empty = sig == np.uint32(0xFFFFFFFF)
    if empty.any():
        idx = np.where(empty, 2 * k, np.arange(k))
        idx2 = np.concatenate([idx, idx + k], axis=1)
        idx2[idx2 >= 2 * k] = 4 * k
        nxt = np.minimum.accumulate(idx2[:, ::-1], axis=1)[:, ::-1][:, :k]
        dist = (nxt - np.arange(k)).astype(np.uint32)
        src = np.take_along_axis(sig, np.minimum(nxt % k, k - 1), axis=1)
        filled = src + dist * np.uint32(0x9E3779B1)
        sig = np.where(empty & (nxt < 4 * k), filled, sig)
    sizes = np.bincount(owner, minlength=len(contents))
    return sig, sizes


def make_keys(own_and_chain: Iterable[tuple[str, Sequence[str]]], *, num_perm: int = 64) -> list[DedupeKey]:
    """Dedupe keys of many items. Each item is (own words, chain parts) as given by
    ``classifiers.normalize`` (``NormalizedText.own``, ``.reposts``), Simplified.
    ``num_perm`` must be a power of two."""
    prepared = []
    for own, chain in own_and_chain:
        own_c = clean_for_dedupe(own)
        if chain:
            parts = [clean_for_dedupe(_CHAIN_HEAD.sub("", p)) for p in chain]
            # only the deepest quote is the original: the parts before it are comments
            # ("这是怎么回事", "转发") that many unrelated reposts share. A repost is
            # compared by what it quotes when that is long enough to say anything.
            if len(set(parts[-1])) >= MIN_DISTINCT_CHARS and len(parts[-1]) >= MIN_EXACT_CHARS:
                content, segments = parts[-1], ()
            else:
                content, segments = own_c + "".join(parts), ()
        else:
            content, segments = own_c, ()
        if len(set(content)) < MIN_DISTINCT_CHARS:  # "哈哈哈哈哈哈": nothing to compare
            content, segments = "", ()
        prepared.append((content, segments))
    long_ix = [i for i, (c, _) in enumerate(prepared) if len(c) >= MIN_SIMILAR_CHARS]
    sigs, sizes = _signatures([prepared[i][0] for i in long_ix], num_perm) if long_ix else (None, None)
    keys = [DedupeKey(c, seg, max(len(c) - 2, 1 if c else 0), None) for c, seg in prepared]
    for j, i in enumerate(long_ix):
        c, seg = prepared[i]
        keys[i] = DedupeKey(c, seg, int(sizes[j]), sigs[j])
    return keys


class _BandTable:
    """band key (uint64) -> sequence numbers: a sorted main part and a recent dict."""

    def __init__(self, merge_every: int = 8192):
        self.keys = np.empty(0, dtype=np.uint64)
        self.seqs = np.empty(0, dtype=np.int64)
        self.recent: dict[int, list[int]] = {}
        self.recent_items = 0
        self.merge_every = merge_every

    def add(self, band_keys: list[int], seq: int, live_from: int) -> None:
        recent = self.recent
        for k in band_keys:
            lst = recent.get(k)
            if lst is None:
                recent[k] = [seq]
            else:
                lst.append(seq)
        self.recent_items += 1
        if self.recent_items >= self.merge_every:
            self.merge(live_from)

    def merge(self, live_from: int) -> None:
        if self.recent:
            ks, ss = [], []
            for k, lst in self.recent.items():
                ks.extend([k] * len(lst))
                ss.extend(lst)
            nk = np.array(ks, dtype=np.uint64)
            ns = np.array(ss, dtype=np.int64)
            keep = ns >= live_from
            nk, ns = nk[keep], ns[keep]
            order = np.argsort(nk, kind="stable")
            nk, ns = nk[order], ns[order]
        else:
            nk = np.empty(0, dtype=np.uint64)
            ns = np.empty(0, dtype=np.int64)
        live = self.seqs >= live_from
        keys, seqs = self.keys[live], self.seqs[live]
        pos = np.searchsorted(keys, nk)
        self.keys = np.insert(keys, pos, nk)
        self.seqs = np.insert(seqs, pos, ns)
        self.recent = {}
        self.recent_items = 0

    def lookup(self, band_keys: list[int], q: np.ndarray) -> set[int]:
        out: set[int] = set()
        if self.keys.size:
            lo = np.searchsorted(self.keys, q, "left")
            hit = self.keys[np.minimum(lo, self.keys.size - 1)] == q
            if hit.any():
                hi = np.searchsorted(self.keys, q[hit], "right")
                for a, b in zip(lo[hit].tolist(), hi.tolist()):
                    out.update(self.seqs[a:b].tolist())
        recent = self.recent
        for k in band_keys:
            lst = recent.get(k)
            if lst:
                out.update(lst)
        return out

    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.seqs.nbytes)


class NearDuplicateIndex:
    """Near-duplicates among the items of a sliding window.

    ``match(key)`` finds the best earlier item; ``add(...)`` indexes an item;
    ``evict(before_ts)`` drops items published before ``before_ts`` (epoch seconds),
    in arrival order, and keeps at most ``max_items``.
    """

    def __init__(self, *, num_perm: int = 64, bands: int = 16, jaccard: float = 0.6,
                 containment: float = 0.8, max_items: int = 500_000, seed: int = 7):
        if num_perm % bands or num_perm & (num_perm - 1):
            raise ValueError("num_perm must be a power of two and a multiple of bands")
        self.num_perm, self.bands, self.rows = num_perm, bands, num_perm // bands
        self.seed = seed
        self.jaccard, self.containment, self.max_items = jaccard, containment, max_items
        self._salt = (np.arange(bands, dtype=np.uint64) + np.uint64(1)) * np.uint64(0xD6E8FEB86659FD93)
        rng = np.random.default_rng(seed + 1)
        self._mult = rng.integers(1, 2**63, self.rows, dtype=np.uint64) | np.uint64(1)
        self._cap = 1024
        self._sigs = np.zeros((self._cap, num_perm), dtype=np.uint32)
        self._sizes = np.zeros(self._cap, dtype=np.int32)
        self._has_sig = np.zeros(self._cap, dtype=bool)
        self._rec: list[tuple | None] = [None] * self._cap  # (item_id, root_id, ts, exact_keys, prefix_keys)
        self._lo = 0  # oldest live sequence number
        self._hi = 0  # next sequence number
        self._exact: dict[int, int] = {}  # hash of cleaned text -> seq
        self._prefix: dict[str, list[tuple[int, str, int]]] = {}  # first chars -> (seq, head, full length)
        self._bands = _BandTable()

    def __len__(self) -> int:
        return self._hi - self._lo

    # ---- keys -------------------------------------------------------------
    def keys(self, own_and_chain: Iterable[tuple[str, Sequence[str]]]) -> list[DedupeKey]:
        return make_keys(own_and_chain, num_perm=self.num_perm)

    def _band_keys(self, sig: np.ndarray) -> np.ndarray:
        m = sig.astype(np.uint64).reshape(self.bands, self.rows) * self._mult
        return np.bitwise_xor.reduce(m, axis=1) ^ self._salt if self.rows > 1 else m[:, 0] ^ self._salt

    # ---- matching ---------------------------------------------------------
    def match(self, key: DedupeKey) -> Match | None:
        content = key.content
        if len(content) < MIN_EXACT_CHARS:
            return None
        seq = self._exact.get(hash(content))
        if seq is not None and seq >= self._lo:
            return self._match(seq, "exact", 1.0)
        for seg in key.segments:
            if len(seg) >= MIN_EXACT_CHARS and len(set(seg)) >= MIN_DISTINCT_CHARS:
                seq = self._exact.get(hash(seg))
                if seq is not None and seq >= self._lo:
                    return self._match(seq, "repost", 1.0)
        best = self._prefix_match(key)
        if best is not None:
            return best
        if key.signature is None:
            return None
        bk = self._band_keys(key.signature)
        cands = self._bands.lookup(bk.tolist(), bk)
        lo = self._lo
        cands = [s for s in cands if s >= lo]
        if not cands:
            return None
        cap = self._cap
        rows = np.fromiter((s % cap for s in cands), dtype=np.int64, count=len(cands))
        est = (self._sigs[rows] == key.signature).mean(axis=1)
        sizes = self._sizes[rows]
        small = np.minimum(sizes, key.size)
        contain = est * (sizes + key.size) / ((1.0 + est) * np.maximum(small, 1))
        # short texts need a higher estimate: one differing word moves their Jaccard a lot
        need = np.where(small < 20, max(self.jaccard, 0.8), self.jaccard)
        ok = (est >= need) | ((contain >= self.containment) & (est >= 0.3) & (small >= 20))
        if not ok.any():
            return None
        score = np.where(ok, est, -1.0)
        i = int(score.argmax())
        return self._match(cands[i], "similar", float(est[i]))

    def _prefix_match(self, key: DedupeKey) -> Match | None:
        texts = (key.content,) + tuple(s for s in key.segments if s != key.content)
        lo, cap = self._lo, self._cap
        for x in texts:
            if len(x) < PREFIX_CHARS:
                continue
            for seq, head, full in reversed(self._prefix.get(x[:PREFIX_CHARS], ())[-64:]):  # newest 64
                if seq < lo:
                    continue
                n = min(len(x), len(head))
                if x[:n] != head[:n]:
                    continue
                shorter = min(len(x), full)
                if n >= shorter:
                    return self._match(seq, "prefix", 1.0)
                # both longer than the stored head: a long shared prefix plus the MinHash estimate
                row = seq % cap
                if key.signature is not None and self._has_sig[row]:
                    est = float((self._sigs[row] == key.signature).mean())
                    a, b = key.size, int(self._sizes[row])
                    if est * (a + b) / ((1.0 + est) * max(min(a, b), 1)) >= 0.5:
                        return self._match(seq, "prefix", 1.0)
        return None

    def _match(self, seq: int, kind: str, score: float) -> Match:
        rec = self._rec[seq % self._cap]
        return Match(rec[0], rec[1], kind, score)

    # ---- indexing ---------------------------------------------------------
    def add(self, item_id: str, root_id: str, key: DedupeKey, ts: float, *, exact_only: bool = False) -> None:
        """Index an item. ``exact_only`` for exact copies: their text is already indexed."""
        if len(key.content) < MIN_EXACT_CHARS:
            return
        if self._hi - self._lo >= self._cap:
            self._grow()
        seq = self._hi
        self._hi += 1
        row = seq % self._cap
        exact_keys = [hash(key.content)]
        prefix_keys: list[str] = []
        if not exact_only:
            exact_keys += [hash(s) for s in key.segments if len(set(s)) >= MIN_DISTINCT_CHARS
                           and len(s) >= MIN_EXACT_CHARS]
            for x in dict.fromkeys((key.content,) + key.segments):
                if len(x) >= PREFIX_CHARS:
                    p = x[:PREFIX_CHARS]
                    self._prefix.setdefault(p, []).append((seq, x[:HEAD_CHARS], len(x)))
                    prefix_keys.append(p)
        for k in exact_keys:
            self._exact[k] = seq
        self._rec[row] = (item_id, root_id, ts, exact_keys, prefix_keys)
        if key.signature is not None and not exact_only:
            self._sigs[row] = key.signature
            self._sizes[row] = key.size
            self._has_sig[row] = True
            bk = self._band_keys(key.signature)
            self._bands.add(bk.tolist(), seq, self._lo)
        else:
            self._has_sig[row] = False
        if self._hi - self._lo > self.max_items:
            self._drop_oldest()

    def _grow(self) -> None:
        old_cap, new_cap = self._cap, self._cap * 2
        sigs = np.zeros((new_cap, self.num_perm), dtype=np.uint32)
        sizes = np.zeros(new_cap, dtype=np.int32)
        has = np.zeros(new_cap, dtype=bool)
        rec: list = [None] * new_cap
        for seq in range(self._lo, self._hi):
            o, n = seq % old_cap, seq % new_cap
            sigs[n], sizes[n], has[n], rec[n] = self._sigs[o], self._sizes[o], self._has_sig[o], self._rec[o]
        self._sigs, self._sizes, self._has_sig, self._rec, self._cap = sigs, sizes, has, rec, new_cap

    def _drop_oldest(self) -> None:
        seq = self._lo
        row = seq % self._cap
        rec = self._rec[row]
        self._rec[row] = None
        self._lo += 1
        if rec is None:
            return
        for k in rec[3]:
            if self._exact.get(k) == seq:
                del self._exact[k]
        for p in rec[4]:
            lst = self._prefix.get(p)
            if lst is not None:
                lst[:] = [e for e in lst if e[0] != seq]
                if not lst:
                    del self._prefix[p]

    def evict(self, before_ts: float) -> int:
        """Drop items (in arrival order) published before ``before_ts``; returns how many."""
        n = 0
        while self._lo < self._hi:
            rec = self._rec[self._lo % self._cap]
            if rec is not None and rec[2] >= before_ts:
                break
            self._drop_oldest()
            n += 1
        if n and self._bands.keys.size > 4 * max(len(self), 1) * self.bands:
            self._bands.merge(self._lo)
        return n

    def nbytes(self) -> int:
        """Approximate size of the numpy parts (for the benchmark)."""
        return int(self._sigs.nbytes + self._sizes.nbytes + self._bands.nbytes())
