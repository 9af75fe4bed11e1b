"""Detect releases: items from the district's own channels that answer an open incident.

An item from a source marked ``own_channel = true`` is scored against each open
incident by the places and departments it names and by the character-bigram
cosine similarity of its text to the incident's title and evidence titles.
The best incident above the threshold gets a *proposal* with the evidence in
words; staff confirm it with one action (:func:`confirm_proposal`), which
records the release, or it is confirmed automatically when configured.

:func:`score_item` is pure; the rest reads and writes through the service.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from responders import timeline
from responders.exceptions import InvalidValue, ProposalNotFound
from responders.store import dumps, loads
from responders.types import Incident, OwnChannelItem, Release, ReleaseProposal
from storage.db import transaction
from storage.timeutil import from_db, to_db

if TYPE_CHECKING:
    from responders.incidents import IncidentService

DEFAULT_THRESHOLD = 0.5
#: A release cannot answer an issue long before it arose.
EARLIEST_BEFORE_FIRST_PUBLISHED = timedelta(hours=1)
PLATFORM_CHANNELS = {"gov": "政府网站", "own": "政府网站", "news": "政府网站", "weibo": "政务微博", "wechat": "政务微信"}
_HAN = re.compile(r"[\u4e00-\u9fff]+")
_SUFFIXES = ("街道办事处", "街道办", "街道", "镇", "乡", "村", "社区")


def _bigrams(text: str) -> Counter:
    grams: Counter = Counter()
    for run in _HAN.findall(text or ""):
        grams.update(run[i:i + 2] for i in range(len(run) - 1))
    return grams


def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


def _place_forms(name: str) -> list[str]:
    forms = [name]
    for suf in _SUFFIXES:
        if name.endswith(suf) and len(name) - len(suf) >= 2:
            forms.append(name[: -len(suf)])
            break
    return forms


def score_item(item: OwnChannelItem, incident: Incident, evidence_titles: Sequence[str] = ()) -> tuple[float, dict]:
    """(score 0..1, evidence) of an own-channel item answering an incident."""
    text = f"{item.title}\n{item.text}"
    places = [p["name"] for p in incident.places if any(f in text for f in _place_forms(p.get("name", "")))]
    units = [u for u in dict.fromkeys((*incident.departments, *incident.responsible_units, *incident.assigned_units))
             if u and u in text and u != "区委宣传部"]
    item_grams = _bigrams(text[:4000])
    inc_grams = _bigrams("\n".join([incident.title, *evidence_titles]))
    sim = _cosine(item_grams, inc_grams)
    shared = [g for g, _ in (item_grams & inc_grams).most_common(12)]
    score = 0.3 * bool(places) + 0.2 * bool(units) + 0.5 * min(1.0, sim / 0.5)
    evidence = {
        "places": places, "departments": units, "similarity": round(sim, 3), "shared": shared,
        "title": item.title, "item_title": item.title, "item_url": item.url, "source_id": item.source_id,
        "published": item.published.isoformat() if item.published else None,
        "why": "；".join(filter(None, [
            f"提及地点 {'、'.join(places)}" if places else "",
            f"提及单位 {'、'.join(units)}" if units else "",
            f"与事件文本相似度 {sim:.2f}（共有词：{'、'.join(shared[:6])}）" if shared else f"相似度 {sim:.2f}",
        ])),
    }
    return round(score, 3), evidence


def propose_releases(svc: "IncidentService", items: Iterable[OwnChannelItem], *,
                     threshold: float = DEFAULT_THRESHOLD, auto_confirm: bool = False,
                     actor: str = "system") -> list[ReleaseProposal]:
    """Propose (or, with auto_confirm, record) releases for own-channel items matching open incidents."""
    now = svc.clock()
    incidents = svc.list()
    titles = {i.id: [e.title for e in svc.evidence(i.id)][:50] for i in incidents}
    out = []
    for item in items:
        best = None
        for inc in incidents:
            if item.published and item.published < inc.first_published - EARLIEST_BEFORE_FIRST_PUBLISHED:
                continue
            if str(item.item_id) in inc.item_ids:
                continue  # already part of the story itself
            score, ev = score_item(item, inc, titles[inc.id])
            if score >= threshold and (best is None or score > best[0]):
                best = (score, inc, ev)
        if best is None:
            continue
        score, inc, ev = best
        with transaction(svc.db) as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO release_proposals (incident_id, item_id, score, evidence, status, created_at)"
                " VALUES (?, ?, ?, ?, 'proposed', ?)",
                [inc.id, str(item.item_id), score, dumps({**ev, "platform": item.platform,
                                                          "text": item.text[:2000]}), to_db(now)])
            if not cur.rowcount:
                continue
            pid = cur.lastrowid
            timeline.append(conn, inc.id, "release_proposed", actor, now,
                            {"proposal_id": pid, "item_id": str(item.item_id), "score": score, "why": ev["why"],
                             "url": item.url, "title": item.title})
        proposal = get_proposal(svc, pid)
        if auto_confirm:
            confirm_proposal(svc, pid, actor=actor)
            proposal = get_proposal(svc, pid)
        out.append(proposal)
    return out


def _proposal(r: Mapping) -> ReleaseProposal:
    return ReleaseProposal(r["id"], r["incident_id"], r["item_id"], r["score"], loads(r["evidence"], {}),
                           r["status"], from_db(r["created_at"]), r["release_id"])


def get_proposal(svc: "IncidentService", proposal_id: int) -> ReleaseProposal:
    rows = svc.db.execute_returning_dicts("SELECT * FROM release_proposals WHERE id = ?", [int(proposal_id)])
    if not rows:
        raise ProposalNotFound(proposal_id)
    return _proposal(rows[0])


def list_proposals(svc: "IncidentService", status: str | None = "proposed",
                   incident_id: int | None = None) -> list[ReleaseProposal]:
    sql, params = "SELECT * FROM release_proposals WHERE 1=1", []
    if status:
        sql += " AND status = ?"
        params.append(status)
    if incident_id is not None:
        sql += " AND incident_id = ?"
        params.append(int(incident_id))
    return [_proposal(r) for r in svc.db.execute_returning_dicts(sql + " ORDER BY id", params)]


def confirm_proposal(svc: "IncidentService", proposal_id: int, *, kind: str | None = None,
                     channel: str | None = None, actor: str | None = None) -> Release:
    """One action: record the proposed item as a release of its incident."""
    from responders.incidents import default_actor

    now, actor = svc.clock(), actor or default_actor()
    with transaction(svc.db) as conn:
        p = get_proposal(svc, proposal_id)
        if p.status != "proposed":
            raise InvalidValue(f"发布检测提议 #{p.id} 状态为 {p.status}，不能再确认")
        ev = p.evidence
        row = svc._open_row(p.incident_id, "确认发布")
        channel = channel or PLATFORM_CHANNELS.get(ev.get("platform", ""), "其他")
        at = datetime.fromisoformat(ev["published"]) if ev.get("published") else p.created_at
        at = min(at, now)  # a feed's clock may run ahead of ours
        text = ev.get("item_title") or ""
        url = ev.get("item_url") or ""
        kind = svc._check_release(row, channel, url, at, text, kind, now)
        rid = svc._release_in(conn, row, kind, channel, url, at, text, actor, now, source_item_id=p.item_id)
        conn.execute("UPDATE release_proposals SET status = 'confirmed', decided_at = ?, release_id = ? WHERE id = ?",
                     [to_db(now), rid, p.id])
    return next(r for r in svc.releases(p.incident_id) if r.id == rid)


def reject_proposal(svc: "IncidentService", proposal_id: int, reason: str = "", actor: str | None = None) -> None:
    from responders.incidents import default_actor

    now, actor = svc.clock(), actor or default_actor()
    p = get_proposal(svc, proposal_id)
    if p.status != "proposed":
        raise InvalidValue(f"发布检测提议 #{p.id} 状态为 {p.status}，不能再驳回")
    with transaction(svc.db) as conn:
        conn.execute("UPDATE release_proposals SET status = 'rejected', decided_at = ? WHERE id = ?",
                     [to_db(now), p.id])
        timeline.append(conn, p.incident_id, "release_rejected", actor, now,
                        {"proposal_id": p.id, "item_id": p.item_id, "reason": reason})


def own_channel_items(db, since_item_id: int = 0, limit: int = 500) -> list[OwnChannelItem]:
    """Items stored by ``monitor`` from sources whose spec has own_channel = true (after an id)."""
    try:
        rows = db.execute_returning_dicts(
            "SELECT items.id, items.title, items.text, items.url, items.published, items.source_id,"
            " sources.name AS source_name, sources.spec FROM items JOIN sources ON sources.id = items.source_id"
            " WHERE items.id > ? AND json_extract(sources.spec, '$.own_channel') = 1 ORDER BY items.id LIMIT ?",
            [since_item_id, limit])
    except Exception as exc:  # the monitor tables are absent in a responders-only DB
        if "no such table" in str(exc):
            return []
        raise
    out = []
    for r in rows:
        spec = json.loads(r["spec"])
        out.append(OwnChannelItem(str(r["id"]), r["title"], r["text"], r["url"], from_db(r["published"]),
                                  r["source_id"], spec.get("platform", "own"), r["source_name"]))
    return out
