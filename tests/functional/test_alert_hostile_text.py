"""Control characters from a hostile hotline CSV (and from a robot's answer) reach
neither the desk log nor a robot as live escape sequences: both show them as the
console does (␛, ␇ ...), one log record per line."""
from __future__ import annotations

import asyncio
import logging

from monitor.hotline import parse_intake_csv
from responders.alerts import Alert
from tests.functional.test_alert_channels import T0
from tests.functional.test_alert_outage import BOUND, dispatcher, robots  # noqa: F401  (fixture)
from yuqing.home import DeskHome
from yuqing.logs import setup_logging

HOSTILE_CSV = ("工单编号,标题,诉求内容,来电时间\n"
               "GD9,\"\x1b[31m铺镇停水\x1b]0;PWN\x07\x1b[2J\",\"铺镇停水三天\x1b[?1049h\r\n伪造的日志行 ERROR\","
               "2026-06-14 09:00\n")


async def test_hotline_control_characters_are_visible_in_the_log_and_in_robot_payloads(robots, tmp_path):
    (row,) = parse_intake_csv(HOSTILE_CSV.encode("utf-8")).rows
    assert "\x1b" in row.item.title  # intake keeps the text as received; showing it is what is made safe
    home = DeskHome(tmp_path)
    setup_logging(home, stderr=False)
    try:
        robots.script = {"wecom": ["500"], "feishu": ["ok"]}

        d = dispatcher(robots, rules=[{"name": "r", "channels": ["wecom", "feishu"]}])
        alert = Alert.new(key="hotline:GD9", lane="breaking", title=row.item.title, body_text=row.item.text,
                          created_at=T0, severity="较大", incident_id=9)
        async with d:
            await asyncio.wait_for(d.submit(alert), BOUND)
        logging.getLogger("yuqing.pipeline").warning("%s: %s", row.item.title, row.item.text)
        try:
            raise ValueError(row.item.title)
        except ValueError:
            logging.getLogger("yuqing.pipeline").exception("failed on %s", row.item.title)
        for h in logging.getLogger().handlers:
            h.flush()
    finally:
        setup_logging(None, stderr=False)
    log = home.log_path.read_bytes().decode("utf-8")
    assert "\x1b" not in log and "\x07" not in log and "\r" not in log
    assert "␛[31m铺镇停水␛]0;PWN␇␛[2J" in log
    lines = log.splitlines()
    record = [ln for ln in lines if "WARNING yuqing.pipeline" in ln]
    assert len(record) == 1 and "␍␊伪造的日志行 ERROR" in record[0]  # one record, one line
    assert not any(ln.startswith("伪造的日志行") for ln in lines)
    assert any("ValueError: ␛[31m铺镇停水" in ln for ln in lines)  # the traceback keeps its lines, made visible
    (sent,) = robots.got["feishu"]
    card = sent["card"]
    head, body = card["header"]["title"]["content"], card["elements"][0]["text"]["content"]
    assert "\x1b" not in head + body and "\x07" not in head + body
    assert "␛[31m铺镇停水␛]0;PWN␇␛[2J" in head and "铺镇停水三天␛［?1049h" in body
