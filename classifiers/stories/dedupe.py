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
and no per-shingle Python call. A repost is compared by the text it quotes.

Memory is kept per item in flat numpy rows (a ring indexed by an arrival sequence
number): the signature (64 x uint16: a 16-bit slice of each minimum, equal by chance
once in 65,536), its set size, time, length and content hash. The LSH table is two
sorted numpy arrays (uint32 band key, int32 sequence; merged between batches) plus a
small dict for the items of the last few batches: a Python dict with one entry per
band and item would cost ~150 bytes an entry, 250 MB at 100,000 items. A batch's band
keys are computed and looked up in the sorted table in one vector operation
(:meth:`NearDuplicateIndex.keys`), so matching one item costs a few dict look-ups
unless it has candidates. Items leave in arrival order when they are older than the
window or when ``max_items`` is exceeded.

Work and memory per item stay bounded however big one story grows (50,000 reposts of
one post share their band keys and their opening): a band key keeps its newest
``max_bucket`` items and a prefix key its newest ``NEWEST_PREFIX``, so an item is
compared with at most ``bands x max_bucket`` candidates. A copy of a copy has the same
root (the first item of its group), so matching any of the kept copies gives the same
answer as matching the oldest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, NamedTuple, Sequence

import numpy as np

from classifiers.stories.minhash import MASK32, BandTable, signatures

__all__ = ["DedupeKey", "Match", "NearDuplicateIndex", "clean_for_dedupe", "make_keys"]

MIN_EXACT_CHARS = 6  # shorter content ("哈哈哈", "转发微博") never counts as a duplicate
MIN_SIMILAR_CHARS = 10
MIN_DISTINCT_CHARS = 4  # MinHash below this is too noisy
PREFIX_CHARS = 12  # a prefix copy must share at least this much
HEAD_CHARS = 64  # kept per item to check prefixes exactly; longer shared openings also need the MinHash containment
NEWEST_PREFIX = 64  # items sharing a prefix key that are kept and compared (the newest)
MAX_BUCKET = 32  # items kept under one LSH band key (the newest)

_MARKERS = re.compile(
    # the lookahead (every first character a marker can start with) lets most positions fail at once
    r"(?=[转轉回@\[#hwr\s])(?:"
    r"转发微博|轉發微博|^\s*(?:转发|轉發|repost|rt)\s*[:：]?|回复\s*@[^:：\s]{1,40}\s*[:：]|"
    r"https?://\S+|www\.\S+|\[[^\[\]\s]{1,8}\]|#[^#\n]{1,60}?#|@[^\s:：,，。!！?？@/]{1,30})",
    re.I,
)
_WORD = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CHAIN_HEAD = re.compile(r"^@[^:：]{1,40}:\s*")

_NO_KEY = -1  # hash() of a str is never -1


def clean_for_dedupe(text: str) -> str:
    """Markers, hashtags, emoticons, URLs, mentions and every non-word character removed;
    lower case. ``text`` must already be Simplified (see classifiers.normalize)."""
    t = text.lower()
    # the marker pattern is costly to scan; most texts have none of its first characters
    if "@" in t or "#" in t or "[" in t or "转" in t or "轉" in t or "http" in t or "www." in t \
            or t.lstrip().startswith("r"):
        t = _MARKERS.sub(" ", t)
    return "".join(_WORD.findall(t))


def _few_distinct(s: str) -> bool:
    """Fewer than MIN_DISTINCT_CHARS distinct characters (the opening usually decides)."""
    return len(set(s[:48])) < MIN_DISTINCT_CHARS and len(set(s)) < MIN_DISTINCT_CHARS


class DedupeKey(NamedTuple):  # a named tuple: made for every item, and a tuple is made fastest
    content: str  # cleaned own words + quoted chain
    segments: tuple[str, ...]  # further texts looked up exactly and by prefix (none by default)
    size: int  # number of distinct 3-gram shingles
    signature: np.ndarray | None  # MinHash (uint16), None when content is too short
    bands: tuple[int, ...] = ()  # LSH band keys (set by NearDuplicateIndex.keys)
    hits: tuple[tuple[int, ...], ...] = ()  # per band, the candidates of the sorted band table (newest first)
    generation: int = -1  # the band table's generation those candidates belong to


