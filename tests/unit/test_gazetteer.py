"""The gazetteer: bundled Hantai data, row validation, department forms, county import, CLI."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from classifiers.gazetteer import Gazetteer, GazetteerError, derive_short_names
from classifiers.jurisdiction import JurisdictionMatcher
from yuqing.cli import cli
from yuqing.gazetteer_io import gazetteer_dir, import_county_csv, load_context_gazetteer, load_gazetteer

HANTAI_TOWNS = ["北关街道", "东大街街道", "汉中路街道", "中山街街道", "东关街道", "鑫源街道", "七里街道", "龙江街道",
                "铺镇", "武乡镇", "河东店镇", "宗营镇", "老君镇", "汉王镇", "徐望镇"]

# a tiny county in the divisions_hanzhong.csv format (names made up, codes well-formed)
SMALL_CSV = """code,name,level,parent_code,short_name,source,mca2025_code
610000,陕西省,province,,陕西,NBS2023,610000
610700,汉中市,city,610000,汉中,NBS2023,610700
610702,汉台区,county,610700,汉台,NBS2023,610702
610703,南郑区,county,610700,南郑,NBS2023,610703
610702001,北关街道,town,610702,,NBS2023,610702001
610702100,铺镇,town,610702,,NBS2023,610702100
610702100200,联丰村委会,village,610702100,联丰村,NBS2021,
610702001001,人民路居委会,village,610702001,人民路社区,NBS2021,
610703101,圣水镇,town,610703,,NBS2023,610703101
610703101200,圣水村委会,village,610703101,,NBS2021,
"""


@pytest.mark.parametrize("name,level,expected", [
    ("北关街道", "town", ("北关",)),
    ("东大街街道", "town", ("东大街",)),
    ("铺镇", "town", ()),
    ("河东店镇", "town", ("河东店",)),
    ("人民路居委会", "village", ("人民路社区",)),
    ("黄家塘社区居民委员会", "village", ("黄家塘社区",)),
    ("太白社区居委会", "village", ("太白社区",)),
    ("汉源社区居委员会", "village", ("汉源社区",)),
    ("联丰村委会", "village", ("联丰村",)),
    ("褒姒村民委员会", "village", ("褒姒村",)),
    ("汉台区", "county", ("汉台",)),
    ("洋县", "county", ()),
    ("汉中市", "city", ("汉中",)),
])
def test_short_names(name, level, expected):
    assert derive_short_names(name, level) == expected


def test_bundled_hantai_gazetteer():
    g = load_gazetteer()
    assert g.district_code == "610702" and g.district_name == "汉台区"
    assert [t.name for t in g.towns] == HANTAI_TOWNS
    assert len(g.villages) == 222
    assert all(len(v.code) == 12 and v.code.startswith("610702") for v in g.villages)
    assert g.division("610702100").short_names == ()  # 铺镇: a 1-character stem is too short
    assert g.division("610702001").short_names == ("北关",)
    assert g.division("610702100200").short_names == ("联丰村",)
    assert g.division("610702001001").short_names == ("人民路社区",)
    # MCA codes differ from NBS codes for some towns; both find the town
    assert g.division("610702006").mca2025_code == "610702007"
    assert g.division("610702007").name == "鑫源街道"
    assert g.division("999") is None
    # towns shared with other places in China are flagged
    assert g.division("610702005").homonyms > 0 and g.division("610702100").homonyms == 0


def test_bundled_departments_and_forms():
    g = load_gazetteer()
    zj = g.department("住建局")
    assert zj.name == "区住建局" and zj.official_name == "汉台区住房和城乡建设局"
    assert "住房保障" in zj.domains
    assert g.department("区卫计局").name == "区卫健局"
    assert g.department("区城市管理执法局").name == "区城管局"
    assert g.department("国土汉台分局").official_name == "汉中市自然资源局汉台分局"
    forms = g.department_forms()
    assert forms["汉台区住建局"][1] is True  # names the district: stands alone
    assert forms["汉台区住房和城乡建设局"][1] is True
    assert forms["区住建局"][1] is False and forms["住建局"][1] is False
    names = {d.name for d in g.departments}
    for needed in ("区委宣传部", "区政府办公室", "区委督查室", "区政府督查室", "区教体局", "区人社局", "区民政局",
                   "区财政局", "区审计局", "区行政服务中心", "区信息中心", "区保障性住房管理中心", "国土汉台分局"):
        assert needed in names


def test_user_words():
    words = set(load_gazetteer().user_words())
    assert {"联丰村", "铺镇", "北关街道", "区住建局", "汉台区住房和城乡建设局", "汉台"} <= words
    assert "北关" not in words and "汉王" not in words  # bare town stems: judged by the segmenter


def test_context_gazetteer_is_the_rest_of_the_city():
    c = load_context_gazetteer()
    assert c.district_code == "610700" and c.district_name == "汉中市"
    counties = [d for d in c.divisions.values() if d.level == "county"]
    assert len(counties) == 10 and all(d.code != "610702" for d in counties)
    assert not any(code.startswith("610702") for code in c.divisions)
    assert 150 <= len(c.divisions) <= 200
    assert not any(d.level == "village" for d in c.divisions.values())


@pytest.mark.parametrize("row,message", [
    ({"code": "610702", "name": "汉台区", "level": "county"}, None),
    ({"code": "61070", "name": "x", "level": "county"}, "must be 6 digits"),
    ({"code": "610702001", "name": "北关街道", "level": "township"}, "unknown level"),
    ({"code": "610702001", "name": "", "level": "town"}, "name is empty"),
    ({"code": "610702001", "name": "北关街道", "level": "town", "homonyms": "many"}, "not a number"),
])
def test_from_rows_names_the_bad_row(row, message):
    rows = [{"code": "610702", "name": "汉台区", "level": "county", "parent_code": "610700"}]
    if message is None:
        assert Gazetteer.from_rows(rows, district_code="610702").district_name == "汉台区"
        return
    with pytest.raises(GazetteerError, match=message) as err:
        Gazetteer.from_rows(rows + [row], district_code="610702")
    assert "division row 2" in str(err.value)


def test_from_rows_errors():
    rows = [{"code": "610702", "name": "汉台区", "level": "county"}]
    with pytest.raises(GazetteerError, match="duplicate code"):
        Gazetteer.from_rows(rows * 2, district_code="610702")
    with pytest.raises(GazetteerError, match="district 610703 is not among"):
        Gazetteer.from_rows(rows, district_code="610703")
    with pytest.raises(GazetteerError, match="department 2 .*duplicate"):
        Gazetteer.from_rows(rows, [{"name": "区住建局"}, {"name": "区住建局"}], district_code="610702")
    with pytest.raises(GazetteerError, match="landmark row 1"):
        Gazetteer.from_rows(rows, landmarks=[{"name": "某塔", "code": "999999"}], district_code="610702")


@pytest.fixture
def small_csv(tmp_path) -> Path:
    path = tmp_path / "divisions.csv"
    path.write_text(SMALL_CSV, encoding="utf-8")
    return path


def test_import_any_county(small_csv, tmp_path):
    out = tmp_path / "nz"
    summary = import_county_csv(small_csv, "610703", out)
    assert summary["county"] == "南郑区" and summary["towns"] == 1 and summary["villages"] == 1
    assert sorted(p.name for p in out.iterdir()) == ["context.csv", "departments.toml", "divisions.csv"]
    g = load_gazetteer(out)
    assert g.district_code == "610703" and [t.name for t in g.towns] == ["圣水镇"]
    assert g.division("610703101200").short_names == ("圣水村",)
    assert g.departments == []  # the template has only comments
    c = load_context_gazetteer(out)
    assert c.district_code == "610700" and "610702" in c.divisions and "610702100" in c.divisions
    m = JurisdictionMatcher(g, context_gazetteer=c)
    res = m.match("汉中市南郑区圣水镇圣水村村民反映道路问题")
    assert res.involves_district and {"610703101", "610703101200"} <= {p.code for p in res.places}
    res = m.match("汉台区铺镇发生火灾")  # now another county of the city
    assert not res.involves_district
    assert [(p.code, p.in_district) for p in res.places if p.level == "county"] == [("610702", False)]


def test_import_keeps_an_existing_departments_file(small_csv, tmp_path):
    out = tmp_path / "g"
    out.mkdir()
    (out / "departments.toml").write_text('[[department]]\nname = "区住建局"\n', encoding="utf-8")
    import_county_csv(small_csv, "610702", out)
    assert load_gazetteer(out).department("区住建局") is not None


def test_import_unknown_county_is_clear(small_csv, tmp_path):
    with pytest.raises(GazetteerError, match="unknown county code '610799'.*610702 汉台区"):
        import_county_csv(small_csv, "610799", tmp_path / "x")
    with pytest.raises(GazetteerError, match="unknown county code '610702001'"):
        import_county_csv(small_csv, "610702001", tmp_path / "x")


def test_import_names_bad_rows(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(SMALL_CSV + "61070210,坏行,village,610702100,,,\n610702102,,town,610702,,,\nx,y,hamlet,1,,,\n",
                   encoding="utf-8")
    with pytest.raises(GazetteerError) as err:
        import_county_csv(bad, "610702", tmp_path / "x")
    text = str(err.value)
    assert "3 bad row(s)" in text
    assert "row 12 (坏行): code '61070210' must be 12 digits" in text
    assert "row 13 (610702102): name is empty" in text
    assert "row 14 (x): unknown level 'hamlet'" in text
    assert not (tmp_path / "x").exists()  # nothing half-written


def test_import_missing_columns_and_files(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("id,title\n1,2\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match="missing column"):
        import_county_csv(path, "610702", tmp_path / "x")
    with pytest.raises(GazetteerError, match="file not found"):
        import_county_csv(tmp_path / "nope.csv", "610702", tmp_path / "x")


def test_broken_departments_file_names_the_file(small_csv, tmp_path):
    out = tmp_path / "g"
    import_county_csv(small_csv, "610702", out)
    (out / "departments.toml").write_text("[[department]\nname=", encoding="utf-8")
    with pytest.raises(GazetteerError, match="departments.toml"):
        load_gazetteer(out)


def test_gazetteer_dir_prefers_the_home_copy(small_csv, tmp_path):
    assert gazetteer_dir(None).name == "gazetteer"
    assert gazetteer_dir(tmp_path) == gazetteer_dir(None)
    import_county_csv(small_csv, "610703", tmp_path / "gazetteer")
    assert gazetteer_dir(tmp_path) == tmp_path / "gazetteer"


@pytest.mark.shared
def test_import_from_the_real_city_file(shared_data, tmp_path):
    summary = import_county_csv(shared_data / "divisions_hanzhong.csv", "610702", tmp_path / "ht",
                                national_csv=shared_data / "divisions_china_towns.csv")
    assert (summary["towns"], summary["villages"], summary["context_rows"]) == (15, 222, 173)
    bundled = (Path(__file__).resolve().parents[2] / "data" / "gazetteer")
    for name in ("divisions.csv", "hanzhong_context.csv", "other_places.txt"):
        produced = tmp_path / "ht" / ("context.csv" if name == "hanzhong_context.csv" else name)
        assert produced.read_text(encoding="utf-8") == (bundled / name).read_text(encoding="utf-8"), name


# -- CLI -------------------------------------------------------------------------------

def test_cli_show(tmp_path):
    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "gazetteer", "show"])
    assert result.exit_code == 0, result.output
    assert "汉台区（610702）" in result.output and "15 个镇办" in result.output
    for town in HANTAI_TOWNS:
        assert town in result.output
    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "gazetteer", "show", "--villages", "--departments"])
    assert "联丰村委会" in result.output and "汉台区住房和城乡建设局" in result.output


def test_cli_import_then_show(small_csv, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["--home", str(tmp_path), "gazetteer", "import", str(small_csv), "--county", "610703"])
    assert result.exit_code == 0, result.output
    assert "南郑区（610703）" in result.output
    assert (tmp_path / "gazetteer" / "divisions.csv").exists()
    result = runner.invoke(cli, ["--home", str(tmp_path), "gazetteer", "show", "--json"])
    assert result.exit_code == 0 and '"name": "圣水镇"' in result.output


def test_cli_import_errors(small_csv, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["gazetteer", "import", str(small_csv), "--county", "999999", "-o", str(tmp_path)])
    assert result.exit_code == 1 and "unknown county code '999999'" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(cli, ["gazetteer", "import", str(small_csv), "--county", "abc", "-o", str(tmp_path)])
    assert result.exit_code == 1 and "6-digit county code" in result.output
    result = runner.invoke(cli, ["gazetteer", "import", str(tmp_path / "none.csv"), "--county", "610702"])
    assert result.exit_code == 1 and "file not found" in result.output
    with open(small_csv, "a", encoding="utf-8") as fh:
        csv.writer(fh).writerow(["610702100201", "", "village", "610702100", "", "", ""])
    result = runner.invoke(cli, ["gazetteer", "import", str(small_csv), "--county", "610702", "-o", str(tmp_path)])
    assert result.exit_code == 1 and "row 12 (610702100201): name is empty" in result.output
