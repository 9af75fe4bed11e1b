"""Benchmark: parse_document throughput (items/s) on generated documents.

Cases: RSS 2.0 with 50 entries/feed (UTF-8 and GBK), Atom with 50 entries, Weibo JSON
(m.weibo.cn cards, 20 posts/page, every third a repost), a hot list (50 entries) and an
HTML list page (50 rows). Each document is parsed whole, as the collector does.
Reference (PERF-NOTES.md): feedparser alone ~3.3 k items/s for RSS.

    python -m bench.bench_parse [--seconds 2]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.parsing import parse_document  # noqa: E402

NOW = datetime(2026, 6, 14, 4, 0, tzinfo=timezone.utc)
BODY = "汉台区{n}号通知：<p>各镇（街道）、区级各部门：为做好防汛工作，现将有关事项通知如下。</p>" \
       "<p>一、加强值班值守；二、排查隐患点位；三、及时报告险情。</p>"


def rss(n: int = 50, encoding: str = "utf-8") -> bytes:
    items = []
    for i in range(n):
        t = NOW - timedelta(minutes=7 * i)
        items.append(f"<item><title>汉台区政务动态第{i}条 龙江街道</title>"
                     f"<link>http://www.hantai.gov.cn/xwzx/{i}.html</link><guid>ht-{i}</guid>"
                     f"<pubDate>{t.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
                     f"<description><![CDATA[{BODY.format(n=i)}]]></description></item>")
    doc = (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
           f'<title>汉台区人民政府</title><link>http://www.hantai.gov.cn/</link>{"".join(items)}</channel></rss>')
    return doc.encode("gb18030" if encoding == "gbk" else encoding)


def atom(n: int = 50) -> bytes:
    entries = "".join(
        f'<entry><title>汉中日报 {i}</title><link href="http://hzrb.example/{i}.html"/><id>tag:hzrb,{i}</id>'
        f'<updated>2026-06-14T0{i % 10}:00:00+08:00</updated><author><name>记者{i}</name></author>'
        f'<content type="html">{BODY.format(n=i).replace("<", "&lt;")}</content></entry>' for i in range(n))
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f'<title>汉中日报</title><id>x</id>{entries}</feed>').encode()


def weibo(n: int = 20) -> bytes:
    cards = []
    forms = ["刚刚", "3分钟前", "2小时前", "今天 10:02", "昨天 10:02", "06-14", "Sat Jun 14 10:00:00 +0800 2026"]
    for i in range(n):
        mblog = {"created_at": forms[i % len(forms)], "id": str(4987000000000000 + i), "mid": str(4987000000000000 + i),
                 "bid": f"N{i:05d}", "text": f'<a href="/search?q=x"><span class="surl-text">#汉台区暴雨#</span></a> '
                 f'北关街道第{i}处积水<br />车辆无法通行<span class="url-icon"><img alt=[怒] src="//h5.sinaimg.cn/x.png"/></span>',
                 "user": {"id": 1000 + i, "screen_name": f"网友{i}"}, "reposts_count": i,
                 "comments_count": "1万+", "attitudes_count": "43.4万"}
        if i % 3 == 0:
            mblog["retweeted_status"] = {"id": str(4986000000000000 + i), "text": "原帖内容<br/>现场视频",
                                         "user": {"screen_name": "汉中身边事"}, "created_at": "昨天 09:00"}
        cards.append({"card_type": 9, "itemid": f"x_{i}", "mblog": mblog})
    return json.dumps({"ok": 1, "data": {"cardlistInfo": {"total": n}, "cards": cards}}, ensure_ascii=False).encode()


def hotlist(n: int = 50) -> bytes:
    data = [{"id": f"k{i}", "title": f"热搜话题{i}", "desc": "描述", "hot": f"{100 - i}.5万",
             "url": f"https://s.weibo.com/weibo?q={i}", "mobileUrl": f"https://m.s.weibo.com/{i}", "timestamp": None}
            for i in range(n)]
    return json.dumps({"code": 200, "name": "weibo", "title": "微博", "type": "热搜榜", "data": data},
                      ensure_ascii=False).encode()


def htmllist(n: int = 50) -> bytes:
    rows = "".join(f'<li><a href="./2026/t{i}.html" title="通知{i}">通知公告第{i}号</a><span class="date">2026-06-{1 + i % 28:02d}</span></li>'
                   for i in range(n))
    return (f'<html><head><meta charset="utf-8"><title>通知公告</title></head><body><div class="nav">x</div>'
            f'<ul class="list">{rows}</ul></body></html>').encode()


CASES = [
    ("rss utf-8, 50/feed", rss(), {}),
    ("rss gbk, 50/feed", rss(encoding="gbk"), {}),
    ("atom, 50/feed", atom(), {}),
    ("weibo json, 20/page", weibo(), {"mapping": "weibo"}),
    ("hotlist json, 50", hotlist(), {"mapping": "hotlist"}),
    ("html list, 50 rows", htmllist(), {"fields": {"item": "ul.list li", "title": "a", "link": "a@href",
                                                   "published": "span.date"}}),
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0, help="time per case")
    args = ap.parse_args()
    print(f"{'case':24} {'docs/s':>9} {'items/s':>10} {'KB/doc':>7}")
    for name, body, kw in CASES:
        feed = parse_document(body, fetched_at=NOW, url="http://www.hantai.gov.cn/", **kw)  # warm up
        n_items = len(feed.items)
        docs = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < args.seconds:
            parse_document(body, fetched_at=NOW, url="http://www.hantai.gov.cn/", **kw)
            docs += 1
        dt = time.perf_counter() - t0
        print(f"{name:24} {docs / dt:9.1f} {docs * n_items / dt:10.0f} {len(body) / 1024:7.1f}")
    import feedparser

    body = CASES[0][1]
    docs = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < args.seconds:
        feedparser.parse(body)
        docs += 1
    dt = time.perf_counter() - t0
    print(f"{'(feedparser alone, rss)':24} {docs / dt:9.1f} {docs * 50 / dt:10.0f} {len(body) / 1024:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
