"""Sentiment on government news: events outweigh praise, boilerplate is neutral, names carry none.

Through the public CLI (``yuqing classify``, ``yuqing eval sentiment``) on the bundled lexicon, plus
the rules on a small hand-made lexicon.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from classifiers.sentiment import SentimentAnalyzer, SentimentLexicon, parse_sections
from yuqing.cli import cli

DATA = Path(__file__).resolve().parents[1] / "data"


def _classify(tmp_path, titles):
    lines = "\n".join(json.dumps({"id": i, "title": t, "text": ""}, ensure_ascii=False) for i, t in enumerate(titles))
    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "classify", "-"], input=lines + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return [o["sentiment"]["label"] if isinstance(o["sentiment"], dict) else o["sentiment"] for o in out]


def test_issue_examples_through_classify(tmp_path):
    titles = ["勉县新铺镇发生山火", "村民在镇政府门口聚集，情绪激动", "某局干部被曝收红包", "全区安全生产工作会议召开",
              "区政府召开常务会议，研究部署下阶段工作，强调要坚决遏制重特大事故发生",
              "铺镇一小区发生火灾，未造成人员伤亡", "汉台区获评省级食品安全示范区，群众纷纷点赞"]
    assert _classify(tmp_path, titles) == ["负面", "负面", "负面", "中性", "中性", "负面", "正面"]


def _eval(tmp_path, name):
    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "eval", "sentiment", str(DATA / name), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("name, floor", [
    ("sentiment_gov.jsonl", 0.88),  # the set the government rules were written against (0.918)
    ("sentiment_gov_holdout.jsonl", 0.78),  # labelled before the rules were run on it (0.818)
])
def test_labelled_government_items(tmp_path, name, floor):
    m = _eval(tmp_path, name)
    print(f"\n{name}: accuracy {m['accuracy']:.3f} macro-F1 {m['macro_f1']:.3f} on {m['n']} items")
    assert m["n"] >= 30
    assert m["accuracy"] >= floor


@pytest.fixture
def small():
    lex = SentimentLexicon(positive={"顺利": 1.0, "幸福": 1.5, "健康": 1.0}, negative={"差": 1.0, "急": 0.6},
                           negation=frozenset({"未", "没有"}),
                           events={"山火": 2.5, "伤亡": 2.5, "事故": 2.0}, praise={"表彰": 2.0},
                           boilerplate=frozenset({"召开", "会议"}), prevention=frozenset({"遏制", "防范"}),
                           names=frozenset({"区卫生健康局", "应急"}))
    return SentimentAnalyzer(lex)


def test_event_outweighs_generic_praise(small):
    assert small.analyze("山火顺利扑灭，大家很幸福").label == "负面"


def test_negated_event_is_nothing_not_praise(small):
    r = small.analyze("未造成人员伤亡")
    assert r.label == "中性" and r.score == 0.0


def test_prevented_event_is_neutral(small):
    assert small.analyze("坚决遏制重特大事故发生").label == "中性"
    assert small.analyze("发生重特大事故").label == "负面"


def test_boilerplate_damps_generic_words_not_praise(small):
    assert small.analyze("会议顺利召开").label == "中性"
    assert small.analyze("召开表彰大会").label == "正面"
    assert small.analyze("召开会议，通报山火情况").label == "负面"


def test_place_and_department_names_carry_no_sentiment(small):
    assert small.analyze("幸福镇召开村民大会").label == "中性"
    assert small.analyze("幸福路").label == "中性"
    assert small.analyze("区卫生健康局应急").label == "中性"
    # an ordinary word after the suffix: not a name
    assert small.analyze("幸福村民").label == "正面"


def test_misspelt_section_is_named(tmp_path):
    import shutil

    from yuqing.classify_io import LEXICON_DIR, ClassifyDataError, load_sentiment_lexicon

    lex = tmp_path / "lexicons"
    shutil.copytree(LEXICON_DIR, lex)
    (lex / "sentiment_gov.txt").write_text("[events]\n山火\t2\n", encoding="utf-8")
    with pytest.raises(ClassifyDataError, match=r"unknown section \[events\]"):
        load_sentiment_lexicon(lex)


def test_parse_sections():
    assert parse_sections(["# c", "[event]", "山火\t2", "[boilerplate]", "召开"]) == {
        "event": {"山火": 2.0}, "boilerplate": {"召开": 1.0}}
    with pytest.raises(ValueError, match="before any"):
        parse_sections(["山火"])
