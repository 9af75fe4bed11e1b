"""Secrets never leak; alert text is masked by the desk's one masker."""
from __future__ import annotations

import logging

from responders.alerts.redact import RedactingFilter, mask_personal, redact

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DING = "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789abcdef"
DING_SECRET = "SEC" + "0123456789abcdef" * 4
FEISHU = "https://open.feishu.cn/open-apis/bot/v2/hook/2f0b9c1e-1234-4cde-9abc-0a1b2c3d4e5f"


def test_known_secret_values_are_removed():
    text = f"POST {WECOM} failed; secret {DING_SECRET}; pw hunter22"
    out = redact(text, [WECOM, DING_SECRET, "hunter22"])
    assert "693a91f6" not in out and DING_SECRET not in out and "hunter22" not in out
    assert "***" in out


def test_token_like_parameters_are_removed_without_being_told():
    out = redact(f"{DING}&timestamp=1700000000000&sign=abc%2Bdef%3D and {FEISHU}")
    assert "abcdef0123456789abcdef" not in out
    assert "abc%2Bdef" not in out
    assert "2f0b9c1e" not in out
    assert "timestamp=1700000000000" in out  # not secret, kept for diagnosis
    assert redact('{"timestamp": "1", "sign": "c2lnbg=="}') == '{"timestamp": "1", "sign": "***"}'
    assert "s3cr3t" not in redact("Authorization: Bearer s3cr3t")
    assert "pa55" not in redact("smtp://user:pa55@mail.example.com")


def test_secret_inside_a_url_is_removed_even_when_only_its_key_appears():
    out = redact("key 693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa was refused", [WECOM])
    assert "693a91f6" not in out


def test_alerts_use_the_one_masker():
    import responders.masking

    assert mask_personal is responders.masking.mask_personal
    assert mask_personal("身份证610702199001011234") == "身份证6107**********1234"


def test_redacting_filter_scrubs_log_records(caplog):
    logger = logging.getLogger("test.redact.filter")
    flt = RedactingFilter([DING_SECRET])
    logger.addFilter(flt)
    try:
        with caplog.at_level(logging.INFO, logger="test.redact.filter"):
            logger.info("sending to %s with %s", DING, DING_SECRET)
    finally:
        logger.removeFilter(flt)
    assert caplog.records
    text = caplog.text
    assert DING_SECRET not in text and "abcdef0123456789abcdef" not in text
