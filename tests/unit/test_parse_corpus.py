"""Run parse_document over feedparser's own test corpus when it is present.

Set YUQING_FEEDPARSER_TESTS to the tests/ folder of an unpacked feedparser
sdist (e.g. /tmp/fp/feedparser-6.0.11/tests); skipped otherwise.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from monitor.exceptions import ParseError
from monitor.parsing import parse_document

CORPUS = os.environ.get("YUQING_FEEDPARSER_TESTS")
pytestmark = pytest.mark.skipif(not CORPUS or not Path(CORPUS).is_dir(),
                                reason="YUQING_FEEDPARSER_TESTS not set")
HEADER = re.compile(rb"Header:\s*Content-type:\s*([^\r\n]*)", re.I)


def _files():
    return sorted(p for p in Path(CORPUS).rglob("*") if p.is_file() and p.suffix != ".py")


def test_whole_corpus_parses_or_fails_cleanly():
    now = datetime(2026, 6, 14, tzinfo=timezone.utc)
    ok = failed = 0
    for f in _files():
        body = f.read_bytes()
        m = HEADER.search(body[:2000])
        ct = m.group(1).decode("latin-1").strip() if m else None
        try:
            parse_document(body, content_type=ct, url="http://example.org/", fetched_at=now)
            ok += 1
        except ParseError as exc:
            assert not str(exc).startswith("parser failed"), f"{f}: {exc}"
            failed += 1
    assert ok > 0.95 * (ok + failed)


def test_chinese_charsets_decode():
    root = Path(CORPUS)
    gb = parse_document((root / "illformed/chardet/gb2312.xml").read_bytes())
    assert gb.items[0].title == "不归移民漫画系列：专业工作"
    big5 = parse_document((root / "illformed/chardet/big5.xml").read_bytes())
    assert big5.title.startswith("我希望") and "中文" in big5.title
    for name in ("http_application_atom_xml_gb2312_charset.xml",
                 "http_application_atom_xml_gb2312_encoding.xml",
                 "http_application_atom_xml_gb2312_charset_overrides_encoding.xml"):
        body = (root / "encoding" / name).read_bytes()
        m = HEADER.search(body)
        feed = parse_document(body, content_type=m.group(1).decode().strip() if m else None)
        assert feed.encoding == "gb18030"
