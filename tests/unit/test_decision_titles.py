"""The rule telling an own-channel title that announces a 行政许可/行政处罚 decision (which starts the
7-working-day disclosure clock), measured on real titles (tests/data/decision_titles.tsv).
`python3 -m pytest -q -s tests/unit/test_decision_titles.py` prints precision and recall."""
from __future__ import annotations

from classifiers.decisions import decision_kind


def _labelled(test_data):
    rows = []
    for line in (test_data / "decision_titles.tsv").read_text("utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        label, title, _source = line.split("\t")
        rows.append((None if label == "none" else label, title))
    return rows


def test_precision_and_recall_on_real_titles(test_data):
    rows = _labelled(test_data)
    positives = sum(1 for gold, _ in rows if gold)
    assert positives >= 25 and len(rows) - positives >= 30
    found = [(gold, decision_kind(title), title) for gold, title in rows]
    tp = sum(1 for gold, got, _ in found if gold and got)
    fp = [title for gold, got, title in found if got and not gold]
    fn = [title for gold, got, title in found if gold and not got]
    wrong_kind = [title for gold, got, title in found if gold and got and gold != got]
    precision, recall = tp / (tp + len(fp)), tp / positives
    print(f"\ndecision titles: {positives} decisions, {len(rows) - positives} others; precision {precision:.2f}, "
          f"recall {recall:.2f}; missed: {fn}; false: {fp}")
    assert precision >= 0.95 and recall >= 0.9
    assert not wrong_kind


def test_the_notices_before_a_decision_and_the_rules_are_not_decisions():
    assert decision_kind("行政处罚事先告知书 汉环罚告字〔2026〕3号") is None
    assert decision_kind("关于印发《汉台区行政处罚裁量基准》的通知") is None
    assert decision_kind("汉台区行政许可事项清单（2026年版）") is None
    assert decision_kind("不予行政处罚决定书") is None
    assert decision_kind("汉台区市场监督管理局行政处罚决定书（汉台市监罚〔2026〕12号）") == "行政处罚"
    assert decision_kind("准予行政许可决定书（汉台水许决字〔2026〕3号）") == "行政许可"


def test_no_false_alarm_on_held_out_titles(test_data):
    rows = []
    for line in (test_data / "decision_titles_holdout.tsv").read_text("utf-8").splitlines():
        if not line.startswith("#") and line.strip():
            label, title, _source = line.split("\t")
            rows.append((label, title))
    assert len(rows) >= 20
    false = [title for label, title in rows if label == "none" and decision_kind(title)]
    print(f"\nheld-out titles: {len(rows)} non-decisions, {len(false)} false alarms: {false}")
    assert not false
