"""Personal data on every surface (issue 18 item 3): each format of tests/pii_kit.py, put
through each place where text leaves or is kept, must come out masked. A real desk home,
the CLI in-process, a loopback feed for `sources test`, the real logging setup."""
from __future__ import annotations

import io
import json
import logging
import os
import sqlite3
import stat
import sys
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner

from tests.loopback import LoopbackServer
from tests.pii_kit import FORMATS
from tests.responders_kit import T0, Clock, candidate, make_service

NOW = "2026-06-14T12:00:00+08:00"
SURFACES = ("incidents", "incidents --json", "timeline payloads", "sources test", "desk.log", "stderr",
            "search index", "alert records")


def _cli(home, *args, env=None):
    from yuqing.cli import cli

    res = CliRunner().invoke(cli, ["--home", str(home), *args], env={"YUQING_NOW": NOW, **(env or {})},
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def _rss() -> str:
    items = "".join(f"<item><title>{escape(raw)}</title><link>http://example.org/{i}</link><guid>g{i}</guid>"
                    f"<pubDate>Sat, 14 Jun 2026 10:00:00 +0800</pubDate></item>"
                    for i, (_n, raw, _s) in enumerate(FORMATS))
    return f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>{items}</channel></rss>"


@pytest.fixture(scope="module")
def surfaces(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pii")
    home = tmp / "desk"
    _cli(home, "init")
    out: dict[str, str] = {}

    # incidents opened from stories whose titles carry the data, and notes typed by staff
    svc = make_service(home, Clock(T0))
    for i, (_n, raw, _s) in enumerate(FORMATS):
        inc = svc.open_or_join(candidate(f"s{i}", title=f"来电反映 {raw}", places=(), item_ids=(1000 + i,),
                                         topic="其他", evidence=[])).incident
        svc.note(inc.id, f"备注 {raw}", actor="值班员")
    assert len(svc.list(include_closed=True)) == len(FORMATS)
    out["incidents"] = _cli(home, "incidents", "--all")
    out["incidents --json"] = _cli(home, "incidents", "--all", "--json")
    con = sqlite3.connect(home / "desk.sqlite")
    out["timeline payloads"] = "\n".join(r[0] for r in con.execute("SELECT payload FROM timeline_events"))

    # the search index, written the way the pipeline writes it (segmented tokens)
    from classifiers.segment import default_segmenter
    from pipeline import store as analysis
    from storage.db import open_db

    seg = default_segmenter()
    adb = open_db(home / "desk.sqlite", [analysis.migrations])
    with adb.conn:
        analysis.index_many(adb.conn, [(5000 + i, seg.cut(raw), seg.cut(f"正文 {raw}"))
                                       for i, (_n, raw, _s) in enumerate(FORMATS)])
    out["search index"] = "\n".join(f"{a} {b}" for a, b in con.execute("SELECT title, text FROM items_fts"))

    # alert records: the stored form of an alert
    from responders.alerts.store import alert_to_json
    from responders.alerts.types import Alert

    # the stored record without its random id (a hex id may hold a secret's digits by chance)
    records = [json.loads(alert_to_json(Alert.new(key=f"k{i}", lane="breaking", title=raw, body_text=raw,
                                                  body_markdown=raw, created_at=T0)))
               for i, (_n, raw, _s) in enumerate(FORMATS)]
    out["alert records"] = "\n".join(json.dumps({k: v for k, v in r.items() if k != "id"}, ensure_ascii=False)
                                     for r in records)

    # sources test against a loopback feed
    with LoopbackServer() as server:
        server.route("/feed.xml", _rss(), content_type="application/rss+xml")
        _cli(home, "sources", "add", "pii", "--url", server.url("/feed.xml"), "--kind", "rss")
        out["sources test"] = _cli(home, "sources", "test", "pii", "--limit", "100")

    # desk.log and stderr through the desk's own logging setup
    from yuqing.home import DeskHome
    from yuqing.logs import setup_logging

    err, saved = io.StringIO(), sys.stderr
    sys.stderr = err
    try:
        setup_logging(DeskHome(home))
        log = logging.getLogger("yuqing.test")
        for _n, raw, _s in FORMATS:
            log.warning("来源返回：%s", raw)
    finally:
        sys.stderr = saved
        root = logging.getLogger()
        for h in list(root.handlers):
            if getattr(h, "_yuqing", False):
                h.close()
                root.removeHandler(h)
    out["stderr"] = err.getvalue()
    out["desk.log"] = (home / "logs" / "desk.log").read_text(encoding="utf-8")
    out["_home"] = str(home)
    return out


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("name, raw, secret", FORMATS, ids=[f[0] for f in FORMATS])
def test_format_is_masked_on_surface(surfaces, surface, name, raw, secret):
    text = surfaces[surface]
    if surface == "incidents --json":
        text = json.dumps(json.loads(text), ensure_ascii=False)
    assert text.strip(), f"{surface} produced nothing"
    assert secret not in text, f"{name} shown raw on {surface}"


def test_surfaces_still_show_the_rest_of_the_text(surfaces):
    for surface in SURFACES:
        assert "来电" in surfaces[surface] or "来源返回" in surfaces[surface] or "身份证" in surfaces[surface], surface


def test_home_and_files_are_private(surfaces):
    from pathlib import Path

    home = Path(surfaces["_home"])
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for path in [home / "desk.sqlite", home / "logs" / "desk.log", home / "desk.toml", home / "timeline.key"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_an_older_open_home_is_tightened(tmp_path):
    home = tmp_path / "old"
    _cli(home, "init")
    os.chmod(home, 0o755)
    os.chmod(home / "desk.sqlite", 0o644)
    (home / "logs" / "desk.log").write_text("x", encoding="utf-8")
    os.chmod(home / "logs" / "desk.log", 0o644)
    _cli(home, "sources")
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "desk.sqlite").stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "logs" / "desk.log").stat().st_mode) == 0o600


def test_backup_is_private(tmp_path):
    home = tmp_path / "b"
    _cli(home, "init")
    dest = tmp_path / "bk" / "desk-backup.sqlite"
    _cli(home, "backup", str(dest), "--mkdir")
    files = [p for p in dest.parent.rglob("*") if p.is_file()]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
