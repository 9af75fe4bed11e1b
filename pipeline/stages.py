"""The pipeline after intake: understand → stories → incidents → releases → alerts, and the clock.

Everything here runs in one pipeline thread with its own SQLite connection. The
analysis of a batch, its search index and the stage watermark are written in one
transaction; incidents are opened (or joined, which is idempotent) *before* that
commit, so a crash in between repeats a join rather than losing a candidate.
After a restart the story engine is rebuilt by replaying the stored analysis of the
window in item order: story ids are derived from item ids, so they come out the same.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from monitor import store as monitor_store
from monitor.types import StoredItem
from pipeline import store as analysis
from responders.types import IncidentCandidate
from storage.db import transaction
from storage.timeutil import from_db, to_db
from classifiers.normalize import to_simplified
from pipeline import outbox
from pipeline.triggers import StoryFacts, TriggerConfig, trigger_reason, weak_join_reason

log = logging.getLogger("yuqing.pipeline")

STAGE = "understand"
BATCH = 256
REPLAY_CHUNK = 1024  # items fed to the story engine at a time when rebuilding after a restart
JOIN_EVIDENCE = 3  # evidence snapshots added per batch when a story joins an incident again


@dataclass
class Notice:
    """Something the pipeline did that people should hear about (alerts, console lines)."""

    kind: str  # incident_opened | incident_joined | release_proposed | clock | release_recorded
    title: str
    body: str
    incident_id: int | None = None
    severity: str = "一般"
    lane: str = "digest"  # breaking | digest
    key: str = ""
    towns: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    item_ids: tuple[str, ...] = ()
    url: str | None = None
    outbox_id: int | None = None  # its row in the notice outbox until the dispatcher has it


@dataclass
class _Batch:
    items: list[StoredItem]
    specs: list[dict]
    now: datetime
    title_tokens: list
    text_tokens: list
    rows: list = field(default_factory=list)  # analysis.ItemAnalysis per item
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
        self.state = PipelineState()
        self._regions: tuple[str, ...] | None = None
        self.engine = None
        self.sources: dict[str, dict] = {}
        self._index: dict[str, list[tuple]] | None = None
        self.last_batch = 0  # items the last step processed (0: caught up)
        self._pending: _Batch | None = None  # understood but not yet written (a failed write is retried)
        self._sent_now: list[str] = []  # stories handed to the incident service in this write
        self._compared: set[str] = set()  # stories whose bigrams were computed in the last batch
        self._grams_kept: dict[int, tuple] = {}  # incident id -> (title key, bigrams, norm, set) of the last index

    # -- setup (in the pipeline thread) -----------------------------------
    def open(self) -> None:
        """Start the story engine and rebuild the window's stories from what is stored."""
        from classifiers.stories.engine import StoryEngine

        self.engine = StoryEngine(window=timedelta(hours=self.triggers.story_window_hours),
                                  segment=self.classifier.segmenter.cut if self.classifier.segmenter else None)
        _tune_gc()
        self._replay()

    def close(self) -> None:
        if self.db is not None:
            self.db.conn.close()
            self.db = None

    def _load_sources(self) -> None:
        self.sources = {r["id"]: json.loads(r["spec"]) for r in
                        self.db.execute_returning_dicts("SELECT id, spec FROM sources")}

    def _replay(self) -> None:
        """Rebuild stories and their facts from what is stored (after a restart)."""
        from classifiers.stories.types import StoryItem

        last = analysis.watermark(self.db.conn, STAGE)
        if not last:
            return
        since = to_db(self.clock() - timedelta(hours=self.triggers.story_window_hours))
        linked = {sid for (sid,) in self.db.execute(
            "SELECT story_id FROM incident_stories") } if self.db["incident_stories"].exists() else set()
        self._load_sources()
        # Read in chunks: a full window can be 300,000 items, far too many to hold at once.
        cur = self.db.conn.execute(
            "SELECT i.id, i.title, i.text, i.url, i.published, i.fetched_at, i.source_id, i.metrics, a.*"
            " FROM items i JOIN item_analysis a ON a.item_id = i.id"
            " WHERE i.id <= ? AND coalesce(i.published, i.fetched_at) >= ? ORDER BY i.id", [last, since])
        names = [d[0] for d in cur.description]
        replayed = 0
        memo: dict[str, list] = {}
        while True:
            chunk = [dict(zip(names, r)) for r in cur.fetchmany(REPLAY_CHUNK)]
            if not chunk:
                break
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
                facts.add(_decode(r, memo))
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
        last = analysis.watermark(self.db.conn, STAGE)
        items = monitor_store.items_after(self.db, last, BATCH)
        self.last_batch = len(items)
        if not items:
            return []
        self._load_sources()
        batch = self._pending
        if batch is not None and batch.items[0].id == items[0].id:
            items = batch.items  # a retry: the story engine has seen these items already
        else:
            batch = self._prepare(items)
        self._pending = batch
        self._sent_now = []
        try:
            notices = self._write(batch)
        except BaseException:
            # Nothing of the batch was committed: stories marked as handed over in it are not.
            for sid in self._sent_now:
                if sid in self.state.facts:
                    self.state.facts[sid].candidate_sent = False
            raise
        self._pending = None
        return notices

    def _prepare(self, items: list[StoredItem]) -> "_Batch":
        """Understand a batch and feed it to the story engine (memory only, done once per batch)."""
        from classifiers.stories.types import StoryItem, content_hash

        now = self.clock()
        specs = [self.sources.get(it.source_id, {}) for it in items]
        results = self.classifier.classify_many(
            [(it.title, it.text, bool(spec.get("local"))) for it, spec in zip(items, specs)])
        if self.classifier.segmenter is not None:  # the words classification already cut
            title_tokens = [c.title_tokens for c in results]
            text_tokens = [c.text_tokens for c in results]
        else:
            title_tokens, text_tokens = self._segment([it.title for it in items], [it.text for it in items])
        published = [_engine_time(it.published or it.fetched_at, now) for it in items]
        shown = self._sighted([it.id for it in items])
        story_items = [StoryItem(str(it.id), *shown.get(it.id, (it.title, it.text)), pub, it.source_id,
                                 dict(it.metrics), it.url, words=tuple(tt) + tuple(xt))
                       for it, pub, tt, xt in zip(items, published, title_tokens, text_tokens)]
        assignments = self.engine.add_many(story_items)
        batch = _Batch(items, specs, now, title_tokens, text_tokens)
        for it, pub, spec, c, a in zip(items, published, specs, results, assignments):
            row = _analysis_row(it.id, c, a, now)
            batch.rows.append(row)
            if spec.get("own_channel"):  # the district's own releases answer incidents; they are not reports
                self.state.own_items.add(str(it.id))
                continue
            facts = self.state.facts.setdefault(a.story_id, StoryFacts())
            facts.add(_row_dict(row))
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
            notices = self._incidents(batch.touched, batch.evidence, now)
            notices += self._releases(items, batch.specs)
            analysis.save_analyses(conn, batch.rows)
            analysis.index_many(conn, [(it.id, tt, xt) for it, tt, xt in
                                       zip(items, batch.title_tokens, batch.text_tokens)])
            analysis.save_stories(conn, [_story_dict(story) for story in map(self._story, batch.touched)
                                         if story is not None], now)
            analysis.set_watermark(conn, STAGE, items[-1].id)
            outbox.put(conn, notices, now)
        return notices

    def _incidents(self, touched: dict[str, list[int]], evidence: dict[str, list[dict]], now) -> list[Notice]:
        notices: list[Notice] = []
        self._index = None
        # Bigram counts are kept only while a story is active: tens of KB each, they would
        # otherwise pile up over every district story of the window.
        for sid in self._compared - touched.keys():
            if sid in self.state.facts:
                self.state.facts[sid].forget_bigrams()
        self._compared = set()
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
            topic = None
            if not facts.candidate_sent:  # a new story telling the same event as an open incident of its town joins it
                match = self._similar_incident(sid)
                if match is not None:
                    topic, why = match[0].topic, match[1]
                    reason = f"{reason}；{why}"
            notices += self._candidate(sid, new_ids, evidence.get(sid, []), reason, now, topic=topic)
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
            match = self._similar_incident(sid, only=fresh if sid not in touched else None)
            if match is not None:  # normally a join; should it open one after all, it is announced
                notices += self._candidate(sid, touched.get(sid, []), evidence.get(sid, []), match[1], now,
                                           topic=match[0].topic, all_items=True)
        return notices

    def _incident_index(self) -> dict[str, list[tuple]]:
        """Town code -> [(incident, its towns, bigrams of title and evidence, norm, bigram set)]; built once per
        batch (staff may have closed or merged incidents), then grown as incidents open. The bigrams of an
        incident whose title and evidence titles are unchanged are kept from the last batch."""
        if self._index is None:
            self._index = {}
            incidents = self.svc.list(links=False)  # the index needs no item or story ids
            titles: dict[int, list[str]] = {}
            ids = [inc.id for inc in incidents]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                for iid, title in self.db.execute(
                        "SELECT incident_id, title FROM incident_evidence WHERE incident_id IN"
                        f" ({','.join('?' * len(chunk))}) ORDER BY incident_id, published IS NULL, published, id",
                        chunk):
                    got = titles.setdefault(iid, [])
                    if len(got) < 20:
                        got.append(title)
            kept, self._grams_kept = self._grams_kept, {}
            for inc in incidents:
                self._index_incident(inc, titles.get(inc.id, []), kept)
        return self._index

    def _index_incident(self, inc, evidence_titles: list[str], kept: dict | None = None) -> None:
        from classifiers.normalize import to_simplified_many
        from pipeline.triggers import bigrams, norm

        towns = {p["code"] for p in inc.places if p.get("level") == "town"}
        if not towns or self._index is None:
            return
        key = (inc.title, tuple(evidence_titles))
        parts = (kept or {}).get(inc.id)
        if parts is None or parts[0] != key:
            grams = bigrams(to_simplified_many([inc.title] + list(evidence_titles)))
            parts = (key, grams, norm(grams), frozenset(grams))
        if kept is not None:  # (rebuilding the index) keep them for the next batch
            self._grams_kept[inc.id] = parts
        entry = (inc, towns, *parts[1:])
        for code in towns:
            self._index.setdefault(code, []).append(entry)

    def _similar_incident(self, sid: str, only: set[int] | None = None) -> tuple[object, str] | None:
        """(incident, why) of an open incident of the same town telling the same event as this story."""
        facts = self.state.facts[sid]
        index = self._incident_index()
        seen: set[int] = set()
        self._compared.add(sid)
        for code in facts.town_codes:
            for inc, towns, grams, grams_norm, keys in index.get(code, ()):
                if inc.id in seen or (only is not None and inc.id not in only):
                    continue
                seen.add(inc.id)
                why = weak_join_reason(facts, towns, grams, incident_norm=grams_norm, incident_keys=keys,
                                       region_names=self._region_names())
                if why:
                    return inc, why
        return None

    def _region_names(self) -> tuple[str, ...]:
        """The district's and its city's names: every district report carries them, so they
        say nothing about which event a story tells."""
        if self._regions is None:
            g = getattr(getattr(self.classifier, "matcher", None), "gazetteer", None)
            names: list[str] = []
            if g is not None:
                names = [g.district.name, *g.district.short_names]
                for div in g.divisions.values():
                    if div.level in ("city", "province"):
                        names += [div.name, *div.short_names]
            self._regions = tuple(dict.fromkeys(n for n in names if n))
        return self._regions

    def _story(self, sid: str):
        """The story's summary, or None when it already left the window (an old item arriving late)."""
        try:
            return self.engine.story(sid)
        except KeyError:
            return None

    def _candidate(self, sid: str, new_ids: list[int], batch_evidence: list[dict], reason: str, now, *,
                   topic: str | None = None, all_items: bool = False, story=None) -> list[Notice]:
        """Hand one story to the incident service (open or join); return the notice of an opening."""
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
            story_id=sid, title=_incident_title(story, ev, batch_evidence), first_published=first_published,
            detected_at=now, places=tuple(facts.places.values()), departments=tuple(facts.departments),
            responsible_units=tuple(facts.units), topic=topic or facts.topic, severity=facts.severity,
            severity_reasons=tuple(facts.severity_reasons), item_ids=item_ids, evidence=tuple(ev),
            trigger=reason)
        iid, incident = self.svc.open_or_join_id(cand)
        first_time = not facts.candidate_sent
        if first_time:
            facts.candidate_sent = True
            self._sent_now.append(sid)
        if incident is None:  # joined
            return self._joined_notice(iid, sid, cand, facts) if first_time else []
        self._index_incident(incident, [e.get("title", "") for e in ev][:20])
        towns = tuple(p["name"] for p in incident.places if p.get("level") == "town")
        due = incident.release_due.astimezone(_tz()).strftime("%m-%d %H:%M")
        return [Notice(
            "incident_opened", f"新舆情事件：{incident.title}",
            f"{reason}。涉及：{'、'.join(towns) or '本区'}；责任单位：{'、'.join(incident.responsible_units)}；"
            f"级别：{incident.severity}；权威信息发布时限：{due}",
            incident.id, incident.severity, "breaking", f"incident:{incident.id}:opened", towns,
            (incident.topic,), incident.item_ids[:20])]

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

    def _joined_notice(self, iid: int, sid: str, cand: IncidentCandidate, facts: StoryFacts) -> list[Notice]:
        """A new story joining an open incident is breaking news of its own when it hits an alert
        scheme or is graded 较大 or above (e.g. an explosion reported while a complaint about the
        same plant is open): people hear about it, they do not find it in the timeline later."""
        from pipeline.triggers import SEVERITY_ORDER

        if not facts.alert_schemes and SEVERITY_ORDER.index(facts.severity) < SEVERITY_ORDER.index("较大"):
            return []
        towns = tuple(p["name"] for p in facts.places.values() if p.get("level") == "town")
        return [Notice(
            "incident_joined", f"事件 #{iid} 新增重要报道：{cand.title}",
            f"{cand.trigger}。已并入事件 #{iid}；涉及：{'、'.join(towns) or '本区'}；研判级别：{facts.severity}",
            iid, facts.severity, "breaking", f"incident:{iid}:story:{sid}", towns, (cand.topic,),
            cand.item_ids[:20])]

    def _releases(self, items: list[StoredItem], specs: list[dict]) -> list[Notice]:
        from classifiers.release_kind import KIND_LABELS
        from responders.release_detect import propose_releases
        from responders.types import OwnChannelItem

        own = [OwnChannelItem(str(it.id), it.title, it.text, it.url, it.published, it.source_id,
                              spec.get("platform", "own"), spec.get("name", ""))
               for it, spec in zip(items, specs) if spec.get("own_channel")]
        if not own:
            return []
        out = []
        for p in propose_releases(self.svc, own, auto_confirm=self.auto_confirm_releases):
            verb = "已自动确认" if p.status == "confirmed" else "待确认"
            kind = KIND_LABELS.get(p.evidence.get("doc_kind") or "", "发布")
            out.append(Notice("release_proposed", f"检测到权威发布（{kind}，{verb}）：事件 #{p.incident_id}",
                              f"{p.evidence.get('title', '')} {p.evidence.get('why', '')}", p.incident_id,
                              key=f"proposal:{p.id}"))
        return out

    # -- the clock ----------------------------------------------------------
    def clock_step(self) -> list[Notice]:
        with transaction(self.db) as conn:  # the alerts' timeline events and their notices commit together
            out = self._clock_notices()
            outbox.put(conn, out, self.clock())
        return out

    def pending_notices(self) -> list[Notice]:
        """Notices committed but never handed to the dispatcher (the desk stopped in between)."""
        return outbox.pending(self.db.conn, Notice)

    def notice_sent(self, notice: Notice) -> None:
        outbox.done(self.db.conn, notice.outbox_id)

    def _clock_notices(self) -> list[Notice]:
        out = []
        for incident, state, alert in self.svc.fire_clock_alerts():
            left = state.remaining.total_seconds() / 3600
            if alert.kind == "warning":
                title = f"发布时限预警：事件 #{incident.id} 剩余 {alert.hours_left:g} 小时"
            elif alert.kind == "overdue":
                title = f"已超时：事件 #{incident.id} 超过权威信息发布时限 {-left:.1f} 小时"
            else:
                title = f"后续发布提醒：事件 #{incident.id} 请发布进展或处置结果"
            late = "（守护进程停机期间错过，补发）" if alert.late else ""
            out.append(Notice("clock", title + late, incident.title, incident.id, incident.severity,
                              "breaking" if alert.kind == "overdue" else "digest",
                              f"clock:{incident.id}:{alert.key}"))
        return out

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


