"""The escalation policy of [alerts]: steps, delays and repeats unrolled in order; every
mistake named by its key; whom a send is for, and the mention syntax of each platform."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from responders.alerts import Alert, AlertConfigError, parse_alerts_config
from responders.alerts.escalation import next_step_at, resolve_people
from responders.alerts.formats import dingtalk_payload, email_message, feishu_payload, mention_line, wecom_payload
from responders.alerts.types import Mention

T0 = datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)
CHANNELS = {"ding": {"type": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=x"},
            "console": {"type": "tui"}}


def _cfg(**top):
    return parse_alerts_config({"channels": CHANNELS, **top})


def test_policy_unrolls_leader_steps_and_repeats_in_order():
    cfg = _cfg(escalate_after=10, escalation={
        "repeat": 1,
        "steps": [{"after": 5, "to": "staff:zhao", "repeat": 1}, {"after": 20, "to": ["officer", "channel:ding"]}]})
    steps = [(s.after_minutes, s.targets) for s in cfg.escalation.steps]
    once = [(10, ("leader",)), (5, ("staff:zhao",)), (5, ("staff:zhao",)), (20, ("officer", "channel:ding"))]
    assert steps == once * 2
    assert cfg.escalation.steps[3].channels == ("ding",) and cfg.escalation.steps[3].people == ("officer",)
    assert _cfg().escalation.steps == ()  # no escalate_after and no steps: nothing escalates
    short = _cfg(escalate_after=10, escalation=[{"after": 10, "to": "leader"}, {"after": 5, "to": ["staff:zhao"]}])
    assert [s.targets for s in short.escalation.steps] == [("leader",), ("leader",), ("staff:zhao",)]
    with pytest.raises(AlertConfigError, match=r"^escalation\[1\]\.to: must be"):
        _cfg(escalation=[{"after": 10, "to": "leader"}, {"after": 5, "to": "the boss"}])
    legacy = _cfg(escalation={"tiers": [{"after_minutes": 15, "channels": ["ding"]}]})
    assert legacy.escalation.tiers[0].targets == ("channel:ding",)


def test_next_step_counts_from_the_last_send():
    policy = _cfg(escalate_after=10, escalation={"steps": [{"after": 5, "to": "leader"}]}).escalation
    assert next_step_at(policy, escalates=True, acked=False, base_at=T0, step=0) == T0 + timedelta(minutes=10)
    assert next_step_at(policy, escalates=True, acked=False, base_at=T0, step=1) == T0 + timedelta(minutes=5)
    assert next_step_at(policy, escalates=True, acked=False, base_at=T0, step=2) is None
    assert next_step_at(policy, escalates=True, acked=True, base_at=T0, step=0) is None
    assert next_step_at(policy, escalates=True, acked=False, base_at=None, step=0) is None  # not sent yet


@pytest.mark.parametrize("top, key", [
    ({"escalate_after": -1}, "escalate_after"),
    ({"escalate_after": "ten"}, "escalate_after"),
    ({"escalation": {"steps": [{"to": "leader"}]}}, "escalation.steps[0].after"),
    ({"escalation": {"steps": [{"after": 5}]}}, "escalation.steps[0].to"),
    ({"escalation": {"steps": [{"after": 0, "to": "leader"}]}}, "escalation.steps[0].after"),
    ({"escalation": {"steps": [{"after": 5, "to": "boss"}]}}, "escalation.steps[0].to"),
    ({"escalation": {"steps": [{"after": 5, "to": ["leader", "channel:ghost"]}]}}, "escalation.steps[0].to[1]"),
    ({"escalation": {"steps": [{"after": 5, "to": ["staff:张 三"]}]}}, "escalation.steps[0].to[0]"),
    ({"escalation": {"steps": [{"after": 5, "to": []}]}}, "escalation.steps[0].to"),
    ({"escalation": {"steps": [{"after": 5, "to": "leader", "repeat": 11}]}}, "escalation.steps[0].repeat"),
    ({"escalation": {"steps": [{"after": 5, "to": "leader", "every": 3}]}}, "escalation.steps[0].every"),
    ({"escalation": {"repeat": -1}}, "escalation.repeat"),
    ({"escalation": {"steps": [{"after": 1, "to": "leader", "repeat": 10}], "repeat": 10}}, "escalation.repeat"),
    ({"escalation": {"steps": [], "tiers": []}}, "escalation.tiers"),
    ({"duty_channels": ["ghost"]}, "duty_channels[0]"),
    ({"duty_officer": "张 三"}, "duty_officer"),
    ({"duty_leader": 7}, "duty_leader"),
])
def test_policy_errors_name_the_key(top, key):
    with pytest.raises(AlertConfigError) as info:
        _cfg(**top)
    assert str(info.value).startswith(f"{key}:"), str(info.value)


ZHANG = Mention("zhang", "张伟", "officer", wecom="zhangsan", dingtalk="13800000001", feishu="ou_abc",
                email="zhang@example.gov.cn")


def _alert(*mentions):
    return Alert.new(key="k", lane="breaking", title="汉台区<@all>突发", created_at=T0, mentions=mentions)


def test_resolve_people_on_duty_and_nobody():
    people = {"zhang": ZHANG}.get
    got = resolve_people(("officer", "leader", "staff:zhang", "channel:ding"), T0, lambda at: ("zhang", None), people)
    # the officer named again as staff:zhang is mentioned once
    assert [(m.staff_id, m.duty) for m in got.mentions] == [("zhang", "officer"), ("", "leader")]
    assert any("当前无带班领导在岗" in p for p in got.problems)
    broken = resolve_people(("officer",), T0, lambda at: 1 / 0, people)
    assert broken.mentions[0].staff_id == "" and "无法读取值班表" in broken.problems[0]
    unknown = resolve_people(("staff:ghost",), T0, None, people)
    assert unknown.mentions[0].label == "ghost" and "未登记或已停用" in unknown.problems[0]


def test_mention_syntax_per_platform_and_hostile_ids_left_out():
    a = _alert(ZHANG, Mention("li", "李娜", "leader", wecom="li>na", dingtalk="call me", feishu='ou"x'))
    wecom = wecom_payload(a)["markdown"]["content"]
    assert "<@zhangsan>" in wecom and "<@li" not in wecom and "带班领导 李娜" in wecom
    assert "＜＠all＞" in wecom  # the feed's own mention stays inert
    ding = dingtalk_payload(a)
    assert ding["at"] == {"atMobiles": ["13800000001"], "isAtAll": False} and "@13800000001" in ding["markdown"]["text"]
    card = feishu_payload(a)["card"]["elements"][0]["text"]["content"]
    assert "<at id=ou_abc></at>" in card and 'ou"x' not in card
    text = feishu_payload(a, msg_type="text")["content"]["text"]
    assert '值班员 <at user_id="ou_abc">张伟</at>' in text
    post = feishu_payload(a, msg_type="post")["content"]["post"]["zh_cn"]["content"]
    assert {"tag": "at", "user_id": "ou_abc", "user_name": "张伟"} in [c for row in post for c in row]
    mail = email_message(a, mail_from="desk@example.gov.cn", mail_to=["duty@example.gov.cn"])
    assert mail["To"] == "duty@example.gov.cn, zhang@example.gov.cn"
    assert mention_line(_alert()) == ""


def test_the_mention_survives_truncation():
    long = Alert.new(key="k", lane="breaking", title="t", created_at=T0, body_text="长" * 5000, mentions=(ZHANG,))
    content = wecom_payload(long)["markdown"]["content"]
    assert len(content.encode()) <= 4096 and "<@zhangsan>" in content and "已截断" in content


def test_a_desk_without_people_mentions_nobody_and_warns_nothing():
    got = resolve_people(("officer", "leader", "staff:zhang"), T0, lambda at: None, {"zhang": ZHANG}.get)
    assert [m.staff_id for m in got.mentions] == ["zhang"] and got.problems == ()
    assert resolve_people(("leader",), T0, None, None).mentions == ()
