"""The pipeline's stages after intake: understand → stories → incidents → releases → notices, and the clock.

Everything here runs in one pipeline thread with its own database connection. A batch's
incidents (opened or joined), releases, analysis, search index, stories, watermark and
notices are written in one transaction, so a crash repeats the batch with nothing of it
written. After a restart the story engine is rebuilt by replaying the stored analysis of
the window in item order: story ids are derived from item ids, so they come out the same.
On a shared server the same rebuild happens whenever the committed watermark is not the one
this process's window reflects (another process wrote batches: a takeover), and a batch
commits only on top of the watermark it was computed from. Classification may be done ahead
by other processes (:meth:`DeskPipeline.understand_ahead`); the batch takes their results.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from classifiers.normalize import to_simplified
from monitor import store as monitor_store
from monitor.types import StoredItem
from pipeline import notices as notice
from pipeline import outbox, store
from pipeline.errors import WatermarkMoved
from pipeline.matching import IncidentMatcher
from pipeline.notices import Notice
from pipeline.titles import IncidentTitles
from pipeline.triggers import StoryFacts, TriggerConfig, trigger_reason
from responders.types import IncidentCandidate
from storage.db import transaction
from storage.timeutil import from_db

log = logging.getLogger("yuqing.pipeline")

STAGE = "understand"
BATCH = 256
REPLAY_CHUNK = 1024  # items fed to the story engine at a time when rebuilding after a restart
WORK_CHUNK = 64  # items an understanding worker claims at a time
JOIN_EVIDENCE = 3  # evidence snapshots added per batch when a story joins an incident again


@dataclass
class _Batch:
    after: int  # the watermark the batch was computed from: it commits only on top of it
    items: list[StoredItem]
    specs: list[dict]
    now: datetime
    title_tokens: list
    text_tokens: list
    rows: list = field(default_factory=list)  # store.ItemAnalysis per item
    touched: dict[str, list[int]] = field(default_factory=dict)  # story id -> new item ids
    evidence: dict[str, list[dict]] = field(default_factory=dict)  # story id -> evidence snapshots


@dataclass
class PipelineState:
    facts: dict[str, StoryFacts] = field(default_factory=dict)
    own_items: set[str] = field(default_factory=set)  # items of own-channel sources: releases, not reports


class DeskPipeline:
    """The pipeline on the desk database ``db`` (a ``sqlite_utils.Database`` it owns from now on),
    understanding items with ``classifier`` (``classifiers.pipeline.Classifier``) and handing
    candidates to ``incidents`` (``responders.incidents.IncidentService`` on the same database).
    Build it, call :meth:`open` and every other method in the one thread that runs it."""

    def __init__(self, db, *, clock: Callable[[], datetime], classifier, incidents,
                 triggers: TriggerConfig | None = None, auto_confirm_releases: bool = False):
        self.db = db
        self.classifier = classifier
        self.svc = incidents
        self.clock = clock
        self.triggers = triggers or TriggerConfig()
        self.auto_confirm_releases = auto_confirm_releases
        # Called inside each write transaction before anything is written; raises to refuse the
        # write (pipeline.leader.Leadership.check: only the leader writes on a shared server).
        self.guard: Callable[[Any], None] | None = None
        self.sources: dict[str, dict] = {}
        self._forget()

    def _forget(self) -> None:
        """Drop every piece of state kept in memory (the window is rebuilt from the database)."""
        self.state = PipelineState()
        self.matcher = IncidentMatcher(self.svc, getattr(getattr(self.classifier, "matcher", None), "gazetteer", None))
        self.titles = IncidentTitles()
        self.engine = None
        self.window_at = 0  # the watermark what is in memory reflects (stories, facts)
        self.last_batch = 0  # items the last step processed (0: caught up)
        self._pending: _Batch | None = None  # understood but not yet written (a failed write is retried)
        self._sent_now: list[str] = []  # stories handed to the incident service in this write

    # -- setup (in the pipeline thread) -----------------------------------
    def open(self) -> None:
        """Start the story engine and rebuild the window's stories from what is stored (again:
        what was kept in memory is dropped first)."""
        from classifiers.stories.engine import StoryEngine

        self._forget()
        self.engine = StoryEngine(window=timedelta(hours=self.triggers.story_window_hours),
                                  segment=self.classifier.segmenter.cut if self.classifier.segmenter else None)
        self._replay()

    def close(self) -> None:
        if self.db is not None:
            self.db.conn.close()
            self.db = None

    def _load_sources(self) -> None:
        self.sources = monitor_store.source_specs(self.db)

    def _replay(self) -> None:
        """Rebuild stories and their facts from what is stored (after a restart)."""
        from classifiers.stories.types import StoryItem

        last = self.window_at = store.watermark(self.db.conn, STAGE)
        if not last:
            return
        since = self.clock() - timedelta(hours=self.triggers.story_window_hours)
        linked = self.svc.linked_story_ids()
        self._load_sources()
        replayed = 0
        memo: dict[str, list] = {}
        for chunk in store.replay_rows(self.db.conn, last, since, REPLAY_CHUNK):
            replayed += len(chunk)
            # Each item goes where the live run put it (the engine checks the story is still
            # there), so copies are neither matched again nor segmented: they need no words.
            known = [(r["story_id"], None if r["duplicate_of"] is None else str(r["duplicate_of"]))
                     if r["story_id"] else None for r in chunk]
            own = [self.engine.story_prefix + str(r["id"]) for r in chunk]  # the story an item would start
            starts = set(own)
            need = [k is None or k[1] is None or k[0] == o or not (k[0] in starts or self.engine.has_story(k[0]))
                    for k, o in zip(known, own)]
            # The same words the live pipeline gave the engine, so the stories come out the same.
            cut = [r for r, n in zip(chunk, need) if n]
            title_tokens, text_tokens = self._segment([r["title"] for r in cut], [r["text"] for r in cut])
            words = iter([tuple(tt) + tuple(xt) for tt, xt in zip(title_tokens, text_tokens)])
            now = self.clock()
            published = [_engine_time(from_db(r["published"]) or from_db(r["fetched_at"]), now) for r in chunk]
            shown = self._sighted([r["id"] for r in chunk])
            self.engine.add_many([
                StoryItem(str(r["id"]), *shown.get(r["id"], (r["title"], r["text"])), pub, r["source_id"],
                          json.loads(r["metrics"] or "{}"), r["url"], words=next(words) if n else None)
                for r, pub, n in zip(chunk, published, need)], known)
            for r, pub in zip(chunk, published):
                if self.sources.get(r["source_id"], {}).get("own_channel"):
                    self.state.own_items.add(str(r["id"]))
                    continue
                if not r["story_id"]:
                    continue
                facts = self.state.facts.setdefault(r["story_id"], StoryFacts())
                facts.add(store.decode_lists(r, memo))
                if facts.wants_text:
                    facts.remember(to_simplified(r["title"]), to_simplified(r["text"][:300]), pub)
                else:
                    facts.seen(pub)
                facts.hot = facts.hot or bool(r["hot"])
                facts.candidate_sent = r["story_id"] in linked
        log.info("pipeline resumed after item %d: %d items of the window replayed", last, replayed)

    # -- one batch --------------------------------------------------------
    def step(self) -> list[Notice]:
        """Process the next batch of stored items; return what people should hear about."""
        last = store.watermark(self.db.conn, STAGE)
        if last != self.window_at:
            # Another process committed batches since this one's window was built (a leader that
            # has since died, or one that took over meanwhile): rebuild it from the database.
            log.warning("pipeline watermark at item %d, this process's window at %d: rebuilding it",
                        last, self.window_at)
            self.open()
            last = self.window_at
        items = monitor_store.items_after(self.db, last, BATCH)
        self.last_batch = len(items)
        if not items:
            return []
        self._load_sources()
        batch = self._pending
        if batch is not None and batch.items[0].id == items[0].id:
            items = batch.items  # a retry: the story engine has seen these items already
        else:
            batch = self._prepare(last, items)
        self._pending = batch
        self._sent_now = []
        try:
            notices = self._write(batch)
        except WatermarkMoved as exc:
            # Another process committed batches since this one read the window: what is in memory
            # is stale. Nothing of this batch was written; rebuild from the database and go on.
            log.warning("%s: rebuilding the story window from the database", exc)
            self.open()
            return []
        except BaseException:
            # Nothing of the batch was committed: stories marked as handed over in it are not.
            for sid in self._sent_now:
                if sid in self.state.facts:
                    self.state.facts[sid].candidate_sent = False
            raise
        self._pending = None
        self.window_at = batch.items[-1].id
        return notices

    def _prepare(self, after: int, items: list[StoredItem]) -> "_Batch":
        """Understand a batch and feed it to the story engine (memory only, done once per batch)."""
        from classifiers.stories.types import StoryItem, content_hash

        now = self.clock()
        specs = [self.sources.get(it.source_id, {}) for it in items]
        done = store.understood(self.db.conn, [it.id for it in items])  # by understanding workers
        todo = [(it, spec) for it, spec in zip(items, specs) if it.id not in done]
        done.update(zip([it.id for it, _ in todo], self._understand(todo)))
        understood = [done[it.id] for it in items]
        title_tokens = [u["title_tokens"] for u in understood]
        text_tokens = [u["text_tokens"] for u in understood]
        published = [_engine_time(it.published or it.fetched_at, now) for it in items]
        shown = self._sighted([it.id for it in items])
        story_items = [StoryItem(str(it.id), *shown.get(it.id, (it.title, it.text)), pub, it.source_id,
                                 dict(it.metrics), it.url, words=tuple(tt) + tuple(xt))
                       for it, pub, tt, xt in zip(items, published, title_tokens, text_tokens)]
        assignments = self.engine.add_many(story_items)
        batch = _Batch(after, items, specs, now, title_tokens, text_tokens)
        for it, pub, spec, u, a in zip(items, published, specs, understood, assignments):
            row = store.analysis_from(it.id, u, a, now)
            batch.rows.append(row)
            if spec.get("own_channel"):  # the district's own releases answer incidents; they are not reports
                self.state.own_items.add(str(it.id))
                continue
            facts = self.state.facts.setdefault(a.story_id, StoryFacts())
            facts.add(store.facts_dict(row))
            if facts.wants_text:
                facts.remember(to_simplified(it.title), to_simplified(it.text[:300]), pub)
            else:
                facts.seen(pub)
            facts.hot = facts.hot or a.hot
            batch.touched.setdefault(a.story_id, []).append(it.id)
            batch.evidence.setdefault(a.story_id, []).append({
                "item_id": str(it.id), "title": it.title, "text": it.text[:4000], "url": it.url,
                "published": pub.isoformat(), "source": spec.get("name", it.source_id),
                "rank": (it.metrics or {}).get("rank"), "content_hash": content_hash(it.title, it.text)})
        return batch

    def _understand(self, pairs: list[tuple[StoredItem, dict]]) -> list[dict]:
        """Classify items (each with its source's spec) and cut their words: what
        :func:`store.understood_of` keeps, the same whether the leader or a worker does it."""
        if not pairs:
            return []
        items = [it for it, _ in pairs]
        results = self.classifier.classify_many([(it.title, it.text, bool(spec.get("local"))) for it, spec in pairs])
        if self.classifier.segmenter is not None:  # the words classification already cut
            title_tokens = [c.title_tokens for c in results]
            text_tokens = [c.text_tokens for c in results]
        else:
            title_tokens, text_tokens = self._segment([it.title for it in items], [it.text for it in items])
        return [store.understood_of(c, tt, xt) for c, tt, xt in zip(results, title_tokens, text_tokens)]

    # -- understanding ahead of the leader (a standby on a shared server) ---------------------------
    def understand_ahead(self, worker: str, limit: int = WORK_CHUNK) -> int:
        """Claim up to ``limit`` items beyond the leader's next batch, classify them and store what
        was understood for the leader to take; how many were claimed (0: nothing to do)."""
        with transaction(self.db) as conn:  # claims are read and written under the writer lock
            ids = store.claim_understanding(conn, worker, self.clock(), after=store.watermark(conn, STAGE),
                                            skip=BATCH, limit=limit)
        if not ids:
            return 0
        self._load_sources()
        items = monitor_store.get_items(self.db, ids)
        results = self._understand([(it, self.sources.get(it.source_id, {})) for it in items])
        with transaction(self.db, desk_lock=False) as conn:  # its own rows only: no need to queue behind batches
            store.save_understood(conn, worker, [(it.id, u) for it, u in zip(items, results)], self.clock())
        return len(ids)

    def _sighted(self, ids: list[int]) -> dict[int, tuple[str, str]]:
        """Item id -> (title, text) of the item it is a sighting of (another source's item with the same
        link): the story engine sees the sighting as a copy of it, so it joins its story and counts
        towards its heat, sources and 首发."""
        of = monitor_store.sighting_of(self.db, ids)
        if not of:
            return {}
        firsts = {it.id: (it.title, it.text) for it in monitor_store.get_items(self.db, sorted(set(of.values())))}
        return {sid: firsts[fid] for sid, fid in of.items() if fid in firsts}

    def _segment(self, titles: list[str], texts: list[str]) -> tuple[list, list]:
        """Segmented normalised Simplified titles and texts (search finds Traditional items and
        stories group them): the same words classification gives the live pipeline, so the
        replay after a restart feeds the story engine what it saw live."""
        if self.classifier.segmenter is not None:
            return self.classifier.segment_many(titles, texts)
        from classifiers.normalize import to_simplified_many

        simple = to_simplified_many(list(titles) + list(texts))
        return [[t] for t in simple[:len(titles)]], [[t] for t in simple[len(titles):]]

    def _write(self, batch: "_Batch") -> list[Notice]:
        # One transaction for the whole batch: incidents, releases, analysis and the watermark
        # commit together, so a crash repeats the batch with nothing of it written.
        now, items = batch.now, batch.items
        with transaction(self.db) as conn, self.svc.batch_cache():  # we hold the write lock: cache per batch
            self._check(conn)
            notices = self._incidents(batch.touched, batch.evidence, now)
            notices += self._releases(items, batch.specs)
            store.save_analyses(conn, batch.rows)
            store.index_many(conn, [(it.id, tt, xt) for it, tt, xt in
                                    zip(items, batch.title_tokens, batch.text_tokens)])
            store.save_stories(conn, [store.story_dict(story) for story in map(self._story, batch.touched)
                                      if story is not None], now)
            store.advance_watermark(conn, STAGE, batch.after, items[-1].id)  # WatermarkMoved: nothing commits
            store.clear_understood(conn, items[-1].id)
            outbox.put(conn, notices, now)
        return notices

    def _incidents(self, touched: dict[str, list[int]], evidence: dict[str, list[dict]], now) -> list[Notice]:
        notices: list[Notice] = []
        self.matcher.new_batch(touched, self.state.facts)
        quiet = []
        for sid, new_ids in touched.items():
            facts = self.state.facts[sid]
            reason = trigger_reason(facts, self.triggers)
            if reason is None and facts.candidate_sent:
                reason = "已并入事件的报道簇出现新条目"
            if reason is None:
                quiet.append(sid)
                continue
            if self._story(sid) is None:
                continue
            same_event = None
            if not facts.candidate_sent:  # a new story telling the same event as an open incident of its town joins it
                match = self.matcher.similar(sid, facts)
                if match is not None:
                    same_event, why = match
                    reason = f"{reason}；{why}"
            notices += self._candidate(sid, new_ids, evidence.get(sid, []), reason, now, same_event=same_event)
        # Quiet stories (no risk word yet, not hot) join an open incident of the same town when
        # they tell the same event (content close once place names are set aside); when an
        # incident has just opened, earlier quiet stories are checked too, so the clock starts
        # from the true first publication.
        opened = any(n.kind == "incident_opened" for n in notices)
        live = self.engine.has_story
        if len(self.state.facts) > 2 * max(len(self.engine), 1000) or opened:
            for sid in [s for s in self.state.facts if not live(s)]:
                del self.state.facts[sid]  # left the window
        pool = [s for s, f in self.state.facts.items() if not f.candidate_sent] if opened else quiet
        pool = [s for s in pool if self.state.facts[s].involves_district and live(s)]
        # Quiet stories seen before only need checking against the incidents opened now.
        fresh = {n.incident_id for n in notices if n.kind == "incident_opened"} if opened else None
        for sid in pool:
            match = self.matcher.similar(sid, self.state.facts[sid], only=fresh if sid not in touched else None)
            if match is not None:  # normally a join; should it open one after all, it is announced
                notices += self._candidate(sid, touched.get(sid, []), evidence.get(sid, []), match[1], now,
                                           same_event=match[0], all_items=True)
        return notices

    def _story(self, sid: str):
        """The story's summary, or None when it already left the window (an old item arriving late)."""
        try:
            return self.engine.story(sid)
        except KeyError:
            return None

    def _candidate(self, sid: str, new_ids: list[int], batch_evidence: list[dict], reason: str, now, *,
                   same_event=None, all_items: bool = False, story=None) -> list[Notice]:
        """Hand one story to the incident service (open or join); return the notice of an opening.
        ``same_event``: the open incident the story was found to tell the same event as."""
        facts = self.state.facts[sid]
        story = story or self.engine.story(sid)
        own = self.state.own_items
        if facts.candidate_sent and not all_items:
            item_ids = tuple(str(i) for i in new_ids if str(i) not in own)
            # Later items are linked; only a few become frozen evidence (the report's 附件 stays readable).
            ev = [e for e in batch_evidence if e["item_id"] not in own][:JOIN_EVIDENCE]
        else:  # first time: the whole story so far, 首发 included
            item_ids = tuple(i for i in story.item_ids if i not in own)
            ev = [e.to_json() | {"source": story.first_source if e.item_id == story.first_id else ""}
                  for e in story.evidence if e.item_id not in own] or list(batch_evidence)
        if not item_ids:
            return []
        first_published = min(p for p in (story.first_published, facts.first_published) if p is not None)
        cand = IncidentCandidate(
            first_published_basis=self._first_basis(story, first_published),
            story_id=sid, title=self.titles.title(story, ev, batch_evidence), first_published=first_published,
            detected_at=now, places=tuple(facts.places.values()), departments=tuple(facts.departments),
            responsible_units=tuple(facts.units), topic=facts.topic, severity=facts.severity,
            severity_reasons=tuple(facts.severity_reasons), item_ids=item_ids, evidence=tuple(ev),
            trigger=reason, same_event_as=same_event.id if same_event is not None else None)
        joined = self.svc.open_or_join(cand)
        iid, incident = joined.incident_id, joined.opened
        first_time = not facts.candidate_sent
        if first_time:
            facts.candidate_sent = True
            self._sent_now.append(sid)
        if incident is None:  # joined
            if not first_time:
                return []
            return notice.story_joined(iid, sid, cand, facts, same_event.topic if same_event is not None else cand.topic)
        self.matcher.opened(incident, [e.get("title", "") for e in ev])
        return [notice.incident_opened(incident, reason)]

    def _first_basis(self, story, first_published: datetime) -> str:
        """Which time the story's first publication is and why (Chinese, for staff)."""
        if story.first_published is None or first_published < story.first_published:
            return "报道簇最早发布时间"
        flags = monitor_store.published_flags(self.db, [story.first_id])
        if flags:
            from monitor.timebounds import published_note

            _, original, reason = next(iter(flags.values()))
            return published_note(original, reason)
        name = self.sources.get(story.first_source, {}).get("name", story.first_source) or "未知来源"
        return f"按首发发布时间（{name}）"

    def _releases(self, items: list[StoredItem], specs: list[dict]) -> list[Notice]:
        from responders.release_detect import propose_releases
        from responders.types import OwnChannelItem

        own = [OwnChannelItem(str(it.id), it.title, it.text, it.url, it.published, it.source_id,
                              spec.get("platform", "own"), spec.get("name", ""))
               for it, spec in zip(items, specs) if spec.get("own_channel")]
        if not own:
            return []
        return [notice.release_proposed(p)
                for p in propose_releases(self.svc, own, auto_confirm=self.auto_confirm_releases)]

    # -- the clock ----------------------------------------------------------
    def clock_step(self) -> list[Notice]:
        with transaction(self.db) as conn:  # the alerts' timeline events and their notices commit together
            self._check(conn)
            out = self._clock_notices()
            outbox.put(conn, out, self.clock())
        return out

    def _check(self, conn) -> None:
        if self.guard is not None:
            self.guard(conn)

    def pending_notices(self) -> list[Notice]:
        """Notices committed but never handed to the dispatcher (the desk stopped in between)."""
        return outbox.pending(self.db.conn, Notice)

    def notice_sent(self, notice: Notice) -> None:
        outbox.done(self.db.conn, notice.outbox_id)

    def _clock_notices(self) -> list[Notice]:
        return [notice.clock_alert(incident, state, alert) for incident, state, alert in self.svc.fire_clock_alerts()]

    def record_delivery(self, incident_id: int | None, channel: str, ok: bool, error: str | None,
                        title: str) -> None:
        if incident_id is None:
            return
        kind = "alert_sent" if ok else "alert_failed"
        payload: dict[str, Any] = {"channel": channel, "title": title}
        if error:
            payload["error"] = error
        self.svc.record_event(incident_id, kind, payload, actor="system")


ENGINE_SKEW = timedelta(minutes=10)


def _engine_time(published: datetime, now: datetime) -> datetime:
    """The time the story engine is given: never ahead of the desk clock (plus a little skew). The
    engine's time is the latest time it has seen; a time ahead of the clock would age every
    live story out of the window and zero their burst rates."""
    return min(published, now + ENGINE_SKEW)
