"""Payload builders and signatures (pure functions)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from responders.alerts.formats import (
    TRUNCATION_MARKER, dingtalk_payload, dingtalk_sign, dingtalk_signed_url, feishu_payload, feishu_sign,
    truncate_utf8, wecom_payload,
)
from responders.alerts.types import Alert

T0 = datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=3000), st.integers(min_value=0, max_value=5000))
def test_truncate_fits_and_keeps_characters_whole(text, limit):
    out = truncate_utf8(text, limit)
    if limit < len(TRUNCATION_MARKER.encode("utf-8")):  # no room even for the marker: fit is all we promise
        assert len(out.encode("utf-8")) <= limit
        return
    assert len(out.encode("utf-8")) <= limit
    if out != text:
        assert out.endswith(TRUNCATION_MARKER)
        assert text.startswith(out[: -len(TRUNCATION_MARKER)])


def test_wecom_content_limit_with_4_byte_characters():
    a = Alert.new(key="k", lane="breaking", title="标题", body_markdown="😀" * 5000, created_at=T0)
    content = wecom_payload(a)["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    assert "告警编号" in content and "已截断" in content


def test_dingtalk_sign_matches_reference_algorithm():
    secret, ts = "SECtest", 1700000000000
    expected = base64.b64encode(hmac.new(b"SECtest", b"1700000000000\nSECtest", hashlib.sha256).digest()).decode()
    assert dingtalk_sign(secret, ts) == expected
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", secret,
                              datetime.fromtimestamp(ts / 1000, timezone.utc))
    q = parse_qs(urlsplit(url).query)
    assert q["timestamp"] == ["1700000000000"] and q["sign"] == [expected] and q["access_token"] == ["abc"]
    assert "+" not in url.split("sign=")[1] and "/" not in url.split("sign=")[1]
    assert dingtalk_signed_url("https://x/send?access_token=a", "", T0) == "https://x/send?access_token=a"


def test_feishu_sign_matches_reference_algorithm():
    ts = 1700000000
    expected = base64.b64encode(hmac.new(b"1700000000\nsecret", b"", hashlib.sha256).digest()).decode()
    assert feishu_sign("secret", ts) == expected
    a = Alert.new(key="k", lane="digest", title="标题", body_markdown="正文", created_at=T0, severity="一般")
    p = feishu_payload(a, secret="secret", now=datetime.fromtimestamp(ts, timezone.utc))
    assert p["timestamp"] == "1700000000" and p["sign"] == expected and p["msg_type"] == "interactive"
    text = feishu_payload(a, msg_type="text")
    assert text["msg_type"] == "text" and "正文" in text["content"]["text"] and "sign" not in text
    post = feishu_payload(a, msg_type="post")
    assert post["content"]["post"]["zh_cn"]["title"].endswith("标题")


def test_dingtalk_payload_shape():
    a = Alert.new(key="k", lane="breaking", title="标题", body_markdown="**正文**", created_at=T0, incident_id=7)
    p = dingtalk_payload(a)
    assert p["msgtype"] == "markdown"
    assert p["markdown"]["title"] == "【一般·突发】标题"
    assert "＊＊正文＊＊" in p["markdown"]["text"] and "事件 #7" in p["markdown"]["text"]


# ---------------------------------------------------------------- hostile feed text, per format

import json  # noqa: E402
import re  # noqa: E402

import pytest  # noqa: E402

from responders.alerts.formats import (  # noqa: E402
    desktop_args, email_message, prepare, tui_text, webhook_payload,
)

HOSTILE = {
    "link": "汉王镇煤矿爆炸[点击查看官方最新通报详情页](http://t.cn/A6x)",
    "image": "![图](http://t.cn/x.png) <http://t.cn/auto>",
    "wecom_mention": "<@all> 紧急集合",
    "feishu_mention": '<at user_id="all">所有人</at> <at id=all></at>',
    "ding_mention": "@所有人 @13800000000 请立即处理",
    "heading": "# 假标题\n## 二级标题\n===",
    "emphasis": "**加粗** __下划__ _斜体_ ~~删除~~ `代码`",
    "html": '<font color="warning">红字</font><a href="http://evil.example">点</a><img src=x onerror=alert(1)>',
    "control": "煤矿\x1b[31m红\x1b]0;PWN\x07\x00\x08\u202e反转\u200b",
    "entity": "&lt;@all&gt; &#60;at user_id=\"all\"&#62; &amp;",
    "quote_table": "> 假引用\n| a | b |\n|---|---|",
    "bare_url": "www.evil.com 和 https://evil.example/x",
}
DESK = "https://desk.example.gov.cn/incidents/{id}"
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def hostile_alert(text: str) -> Alert:
    a = Alert.new(key="k", lane="breaking", title=text, body_text=f"正文：{text}", body_markdown=f"正文：{text}",
                  created_at=T0, incident_id=12, url="http://t.cn/A6x")
    return prepare(a, incident_url=DESK)


def assert_markdown_inert(out: str, *, heading: bool = True):
    """Only the desk's own markup is live: its heading, its link to the incident, its footer quote."""
    links = re.findall(r"\[[^\]\n]*\]\([^)\n]*\)", out)
    assert links == ["[在值班台查看事件 #12](https://desk.example.gov.cn/incidents/12)"], out
    rest = out.replace(links[0], "")
    lines = rest.split("\n")
    if heading:
        assert lines[0].startswith("### 【") and "#" not in lines[0][4:], out
        lines = lines[1:]
    footer = re.compile(r"^(> )?舆情值班台 \d\d月\d\d日 \d\d:\d\d · 告警编号 \w+ · 事件 #12$")
    assert footer.match(lines[-1]), out
    assert not any(ln.startswith(">") for ln in lines[:-1]), out
    body = "\n".join(lines[:-1])
    for ch in "[]<>*_`~#@|&\\$":
        assert ch not in body, (ch, out)
    assert "://" not in body and "www." not in body.lower(), out
    assert not CONTROL.search(out), out


