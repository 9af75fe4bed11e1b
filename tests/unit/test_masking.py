"""The desk's one personal-data masker: one shape for exports, reports, alerts and screens."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from responders.alerts.formats import prepare
from responders.alerts.types import Alert
from responders.masking import clean, mask_personal
from tests.responders_kit import T0


@pytest.mark.parametrize("raw, masked", [
    # mobiles: plain, prefixed, separated, full-width
    ("联系人电话13812345678。", "联系人电话138****5678。"),
    ("+86 13812345678", "+86 138****5678"),
    ("0086-13812345678", "0086-138****5678"),
    ("电话 138-1234-5678", "电话 138-****-5678"),
    ("电话 138 1234 5678", "电话 138 **** 5678"),
    ("Tel13812345678", "Tel138****5678"),
    ("１３８１２３４５６７８", "１３８****５６７８"),
    # resident ID numbers: first four and last four kept
    ("身份证610702199001011234", "身份证6107**********1234"),
    ("身份证61070219900101123X号", "身份证6107**********123X号"),
    ("身份证61070219901301123x", "身份证6107**********123x"),  # a mistyped date is still masked
    # landlines: area code and last four kept
    ("座机0916-2345678", "座机0916-***5678"),
    ("座机 0916 2345678", "座机 0916 ***5678"),
    ("座机（0916）23456789", "座机（0916）****6789"),
    ("座机(0916)2345678", "座机(0916)***5678"),
    ("座机09162345678", "座机0916***5678"),
    ("电话029-88886666", "电话029-****6666"),
    # e-mail local parts
    ("邮箱 zhang.san@example.com", "邮箱 z***@example.com"),
    ("邮箱zhang.san@example.com", "邮箱z***@example.com"),
])
def test_one_shape_for_numbers(raw, masked):
    assert mask_personal(raw) == masked


@pytest.mark.parametrize("text", [
    "号610702199001011234X",  # 19 characters: not an ID
    "2026-06-14T00:00:00+00:00 第1234567号",
    "2026年11月27日 12345热线 编号 20261127000123 见 https://x.gov.cn/a/13812345678.html",
    "时间戳 1700000000000，统计 2019 1234 5678",
    "",
])
def test_other_numbers_and_urls_are_left_alone(text):
    assert mask_personal(text) == text


def test_hashes_and_tokens_stay_intact():
    import hashlib

    # an export carries the timeline's hash chain: masking must never change a hash
    for crafted in ("ab13812345678cd", "f610702199001011234e", "e09162345678f", "tok_13812345678x"):
        assert mask_personal(crafted) == crafted
    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(3000)]
    assert [mask_personal(h) for h in hashes] == hashes


def test_links_keep_working_but_text_after_them_is_masked():
    text = "见https://x.gov.cn/a/13812345678.html电话13912345678"
    assert mask_personal(text) == "见https://x.gov.cn/a/13812345678.html电话139****5678"
    assert mask_personal(None) == ""


@pytest.mark.parametrize("raw, masked", [
    ("来电人住汉台区XX路12号3单元402室，反映噪音", "来电人住汉台区XX路**号*单元***室，反映噪音"),
    ("北关街道XX社区XX小区5号楼2单元301住户反映", "北关街道XX社区XX小区*号楼*单元***住户反映"),
    ("地址：XX家园12号院3号楼2单元402", "地址：XX家园**号院*号楼*单元***"),
    ("住址 XX花园3-2-301", "住址 XX花园*-*-***"),
    ("铺镇XX村3组15号村民", "铺镇XX村3组**号村民"),
    ("XX小区三单元402室", "XX小区*单元***室"),
])
def test_private_addresses_keep_the_road_and_hide_the_door(raw, masked):
    assert mask_personal(raw) == masked


@pytest.mark.parametrize("text", [
    "汉台区天汉大道568号汉中市民政局3楼会议室召开发布会",
    "汉中市中心医院住院部3号楼5楼",
    "报名地点：汉台区政府302室",
    "北团结街37号院",
    "XX小区3号楼发生火灾",
    "国办发〔2016〕80号，截至2026-06-14",
    "中山街街道办事处、汉台区第一中学",
    "两室一厅，一户一策",
])
def test_public_places_in_news_are_not_masked(text):
    assert mask_personal(text) == text


def test_exports_and_alerts_mask_alike():
    raw = "村民 13812345678 住XX路12号3单元402室 身份证 610702199001011234 座机0916-2345678"
    expected = mask_personal(raw)
    assert "13812345678" not in expected and "402" not in expected
    assert clean({"a": [raw], "n": 3}) == {"a": [expected], "n": 3}
    alert = Alert.new(key="k", lane="breaking", title=raw, body_text=raw, body_markdown=raw, created_at=T0)
    shown = prepare(alert)
    assert shown.title == shown.body_text == shown.body_markdown == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789１３８-（）() 号楼单元室组村路@.a:/xhtps汉"), max_size=60))
def test_masking_never_fails_and_is_idempotent(text):
    once = mask_personal(text)
    assert isinstance(once, str)
    assert mask_personal(once) == once


# -------------------------------------------------------------- issue 18: every format

from tests.pii_kit import FORMATS  # noqa: E402


@pytest.mark.parametrize("name, raw, secret", FORMATS, ids=[f[0] for f in FORMATS])
def test_every_personal_data_format_is_masked(name, raw, secret):
    out = mask_personal(raw)
    assert secret not in out, out
    assert mask_personal(out) == out  # stable


@pytest.mark.parametrize("text", [
    "联系人：刘先生", "村民反映道路积水", "群众来电称", "陕西省汉中市", "编号 20261127000123",
    "阅读量 1234567890123456", "统一社会信用代码91610702MA6YX12345", "QQ音乐", "微信公众号发布",
])
def test_formats_spare_ordinary_text(text):
    assert mask_personal(text) == text
