"""Routing rules, quiet hours, dedup and [alerts] config errors."""
from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from responders.alerts.config import DEFAULT_ALERTS_TOML, parse_alerts_config
from responders.alerts.rules import Deduper, held_by_quiet, in_quiet_hours, parse_quiet_range, quiet_ends_at, route
from responders.alerts.types import Alert, AlertConfigError, ChannelConfig, QuietHours, Rule

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)


def _alert(**kw):
    base = dict(key="k", lane="breaking", title="t", created_at=T0)
    base.update(kw)
    return Alert.new(**base)


def test_route_by_lane_severity_topic_town():
    rules = [
        Rule("all-breaking", ("console",), lanes=("breaking",)),
        Rule("serious", ("leaders",), min_severity="重大"),
        Rule("puzhen-safety", ("town",), topics=("安全生产",), towns=("铺镇",)),
    ]
    assert route(_alert(), rules) == ("console",)
    assert route(_alert(severity="特别重大"), rules) == ("console", "leaders")
    assert route(_alert(lane="digest", severity="较大"), rules) == ()
    a = _alert(lane="digest", topics=("安全生产", "交通"), towns=("铺镇",))
    assert route(a, rules) == ("town",)
    assert route(_alert(lane="digest", topics=("安全生产",), towns=("龙江街道",)), rules) == ()


def _quiet(text="22:00-07:00", pierce=True):
    s, e = parse_quiet_range(text)
    return QuietHours(s, e, SH, breaking_pierces=pierce, text=text)


def local(h, m=0, day=14):
    return datetime(2026, 6, day, h, m, tzinfo=SH)


def test_quiet_hours_span_midnight_in_shanghai_time():
    q = _quiet()
    assert in_quiet_hours(q, local(22, 0))
    assert in_quiet_hours(q, local(3, 0))
    assert in_quiet_hours(q, local(6, 59))
    assert not in_quiet_hours(q, local(7, 0))
    assert not in_quiet_hours(q, local(21, 59))
    # 14:30 UTC == 22:30 Shanghai
    assert in_quiet_hours(q, datetime(2026, 6, 14, 14, 30, tzinfo=timezone.utc))
    assert quiet_ends_at(q, local(23, 0)) == local(7, 0, day=15)
    assert quiet_ends_at(q, local(3, 0)) == local(7, 0)
    assert quiet_ends_at(q, local(12, 0)) == local(12, 0)
    day = _quiet("12:00-13:30")
    assert in_quiet_hours(day, local(12, 0)) and not in_quiet_hours(day, local(13, 30))


def test_quiet_hours_hold_and_pierce():
    robot = ChannelConfig(name="r", type="wecom")
    console = ChannelConfig(name="c", type="tui", honours_quiet_hours=False)
    night = local(23)
    digest, breaking = _alert(lane="digest"), _alert()
    assert held_by_quiet(_quiet(), robot, digest, night)
    assert not held_by_quiet(_quiet(), robot, breaking, night)
    assert held_by_quiet(_quiet(pierce=False), robot, breaking, night)
    from dataclasses import replace
    assert not held_by_quiet(_quiet(pierce=False), robot, replace(breaking, escalation_tier=1), night)
    assert not held_by_quiet(_quiet(), console, digest, night)
    assert not held_by_quiet(_quiet(), robot, digest, local(12))
    assert not held_by_quiet(None, robot, digest, night)


@pytest.mark.parametrize("bad", ["22-07", "25:00-07:00", "22:00-22:00", "", "22:60-01:00"])
def test_bad_quiet_range(bad):
    with pytest.raises(AlertConfigError):
        parse_quiet_range(bad)


def test_dedup_window():
    d = Deduper(timedelta(minutes=30))
    assert d.check("incident:1", T0)
    assert not d.check("incident:1", T0 + timedelta(minutes=29))
    assert d.check("incident:2", T0)
    assert d.check("incident:1", T0 + timedelta(minutes=30))


def test_default_toml_parses_and_is_valid():
    doc = tomllib.loads(DEFAULT_ALERTS_TOML)
    cfg = parse_alerts_config(doc["alerts"])
    assert set(cfg.channels) == {"console", "desktop"}
    assert cfg.quiet_hours.text == "22:00-07:00"
    assert cfg.escalation.tiers[0].after_minutes == 15


