"""The jurisdiction matcher: every ambiguity rule from issue 3, with the bundled gazetteer."""
from __future__ import annotations

import pytest

from classifiers.gazetteer import Gazetteer
from classifiers.jurisdiction import JurisdictionMatcher
from classifiers.types import Jurisdiction
from yuqing.gazetteer_io import load_context_gazetteer, load_gazetteer

PU_ZHEN, BEIGUAN, DONGGUAN, WUXIANG, HANWANG = "610702100", "610702001", "610702005", "610702101", "610702106"
LONGJIANG, HANZHONGLU, ZONGYING, HEDONGDIAN = "610702009", "610702003", "610702104", "610702102"
LIANFENG = "610702100200"


@pytest.fixture(scope="module")
def m() -> JurisdictionMatcher:
    return JurisdictionMatcher(load_gazetteer(), context_gazetteer=load_context_gazetteer())


def ours(res: Jurisdiction) -> set[str]:
    return {p.code for p in res.places if p.in_district}


def place(res: Jurisdiction, code: str):
    return next(p for p in res.places if p.code == code)


# -- full official names count on their own ---------------------------------------------

@pytest.mark.parametrize("text,code", [
    ("河东店镇一处民房倒塌", HEDONGDIAN),
    ("铺镇发生一起交通事故", PU_ZHEN),
    ("汉台区铺镇开展安全检查", PU_ZHEN),
    ("汉中路街道办事处门口积水", HANZHONGLU),
])
def test_full_unique_name_counts_alone(m, text, code):
    res = m.match(text)
    assert res.involves_district and code in ours(res)
    assert place(res, code).reason.startswith("全称命中")
    assert place(res, code).level == "town" and place(res, code).county_code == "610702"


def test_district_name_counts(m):
    res = m.match("汉台区召开防汛工作会议")
    assert res.involves_district and place(res, "610702").level == "county"
    assert m.match("汉中市汉台区召开会议").involves_district


# -- 武乡 is also a county in Shanxi ------------------------------------------------------

def test_wuxiang_of_shanxi_is_not_ours(m):
    for text in ("山西武乡发现古墓", "山西省武乡县开展红色旅游", "武乡县八路军太行纪念馆"):
        res = m.match(text)
        assert not res.involves_district, text


def test_wuxiang_short_needs_context(m):
    assert not m.match("武乡一村民反映道路坑洼").involves_district
    res = m.match("汉中武乡一村民反映道路坑洼")
    assert WUXIANG in ours(res) and "简称命中，且文中有'汉中'语境" == place(res, WUXIANG).reason
    assert WUXIANG in ours(m.match("武乡一村民反映道路坑洼", local_source=True))
    assert "来源为本地" in place(m.match("武乡一村民反映", local_source=True), WUXIANG).reason
    assert WUXIANG in ours(m.match("武乡镇东村道路坑洼"))  # full name


# -- 汉中路 is a street in Nanjing and a Hantai street office ------------------------------

def test_nanjing_hanzhong_road(m):
    for text in ("南京汉中路地铁站客流大", "南京市汉中路一家餐馆起火", "上海汉中路站换乘"):
        res = m.match(text)
        assert not res.involves_district, text
        assert not any(p.code == "610700" for p in res.places), text  # 汉中 inside 汉中路 is not the city


def test_hanzhong_road_street_office_in_hantai(m):
    assert HANZHONGLU in ours(m.match("汉中路街道开展文明创建"))
    assert HANZHONGLU in ours(m.match("汉台区汉中路一处井盖破损"))


# -- 龙江 sits inside 黑龙江 ----------------------------------------------------------------

def test_longjiang_inside_heilongjiang(m):
    for text in ("黑龙江大雪封路", "黑龙江省龙江县遭遇暴雪", "中国十大优质粳稻龙江占4席"):
        assert not m.match(text).involves_district, text
    assert LONGJIANG in ours(m.match("汉台区龙江街道龙江村发生火灾"))
    assert LONGJIANG in ours(m.match("汉中龙江一工厂排污"))


# -- 汉王 is a company ---------------------------------------------------------------------

def test_hanwang_company_and_king(m):
    for text in ("汉王科技发布新品", "汉王上半年出现亏损", "刘邦被封为汉王，定都汉中", "汉王电纸书升级"):
        assert not m.match(text).involves_district, text
    res = m.match("汉王镇汉王村修路")
    assert {HANWANG, "610702106200"} <= ours(res)
    assert "同时提到下辖'汉王村'" in place(res, HANWANG).reason


# -- "武汉中考" contains 汉中 -------------------------------------------------------------

def test_wuhan_zhongkao_is_not_hanzhong(m):
    res = m.match("武汉中考成绩公布，北关中学排名第一")
    assert res.places == () and not res.involves_district
    assert m.match("英雄好汉中的一员").places == ()


