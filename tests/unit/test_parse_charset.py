"""monitor.charset.decode_body: evidence order and Chinese charsets."""
from __future__ import annotations

import codecs

import pytest

from monitor.charset import decode_body, normalize_encoding

ZH = "汉台区人民政府关于防汛工作的通知"


def xml(enc_decl: str, text: str = ZH) -> str:
    return f'<?xml version="1.0" encoding="{enc_decl}"?><rss><channel><title>{text}</title></channel></rss>'


@pytest.mark.parametrize("label", ["gb2312", "GBK", "x-gbk", "cp936", "GB18030", "gb_2312"])
def test_gb_family_reads_as_gb18030(label):
    body = xml(label).encode("gb18030")
    text, used, warnings = decode_body(body, None, None)
    assert ZH in text
    assert used == "gb18030"
    assert warnings == []


def test_gbk_extension_chars_in_gb2312_declared_body():
    # 镕 and 喆 are outside GB2312 but in GBK: servers often declare gb2312 anyway.
    body = xml("gb2312", "朱镕基 张喆").encode("gbk")
    text, used, _ = decode_body(body, None, None)
    assert "朱镕基 张喆" in text


def test_big5_and_hkscs_fallback():
    trad = "漢中市民眾關注"
    text, used, _ = decode_body(xml("big5", trad).encode("big5"), None, None)
    assert trad in text and used == "big5"
    hk = "香港邨"  # 邨 is in HKSCS, not plain Big5
    text, used, _ = decode_body(xml("big5", hk).encode("big5hkscs"), None, None)
    assert hk in text and used == "big5hkscs"


def test_bom_wins_over_everything():
    body = codecs.BOM_UTF8 + xml("gb2312").encode("utf-8")
    text, used, _ = decode_body(body, "text/xml; charset=gbk", "big5")
    assert ZH in text and used == "utf-8"
    body16 = codecs.BOM_UTF16_LE + xml("utf-16").encode("utf-16-le")
    text, used, _ = decode_body(body16, None, None)
    assert ZH in text


def test_override_then_header_then_declaration():
    body = xml("utf-8").encode("gb18030")  # wrong declaration
    text, used, _ = decode_body(body, None, "gbk")
    assert ZH in text and used == "gb18030"
    text, used, _ = decode_body(body, "application/rss+xml; charset=GB2312", None)
    assert ZH in text and used == "gb18030"


def test_declared_utf8_but_gbk_body_is_read_as_gb18030_with_warning():
    body = xml("utf-8").encode("gb18030")
    text, used, warnings = decode_body(body, None, None)
    assert ZH in text and used == "gb18030"
    assert warnings and "GB18030" in warnings[0]


def test_html_meta_charset_and_http_equiv():
    page = f'<html><head><meta charset="gbk"><title>{ZH}</title></head></html>'
    assert ZH in decode_body(page.encode("gbk"), "text/html", None)[0]
    page = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>{ZH}</body></html>'
    assert ZH in decode_body(page.encode("gb18030"), None, None)[0]


def test_undeclared_utf8_then_gb18030():
    assert decode_body(ZH.encode("utf-8"), None, None)[:2] == (ZH, "utf-8")
    assert decode_body(ZH.encode("gb18030"), None, None)[:2] == (ZH, "gb18030")


def test_undeclared_big5_is_recognised():
    trad = "我希望這個很容易將其翻譯成中文，並有助於改進文件。感謝您閱讀本文。"
    text, used, _ = decode_body(trad.encode("big5"), None, None)
    assert text == trad and used == "big5hkscs"


def test_bad_bytes_are_replaced_with_a_warning_never_raise():
    body = xml("big5", "abc").encode("ascii") + b"\xff\xfe\xfa\x80 tail"
    text, used, warnings = decode_body(body, None, None)
    assert "tail" in text and "\ufffd" in text
    assert warnings


def test_unknown_labels_are_ignored_with_a_warning():
    text, used, warnings = decode_body(ZH.encode("utf-8"), "text/xml; charset=klingon", None)
    assert text == ZH and used == "utf-8"
    assert any("klingon" in w for w in warnings)


def test_normalize_encoding():
    assert normalize_encoding("GB2312") == "gb18030"
    assert normalize_encoding("x-gbk") == "gb18030"
    assert normalize_encoding("utf8") == "utf-8"
    assert normalize_encoding("nonsense-enc") is None
