"""Quality of the jurisdiction matcher, measured (run with -s to see the numbers):

- national news titles (THUCNews dev + TNEWS) attributed to Hantai: goal <= 0.1 %
- town recall on template messages naming Hantai towns and villages: goal >= 0.95
- places in other Hanzhong counties attributed to Hantai: goal <= 2 %

The first and third read ../shared (skipped without it); the recall set is built from
the bundled gazetteer. Nothing from ../shared is copied into the repo.
"""
from __future__ import annotations

import csv
import json
import random

import pytest

from classifiers.gazetteer import derive_short_names
from classifiers.jurisdiction import JurisdictionMatcher
from yuqing.gazetteer_io import load_context_gazetteer, load_gazetteer

pytestmark = pytest.mark.shared

TOWN_TEMPLATES = (
    "{town}{village}村民反映村里道路坑洼不平，希望尽快修复。",
    "汉台区{town}{village}居民反映小区楼道灯长期不亮。",
    "我是{town}的居民，{town}街上有人乱倒建筑垃圾。",
    "汉中{tshort}一处工地夜间施工噪音扰民，多次反映无果。",
    "{village}（{town}）村民反映自来水浑浊，饮水困难。",
    "关于汉台区{village}拆迁补偿款迟迟不到位的问题",
    "汉中市汉台区{town}发生一起交通事故，一人受伤。",
    "{tshort}{village}的路灯坏了一个月没人修",
    "网友爆料：{town}{village}一养殖场污水直排河道",
    "汉台{tshort}街道办门口积水严重，居民出行不便",
    "在西安打工的{town}{village}村民反映工资被拖欠",
    "{village}村委会私自占用耕地，地址：汉中市汉台区{tshort}",
    "【汉台】{town}开展安全生产大检查",
    "汉台区{tshort}镇{village}一民房失火",
    "西安、宝鸡等地也有类似情况，{town}{village}尤为严重",
    "据北京青年报报道，{town}一家企业拖欠工人工资",
    "12345热线：来电人反映{town}{village}二组有人焚烧秸秆",
)
OTHER_TEMPLATES = (
    "{county}{town}{village}村民反映道路坑洼不平",
    "汉中市{county}{town}发生一起交通事故",
    "{town}{village}村民反映饮水困难",
    "汉中{cshort}{town}一工地拖欠农民工工资",
    "{village}（{county}{town}）居民反映垃圾清运不及时",
)


@pytest.fixture(scope="module")
def matcher() -> JurisdictionMatcher:
    return JurisdictionMatcher(load_gazetteer(), context_gazetteer=load_context_gazetteer())


def _town_messages(seed: int = 7):
    gaz = load_gazetteer()
    rng = random.Random(seed)
    out = []
    for town in gaz.towns:
        villages = gaz.children(town.code)
        tshort = town.short_names[0] if town.short_names else town.name
        for i, template in enumerate(TOWN_TEMPLATES):
            if "{tshort}" in template and not town.short_names and "街道" in template:
                continue
            village = rng.choice(villages) if villages else None
            vname = (village.short_names or (village.name,))[0] if village else ""
            if "{village}" in template and village is None:
                continue
            text = template.format(town=town.name, tshort=tshort, village=vname)
            out.append((text, town.code))
    # every village at least once, with its town's short or full name or district context
    for i, village in enumerate(gaz.villages):
        town = gaz.division(village.parent_code)
        vname = (village.short_names or (village.name,))[0]
        template = TOWN_TEMPLATES[(0, 1, 4, 5, 8)[i % 5]]
        tshort = town.short_names[0] if town.short_names else town.name
        out.append((template.format(town=town.name, tshort=tshort, village=vname), town.code))
    return out


def test_town_recall_on_hantai_messages(matcher):
    messages = _town_messages()
    gaz = load_gazetteer()
    shared_names = {v.short_names[0] for v in gaz.villages if v.short_names
                    if sum(1 for w in gaz.villages if w.short_names and w.short_names[0] == v.short_names[0]) > 1}
    found = 0
    missed = []
    for text, town_code in messages:
        res = matcher.match(text)
        codes = {p.code for p in res.places if p.in_district}
        if town_code in codes or (any(n in text for n in shared_names) and res.involves_district
                                  and town_code not in text):
            found += 1
        else:
            missed.append((text, res.reasons))
    recall = found / len(messages)
    print(f"\ntown recall: {found}/{len(messages)} = {recall:.4f}")
    for text, reasons in missed[:15]:
        print("  missed:", text, reasons)
    assert recall >= 0.95


def _titles(shared):
    corpora = shared / "corpora"
    titles = [line.split("\t")[0] for line in (corpora / "thucnews_titles" / "dev.txt").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    for name in ("dev_few_all.json", "train_few_all.json"):
        path = corpora / "tnews" / name
        if path.exists():
            titles += [json.loads(line)["sentence"] for line in path.read_text(encoding="utf-8").splitlines()
                       if line.strip()]
    return titles


def test_national_news_rarely_attributed_to_hantai(matcher, shared_data):
    titles = _titles(shared_data)
    hits = [(t, r.reasons) for t, r in zip(titles, matcher.match_many(titles)) if r.involves_district]
    rate = len(hits) / len(titles)
    print(f"\nnational news attributed to Hantai: {len(hits)}/{len(titles)} = {rate:.4%}")
    for t, reasons in hits[:10]:
        print("  ", t, reasons)
    assert rate <= 0.001


def test_other_hanzhong_counties_not_attributed_to_hantai(matcher, shared_data):
    with open(shared_data / "divisions_hanzhong.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_code = {r["code"]: r for r in rows}
    rng = random.Random(11)
    towns = [r for r in rows if r["level"] == "town" and not r["code"].startswith("610702")]
    messages = []
    for town in towns:
        county = by_code[town["parent_code"]]
        villages = [r for r in rows if r["parent_code"] == town["code"]]
        for template in OTHER_TEMPLATES:
            village = rng.choice(villages) if villages else None
            if village is None and "{village}" in template:
                continue
            vname = (derive_short_names(village["name"], "village") or (village["name"],))[0] if village else ""
            cshort = (derive_short_names(county["name"], "county") or (county["name"],))[0]
            messages.append(template.format(county=county["name"], cshort=cshort, town=town["name"],
                                            village=vname))
    wrong = [(m, r.reasons) for m, r in zip(messages, matcher.match_many(messages)) if r.involves_district]
    rate = len(wrong) / len(messages)
    print(f"\nother-county messages attributed to Hantai: {len(wrong)}/{len(messages)} = {rate:.2%}")
    for m, reasons in wrong[:10]:
        print("  ", m, reasons)
    assert rate <= 0.02
