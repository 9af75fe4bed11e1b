"""Detect releases: items from the district's own channels that answer an open incident.

An item from a source marked ``own_channel = true`` is scored against each open incident
by evidence that can be explained, each item with its weight (:data:`WEIGHTS`):

- 地点: it names one of the incident's own places (town, village; not merely the district);
- 关键词: it shares the incident's key terms (what its reports say: 启航学校, 身体不适 ...;
  place and unit names and administrative boilerplate do not count);
- 单位: it names one of the incident's departments or responsible units;
- 标题体例: a release-style title (情况通报, 通报, 回应, 说明, 进展, 处置结果 ...) adds weight; a
  measure-style title with no release word (专项整治, 会议, 部署, 检查, 通知 ...) takes it away;
- 时间: it was published after the incident began (an item from before is never a release).

The best incident at or above :data:`PROPOSE_THRESHOLD` gets a *proposal* with the evidence in
words; staff confirm it with one action (:func:`confirm_proposal`). With auto-confirm on, only a
proposal at or above :data:`AUTO_CONFIRM_THRESHOLD` is recorded by itself; that threshold is
calibrated on tests/data/release_calibration.jsonl (precision 1.0 there). The release kind
(首次权威发布 / 动态 / 处置结果) comes from the document's title and opening
(:mod:`classifiers.release_kind`) and the incident's state: a first release is authoritative.

:func:`score_item` is pure; the rest reads and writes through the service.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from classifiers.release_kind import AUTHORITATIVE, FINAL, PROGRESS, release_kind, title_style
from responders import store, timeline
from responders.exceptions import InvalidValue, ProposalNotFound
from responders.store import dumps, loads
from responders.types import Incident, OwnChannelItem, Release, ReleaseProposal
from storage.db import transaction
from storage.timeutil import from_db

if TYPE_CHECKING:
    from responders.incidents import IncidentService

#: Weight of each kind of evidence (key terms scale with how many and how specific they are).
WEIGHTS = {"place": 0.30, "terms": 0.30, "units": 0.10, "release_title": 0.25, "measure_title": -0.30}
#: At or above this a proposal is made for staff to confirm or reject.
PROPOSE_THRESHOLD = 0.4
#: At or above this (and only with auto-confirm on) a detected release is recorded by itself.
#: Calibrated on tests/data/release_calibration.jsonl: the lowest score with precision 1.0 there.
AUTO_CONFIRM_THRESHOLD = 0.7
DEFAULT_THRESHOLD = PROPOSE_THRESHOLD
#: A release cannot answer an issue long before it arose.
EARLIEST_BEFORE_FIRST_PUBLISHED = timedelta(hours=1)
PLATFORM_CHANNELS = {"gov": "政府网站", "own": "政府网站", "news": "政府网站", "weibo": "政务微博", "wechat": "政务微信"}
_HAN = re.compile(r"[\u4e00-\u9fff]+")
_SUFFIXES = ("街道办事处", "街道办", "街道", "镇", "乡", "村", "社区")
_BROAD_LEVELS = {"country", "province", "city", "county", "district"}
#: How much of the item is read: its title and opening.
OPENING_CHARS = 400
# Administrative boilerplate shared by every government text: never a key term of an incident.
_STOP = sorted({
    "关于", "情况", "通报", "有关", "工作", "全区", "我区", "全市", "部分", "事件", "事故", "问题", "相关", "开展",
    "进行", "目前", "已经", "发生", "现将", "如下", "高度重视", "立即", "人员", "部门", "政府", "人民", "群众",
    "社会", "及时", "发布", "处置", "调查", "结果", "进展", "说明", "回应", "今天", "昨天", "网友", "网民", "一起",
    "依法", "依规", "单位", "公司", "有限", "中心", "工作组", "专班", "领导", "要求", "组织", "成立", "迅速",
    "第一时间", "全力", "做好", "善后", "后续", "将及时", "向社会", "公布", "截至", "时许", "以上", "造成",
    "已对", "责任", "管理", "安全", "加强", "进一步", "确保", "我们", "大家", "目前", "正在", "持续", "所有",
    "负责", "区委", "区政府", "县委", "县政府", "市委", "市政府", "新闻办公室", "新闻办", "办公室", "通知",
    "现场", "相关部门", "有关部门", "这个", "一个", "没有", "就是", "还是", "自己", "什么", "的", "了", "和", "在",
}, key=len, reverse=True)
_TERM_VALUE = {2: 0.4, 3: 0.7}  # a key term's worth by length; 4 characters and more: 1.0


def _place_forms(name: str) -> list[str]:
    forms = [name]
    for suf in _SUFFIXES:
        if name.endswith(suf) and len(name) - len(suf) >= 2:
            forms.append(name[: -len(suf)])
            break
    return forms


def _mask(text: str, words: Iterable[str]) -> str:
    for w in words:
        if w:
            text = text.replace(w, "|")
    return text


def key_terms(item_text: str, incident_texts: Sequence[str], exclude: Iterable[str] = ()) -> list[str]:
    """The incident's terms the item repeats: maximal runs of the item's text (title and opening)
    found in the incident's texts, after place and unit names and boilerplate are cut out."""
    cut = sorted({w for w in exclude if w}, key=len, reverse=True) + _STOP
    item = _mask(item_text, cut)
    incident = _mask("|".join(incident_texts), cut)
    found: dict[str, None] = {}
    for run in _HAN.findall(item):
        i = 0
        while i < len(run) - 1:
            n = 2
            while i + n <= len(run) and run[i:i + n] in incident:
                n += 1
            n -= 1
            if n >= 2:
                found.setdefault(run[i:i + n], None)
                i += n
            else:
                i += 1
    return list(found)