def _incident_title(story, ev: list[dict], batch: list[dict]) -> str:
    """The 首发 item's title (what people recognise), else the first evidence title, else the label."""
    for e in list(ev) + list(batch):
        if str(e.get("item_id")) == str(story.first_id) and e.get("title"):
            return _short_title(e["title"])
    for e in list(ev) + list(batch):
        if e.get("title"):
            return _short_title(e["title"])
    return story.label or "未命名事件"


_SHORT_TITLES: dict[tuple[str, int], str] = {}  # a story joining batch after batch has the same 首发 title


GC_THRESHOLD = (20_000, 20, 20)


def _tune_gc() -> None:
    """Collect cyclic garbage less often in the pipeline's process. The story window keeps
    hundreds of thousands of long-lived objects and a batch allocates tens of thousands more,
    so the default thresholds (700, 10, 10) ran ~500 collections per 8,000 items, ~5 % of the
    pipeline's CPU (0.60 s → 0.10 s). The pipeline makes little cyclic garbage. Thresholds
    already set higher are kept."""
    import gc

    gc.set_threshold(*(max(a, b) for a, b in zip(gc.get_threshold(), GC_THRESHOLD)))


def _short_title(title: str, limit: int = 40) -> str:
    """Simplified, without emoticons like [泪] or #话题# marks, cut at the first sentence end."""
    got = _SHORT_TITLES.get((title, limit))
    if got is None:
        if len(_SHORT_TITLES) >= 4096:
            _SHORT_TITLES.clear()
        got = _SHORT_TITLES[(title, limit)] = _shorten_title(title, limit)
    return got