@dataclass(frozen=True)
class Match:
    item_id: str  # the indexed item that matched
    root_id: str  # the first item of its duplicate group
    kind: str  # exact | repost | prefix | similar
    score: float  # 1.0 for exact/repost/prefix, the Jaccard estimate for similar


def _prepare(own_and_chain: Iterable[tuple[str, Sequence[str]]]) -> list[tuple[str, tuple[str, ...]]]:
    prepared = []
    for own, chain in own_and_chain:
        own_c = clean_for_dedupe(own)
        if chain:
            parts = [clean_for_dedupe(_CHAIN_HEAD.sub("", p)) for p in chain]
            # only the deepest quote is the original: the parts before it are comments
            # ("这是怎么回事", "转发") that many unrelated reposts share. A repost is
            # compared by what it quotes when that is long enough to say anything.
            if len(parts[-1]) >= MIN_EXACT_CHARS and not _few_distinct(parts[-1]):
                content = parts[-1]
            else:
                content = own_c + "".join(parts)
        else:
            content = own_c
        if _few_distinct(content):  # "哈哈哈哈哈哈": nothing to compare
            content = ""
        prepared.append((content, ()))
    return prepared


def make_keys(own_and_chain: Iterable[tuple[str, Sequence[str]]], *, num_perm: int = 64) -> list[DedupeKey]:
    """Dedupe keys of many items. Each item is (own words, chain parts) as given by
    ``classifiers.normalize`` (``NormalizedText.own``, ``.reposts``), Simplified.
    ``num_perm`` must be a power of two."""
    return _make_keys(own_and_chain, num_perm, None)


def _make_keys(own_and_chain, num_perm: int, index: "NearDuplicateIndex | None") -> list[DedupeKey]:
    prepared = _prepare(own_and_chain)
    long_ix = [i for i, (c, _) in enumerate(prepared) if len(c) >= MIN_SIMILAR_CHARS]
    keys = [DedupeKey(c, seg, max(len(c) - 2, 1 if c else 0), None) if len(c) < MIN_SIMILAR_CHARS else None
            for c, seg in prepared]
    if not long_ix:
        return keys
    sigs, sizes = signatures([prepared[i][0] for i in long_ix], num_perm)
    sizes = sizes.tolist()
    if index is None:
        for j, i in enumerate(long_ix):
            c, seg = prepared[i]
            keys[i] = DedupeKey(c, seg, sizes[j], sigs[j])
        return keys
    bandmat = index._band_keys(sigs)
    hits = index._bands.lookup_bands(bandmat)
    gen = index._bands.generation
    for i, size, sig, bl, hit in zip(long_ix, sizes, list(sigs), map(tuple, bandmat.tolist()), hits):
        c, seg = prepared[i]
        keys[i] = DedupeKey(c, seg, size, sig, bl, hit, gen)
    return keys