def _term_strength(terms: Sequence[str]) -> float:
    return min(1.0, sum(_TERM_VALUE.get(len(t), 1.0) for t in terms) / 2)


def score_item(item: OwnChannelItem, incident: Incident, evidence_titles: Sequence[str] = ()) -> tuple[float, dict]:
    """(confidence 0..1, evidence) that an own-channel item is a release of the incident."""
    head = f"{item.title}\n{(item.text or '')[:OPENING_CHARS]}"
    specific = [p for p in incident.places if p.get("level") not in _BROAD_LEVELS and p.get("name")]
    places = [p["name"] for p in specific if any(f in head for f in _place_forms(p["name"]))]
    place_words = [f for p in incident.places if p.get("name") for f in _place_forms(p["name"])]
    all_units = [u for u in dict.fromkeys((*incident.departments, *incident.responsible_units,
                                           *incident.assigned_units)) if u and u != "区委宣传部"]
    units = [u for u in all_units if u in head and u not in place_words]
    terms = key_terms(head, [incident.title, *evidence_titles], exclude=[*place_words, *all_units])
    strength = _term_strength(terms)
    style, style_word = title_style(item.title)
    kind, kind_why = release_kind(item.title, item.text or "")
    parts = [
        ("place", WEIGHTS["place"] if places else 0.0, f"提及地点 {'、'.join(places)}" if places else "未提及事件地点"),
        ("terms", round(WEIGHTS["terms"] * strength, 3),
         f"事件关键词 {'、'.join(terms[:8])}" if terms else "无事件关键词"),
        ("units", WEIGHTS["units"] if units else 0.0, f"提及单位 {'、'.join(units)}" if units else "未提及责任单位"),
    ]
    if style == "release":
        parts.append(("title", WEIGHTS["release_title"], f"发布体例标题（{style_word}）"))
    elif style == "measure":
        parts.append(("title", WEIGHTS["measure_title"], f"工作部署类标题（{style_word}），非事件发布"))
    else:
        parts.append(("title", 0.0, "标题非发布体例"))
    score = max(0.0, min(1.0, sum(w for _, w, _ in parts)))
    why = "；".join(f"{text}（{w:+.2f}）" if w else text for _, w, text in parts)
    if item.published is not None:
        if item.published < incident.first_published - EARLIEST_BEFORE_FIRST_PUBLISHED:
            score, why = 0.0, why + "；发布时间早于事件首发，不能是对本事件的发布"
        else:
            why += "；发布于事件首发之后"
    evidence = {
        "places": places, "departments": units, "terms": terms,
        "weights": {name: w for name, w, _ in parts},
        "doc_kind": kind, "kind_why": kind_why,
        "title": item.title, "item_title": item.title, "item_url": item.url, "source_id": item.source_id,
        "published": item.published.isoformat() if item.published else None,
        "why": f"{why}；置信度 {score:.2f}",
    }
    return round(score, 3), evidence


