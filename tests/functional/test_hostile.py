"""Hostile input: XML bombs and oversized or endless responses through the real fetcher and
parser (bounded memory), property tests for JSON mappings, the scheme language and the CSV
import, and script-carrying titles in HTML exports checked in headless Chromium."""
from __future__ import annotations

import asyncio
import csv
import io
import os
import shutil
import subprocess
import tracemalloc
from datetime import datetime, timezone

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifiers.scheme_parser import SchemeError
from classifiers.schemes import SchemeSet, compile_scheme
from monitor.exceptions import ImportRowError, MonitorError, ParseError, ResponseTooLarge, RetrieveError
from monitor.fetch import Fetcher, FetchPolicy
from monitor.hotline import parse_intake_csv
from monitor.parsing import parse_document
from tests.loopback import loopback  # noqa: F401 - fixture

NOW = datetime(2026, 6, 14, 4, 0, tzinfo=timezone.utc)
MB = 1024 * 1024
SETTINGS = settings(max_examples=int(os.environ.get("YUQING_HYPOTHESIS_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# ---------------------------------------------------------------- XML bombs

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><guid>a</guid><description>&lol9;</description></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> <!ENTITY % p SYSTEM "file:///etc/hostname"> %p; ]>
<rss version="2.0"><channel><title>t</title>
<item><title>leak &xxe;</title><guid>x</guid><description>&xxe;</description></item></channel></rss>"""


def _quadratic() -> bytes:
    big = "A" * 100_000
    refs = "&big;" * 20_000  # 2 GB if expanded
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "{big}">]>'
            f'<rss version="2.0"><channel><title>t</title><item><title>q</title><guid>q</guid>'
            f"<description>{refs}</description></item></channel></rss>").encode()


def _huge_attribute() -> bytes:
    return (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            b'<item><title x="' + b"Z" * (6 * MB) + b'">huge</title><guid>h</guid></item></channel></rss>')


def _deep() -> bytes:
    return b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>d</title>' + \
        b"<a>" * 10_000 + b"</a>" * 10_000 + b"</item></channel></rss>"


BOMBS = {"billion_laughs": BILLION_LAUGHS, "external_entity": EXTERNAL_ENTITY, "quadratic": _quadratic(),
         "huge_attribute": _huge_attribute(), "deep_nesting": _deep()}


@pytest.mark.parametrize("name", list(BOMBS))
async def test_xml_bombs_through_fetcher_and_parser_stay_bounded(loopback, name):  # noqa: F811
    body = BOMBS[name]
    loopback.route("/bomb.xml", body, content_type="application/rss+xml")
    tracemalloc.start()
    try:
        async with Fetcher(FetchPolicy(total_timeout=20)) as f:
            result = await f.fetch(loopback.url("/bomb.xml"))
        try:
            feed = parse_document(result.body, url=result.url, content_type=result.content_type, fetched_at=NOW)
        except ParseError as exc:
            assert "\n" not in str(exc)
            feed = None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Generous and linear (parser stacks for deep nesting), far below any entity expansion.
    assert peak < max(128 * MB, 25 * len(body)), f"{name}: peak {peak / MB:.0f} MB"
    if feed is not None:
        total = sum(len(i.title) + len(i.text) for i in feed.items)
        assert total < 2 * len(body), f"{name}: entities expanded to {total} characters"
        for item in feed.items:
            assert "root:" not in item.title + item.text  # no /etc/passwd
            assert "lollollollollollollol" not in item.title + item.text


async def test_oversized_and_endless_responses_stop_at_the_cap(loopback):  # noqa: F811
    async def endless(request):
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await resp.prepare(request)
        await resp.write(b"<?xml version='1.0'?><rss><channel>")
        chunk = b"<item><title>x</title></item>" * 2000
        while True:
            await resp.write(chunk)

    async def drip(request):
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await resp.prepare(request)
        while True:
            await resp.write(b"<")
            await asyncio.sleep(0.05)

    loopback.route("/big.xml", b"<rss>" + b"x" * (3 * MB) + b"</rss>")  # with Content-Length
    loopback.route("/endless.xml", endless)
    loopback.route("/drip.xml", drip)
    policy = FetchPolicy(max_bytes=1 * MB, total_timeout=2, read_timeout=2)
    tracemalloc.start()
    try:
        async with Fetcher(policy) as f:
            for path in ("/big.xml", "/endless.xml"):
                with pytest.raises(ResponseTooLarge) as err:
                    await f.fetch(loopback.url(path))
                assert "\n" not in str(err.value)
            with pytest.raises(RetrieveError):  # a timeout, never a hang
                await f.fetch(loopback.url("/drip.xml"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * MB, f"peak {peak / MB:.0f} MB"


# ---------------------------------------------------------------- property tests

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
JSON = st.recursive(JSON_SCALARS, lambda kids: st.lists(kids, max_size=5) | st.dictionaries(
    st.text(max_size=8), kids, max_size=5), max_leaves=30)
FIELD_KEYS = st.sampled_from(["items", "guid", "title", "link", "published", "text", "author", "metrics.heat",
                              "metrics.rank", "bogus", "metrics.", ""])
PATHS = st.text(alphabet="abc.[]0-1*$ 中", max_size=12) | st.sampled_from(["data.list", "a[0].b", "[*]", "x[-1]"])
FIELDS = st.dictionaries(FIELD_KEYS, PATHS | st.integers() | st.none(), max_size=6) | \
    st.fixed_dictionaries({"items": PATHS, "title": PATHS}, optional={"text": PATHS, "metrics.heat": PATHS})


@SETTINGS
@given(JSON, FIELDS)
def test_custom_json_mappings_raise_only_parse_errors(doc, fields):
    import json

    body = json.dumps(doc, ensure_ascii=False, allow_nan=True)
    try:
        feed = parse_document(body.encode(), kind="json", fields=fields, fetched_at=NOW)
    except ParseError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for item in feed.items:
        assert isinstance(item.title, str) and isinstance(item.guid, str) and item.guid


SCHEME_TOKENS = st.sampled_from(["汉台", "爆炸", "伤亡", "AND", "OR", "NOT", "(", ")", '"', "~", "~3", "NEAR/2(",
                                 "NEAR/x(", ",", " ", "铺镇", "&", "|", "-", "+", "*", "\\", "\x00", "（", "）"])


@SETTINGS
@given(st.lists(SCHEME_TOKENS, max_size=12).map(" ".join) | st.text(max_size=30),
       st.text(max_size=60))
def test_scheme_language_compiles_or_names_the_error(expr, text):
    try:
        scheme = compile_scheme("随机", expr)
    except SchemeError as exc:
        assert str(exc).split("\n")[0].startswith("scheme '随机'")  # one line, then the caret under the column
        return
    hit = scheme.match(text)
    assert hit is None or hit.scheme == "随机"


SCHEME_DOCS = st.dictionaries(
    st.sampled_from(["schemes", "templates", "other"]),
    st.dictionaries(st.text(max_size=6), JSON | st.fixed_dictionaries(
        {"expr": st.text(max_size=20) | st.integers()},
        optional={"alert": st.booleans() | st.text(max_size=3), "description": JSON,
                  "places": st.sampled_from(["towns", "x"]) | st.lists(st.text(max_size=4), max_size=3),
                  "events": st.lists(st.text(max_size=4), max_size=3) | st.integers()}), max_size=3),
    max_size=3) | JSON


@SETTINGS
@given(SCHEME_DOCS)
def test_scheme_files_raise_only_scheme_errors(doc):
    try:
        schemes = SchemeSet.from_mapping(doc, towns=["铺镇", "武乡镇"])
    except SchemeError as exc:
        assert str(exc)
        return
    schemes.match("汉台区铺镇化工厂爆炸 伤亡不明")


CSV_HEADERS = st.lists(st.sampled_from(["来电时间", "诉求内容", "标题", "姓名", "电话", "地址", "工单号", "content",
                                        "time", "", "乱码"]), min_size=1, max_size=7)
CELL = st.text(max_size=30) | st.sampled_from(["2026-06-14 08:00", "2026/6/14", "13812345678", "昨天", "\r\n", '"'])


@SETTINGS
@given(CSV_HEADERS, st.lists(st.lists(CELL, max_size=8), max_size=6), st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
       st.sampled_from(["hotline", "mailbox"]))
def test_csv_import_raises_only_documented_errors(header, rows, encoding, kind):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    data = buf.getvalue().encode(encoding, errors="replace")
    _check_csv(data, kind)


@SETTINGS
@given(st.binary(max_size=600))
def test_csv_import_of_random_bytes(data):
    _check_csv(data, "hotline")


def _check_csv(data: bytes, kind: str) -> None:
    try:
        result = parse_intake_csv(data, kind=kind)
    except MonitorError as exc:
        assert str(exc) and not isinstance(exc, ImportRowError)
        return
    for err in result.errors:
        assert isinstance(err, ImportRowError) and str(err).startswith(f"row {err.row}:")
    for row in result.rows:
        assert row.item.guid and isinstance(row.item.text, str)
        assert row.item.published is None or row.item.published.tzinfo is not None


# ---------------------------------------------------------------- exports in a real browser

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
PAYLOADS = [
    '<script>document.title="PWNED";document.body.innerHTML="PWNED"</script>',
    '<img src=x onerror="document.title=\'PWNED\'">',
    '"><svg onload="document.title=\'PWNED\'">',
    "[bold red]rich markup[/] \x1b[31mANSI red\x1b[0m \x07\x08\x00 控制字符",
    "javascript:document.title='PWNED'",
    "</title><script>document.title='PWNED'</script>",
]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_html_export_runs_no_script_in_chromium(tmp_path):
    from responders.exports import export_incident
    from tests.responders_kit import candidate, make_service

    svc = make_service(tmp_path)
    hostile = " ".join(PAYLOADS)
    ev = [{"item_id": 1, "title": hostile, "text": hostile, "url": "javascript:document.title='PWNED'",
           "published": "2026-06-14T08:00:00+08:00", "source": PAYLOADS[1], "content_hash": "h1"}]
    inc = svc.open_or_join(candidate("s1", title="铺镇 " + PAYLOADS[0] + PAYLOADS[3], evidence=ev, item_ids=(1,))).incident
    svc.note(inc.id, hostile, actor=PAYLOADS[2])
    out = tmp_path / "report.html"
    export_incident(svc, inc.id, "html", out)
    # Control: in this browser a script in a page does run and does change the dumped DOM.
    control = tmp_path / "control.html"
    control.write_text("<html><head><title>原标题</title></head><body>x<script>document.title='PWNED';"
                       "document.body.setAttribute('data-pwned','1')</script></body></html>", encoding="utf-8")
    assert "<title>PWNED</title>" in _dump_dom(control, tmp_path)

    dom = _dump_dom(out, tmp_path)
    assert "铺镇" in dom  # the report rendered
    assert "<title>PWNED</title>" not in dom and "data-pwned" not in dom
    assert "<body>PWNED</body>" not in dom
    lowered = dom.lower()
    assert "<script>document.title" not in lowered  # payload scripts stay text
    assert "<img src=\"x\"" not in lowered and "<svg onload" not in lowered
    assert 'href="javascript:' not in lowered


def test_html_export_has_no_control_characters(tmp_path):
    from responders.exports import export_incident
    from tests.responders_kit import candidate, make_service

    svc = make_service(tmp_path)
    inc = svc.open_or_join(candidate("s1", title="铺镇 \x1b[31m红\x1b[0m \x07\x08 [bold]粗[/]")).incident
    html = export_incident(svc, inc.id, "html").decode("utf-8")
    assert not any(ord(c) < 32 and c not in "\t\n\r" for c in html)


def _dump_dom(path, tmp_path) -> str:
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=2000", "--dump-dom",
         path.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout
