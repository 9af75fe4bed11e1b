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
    assert "**正文**" in p["markdown"]["text"] and "事件 #7" in p["markdown"]["text"]