# -- 北关/东关 exist in many cities -------------------------------------------------------------

def test_beiguan_dongguan_short_need_context(m):
    assert not m.match("北关一小区停水三天").involves_district
    assert not m.match("东关菜市场发生火灾").involves_district
    assert BEIGUAN in ours(m.match("汉中北关一小区停水三天"))
    assert DONGGUAN in ours(m.match("汉台东关菜市场发生火灾"))


def test_homonym_full_name_vetoed_by_other_place(m):
    res = m.match("安阳市北关区北关街道发生火灾")
    assert not res.involves_district
    assert any("未计入" in r for r in res.reasons)
    assert not m.match("徐州市铜山区汉王镇举办活动").involves_district
    # with no other place named, the full name counts, and says why
    res = m.match("东关街道办事处门口积水")
    assert DONGGUAN in ours(res) and "外地有同名" in place(res, DONGGUAN).reason


def test_short_name_must_be_a_word(m):
    assert not m.match("汉中七里香花园开业").involves_district
    assert not m.match("汉中市民游览老君山").involves_district
    assert "610702008" in ours(m.match("汉中七里街道一小区停电"))


# -- departments -------------------------------------------------------------------------

def test_generic_department_needs_district_context(m):
    res = m.match("区住建局回应小区漏水问题")
    assert res.departments == () and not res.involves_district
    assert any("可指任何区县" in r for r in res.reasons)
    res = m.match("汉台区住建局回应小区漏水问题")
    assert [d.name for d in res.departments] == ["区住建局"] and res.involves_district
    assert res.departments[0].official_name == "汉台区住房和城乡建设局"
    assert res.departments[0].reason == "部门全称命中"
    res = m.match("铺镇联丰村村民反映，区住建局至今未答复")
    assert [d.name for d in res.departments] == ["区住建局"]
    assert res.departments[0].reason.startswith("部门简称命中，且")


def test_department_aliases_and_former_names(m):
    assert m.match("汉台区住房和城乡建设局发布公告").departments[0].name == "区住建局"
    assert m.match("汉台住建回应").departments[0].name == "区住建局"
    assert m.match("汉台区卫计局已更名").departments[0].name == "区卫健局"
    assert m.match("汉中市公安局汉台分局通报一起案件").departments[0].name == "区公安分局"
    assert m.match("汉中市自然资源局汉台分局回应").departments[0].name == "国土汉台分局"


def test_other_places_departments_are_not_ours(m):
    for text in ("汉中市住建局发布通知", "汉台区居民称，市住建局已介入", "南郑区住建局回应", "国家统计局：汉台区GDP增长"):
        res = m.match(text)
        assert all(d.name != "区住建局" and d.name != "区统计局" for d in res.departments), text


# -- places in other counties of the city ------------------------------------------------

def test_other_county_places_have_their_own_code(m):
    res = m.match("城固县龙头镇新桥村村民反映道路问题")
    assert not res.involves_district
    assert {(p.code, p.in_district) for p in res.places} == {("610722", False), ("610722101", False)}
    res = m.match("汉中市南郑区大河坎镇发生交通事故")
    assert not res.involves_district
    assert place(res, "610703102").county_code == "610703" and place(res, "610703102").level == "town"
    res = m.match("勉县新铺镇发生山体滑坡")  # 新铺镇 contains 铺镇
    assert not res.involves_district and "610725114" in {p.code for p in res.places}


def test_other_county_mention_blocks_city_context_for_villages(m):
    # 新桥村 is also a village of 铺镇, but here 汉中 frames another county
    assert not m.match("汉中市城固县龙头镇新桥村村民反映").involves_district


# -- villages -------------------------------------------------------------------------------

def test_village_needs_town_or_district_context(m):
    res = m.match("联丰村村民反映道路问题")
    assert not res.involves_district
    res = m.match("铺镇联丰村村民反映道路问题")
    assert {PU_ZHEN, LIANFENG} <= ours(res)
    assert place(res, LIANFENG).level == "village"
    assert place(res, LIANFENG).reason == "村/社区名命中，且同时提到所属镇办'铺镇'"
    res = m.match("汉台区联丰村村民反映道路问题")
    assert LIANFENG in ours(res) and PU_ZHEN in ours(res)  # the town is inferred from the village
    assert place(res, PU_ZHEN).reason == "由'联丰村'推定所属镇办"


def test_unique_co_mention_of_town_and_village(m):
    res = m.match("宗营上街村路灯不亮")
    assert {ZONGYING, "610702104200"} <= ours(res)


def test_village_named_twice_in_the_district(m):
    res = m.match("汉台区莲花村村民反映")
    lotus = [p for p in res.places if p.level == "village"]
    assert len(lotus) == 2 and all("区内同名2处" in p.reason for p in lotus)
    res = m.match("铺镇莲花村村民反映")
    assert [p.code for p in res.places if p.level == "village"] == ["610702100218"]