class NearDuplicateIndex:
    """Near-duplicates among the items of a sliding window.

    ``keys(...)`` makes the keys of a batch; ``match(key)`` finds the best earlier item;
    ``add(...)`` indexes an item; ``evict(before_ts)`` drops items published before
    ``before_ts`` (epoch seconds), in arrival order, and keeps at most ``max_items``.
    """

    def __init__(self, *, num_perm: int = 64, bands: int = 16, jaccard: float = 0.6,
                 containment: float = 0.8, max_items: int = 500_000, seed: int = 7, merge_every: int = 4096,
                 max_bucket: int = MAX_BUCKET):
        if num_perm % bands or num_perm & (num_perm - 1):
            raise ValueError("num_perm must be a power of two and a multiple of bands")
        self.num_perm, self.bands, self.rows = num_perm, bands, num_perm // bands
        self.seed = seed
        self.jaccard, self.containment, self.max_items = jaccard, containment, max_items
        self.merge_every = merge_every
        self._salt = (np.arange(bands, dtype=np.uint64) + np.uint64(1)) * np.uint64(0xD6E8FEB86659FD93)
        rng = np.random.default_rng(seed + 1)
        self._mult = rng.integers(1, 2**63, self.rows, dtype=np.uint64) | np.uint64(1)
        self._cap = 0
        self._alloc(1024)
        self._lo = 0  # oldest live sequence number
        self._hi = 0  # next sequence number
        self._exact: dict[int, int] = {}  # hash of cleaned text -> newest seq
        self._prefix: dict[int, int | list[int]] = {}  # hash of the first chars -> seq(s), oldest first
        self._extra: dict[int, tuple[list[int], list[tuple[int, str, int]]]] = {}  # seq -> segment keys
        self._bands = BandTable(cap=max_bucket)
        self.compared = 0  # signatures compared with a candidate's (a work count, for tests and benchmarks)

    def _alloc(self, cap: int) -> None:
        self._cap = cap
        self._sigs = np.zeros((cap, self.num_perm), dtype=np.uint16)
        self._sizes = np.zeros(cap, dtype=np.int32)
        self._has_sig = np.zeros(cap, dtype=bool)
        self._ts = np.zeros(cap, dtype=np.float64)
        self._lens = np.zeros(cap, dtype=np.int32)  # full length of the content
        self._xh = np.zeros(cap, dtype=np.int64)  # hash of the content (the exact key)
        self._pk = np.full(cap, _NO_KEY, dtype=np.int64)  # hash of its first PREFIX_CHARS
        self._ids: list = [None] * cap
        self._roots: list = [None] * cap
        self._heads: list = [None] * cap  # the first HEAD_CHARS of the content

    def __len__(self) -> int:
        return self._hi - self._lo

    # ---- keys -------------------------------------------------------------
    def keys(self, own_and_chain: Iterable[tuple[str, Sequence[str]]]) -> list[DedupeKey]:
        """Keys of a batch, with their band keys and the candidates of the sorted band
        table found in one vector pass. Make the keys of one batch, then match and add them."""
        if self._bands.recent_items >= self.merge_every:
            self._bands.merge(self._lo)
        return _make_keys(own_and_chain, self.num_perm, self)

    def _band_keys(self, sigs: np.ndarray) -> np.ndarray:
        """uint32 band keys of signatures (n x num_perm) -> (n x bands)."""
        n = sigs.shape[0]
        m = sigs.astype(np.uint64).reshape(n, self.bands, self.rows) * self._mult
        x = np.bitwise_xor.reduce(m, axis=2) ^ self._salt
        return ((x ^ (x >> np.uint64(32))) & MASK32).astype(np.uint32)

    # ---- matching ---------------------------------------------------------
    def match(self, key: DedupeKey) -> Match | None:
        content = key.content
        if len(content) < MIN_EXACT_CHARS:
            return None
        lo = self._lo
        seq = self._exact.get(hash(content))
        if seq is not None and seq >= lo:
            return self._match(seq, "exact", 1.0)
        for seg in key.segments:
            if len(seg) >= MIN_EXACT_CHARS and not _few_distinct(seg):
                seq = self._exact.get(hash(seg))
                if seq is not None and seq >= lo:
                    return self._match(seq, "repost", 1.0)
        if len(content) >= PREFIX_CHARS or key.segments:
            best = self._prefix_match(key)
            if best is not None:
                return best
        sig = key.signature
        if sig is None:
            return None
        cands = self._candidates(key)
        if not cands:
            return None
        cap = self._cap
        self.compared += len(cands)
        rows = np.array([s % cap for s in cands], dtype=np.int64)
        est = np.count_nonzero(self._sigs[rows] == sig, axis=1) / self.num_perm
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

    def exact_match(self, key: DedupeKey) -> bool:
        """Whether :meth:`match` would find an exact copy (its first, cheapest test)."""
        if len(key.content) < MIN_EXACT_CHARS:
            return False
        seq = self._exact.get(hash(key.content))
        return seq is not None and seq >= self._lo

    def _candidates(self, key: DedupeKey) -> list[int]:
        table = self._bands
        if key.bands and key.generation == table.generation:
            bands, hits = key.bands, key.hits
        else:  # a key made before the table last changed (or by make_keys): look it up now
            bm = self._band_keys(key.signature[None, :])
            bands, hits = tuple(bm[0].tolist()), table.lookup_bands(bm)[0]
        # each band key's newest ``max_bucket`` items: those of recent batches (all newer than
        # the sorted part's), then the sorted part's newest. Whatever the batches were, the
        # same candidates: a restart's replay (other batches) finds what the live run found.
        found: set[int] = set()
        recent, cap = table.recent, table.cap
        for k, h in zip(bands, hits):
            v = recent.get(k)
            if v is None:
                if h:
                    found.update(h)
            elif v.__class__ is int:
                found.add(v)
                if h:
                    found.update(h if cap is None else h[:cap - 1])
            else:
                found.update(v)
                if h:
                    found.update(h if cap is None else h[:cap - len(v)])
        if not found:
            return []
        seqs = np.fromiter(found, dtype=np.int64, count=len(found))
        seqs = np.sort(seqs[(seqs >= self._lo) & self._has_sig[seqs % self._cap]])
        return seqs.tolist()

    def _prefix_match(self, key: DedupeKey) -> Match | None:
        texts = (key.content,) + tuple(s for s in key.segments if s != key.content)
        lo, cap = self._lo, self._cap
        for x in texts:
            if len(x) < PREFIX_CHARS:
                continue
            pk = hash(x[:PREFIX_CHARS])
            v = self._prefix.get(pk)
            if v is None:
                continue
            seqs = [v] if v.__class__ is int else v[:-NEWEST_PREFIX - 1:-1]  # the newest, newest first
            rows = [seq % cap for seq in seqs]
            pks = self._pk[rows].tolist()  # one look-up for all: a long list is compared in every call
            heads = self._heads
            for seq, row, rpk in zip(seqs, rows, pks):
                if seq < lo:
                    continue
                if rpk == pk:
                    head, full = heads[row], int(self._lens[row])
                else:
                    head, full = next(((h, n) for p, h, n in self._extra.get(seq, ((), ()))[1] if p == pk),
                                      ("", 0))
                if not (x.startswith(head) if len(x) >= len(head) else head.startswith(x)):
                    continue
                if min(len(x), len(head)) >= min(len(x), full):
                    return self._match(seq, "prefix", 1.0)
                # both longer than the stored head: a long shared prefix plus the MinHash estimate
                if key.signature is not None and self._has_sig[row]:
                    est = float(np.count_nonzero(self._sigs[row] == key.signature)) / self.num_perm
                    a, b = key.size, int(self._sizes[row])
                    if est * (a + b) / ((1.0 + est) * max(min(a, b), 1)) >= 0.5:
                        return self._match(seq, "prefix", 1.0)
        return None

    def _match(self, seq: int, kind: str, score: float) -> Match:
        row = seq % self._cap
        return Match(self._ids[row], self._roots[row], kind, score)

    # ---- indexing ---------------------------------------------------------
    def add(self, item_id: str, root_id: str, key: DedupeKey, ts: float, *, exact_only: bool = False) -> None:
        """Index an item. ``exact_only`` for exact copies: their text is already indexed."""
        content = key.content
        if len(content) < MIN_EXACT_CHARS:
            return
        if self._hi - self._lo >= self._cap:
            self._grow()
        seq = self._hi
        self._hi += 1
        row = seq % self._cap
        h = hash(content)
        self._exact[h] = seq
        self._xh[row] = h
        self._ids[row] = item_id
        self._roots[row] = root_id
        self._ts[row] = ts
        self._lens[row] = len(content)
        pk = _NO_KEY
        head = None
        if not exact_only:
            if len(content) >= PREFIX_CHARS:
                pk = hash(content[:PREFIX_CHARS])
                head = content[:HEAD_CHARS]
                self._post_prefix(pk, seq)
            if key.segments:
                self._add_segments(seq, key)
        self._pk[row] = pk
        self._heads[row] = head
        sig = key.signature
        if sig is not None and not exact_only:
            self._sigs[row] = sig
            self._sizes[row] = key.size
            self._has_sig[row] = True
            bands = key.bands or tuple(self._band_keys(sig[None, :])[0].tolist())
            self._bands.add(bands, seq)
            if self._bands.recent_items >= 4 * self.merge_every:  # keys() was not called for a long time
                self._bands.merge(self._lo)
        else:
            self._has_sig[row] = False
        if self._hi - self._lo > self.max_items:
            self._drop_oldest()

    def _post_prefix(self, pk: int, seq: int) -> None:
        v = self._prefix.get(pk)
        if v is None:
            self._prefix[pk] = seq
        elif v.__class__ is int:
            self._prefix[pk] = [v, seq]
        else:
            v.append(seq)
            if len(v) > NEWEST_PREFIX:  # only the newest are ever compared
                del v[0]

    def _unpost_prefix(self, pk: int, seq: int) -> None:
        v = self._prefix.get(pk)
        if v is None:
            return
        if v.__class__ is int:
            if v == seq:
                del self._prefix[pk]
            return
        if seq in v:
            v.remove(seq)
        if len(v) == 1:
            self._prefix[pk] = v[0]
        elif not v:
            del self._prefix[pk]

    def _add_segments(self, seq: int, key: DedupeKey) -> None:
        exact: list[int] = []
        prefix: list[tuple[int, str, int]] = []
        for s in key.segments:
            if len(s) >= MIN_EXACT_CHARS and not _few_distinct(s):
                h = hash(s)
                self._exact[h] = seq
                exact.append(h)
            if len(s) >= PREFIX_CHARS and s != key.content:
                pk = hash(s[:PREFIX_CHARS])
                self._post_prefix(pk, seq)
                prefix.append((pk, s[:HEAD_CHARS], len(s)))
        self._extra[seq] = (exact, prefix)

    def _grow(self) -> None:
        old = (self._cap, self._sigs, self._sizes, self._has_sig, self._ts, self._lens, self._xh, self._pk,
               self._ids, self._roots, self._heads)
        old_cap = old[0]
        self._alloc(old_cap * 2)
        seqs = np.arange(self._lo, self._hi)
        o, n = seqs % old_cap, seqs % self._cap
        for new, prev in zip((self._sigs, self._sizes, self._has_sig, self._ts, self._lens, self._xh, self._pk),
                             old[1:8]):
            new[n] = prev[o]
        for new, prev in zip((self._ids, self._roots, self._heads), old[8:]):
            for a, b in zip(n.tolist(), o.tolist()):
                new[a] = prev[b]

    def _drop_oldest(self) -> None:
        seq = self._lo
        row = seq % self._cap
        self._lo += 1
        if self._ids[row] is None:
            return
        h = int(self._xh[row])
        if self._exact.get(h) == seq:
            del self._exact[h]
        pk = int(self._pk[row])
        if pk != _NO_KEY:
            self._unpost_prefix(pk, seq)
        extra = self._extra.pop(seq, None) if self._extra else None
        if extra is not None:
            for h in extra[0]:
                if self._exact.get(h) == seq:
                    del self._exact[h]
            for pk, _, _ in extra[1]:
                self._unpost_prefix(pk, seq)
        self._ids[row] = self._roots[row] = self._heads[row] = None
        self._has_sig[row] = False

    def evict(self, before_ts: float) -> int:
        """Drop items (in arrival order) published before ``before_ts``; returns how many."""
        n = 0
        ts, cap = self._ts, self._cap
        while self._lo < self._hi:
            if ts[self._lo % cap] >= before_ts:
                break
            self._drop_oldest()
            n += 1
        if n and self._bands.keys.size > 4 * max(len(self), 1) * self.bands:
            self._bands.compact(self._lo)
        return n

    def largest_bucket(self) -> int:
        """The most items kept under one LSH band key or one prefix key."""
        big = self._bands.largest_bucket()
        for v in self._prefix.values():
            if v.__class__ is not int and len(v) > big:
                big = len(v)
        return big

    def nbytes(self) -> int:
        """Approximate size of the numpy parts (for the benchmark)."""
        return int(self._sigs.nbytes + self._sizes.nbytes + self._ts.nbytes + self._lens.nbytes + self._xh.nbytes
                   + self._pk.nbytes + self._has_sig.nbytes + self._bands.nbytes())
