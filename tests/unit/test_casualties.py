"""The casualty parser: a table of real headline phrasings, and properties of the binding."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.casualties import parse_casualties, parse_number
from classifiers.normalize import normalize
from classifiers.severity import counts_of, estimate_severity, extract_counts

TABLE = Path(__file__).resolve().parents[1] / "data" / "casualty_headlines.tsv"
FIELDS = ("deaths", "missing", "trapped", "injured", "serious", "minor", "poisoned", "hospital", "gathering")
# Real phrasings the parser still reads wrong: what each needs is beyond binding numbers to nouns.
KNOWN_WRONG = {
    # the 5 are counted in the clause before the one that says they were poisoned
    "5人疑似因使用煤炭炉取暖,发生一氧化碳中毒,其中4人因中毒严重,抢救无效后死亡,1人经救治脱离生命危险。",
    # "the 28 missing" are resolved by the rest of the sentence (25 dead, 3 safe)
    "此前通報的28名失聯人員,根據DNA技術檢測,已確認死亡25人,另外3人平安並已取得聯繫。",
    # one of the two deaths is "该村民", with no numeral to read
    "该村民在爆炸中身亡,并造成另外1人当场死亡,4人受伤。",
}


def _rows():
    with TABLE.open(encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


ROWS = _rows()


def _read(text: str):
    text = normalize(text).text  # as the pipeline sees it: Simplified, half-width digits
    return extract_counts(text), estimate_severity(text)


def test_the_table_is_big_and_mostly_real():
    real = [r for r in ROWS if r["origin"] == "report"]
    assert len(real) >= 150
    assert {r["grade"] for r in ROWS} == {"一般", "较大", "重大", "特别重大"}
    assert len({r["text"] for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", [pytest.param(r, id=r["text"][:24], marks=pytest.mark.xfail(strict=True))
                                 if r["text"] in KNOWN_WRONG else pytest.param(r, id=r["text"][:24])
                                 for r in ROWS])
def test_table_row(row):
    counts, severity = _read(row["text"])
    assert {f: getattr(counts, f) for f in FIELDS} == {f: int(row[f]) for f in FIELDS}
    assert severity.level == row["grade"]


def test_table_accuracy():
    exact = grade = 0
    for row in ROWS:
        counts, severity = _read(row["text"])
        exact += all(getattr(counts, f) == int(row[f]) for f in FIELDS)
        grade += severity.level == row["grade"]
    assert exact >= len(ROWS) - len(KNOWN_WRONG)
    assert grade >= len(ROWS) - 1


# --- properties -------------------------------------------------------------------------------

WORDS = ["3", "12", "35", "三", "十二", "数十", "两", "多", "人", "名", "位", "乘客", "矿工", "村民", "死亡", "遇难", "受伤",
         "重伤", "轻伤", "失联", "被困", "中毒", "送医", "聚集", "死", "伤", "人数", "升至", "增至", "其中", "另有",
         "未造成", "无人", "人员伤亡", "，", "、", " ", "致", "造成", "已", "中", "余", "均"]
fragments = st.lists(st.sampled_from(WORDS), max_size=12).map("".join)


def _mentions(text):
    return [(m.kind, m.low, m.high, m.noun) for m in parse_casualties(text).mentions]


@settings(max_examples=400, deadline=None)
@given(fragments, fragments, st.sampled_from(["。", "！", "？", "\n"]))
def test_a_number_never_binds_across_a_sentence(a, b, stop):
    # each sentence is read on its own: the whole gives exactly what the two give apart.
    # "；" joins clauses of one sentence: an earlier clause may license a short form such as
    # "3多死" in the next one ("死亡；3多死"), so it is no sentence end here.
    assert _mentions(a + stop + b) == _mentions(a) + _mentions(b)


NON_CASUALTY = ["名乘客中", "辆车", "万元", "年", "号", "层", "米", "公里", "岁", "时", "日", "间民房", "起事故", "个村"]


@settings(max_examples=400, deadline=None)
@given(fragments, st.integers(100, 999), st.sampled_from(NON_CASUALTY), st.sampled_from(["", "，", "死亡", "受伤"]),
       st.booleans())
def test_a_number_next_to_a_non_casualty_noun_never_becomes_a_casualty(text, n, unit, glue, before):
    odd = f"{n}{unit}"
    mixed = odd + glue + text if before else text + glue + odd
    assert all(m.low != n for m in parse_casualties(mixed).mentions)


UNRELATED = ["汉台区召开全区安全生产工作会议", "市政府与3家企业签约，总投资12亿元", "2024年12月5日上午，北关街道开展演练",
             "第十二届运动会开幕，共有两千名运动员参加", "其中包括5名代表", "天气晴，气温3至12度", "铺镇一中举行家长会"]


@settings(max_examples=300, deadline=None)
@given(fragments, st.sampled_from(UNRELATED), st.booleans())
def test_an_unrelated_sentence_never_changes_the_result(text, other, before):
    alone = counts_of(parse_casualties(text))
    joined = other + "。" + text if before else text + "。" + other
    assert counts_of(parse_casualties(joined)) == alone


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, value)
        if d:
            if zero:
                out += "零"
            out += ("" if (value == 10 and not out and d == 1) else digits[d]) + unit
            zero = False
        elif out:
            zero = True
    return out


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 9999))
def test_chinese_numerals_read_back(n):
    assert parse_number(_cn(n)) == (n, n, False)
    assert parse_number(str(n)) == (n, n, False)


@pytest.mark.parametrize("raw, low, high", [
    ("十余", 10, 19), ("数十", 20, 99), ("几十", 20, 99), ("近百", 90, 99), ("上百", 100, None), ("百余", 100, 199),
    ("数百", 200, 999), ("二十多", 20, 29), ("20多", 20, 29), ("300余", 300, 399), ("三四十", 30, 40), ("两三", 2, 3),
    ("十七八", 17, 18), ("多", 2, None), ("5万多", 50000, 59999),
])
def test_vague_amounts_keep_bounds(raw, low, high):
    assert parse_number(raw) == (low, high, True)


@pytest.mark.parametrize("text, expect", [
    ("铺镇客车侧翻 1人死亡35人受伤", {"deaths": 1, "injured": 35}),
    ("2人死亡5人受伤", {"deaths": 2, "injured": 5}),
    ("死亡2人受伤3人", {"deaths": 2, "injured": 3}),
    ("致1人死亡、35人受伤", {"deaths": 1, "injured": 35}),
    ("死亡9人，受伤14人", {"deaths": 9, "injured": 14}),
    ("死亡人数升至12人", {"deaths": 12}),
    ("已造成3死27伤", {"deaths": 3, "injured": 27}),
    ("另有5人被困", {"trapped": 5}),
    ("35名乘客中1人死亡", {"deaths": 1}),
    ("事故造成3人死亡，次日死亡人数增至5人", {"deaths": 5}),
    ("失踪人数由15人减少为9人", {"missing": 9}),
    ("无人死亡，2人受伤", {"injured": 2}),
    ("一死两重伤四轻伤", {"deaths": 1, "serious": 2, "minor": 4}),
    ("数十名村民聚集在镇政府门口", {"gathering": 20}),
    ("３５人受伤", {"injured": 35}),
])
def test_issue_forms(text, expect):
    c = extract_counts(text)
    assert {f: getattr(c, f) for f in FIELDS if getattr(c, f)} == expect


def test_negations_and_groups_are_reported():
    r = parse_casualties("事故未造成人员伤亡，所幸无人死亡。车上35名乘客中1人受伤")
    assert set(r.negated) == {"伤亡", "死亡"}
    assert r.groups == ("35名乘客中",)
    assert [(m.kind, m.low) for m in r.mentions] == [("injured", 1)]


def test_vague_figures_are_flagged_with_bounds():
    m = parse_casualties("近百人中毒").figure("poisoned")
    assert (m.low, m.high, m.vague, m.raw) == (90, 99, True, "近百")
    assert m.number_text == "90–99"
