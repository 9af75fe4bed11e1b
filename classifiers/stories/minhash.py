"""MinHash signatures and the LSH band table of the near-duplicate index (numpy, no I/O).

See :mod:`classifiers.stories.dedupe` for how they are used.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

__all__ = ["shingle_hashes", "signatures", "BandTable", "MASK32"]

MASK32 = np.uint64(0xFFFFFFFF)
_P1, _P2, _P3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9)
_MIX = np.uint64(0xFF51AFD7ED558CCD)


def shingle_hashes(contents: list[str]) -> tuple[np.ndarray, np.ndarray]:
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


def signatures(contents: list[str], num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """One-permutation MinHash with densification (Shrivastava 2017): each shingle is
    hashed once; its top bits choose one of ``num_perm`` bins and the bin keeps the
    minimum of the low 32 bits. Empty bins borrow from the next non-empty bin. The cost
    is O(shingles), not O(shingles x permutations). Returns (signatures as uint16: the
    low 16 bits of each minimum, set sizes)."""
    h, owner = shingle_hashes(contents)
    k = num_perm
    bits = k.bit_length() - 1
    bins = (h >> np.uint64(64 - bits)).astype(np.int64)
    vals = (h & MASK32).astype(np.uint32)
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
    return sig.astype(np.uint16), sizes


class BandTable:
    """band key (uint32) -> sequence numbers: a sorted main part (numpy) and a dict of
    recent items (value: one sequence number, or a list of them).

    ``cap`` bounds the sequence numbers kept per key (the newest): items sharing a band
    key are near-copies of each other, so a few of them represent the rest. Without it a
    story of n reposts of one post puts n items under the same keys and every new copy
    is compared with all of them (n^2 work and memory in the lookups)."""

    def __init__(self, cap: int | None = None) -> None:
        self.cap = cap
        self.keys = np.empty(0, dtype=np.uint32)
        self.seqs = np.empty(0, dtype=np.int32)  # minus ``base``
        self.base = 0
        self.recent: dict[int, int | list[int]] = {}
        self.recent_items = 0
        self.generation = 0  # bumped when recent entries move into the sorted part

    def add(self, band_keys: Iterable[int], seq: int) -> None:
        recent, cap = self.recent, self.cap
        for k in band_keys:
            v = recent.get(k)
            if v is None:
                recent[k] = seq
            elif v.__class__ is int:
                recent[k] = [v, seq]
            else:
                v.append(seq)
                if cap is not None and len(v) > cap:
                    del v[0]  # the oldest (sequence numbers come in ascending order)
        self.recent_items += 1

    def merge(self, live_from: int) -> None:
        """Move the recent entries into the sorted part; drop entries older than ``live_from``."""
        live = self.seqs >= live_from - self.base
        keys, seqs = self.keys[live], self.seqs[live].astype(np.int64) + self.base
        if self.recent:
            ks: list[int] = []
            ss: list[int] = []
            for k, v in self.recent.items():
                if v.__class__ is int:
                    ks.append(k)
                    ss.append(v)
                else:
                    ks.extend([k] * len(v))
                    ss.extend(v)
            nk = np.array(ks, dtype=np.uint32)
            ns = np.array(ss, dtype=np.int64)
            keep = ns >= live_from
            nk, ns = nk[keep], ns[keep]
            # by key, newest first; inserted before the older entries of the same key, so
            # every run of a key in the sorted part is newest first
            order = np.lexsort((-ns, nk))
            pos = np.searchsorted(keys, nk[order])
            keys = np.insert(keys, pos, nk[order])
            seqs = np.insert(seqs, pos, ns[order])
            if self.cap is not None and keys.size:
                keys, seqs = _first_of_runs(keys, seqs, self.cap)
            self.generation += 1
        self.base = live_from
        self.keys, self.seqs = keys, (seqs - live_from).astype(np.int32)
        self.recent = {}
        self.recent_items = 0

    def compact(self, live_from: int) -> None:
        """Drop dead entries of the sorted part (recent entries stay where they are)."""
        live = self.seqs >= live_from - self.base
        seqs = self.seqs[live].astype(np.int64) + self.base - live_from
        self.keys, self.seqs, self.base = self.keys[live], seqs.astype(np.int32), live_from

    def lookup_sorted(self, q: np.ndarray) -> list[tuple[int, ...]]:
        """Candidates in the sorted part for each row of band keys ``q`` (n x bands)."""
        return [tuple(s for per_band in row for s in per_band) for row in self.lookup_bands(q)]

    def lookup_bands(self, q: np.ndarray) -> list[tuple[tuple[int, ...], ...]]:
        """For each row of band keys ``q`` (n x bands), the sequence numbers of each band's
        key in the sorted part, newest first."""
        n, b = q.shape
        empty = ((),) * b
        out: list[tuple[tuple[int, ...], ...]] = [empty] * n
        if not self.keys.size or not n:
            return out
        flat = q.ravel()
        keys = self.keys
        # searched in sorted order (each search starts where the last ended: 2-3x fewer cache misses)
        order = np.argsort(flat)
        lo = np.empty(flat.size, dtype=np.intp)
        lo[order] = np.searchsorted(keys, flat[order], "left")
        # most band keys are not in the table: search for the end of the run only where the key is there
        nz = np.flatnonzero(keys[np.minimum(lo, keys.size - 1)] == flat)
        if not nz.size:
            return out
        lo = lo[nz]
        reps = np.searchsorted(keys, flat[nz], "right") - lo
        total = int(reps.sum())
        pos = np.repeat(lo - (np.cumsum(reps) - reps), reps) + np.arange(total)
        seqs = (self.seqs[pos].astype(np.int64) + self.base).tolist()
        ends = np.cumsum(reps).tolist()
        rows: dict[int, list] = {}
        start = 0
        for f, end in zip(nz.tolist(), ends):
            row = rows.get(f // b)
            if row is None:
                row = rows[f // b] = [()] * b
            row[f % b] = tuple(seqs[start:end])
            start = end
        for i, row in rows.items():
            out[i] = tuple(row)
        return out

    def largest_bucket(self) -> int:
        """The most sequence numbers kept under one key (sorted and recent parts together)."""
        big = 0
        if self.keys.size:
            starts = np.flatnonzero(np.r_[True, self.keys[1:] != self.keys[:-1]])
            big = int(np.diff(np.r_[starts, self.keys.size]).max())
        for v in self.recent.values():
            if v.__class__ is not int and len(v) > big:
                big = len(v)
        return big

    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.seqs.nbytes)


def _first_of_runs(keys: np.ndarray, seqs: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep the first ``cap`` entries of each run of equal keys (keys sorted)."""
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    lens = np.diff(np.r_[starts, keys.size])
    if int(lens.max()) <= cap:
        return keys, seqs
    rank = np.arange(keys.size) - np.repeat(starts, lens)
    keep = rank < cap
    return keys[keep], seqs[keep]