def _shorten_title(title: str, limit: int) -> str:
    import re

    text = re.sub(r"\[[^\[\]]{1,6}\]", "", to_simplified(title)).replace("#", " ").strip()
    first = ""
    for sentence in re.split(r"(?<=[。！？!?])", text):
        first += sentence.strip()
        if len(first) >= 12:
            break
    first = first or text
    return first if len(first) <= limit else first[:limit - 1] + "…"


def _tz():
    from storage.timeutil import desk_tz

    return desk_tz()


def _analysis_row(item_id: int, c, a, now) -> analysis.ItemAnalysis:
    places = tuple({"code": p.code, "name": p.name, "level": p.level, "in_district": p.in_district,
                    "reason": p.reason} for p in c.jurisdiction.places)
    schemes = tuple({"scheme": s.scheme, "words": list(s.words), "alert": s.alert} for s in c.schemes)
    flagged = c.jurisdiction.involves_district or bool(schemes)
    return analysis.ItemAnalysis(
        item_id=item_id, topic=c.topic.label, topic_p=float(c.topic.probability), sentiment=c.sentiment.label,
        sentiment_score=float(c.sentiment.score), severity=c.severity.level,
        severity_reasons=tuple(c.severity.reasons), places=places,
        departments=tuple(d.name for d in c.jurisdiction.departments), units=tuple(c.responsible_units),
        schemes=schemes, risk_words=tuple(c.risk_words), involves_district=c.jurisdiction.involves_district,
        flagged=flagged, story_id=a.story_id, duplicate_of=int(a.duplicate_of) if a.duplicate_of else None,
        hot=a.hot, heat=float(a.heat), analysed_at=now)