def test_community_named_after_its_town(m):
    res = m.match("铺镇社区居民反映停水")
    assert "610702100003" in ours(res)


# -- results --------------------------------------------------------------------------------

def test_results_are_ordered_deduplicated_and_explained(m):
    res = m.match("铺镇联丰村停水，铺镇政府称联丰村管道破裂")
    codes = [p.code for p in res.places]
    assert codes == [PU_ZHEN, LIANFENG]
    assert all(p.reason and p.matched for p in res.places)
    assert res.reasons and all(isinstance(r, str) for r in res.reasons)


def test_nothing_found(m):
    assert m.match("") == Jurisdiction(reasons=("空文本",))
    assert m.match("今天天气不错") == Jurisdiction()
    assert m.match("北京市海淀区发布通知") == Jurisdiction()


def test_match_many(m):
    texts = ["河东店镇一处民房倒塌", "武汉中考", ""]
    assert m.match_many(texts) == [m.match(t) for t in texts]
    assert [r.involves_district for r in m.match_many(["北关停水"], local_source=True)] == [True]


def test_works_without_context_gazetteer():
    g = load_gazetteer()
    m = JurisdictionMatcher(g)
    assert PU_ZHEN in ours(m.match("铺镇发生火灾"))
    assert not m.match("区住建局回应").involves_district


def test_built_from_rows_alone():
    g = Gazetteer.from_rows(
        [{"code": "610702", "name": "汉台区", "level": "county"},
         {"code": "610702100", "name": "铺镇", "level": "town", "parent_code": "610702"},
         {"code": "610702100200", "name": "联丰村委会", "level": "village", "parent_code": "610702100"}],
        [{"name": "区住建局", "official_name": "汉台区住房和城乡建设局", "aliases": ["住建局"]}],
        district_code="610702")
    res = JurisdictionMatcher(g).match("汉台区铺镇联丰村，住建局回应")
    assert [p.code for p in res.places] == [PU_ZHEN, LIANFENG]
    assert [d.name for d in res.departments] == ["区住建局"]


def test_local_source_does_not_claim_another_countys_village(m):
    res = m.match("城固县龙头镇新桥村村民反映道路问题", local_source=True)
    assert not res.involves_district
    assert LIANFENG in ours(m.match("联丰村村民反映道路问题", local_source=True))


def test_foreign_place_vetoes_a_shared_town_name_only_when_written_against_it(m):
    assert not m.match("江苏徐州的汉王镇举办庙会").involves_district
    assert not m.match("汉王镇（徐州）举办庙会").involves_district
    res = m.match("西安游客在东关街道一饭店被宰")
    assert DONGGUAN in ours(res) and "前后无外地地名" in place(res, DONGGUAN).reason


def test_names_glued_together_are_still_words(m):
    # the segmenter alone reads 汉|台北|关 here
    res = m.match("汉台北关附近有人打架")
    assert {"610702", BEIGUAN} <= ours(res)



def test_landmark_names_its_town(m):
    res = m.match("石门栈道景区游客爆满")
    assert res.involves_district
    assert [(p.level, p.code) for p in res.places] == [("landmark", HEDONGDIAN), ("town", HEDONGDIAN)]
    assert res.places[0].reason == "本区地标命中"


def test_load_matcher_is_cached():
    from yuqing.gazetteer_io import load_matcher

    assert load_matcher() is load_matcher()
    assert load_matcher().match("铺镇发生火灾").involves_district


@pytest.mark.parametrize("text", [
    "诸葛亮被封为武乡侯，葬于汉中定军山",  # 武乡侯: a title, the segmenter keeps it whole
    "汉中游客在七里坪景区游玩",
    "汉中学者谈南北关系",
    "汉中盆地今冬降雪偏少",
])
def test_segmenter_rejects_names_inside_words(m, text):
    assert not m.match(text).involves_district


def test_reasons_do_not_depend_on_the_string_hash_seed():
    """The context a village is counted by is the first town found, not a set's first element
    (which changes with PYTHONHASHSEED from one desk process to the next)."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("from classifiers.jurisdiction import JurisdictionMatcher\n"
            "from yuqing.gazetteer_io import load_matcher\n"
            "m = load_matcher(None)\n"
            "r = m.match('七里街道这边有工地拖欠工资。北关街道这边燃气具质量存在安全隐患。莲湖社区居民反映村务不公开。')\n"
            "print([(p.name, p.reason) for p in r.places])\n")
    outs = set()
    for seed in ("1", "2", "3", "4", "5", "6"):
        done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], text=True,
                              capture_output=True, env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}, timeout=120)
        assert done.returncode == 0, done.stderr
        outs.add(done.stdout)
    assert len(outs) == 1
    assert "村/社区名命中，且文中有本区语境'七里街道'" in outs.pop()
