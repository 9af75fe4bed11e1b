"""StoryEngine: near-duplicates, online clustering, first publisher, heat and burst.

One engine per stream. Items go in (roughly in published order, late ones are fine);
each comes back with its story and the story's state at that moment. Memory is
bounded by the window: items and stories older than ``window`` (stream time, i.e. the
latest published time seen) are dropped, and at most ``max_items`` are kept.

Per item the engine keeps a small record (story, time, arrival number, engagement and
its content words packed 4 bytes a word for the document frequencies); the texts are
not kept. Summaries are cached per story until the story changes or its last-hour
count moves, so asking for the same story again within a batch costs a dict look-up.
"""
from __future__ import annotations

import math
import re
from array import array
from bisect import bisect_right, insort
from collections import OrderedDict, deque
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Sequence

from classifiers.normalize import normalize_many
from classifiers.stories.cluster import Clusterer, _count_elements
from classifiers.stories.dedupe import NearDuplicateIndex
from classifiers.stories.heat import (HOUR, BurstConfig, BurstResult, StreamBaseline, burst_values, explain,
                                      heat_parts, heat_total, own_baseline)
from classifiers.stories.labels import content_words, label_of, top_keywords
from classifiers.stories.titles import TitleCandidates, strip_noise, title_phrase
from classifiers.stories.types import Assignment, EvidenceSnapshot, RankSpan, Story, StoryItem, _rank_of

__all__ = ["StoryEngine"]

_ENGAGEMENT = ("reposts", "comments", "likes")
_CHAIN_MARK = re.compile(r"//\s*@[^:：\s/]{1,40}\s*[:：]|回复\s*@[^:：\s]{1,40}\s*[:：]|https?://\S+")
_RANK_GAP = 2 * HOUR  # a hot-list entry unseen this long has left the list
_MAX_SEGMENT_CHARS = 400  # the opening carries the event; segmentation is the costliest step
_NO_ENGAGEMENT = (0, 0, 0)
_SUMMARY_CACHE = 1024  # summaries kept (the stories touched by the last batches)
_HEAT: dict[tuple, float] = {}  # (size, last hour, sources, engagement, peak rank) -> heat_total(...)


def _ts(dt: datetime) -> float:
    return dt.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def _num(v) -> int:
    if v is None:
        return 0
    if v.__class__ is int:
        return v if v > 0 else 0
    try:
        return max(0, int(float(v)))
    except (TypeError, ValueError):
        return 0


def _iso_ts(v) -> float | None:
    if not v:
        return None
    try:
        d = datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.timestamp()


class _Item:
    __slots__ = ("story", "ts", "words", "dup", "eng", "seq")

    def __init__(self, story, ts, words, dup, eng, seq):
        # words: the content words packed by TermStats.add_packed (None for duplicates)
        self.story, self.ts, self.words, self.dup, self.eng, self.seq = story, ts, words, dup, eng, seq


class _StoryState:
    __slots__ = ("id", "size", "unique", "first", "first_key", "last_ts", "sources", "times", "hours", "eng",
                 "ids", "seqs", "off", "ranks", "peak_rank", "heat", "peak_heat", "hot", "hot_since", "burst",
                 "evidence", "k", "version", "titles", "title0", "tags0")

    def __init__(self, sid: str):
        self.id = sid
        self.size = 0
        self.unique = 0
        self.first: StoryItem | None = None
        self.first_key = (math.inf, 0)
        self.last_ts = -math.inf
        self.sources: dict[str, None] = {}
        self.times: list[float] = []  # published times within the last hour or so (sorted)
        self.hours: dict[int, int] = {}
        self.eng = [0, 0, 0]
        # the items in the window: ids[off:] with their arrival numbers seqs[off:], oldest first
        self.ids: list[str] = []
        self.seqs = array("q")
        self.off = 0
        self.ranks: dict[str, list[list]] | None = None  # source -> [[on, off|None, last_seen, peak], ...]
        self.peak_rank: int | None = None
        self.heat = 0.0
        self.peak_heat = 0.0
        self.hot = False
        self.hot_since: float | None = None
        self.burst: tuple | None = None  # the values of a BurstResult (built when explained)
        self.evidence: tuple[EvidenceSnapshot, ...] = ()
        self.k = 0  # items in the last hour at the last evaluation
        self.version = 0  # bumped by every change but the clock's
        self.titles: TitleCandidates | None = None  # made with the second item (most stories have one)
        self.title0 = ""  # the phrase of the item that started the story
        self.tags0: tuple[str, ...] = ()  # and its hashtags found in its cleaned text