def _row_dict(row: analysis.ItemAnalysis) -> dict:
    return {"places": row.places, "departments": row.departments, "units": row.units, "topic": row.topic,
            "risk_words": row.risk_words, "severity": row.severity, "severity_reasons": row.severity_reasons,
            "sentiment": row.sentiment, "schemes": row.schemes, "involves_district": row.involves_district}


def _decode(r: dict, memo: dict | None = None) -> dict:
    """The row with its JSON lists decoded. With ``memo`` (a replay: copies of one post
    have the same lists) equal strings are decoded once and share the result: read it only."""
    d = dict(r)
    for key in ("places", "departments", "units", "risk_words", "severity_reasons", "schemes"):
        v = r[key]
        if not v or v == "[]":
            d[key] = []
        elif memo is None:
            d[key] = json.loads(v)
        else:
            got = memo.get(v)
            if got is None:
                if len(memo) >= 4096:
                    memo.clear()
                got = memo[v] = json.loads(v)
            d[key] = got
    return d


def _story_dict(story) -> dict:
    return {"id": story.id, "label": story.label, "size": story.size,
            "first_item_id": int(story.first_id) if str(story.first_id).isdigit() else None,
            "first_source": story.first_source, "first_published": to_db(story.first_published),
            "sources": len(story.sources), "hot": story.hot, "hot_since": to_db(story.hot_since),
            "heat": story.heat, "peak_heat": story.peak_heat, "explanation": []}
