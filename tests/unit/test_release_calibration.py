"""Release detection measured on a labelled set: tests/data/release_calibration.jsonl.

Each item of the set is an own-channel item labelled against one incident: a release of it (and
of which kind) or not (专项整治 notices, meetings, inspection campaigns, a superior's supervision
notice, statistics 通报, another place's 通报 or rumour refutation, routine notices). Every
release is also scored against every other incident of the set: an answer to another event is
never a release of this one. Auto-confirm must be right every time on the set; recall is reported.

    python3 -m pytest -q -s tests/unit/test_release_calibration.py   # prints precision and recall
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from classifiers.release_kind import release_kind, title_style
from responders.release_detect import AUTO_CONFIRM_THRESHOLD, PROPOSE_THRESHOLD, recorded_kind, score_item
from responders.types import Incident, OwnChannelItem

SET = Path(__file__).resolve().parents[1] / "data" / "release_calibration.jsonl"


def _load():
    rows = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    incidents = {r["id"]: r for r in rows if r["type"] == "incident"}
    items = [r for r in rows if r["type"] == "item"]
    return incidents, items


def _incident(r: dict) -> Incident:
    t = datetime.fromisoformat(r["first_published"])
    return Incident(1, r["title"], "发现", "一般", "一般", "待核实", "其他", t, t, t, t, t, t,
                    places=tuple(r["places"]), departments=tuple(r["units"]), responsible_units=tuple(r["units"]))


def _item(r: dict) -> OwnChannelItem:
    published = datetime.fromisoformat(r["published"]) if r.get("published") else None
    return OwnChannelItem("1", r["title"], r["opening"], r.get("url") or "", published, "own", "own", "本级政府网站")


@pytest.fixture(scope="module")
def scored():
    """[(score, is_release, item row, incident id, evidence)] for labelled and cross pairs."""
    incidents, items = _load()
    built = {iid: _incident(r) for iid, r in incidents.items()}
    out = []
    for r in items:
        for iid, inc in built.items():
            if iid != r["incident"] and not r["release"]:
                continue  # non-releases are scored against the incident they are labelled for
            score, ev = score_item(_item(r), inc, incidents[iid]["evidence_titles"])
            out.append((score, r["release"] and iid == r["incident"], r, iid, ev))
    return out


def _pr(scored, threshold):
    tp = sum(1 for s, y, *_ in scored if s >= threshold and y)
    fp = sum(1 for s, y, *_ in scored if s >= threshold and not y)
    pos = sum(1 for _, y, *_ in scored if y)
    return (tp / (tp + fp) if tp + fp else 1.0), tp / pos, tp, fp, pos


def test_the_set_is_big_enough_and_has_hard_negatives():
    incidents, items = _load()
    assert len(items) >= 80 and len(incidents) >= 20
    negatives = [r for r in items if not r["release"]]
    assert sum(1 for r in negatives if title_style(r["title"])[0] == "measure") >= 20
    assert sum(1 for r in negatives if title_style(r["title"])[0] == "release") >= 5  # 通报 that are not releases
    assert {r["kind"] for r in items if r["release"]} == {"authoritative", "progress", "final"}


def test_auto_confirm_is_always_right_on_the_set(scored):
    precision, recall, tp, fp, pos = _pr(scored, AUTO_CONFIRM_THRESHOLD)
    print(f"\n自动确认（置信度 ≥ {AUTO_CONFIRM_THRESHOLD}）：precision {precision:.3f}（{tp}/{tp + fp}），"
          f"recall {recall:.3f}（{tp}/{pos}），共 {len(scored)} 对")
    wrong = [(s, r["title"], iid) for s, y, r, iid, _ in scored if s >= AUTO_CONFIRM_THRESHOLD and not y]
    assert precision == 1.0, wrong
    assert recall >= 0.5  # a floor: below it, auto-confirm stops being useful
    # The threshold is calibrated, not guessed: the highest-scoring non-release stays below it.
    worst = max(s for s, y, *_ in scored if not y)
    print(f"最高分的非发布：{worst:.2f}")
    assert worst < AUTO_CONFIRM_THRESHOLD


def test_proposals_catch_most_releases(scored):
    precision, recall, tp, fp, pos = _pr(scored, PROPOSE_THRESHOLD)
    print(f"\n提议（置信度 ≥ {PROPOSE_THRESHOLD}）：precision {precision:.3f}（{tp}/{tp + fp}），"
          f"recall {recall:.3f}（{tp}/{pos}）")
    assert recall >= 0.9


def test_related_measures_are_never_proposed(scored):
    for s, y, r, iid, ev in scored:
        if not y and title_style(r["title"])[0] == "measure":
            assert s < PROPOSE_THRESHOLD, (r["title"], ev["why"])


def test_release_kind_comes_from_the_document():
    _, items = _load()
    releases = [r for r in items if r["release"]]
    right = sum(1 for r in releases if release_kind(r["title"], r["opening"])[0] == r["kind"])
    print(f"\n发布类型（标题与开头）：{right}/{len(releases)} 正确")
    for r in releases:
        kind, why = release_kind(r["title"], r["opening"])
        if kind is not None:  # a title with a kind word is always read right
            assert kind == r["kind"], (r["title"], why)
    assert right >= len(releases) - 2


@pytest.mark.parametrize("title, opening, kind", [
    ("关于铺镇启航学校学生食源性疾病事件处置结果的通报", "", "final"),  # 处置结果 wins over 通报
    ("关于十八里店乡白墙子村“11·18”火灾事故调查处理结果的通报", "", "final"),
    ("泊口镇人民政府关于郭野冲村民反映渠边道路坍塌风险的调查报告", "", "final"),
    ("关于铺镇启航学校学生身体不适事件进展情况的通报", "", "progress"),
    ("关于天镇县客车遇险失联搜救进展情况的续报", "", "progress"),
    ("4名失联地质人员最新搜救情况：普洱玉溪已出动救援力量3000余人次", "", "progress"),
    ("关于网上发布丹凤骡马队相关信息的情况说明", "", "authoritative"),
    ("街道办回应“龙岗一路段地面有油污”：已清洁", "", "authoritative"),
    ("虹口公安分局警情通报", "", "authoritative"),
    # The opening decides when the title only says 通报; a promise of results to come does not.
    ("关于启航学校有关情况的通报", "经调查，现将处置结果通报如下：", "final"),
    ("关于铺镇启航学校部分学生身体不适情况的通报", "调查处置结果将及时向社会公布。", "authoritative"),
    ("汉台区关于开展校园食品安全专项整治的通知", "", None),
])
def test_release_kind_on_titles(title, opening, kind):
    assert release_kind(title, opening)[0] == kind


def test_recorded_kind_follows_the_incident():
    assert recorded_kind("final", True) == "final"
    assert recorded_kind("authoritative", False) == "progress"  # a second 情况通报 is a follow-up
    assert recorded_kind("progress", True) == "authoritative"  # the first release is the authoritative one
    assert recorded_kind(None, True) == "authoritative"