def _cfg(extra_channel=None, **top):
    table = {"channels": {"ding": {"type": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=x",
                                   "secret_env": "DT_SECRET"}}}
    if extra_channel:
        table["channels"].update(extra_channel)
    table.update(top)
    return table


def test_secret_from_env_and_missing_env():
    cfg = parse_alerts_config(_cfg(), env={"DT_SECRET": "SECabc"})
    assert cfg.channels["ding"].secret == "SECabc"
    assert "SECabc" not in repr(cfg)
    assert cfg.channels["ding"].rate_limits == ((20, 60.0),)
    soft = parse_alerts_config(_cfg(), env={})
    assert "DT_SECRET is not set" in soft.channels["ding"].problem
    with pytest.raises(AlertConfigError, match=r"channels\.ding\.secret_env: environment variable DT_SECRET"):
        parse_alerts_config(_cfg(), env={}, require_secrets=True)


@pytest.mark.parametrize("table, key", [
    ({"bogus": 1}, "bogus"),
    (_cfg({"x": {"type": "pager"}}), "channels.x.type"),
    (_cfg({"x": {"type": "wecom"}}), "channels.x.url"),
    (_cfg({"x": {"type": "wecom", "url": "ftp://nope"}}), "channels.x.url"),
    (_cfg({"x": {"type": "wecom", "url": "https://a", "colour": "red"}}), "channels.x.colour"),
    (_cfg({"x": {"type": "wecom", "url": "https://a", "rate_limits": ["lots"]}}), "channels.x.rate_limits[0]"),
    (_cfg({"x": {"type": "wecom", "url": "https://a", "max_bytes": 9000}}), "channels.x.max_bytes"),
    (_cfg({"m": {"type": "email", "smtp_host": "h", "from": "a@b", "to": ["nobody"]}}), "channels.m.to"),
    (_cfg(rules=[{"channels": ["nope"]}]), "rule 'rule1'"),
    (_cfg(rules=[{"channels": ["ding"], "min_severity": "huge"}]), "rules[0].min_severity"),
    (_cfg(rules=[{"channels": ["ding"], "lanes": ["urgent"]}]), "rules[0].lanes[0]"),
    (_cfg(quiet_hours={"range": "9pm-7am"}), "quiet_hours.range"),
    (_cfg(quiet_hours={"range": "22:00-07:00", "timezone": "Mars/Base"}), "quiet_hours.timezone"),
    (_cfg(escalation={"tiers": [{"after_minutes": 0, "channels": ["ding"]}]}), "escalation.tiers[0].after_minutes"),
    (_cfg(escalation={"tiers": [{"after_minutes": 5, "channels": ["ghost"]}]}), "escalation.tiers[0].channels"),
    (_cfg(retry={"max_attempts": 0}), "retry.max_attempts"),
    (_cfg(dedup_window_minutes="half an hour"), "dedup_window_minutes"),
])
def test_config_errors_name_the_key(table, key):
    with pytest.raises(AlertConfigError) as info:
        parse_alerts_config(table, env={"DT_SECRET": "s"})
    assert key in str(info.value)


def test_inline_secret_never_echoed_in_errors():
    table = {"channels": {"w": {"type": "wecom", "url": "not-a-url?key=topsecret"}}}
    with pytest.raises(AlertConfigError) as info:
        parse_alerts_config(table)
    assert "topsecret" not in str(info.value)


def test_rate_limit_forms():
    t = _cfg({"f": {"type": "feishu", "url": "https://open.feishu.cn/x", "rate_limits": ["5/s", "100/min", "3/10min"]}})
    cfg = parse_alerts_config(t, env={"DT_SECRET": "s"})
    assert cfg.channels["f"].rate_limits == ((5, 1.0), (100, 60.0), (3, 600.0))


def test_desk_config_reports_alert_errors_as_config_errors(tmp_path):
    from monitor.exceptions import ConfigError
    from yuqing.config import parse_desk
    from yuqing.home import DeskHome

    doc = {"desk": {"district_code": "610702", "district_name": "汉台区", "timezone": "Asia/Shanghai"},
           "alerts": {"channels": {"x": {"type": "pager"}}}}
    with pytest.raises(ConfigError, match=r"\[alerts\].*channels\.x\.type"):
        parse_desk(doc, DeskHome(tmp_path))