class StoryEngine:
    """Assign items to stories; keep each story's 首发, spread, heat and burst state.

    Parameters: ``window`` of stream time kept; ``max_items`` kept at most;
    ``burst`` the burst-test settings; ``threshold`` / ``min_shared`` the merge rule
    of same-event grouping; ``on_evict`` is called with each story's final summary
    when it leaves the window; ``segment`` cuts text into words (default: the
    process-wide rjieba segmenter of ``classifiers.segment``).
    """

    def __init__(self, *, window: timedelta = timedelta(hours=72), max_items: int = 300_000,
                 burst: BurstConfig | None = None, threshold: float = 0.35, min_shared: int = 2,
                 on_evict: Callable[[Story], None] | None = None,
                 segment: Callable[[str], list[str]] | None = None, story_prefix: str = "s-"):
        self.window = window
        self._window_s = window.total_seconds()
        self.max_items = max_items
        self.cfg = burst or BurstConfig()
        self._long_min = self.cfg.long_min_factor * self.cfg.min_count
        self._young_s = self.cfg.own_history_hours * HOUR  # younger: no history of its own yet
        self.on_evict = on_evict
        self.story_prefix = story_prefix
        self._segment = segment
        self._dedupe = NearDuplicateIndex(max_items=max_items)
        self._cluster = Clusterer(threshold=threshold, min_shared=min_shared)
        self._baseline = StreamBaseline(hours=self.cfg.baseline_hours, quantile=self.cfg.floor_quantile,
                                        min_floor=self.cfg.min_floor)
        self._items: dict[str, _Item] = {}
        self._arrivals: deque[str] = deque()  # item ids in arrival order; the first has seq _arrival0
        self._arrival0 = 1
        self._stories: OrderedDict[str, _StoryState] = OrderedDict()  # least recently active first
        self._summaries: OrderedDict[str, tuple[tuple, Story]] = OrderedDict()
        self._seq = 0
        self._now = -math.inf
        self._last_evict = -math.inf

    # ---- public API -------------------------------------------------------
    @property
    def now(self) -> datetime | None:
        """Stream time: the latest published time seen."""
        return _dt(self._now) if self._now > -math.inf else None

    def add(self, item: StoryItem) -> Assignment:
        return self.add_many([item])[0]

    def add_many(self, items: Iterable[StoryItem],
                 known: Sequence[tuple[str, str | None] | None] | None = None) -> list[Assignment]:
        """Add items; ``known`` (for a replay after a restart, parallel to ``items``) is the
        (story id, duplicate of) each item was given when it was first added, None where
        unknown. Where that story is in the window (or is the one the item starts), the item
        goes there without being matched or scored against the stories: the assignment the
        live run made, at a fraction of the work (a viral story's copies are most of a
        window). An item whose story is gone is matched afresh, as without ``known``. An
        item known as a copy needs no ``words`` (should its story be gone after all, it is
        segmented here)."""
        items = list(items)
        given = dict(zip((it.id for it in items), known)) if known is not None else None
        fresh = [it for it in items if it.id not in self._items]
        texts = [_full_text(it) for it in fresh]
        norms = dict(zip((it.id for it in fresh), normalize_many(texts))) if fresh else {}
        keys = dict(zip(norms, self._dedupe.keys((n.own, n.reposts) for n in norms.values())))
        out = []
        for it in items:
            if it.id in self._items:
                out.append(self._update(it))
            elif it.id in norms:
                out.append(self._add_new(it, norms.pop(it.id), keys.pop(it.id),
                                         given.get(it.id) if given is not None else None))
            else:  # the same id twice in one batch
                out.append(self._update(it))
        return out

    def story(self, story_id: str) -> Story:
        st = self._stories.get(story_id)
        if st is None:
            raise KeyError(f"no story {story_id!r} in the window")
        self._evaluate(st)
        return self._cached_summary(st)

    def stories(self) -> list[Story]:
        """Every story in the window, hottest first."""
        out = []
        for st in self._stories.values():
            self._evaluate(st)
            out.append(self._cached_summary(st))
        out.sort(key=lambda s: (-s.heat, s.id))
        return out

    def explain_heat(self, story_id: str) -> list[str]:
        st = self._stories.get(story_id)
        if st is None:
            raise KeyError(f"no story {story_id!r} in the window")
        self._evaluate(st)
        k = self._last_hour(st)
        eng = sum(st.eng)
        parts = heat_parts(size=st.size, last_hour=k, sources=len(st.sources), engagement=eng, peak_rank=st.peak_rank)
        return explain(parts, size=st.size, last_hour=k, sources=len(st.sources), engagement=eng,
                       peak_rank=st.peak_rank, burst=BurstResult(*st.burst) if st.burst else None,
                       hot_since=_dt(st.hot_since).isoformat() if st.hot_since is not None else None)

    def evict(self, now: datetime) -> int:
        """Drop items and stories older than the window before ``now``; returns items dropped."""
        return self._evict(_ts(now))

    def has_story(self, story_id: str) -> bool:
        """Whether the story is still in the window (cheap: no summary is built)."""
        return story_id in self._stories

    def __len__(self) -> int:
        return len(self._items)

    def work_counts(self) -> dict[str, int]:
        """What matching costs, for tests and benchmarks: ``compared`` signatures compared
        with candidates so far, ``largest_bucket`` the most items kept under one LSH band or
        prefix key (bounded, however big a story grows)."""
        return {"compared": self._dedupe.compared, "largest_bucket": self._dedupe.largest_bucket()}

    # ---- adding -----------------------------------------------------------
    def _add_new(self, it: StoryItem, norm, key, known: tuple[str, str | None] | None = None) -> Assignment:
        ts = _ts(it.published)
        if ts > self._now:
            self._now = ts
        self._seq += 1
        seq = self._seq
        sid = None
        dup = None
        words: tuple[str, ...] = ()
        if known is not None and (known[0] in self._stories or known[0] == self.story_prefix + it.id):
            match = None
            dup = known[1]
            exact = dup is not None and self._dedupe.exact_match(key)  # indexed as it was live
            if dup is not None and known[0] in self._stories:  # a copy: where the live run put it
                sid = known[0]
        else:
            known = None
            match = self._dedupe.match(key)
            exact = match is not None and match.kind == "exact"
            if match is not None:
                rec = self._items.get(match.item_id)
                if rec is not None and rec.story in self._stories:
                    sid = rec.story
                    dup = match.root_id
        packed = None
        if sid is None:
            if it.words is not None:
                words = content_words(it.words, max_chars=_MAX_SEGMENT_CHARS)
            else:
                words = content_words(self._cut(norm.text))
            tf: dict[str, int] = {}
            _count_elements(tf, words)  # Counter(words) without its Python-level wrapper
            vec = self._cluster.vector_tf(tf, norm.hashtags)
            if known is not None:  # the story the live run chose (or started) for it
                sid = known[0] if known[0] in self._stories else None
            else:
                sid, _, _ = self._cluster.best(vec, ts)
            if match is not None:
                dup = match.root_id
            new = sid is None
            if new:
                sid = self.story_prefix + it.id
                self._stories[sid] = _StoryState(sid)
            self._cluster.update(sid, vec, ts)
            if tf:
                packed = self._cluster.terms.add_words(words)
        else:
            new = False
        self._dedupe.add(it.id, dup or it.id, key, ts, exact_only=exact)
        st = self._stories[sid]
        self._stories.move_to_end(sid)
        eng = _engagement(it.metrics) if it.metrics else _NO_ENGAGEMENT
        self._items[it.id] = _Item(sid, ts, packed, dup, eng, seq)
        self._arrivals.append(it.id)
        st.ids.append(it.id)
        st.seqs.append(seq)
        st.version += 1
        st.size += 1
        if new:
            st.title0, st.tags0 = title_phrase(norm)
        elif st.titles is None:
            st.titles = TitleCandidates()
            st.titles.seed(st.ids[0] if st.off == 0 else "", st.title0, st.tags0)
            st.titles.add(it.id, norm, dup, seq)
        else:
            st.titles.add(it.id, norm, dup, seq)
        if dup is None:
            st.unique += 1
        if (ts, seq) < st.first_key:
            st.first_key = (ts, seq)
            # the 首发 is kept for the summary and evidence; not its words (the pipeline's tokens)
            st.first = it if it.words is None else _without_words(it)
        if ts > st.last_ts:
            st.last_ts = ts
        st.sources.setdefault(it.source or "", None)
        if eng is not _NO_ENGAGEMENT:
            for i in range(3):
                st.eng[i] += eng[i]
        insort(st.times, ts)
        h = int(ts // HOUR)
        st.hours[h] = n = st.hours.get(h, 0) + 1
        self._baseline.add(ts, n, not st.hot and ts - st.first_key[0] < self._young_s)
        if it.metrics:
            self._observe_rank(st, it, ts)
        self._evaluate(st, trigger=it)
        a = Assignment(it.id, sid, dup, st.hot, st.heat, new)
        if seq % 512 == 0 or self._now - self._last_evict > 600 or len(self._items) > self.max_items:
            self._evict(self._now)
        return a

    def _update(self, it: StoryItem) -> Assignment:
        """The same item seen again (a hot list polled again): refresh metrics and rank."""
        rec = self._items[it.id]
        st = self._stories.get(rec.story)
        if st is None:  # pragma: no cover - item records and stories leave together
            raise KeyError(it.id)
        eng = _engagement(it.metrics) if it.metrics else rec.eng
        for i in range(3):
            st.eng[i] += eng[i] - rec.eng[i]
        rec.eng = eng
        st.version += 1
        self._observe_rank(st, it, max(self._now, _ts(it.published)))
        self._evaluate(st)
        return Assignment(it.id, st.id, rec.dup, st.hot, st.heat, False)

    def _cut(self, text: str) -> list[str]:
        if self._segment is None:
            from classifiers.segment import default_segmenter

            self._segment = default_segmenter().cut
        text = _CHAIN_MARK.sub(" ", text).replace("#", " ")
        return self._segment(text[:_MAX_SEGMENT_CHARS])

    def _observe_rank(self, st: _StoryState, it: StoryItem, seen: float) -> None:
        rank = _rank_of(it.metrics)
        if rank is None:
            return
        on = _iso_ts(it.metrics.get("on_list_at")) or seen
        off = _iso_ts(it.metrics.get("off_list_at"))
        if st.ranks is None:
            st.ranks = {}
        spans = st.ranks.setdefault(it.source or "", [])
        cur = spans[-1] if spans else None
        if cur is not None and cur[1] is None and seen - cur[2] > _RANK_GAP:
            cur[1] = cur[2]  # unseen too long: it had left the list
        if cur is None or cur[1] is not None:
            cur = [on, None, seen, rank]
            spans.append(cur)
            del spans[:-50]
        cur[2] = max(cur[2], seen)
        cur[3] = min(cur[3], rank)
        if off is not None:
            cur[1] = off
        st.peak_rank = rank if st.peak_rank is None else min(st.peak_rank, rank)

    # ---- heat and burst ---------------------------------------------------
    def _last_hour(self, st: _StoryState) -> int:
        cut = self._now - HOUR
        times = st.times
        keep = self._now - self.cfg.long_hours * HOUR
        if times and times[0] <= keep - HOUR:
            del times[: bisect_right(times, keep)]
        return len(times) - bisect_right(times, cut)

    def _last_long(self, st: _StoryState) -> int:
        times = st.times
        return len(times) - bisect_right(times, self._now - self.cfg.long_hours * HOUR)

    def _evaluate(self, st: _StoryState, trigger: StoryItem | None = None) -> None:
        now = self._now
        k = self._last_hour(st)
        floor = self._baseline.floor(now)
        own = 0.0
        before_end = now - HOUR
        first_ts = st.first_key[0]
        if before_end - first_ts >= self.cfg.own_history_hours * HOUR:
            story_before = st.size - k
            stream_before = self._baseline.count_between(first_ts, before_end)
            if stream_before > 0:
                others = self._baseline.count_since(before_end) - k
                own = own_baseline(story_before, stream_before, k, others)
        was_hot = st.hot
        # the longer count decides only from long_min_factor x min_count items on: fewer are kept, skip it
        count_long = self._last_long(st) if len(st.times) >= self._long_min else None
        st.burst = burst_values(self.cfg, k, floor, own, was_hot, count_long)
        st.hot = st.burst[0]
        if st.hot and st.hot_since is None:
            st.hot_since = now
            snaps = [EvidenceSnapshot.of(st.first)] if st.first is not None else []
            if trigger is not None and trigger is not st.first:
                snaps.append(EvidenceSnapshot.of(trigger))
            st.evidence = tuple(snaps)
        st.k = k
        hk = (st.size, k, len(st.sources), sum(st.eng), st.peak_rank)
        heat = _HEAT.get(hk)
        if heat is None:  # most stories are small: their heat is one of a few values
            if len(_HEAT) >= 65_536:
                _HEAT.clear()
            heat = _HEAT[hk] = heat_total(*hk)
        st.heat = heat
        if st.heat > st.peak_heat:
            st.peak_heat = st.heat

    # ---- eviction ---------------------------------------------------------
    def _evict(self, now: float) -> int:
        self._last_evict = now
        cut = now - self._window_s
        n = 0
        items, arrivals = self._items, self._arrivals
        old_h = int(cut // HOUR)
        while arrivals:
            iid = arrivals[0]
            seq = self._arrival0
            rec = items.get(iid)
            if rec is not None and rec.seq == seq and rec.ts >= cut and len(items) <= self.max_items:
                break
            arrivals.popleft()
            self._arrival0 += 1
            if rec is None or rec.seq != seq:
                continue
            del items[iid]
            n += 1
            if rec.words:
                self._cluster.terms.remove_packed(rec.words)
            st = self._stories.get(rec.story)
            if st is not None:
                seqs, off = st.seqs, st.off
                while off < len(seqs) and seqs[off] <= seq:
                    off += 1
                if off >= 32 and off * 2 >= len(seqs):
                    del st.ids[:off]
                    del seqs[:off]
                    off = 0
                st.off = off
                st.version += 1
                if st.hours and min(st.hours) < old_h:
                    for h in [h for h in st.hours if h < old_h]:
                        del st.hours[h]
        stories = self._stories
        while stories:
            sid, st = next(iter(stories.items()))
            if st.last_ts >= cut and st.off < len(st.ids):
                break
            del stories[sid]
            self._summaries.pop(sid, None)
            self._cluster.remove(sid)
            if self.on_evict is not None:
                self._evaluate(st)
                self.on_evict(self._summary(st))
        self._dedupe.evict(cut)
        self._baseline.trim(now)
        return n

    # ---- summaries --------------------------------------------------------
    def _cached_summary(self, st: _StoryState) -> Story:
        """The summary of an evaluated story, rebuilt only when the story changed."""
        key = (st.version, st.k, st.heat, st.peak_heat, st.hot, st.hot_since)
        cache = self._summaries
        hit = cache.get(st.id)
        if hit is not None and hit[0] == key:
            cache.move_to_end(st.id)
            return hit[1]
        story = self._summary(st)
        cache[st.id] = (key, story)
        cache.move_to_end(st.id)
        if len(cache) > _SUMMARY_CACHE:
            cache.popitem(last=False)
        return story

    @staticmethod
    def _title(st: _StoryState, kw: tuple[str, ...]) -> str:
        if st.titles is not None:
            return st.titles.title(kw)
        return st.title0

    def _summary(self, st: _StoryState) -> Story:
        kw = top_keywords(self._cluster.weights_view(st.id)) or _fallback_keywords(st.first)
        first = st.first
        spans = tuple(
            RankSpan(src, _dt(s[0]), _dt(s[1]) if s[1] is not None else None, _dt(s[2]), int(s[3]))
            for src, lst in st.ranks.items() for s in lst
        ) if st.ranks else ()
        per_hour = float(st.k)  # evaluated just before
        return Story(
            id=st.id, label=self._title(st, kw) or label_of(kw), keywords=kw, size=st.size, unique_size=st.unique,
            first_id=first.id, first_source=first.source, first_published=first.published.astimezone(timezone.utc),
            last_published=_dt(st.last_ts), sources=tuple(st.sources), items_per_hour=per_hour,
            engagement=dict(zip(_ENGAGEMENT, st.eng)), rank_history=spans, peak_rank=st.peak_rank,
            heat=st.heat, peak_heat=st.peak_heat, hot=st.hot,
            hot_since=_dt(st.hot_since) if st.hot_since is not None else None,
            item_ids=tuple(st.ids[st.off:]) if st.off else tuple(st.ids), evidence=st.evidence,
        )


def _engagement(metrics) -> tuple[int, int, int]:
    eng = (_num(metrics.get("reposts")), _num(metrics.get("comments")), _num(metrics.get("likes")))
    return _NO_ENGAGEMENT if eng == _NO_ENGAGEMENT else eng


def _full_text(it: StoryItem) -> str:
    title, text = (it.title or "").strip(), (it.text or "").strip()
    if not title or text.startswith(title[: max(8, len(title) // 2)]):
        return text or title
    if not text:
        return title
    return f"{title}\n{text}"


def _without_words(it: StoryItem) -> StoryItem:
    """The item without its words (``dataclasses.replace`` costs ten times more)."""
    return StoryItem(it.id, it.title, it.text, it.published, it.source, it.metrics, it.url)


def _fallback_keywords(first: StoryItem | None) -> tuple[str, ...]:
    if first is None:
        return ()
    t = strip_noise(_CHAIN_MARK.sub(" ", _full_text(first))).replace("\n", " ")
    return (t[:16],) if t else ()
