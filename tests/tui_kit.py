"""Builders for console tests: a desk file in tmp_path (or a PostgreSQL database, when given its
URL) with sources, items, analysis and incidents, made with the real store / analysis /
IncidentService APIs, and a pinned clock."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from monitor.store import migrations as monitor_migrations, store_fetch, sync_sources
from monitor.types import ParsedItem, SourceSpec
from pipeline.store import ItemAnalysis, index_for_search, migrations as analysis_migrations, save_analysis
from responders.incidents import IncidentService
from responders.store import migrations as responders_migrations
from storage.db import open_db, transaction
from tests.responders_kit import PUZHEN, T0, Clock, candidate

H = timedelta(hours=1)
HOSTILE_TITLE = "[bold]粗体[/bold] [link=https://evil.example]点我[/link] \x1b[31m红色\x1b[0m"
NEWS = SourceSpec(id="news", name="汉中新闻网", url="http://127.0.0.1:9/news.xml", interval=300)
WEIBO = SourceSpec(id="weibo", name="微博搜索", url="http://127.0.0.1:9/weibo.json", interval=300)

ITEMS = [
    ("news", "铺镇化工厂夜间排放异味 村民投诉", "铺镇 化工厂 夜间 排放 刺鼻 异味，村民 多次 投诉。", "生态环境", "负面", True),
    ("news", "汉台区举办美食节", "汉台区 举办 美食节，市民 踊跃 参加。", "文旅", "正面", False),
    ("weibo", HOSTILE_TITLE, "正文 [red]不是标记[/red] \x1b]8;;http://x\x07链接\x1b]8;;\x07 \x07响铃", "其他", "中性", True),
    ("weibo", "武乡镇道路积水 出行不便", "武乡镇 道路 积水 严重，居民 出行 不便。", "城建", "负面", True),
]


def open_desk_db(path: Path | str):
    return open_db(path, [monitor_migrations, analysis_migrations, responders_migrations])


def add_items(db, rows, now: datetime, start: int = 0) -> list[int]:
    """Store items through store_fetch, then their analysis and search index; returns item ids."""
    from classifiers.segment import default_segmenter

    seg = default_segmenter()
    ids = []
    for k, (source, title, text, topic, sentiment, flagged) in enumerate(rows, start=start):
        spec = NEWS if source == "news" else WEIBO
        out = store_fetch(db, spec, [ParsedItem(guid=f"g{k}", title=title, link=f"https://{source}.example/{k}",
                                                published=now - timedelta(minutes=50 - k), text=text)],
                          now=now, next_check=now + timedelta(minutes=5), etag=None, last_modified=None,
                          body_digest=None)
        iid = out.new_ids[0] if hasattr(out, "new_ids") else db.execute("SELECT max(id) FROM items").fetchone()[0]
        places = (PUZHEN,) if "铺镇" in title else ()
        with transaction(db) as conn:
            save_analysis(conn, ItemAnalysis(
                iid, topic, 0.9, sentiment, -0.5, "一般", (), places, (), (), (), (), True, flagged, None, None,
                False, 1.0, now))
            index_for_search(conn, iid, [t for t in seg.cut(title) if t.strip()], [t for t in seg.cut(text) if t.strip()])
        ids.append(iid)
    return ids


def build_desk(tmp_path: Path, clock: Clock | None = None, *, incidents: int = 2,
               url: str | None = None) -> tuple[Path | str, Clock]:
    """The desk in ``tmp_path/desk.sqlite``, or in the (empty) PostgreSQL database ``url``;
    returns (its target, the clock)."""
    clock = clock or Clock(T0 + H)
    path = url or tmp_path / "desk.sqlite"
    db = open_desk_db(path)
    sync_sources(db, [NEWS, WEIBO], clock())
    item_ids = add_items(db, ITEMS, clock())
    svc = IncidentService(db, clock=clock)
    svc.open_or_join(candidate("s1", item_ids=tuple(item_ids[:1])))
    if incidents > 1:
        svc.open_or_join(candidate("s2", title="武乡镇道路积水 出行不便", topic="城建", places=(),
                                   item_ids=(item_ids[3],), units=("区住建局",), first_published=T0 - 10 * H))
    db.conn.close()
    return path, clock


# ------------------------------------------------------------------ English on screen

#: Key-cap names printed on the keyboard, and the one command staff are told to type when the
#: collector is down; nothing else in ASCII letters may show on the console's main pages.
ALLOWED_WORDS = {"Ctrl", "Esc", "Tab"}
_COMMANDS = re.compile(r"yuqing\s+run")
_URL = re.compile(r"https?://[^\s）)]*")  # links are data, shown as they are
_WORD = re.compile(r"[A-Za-z]{2,}")


def english_words(text: str) -> list[str]:
    """The ASCII words of 2+ letters in rendered console text, outside the allowlist and URLs."""
    return sorted({w for w in _WORD.findall(_COMMANDS.sub(" ", _URL.sub(" ", text))) if w not in ALLOWED_WORDS})


def screen_text(app) -> str:
    """What the terminal shows of the current screen, line by line (rendered cells)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