def assert_plain_inert(out: str):
    assert "<" not in out and "@" not in out, out
    assert "t.cn/A6x" not in out.replace("http：//t.cn/A6x", ""), out  # no live feed link
    assert "evil.example" not in out.replace("：//evil.example", ""), out
    assert not CONTROL.search(out), out


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_feed_text_is_inert_in_every_format(name):
    a = hostile_alert(HOSTILE[name])
    wecom = wecom_payload(a)["markdown"]["content"]
    assert_markdown_inert(wecom)
    ding = dingtalk_payload(a)["markdown"]
    assert_markdown_inert(ding["text"])
    assert "<" not in ding["title"] and "[" not in ding["title"] and not CONTROL.search(ding["title"])
    card = feishu_payload(a)["card"]
    assert_markdown_inert(card["elements"][0]["text"]["content"], heading=False)
    assert card["header"]["title"]["tag"] == "plain_text" and not CONTROL.search(card["header"]["title"]["content"])
    assert_plain_inert(feishu_payload(a, msg_type="text")["content"]["text"].replace(DESK.format(id=12), ""))
    post = feishu_payload(a, msg_type="post")["content"]["post"]["zh_cn"]
    hrefs = [el["href"] for row in post["content"] for el in row if el["tag"] == "a"]
    assert hrefs == ["https://desk.example.gov.cn/incidents/12"]
    assert_plain_inert(post["title"] + "\n" + "\n".join(el["text"] for row in post["content"] for el in row
                                                         if el["tag"] == "text"))
    mail = email_message(a, mail_from="desk@example.gov.cn", mail_to=["duty@example.gov.cn"])
    assert_plain_inert(str(mail["Subject"]) + "\n" + mail.get_content().replace(DESK.format(id=12), ""))
    summary, body = desktop_args(a)[-2:]
    assert "<" not in body and not CONTROL.search(summary + body)
    assert not CONTROL.search(tui_text(a).replace("\n", ""))
    hook = webhook_payload(a)  # raw data for machines: text kept, control characters visible
    assert not CONTROL.search(json.dumps(hook, ensure_ascii=False).replace("\\n", ""))
    assert hook["desk_url"] == "https://desk.example.gov.cn/incidents/12"
    if name == "link":
        assert hook["title"] == HOSTILE["link"]
        assert "汉王镇煤矿爆炸［点击查看官方最新通报详情页］(http：//t.cn/A6x)" in wecom  # still readable
    if name == "control":
        assert "煤矿␛［31m红␛］0;PWN␇␀␈" in wecom and "␛[31m红␛]0;PWN␇" in tui_text(a)


def test_without_a_desk_url_there_is_no_link_at_all():
    a = prepare(hostile_alert(HOSTILE["link"]), incident_url="")
    assert a.desk_url is None
    assert "](" not in wecom_payload(a)["markdown"]["content"]
    assert "](" not in feishu_payload(a)["card"]["elements"][0]["text"]["content"]


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "https://desk.example/incidents", "https://d.example/{id})x",
                                 "https://d.example/a b/{id}", 42])
def test_incident_url_must_be_an_http_template(bad):
    from responders.alerts import parse_alerts_config
    from responders.alerts.types import AlertConfigError

    with pytest.raises(AlertConfigError, match="incident_url"):
        parse_alerts_config({"incident_url": bad})
    assert parse_alerts_config({"incident_url": DESK}).incident_url == DESK