def recorded_kind(doc_kind: str | None, first_release: bool) -> str:
    """The release kind to record: a final result stays final; otherwise the incident's first
    release is the authoritative one and later ones are progress."""
    if doc_kind == FINAL:
        return FINAL
    return AUTHORITATIVE if first_release else PROGRESS


def propose_releases(svc: "IncidentService", items: Iterable[OwnChannelItem], *,
                     threshold: float = PROPOSE_THRESHOLD, auto_confirm: bool = False,
                     auto_threshold: float = AUTO_CONFIRM_THRESHOLD, actor: str = "system") -> list[ReleaseProposal]:
    """Propose releases for own-channel items matching open incidents; with auto_confirm, record
    those at or above ``auto_threshold`` (the rest wait for staff)."""
    now = svc.clock()
    incidents = svc.list()
    titles = {i.id: [e.title for e in svc.evidence(i.id)][:50] for i in incidents}
    out = []
    for item in items:
        best = None
        for inc in incidents:
            if item.published and item.published < inc.first_published - EARLIEST_BEFORE_FIRST_PUBLISHED:
                continue
            if str(item.item_id) in inc.item_ids or inc.state == "处置结果已发布":
                continue  # part of the story itself, or nothing more can be released
            score, ev = score_item(item, inc, titles[inc.id])
            if score >= threshold and (best is None or score > best[0]):
                best = (score, inc, ev)
        if best is None:
            continue
        score, inc, ev = best
        ev = {**ev, "why": f"{ev['why']}（自动确认阈值 {auto_threshold:.2f}）"}
        with transaction(svc.db) as conn:
            pid = store.insert_proposal(conn, inc.id, str(item.item_id), score,
                                        dumps({**ev, "platform": item.platform, "text": item.text[:2000]}), now)
            if pid is None:
                continue
            timeline.append(conn, inc.id, "release_proposed", actor, now,
                            {"proposal_id": pid, "item_id": str(item.item_id), "score": score, "why": ev["why"],
                             "url": item.url, "title": item.title})
        proposal = get_proposal(svc, pid)
        if auto_confirm and score >= auto_threshold and svc.get(inc.id).state != "处置结果已发布":
            confirm_proposal(svc, pid, actor=actor)
            proposal = get_proposal(svc, pid)
        out.append(proposal)
    return out


def _proposal(r: Mapping) -> ReleaseProposal:
    return ReleaseProposal(r["id"], r["incident_id"], r["item_id"], r["score"], loads(r["evidence"], {}),
                           r["status"], from_db(r["created_at"]), r["release_id"])


def get_proposal(svc: "IncidentService", proposal_id: int) -> ReleaseProposal:
    row = store.proposal_row(svc.db, proposal_id)
    if row is None:
        raise ProposalNotFound(proposal_id)
    return _proposal(row)


def list_proposals(svc: "IncidentService", status: str | None = "proposed",
                   incident_id: int | None = None) -> list[ReleaseProposal]:
    return [_proposal(r) for r in store.proposal_rows(svc.db, status, incident_id)]


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
        inc = svc.require_open(p.incident_id, "确认发布")
        channel = channel or PLATFORM_CHANNELS.get(ev.get("platform", ""), "其他")
        at = datetime.fromisoformat(ev["published"]) if ev.get("published") else p.created_at
        at = min(at, now)  # a feed's clock may run ahead of ours
        kind = kind or recorded_kind(ev.get("doc_kind"), inc.released_at is None)
        release = svc.record_release(p.incident_id, channel=channel, url=ev.get("item_url") or "", at=at,
                                     text=ev.get("item_title") or "", kind=kind, actor=actor,
                                     source_item_id=p.item_id)
        store.decide_proposal(conn, p.id, "confirmed", now, release.id)
    return release


def reject_proposal(svc: "IncidentService", proposal_id: int, reason: str = "", actor: str | None = None) -> None:
    from responders.incidents import default_actor

    now, actor = svc.clock(), actor or default_actor()
    p = get_proposal(svc, proposal_id)
    if p.status != "proposed":
        raise InvalidValue(f"发布检测提议 #{p.id} 状态为 {p.status}，不能再驳回")
    with transaction(svc.db) as conn:
        store.decide_proposal(conn, p.id, "rejected", now)
        timeline.append(conn, p.incident_id, "release_rejected", actor, now,
                        {"proposal_id": p.id, "item_id": p.item_id, "reason": reason})
