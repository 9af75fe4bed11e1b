"""Self-contained HTML rendering: inline CSS, an inline SVG spread chart, no
scripts and no external resources. Every piece of text goes through
``html.escape``; links are emitted only for http(s) URLs."""
from __future__ import annotations

from datetime import datetime
from html import escape

from responders.exports.model import INSTRUCTION_HEADER, edited_mark, fmt_duration, fmt_time, instruction_rows
from storage.timeutil import local, zone_label
from storage.visible import visible

CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:960px;margin:2em auto;color:#222;line-height:1.5}
h1{font-size:1.5em;border-bottom:2px solid #b22;padding-bottom:.3em}
h2{font-size:1.15em;margin-top:1.6em;color:#b22}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top;font-size:.92em}
th{background:#f4f4f4}
.meta{color:#666;font-size:.9em}
.evidence{border-left:3px solid #ccc;padding-left:.8em;margin:.8em 0}
.evidence pre{white-space:pre-wrap;font-family:inherit;margin:.3em 0;color:#444}
"""


def e(text) -> str:
    """Escape feed text for HTML; control characters become visible symbols (␛, ␇ ...)."""
    return escape(visible(text, multiline=True), quote=True)


def link(url: str | None) -> str:
    if not url:
        return "—"
    if url.lower().startswith(("http://", "https://")):
        return f'<a href="{e(url)}" rel="noopener noreferrer">{e(url)}</a>'
    return e(url)


def spread_svg(series: list, releases: list[dict], due: datetime | None, width: int = 900, height: int = 220) -> str:
    """Items per hour as bars; releases (green) and the due time (red) as vertical lines."""
    if not series:
        return '<p class="meta">无带发布时间的条目，无法绘制传播曲线。</p>'
    pad_l, pad_b, pad_t = 40, 30, 10
    start = series[0][0]
    end = series[-1][0]
    marks = [r["released_at"] for r in releases] + ([due] if due else [])
    lo = min([start, *marks])
    hi = max([end, *marks])
    span = max((hi - lo).total_seconds() + 3600, 3600)
    top = max(c for _, c in series) or 1
    w = width - pad_l - 10
    h = height - pad_b - pad_t

    def x(t: datetime) -> float:
        return pad_l + (t - lo).total_seconds() / span * w

    bar_w = max(1.0, 3600 / span * w - 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="传播曲线">',
             f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{pad_l + w}" y2="{pad_t + h}" stroke="#999"/>',
             f'<text x="4" y="{pad_t + 10}" font-size="11">{top}</text>',
             f'<text x="4" y="{pad_t + h}" font-size="11">0</text>']
    for t, c in series:
        bh = c / top * h
        parts.append(f'<rect x="{x(t):.1f}" y="{pad_t + h - bh:.1f}" width="{bar_w:.1f}" height="{bh:.1f}" '
                     f'fill="#4a7ab8"><title>{e(fmt_time(t))} {c} 条</title></rect>')
    for r in releases:
        xr = x(r["released_at"])
        parts.append(f'<line x1="{xr:.1f}" y1="{pad_t}" x2="{xr:.1f}" y2="{pad_t + h}" stroke="#2a2" stroke-width="2">'
                     f'<title>{e(r["kind_label"])} {e(fmt_time(r["released_at"]))}</title></line>')
    if due:
        xd = x(due)
        parts.append(f'<line x1="{xd:.1f}" y1="{pad_t}" x2="{xd:.1f}" y2="{pad_t + h}" stroke="#c22" '
                     f'stroke-dasharray="4 3" stroke-width="2"><title>发布时限 {e(fmt_time(due))}</title></line>')
    parts.append(f'<text x="{pad_l}" y="{height - 8}" font-size="11">{e(local(lo).strftime("%m-%d %H:%M"))}</text>')
    parts.append(f'<text x="{pad_l + w}" y="{height - 8}" font-size="11" text-anchor="end">'
                 f'{e(local(hi).strftime("%m-%d %H:%M"))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _rows(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in pairs)


def _ok(v) -> str:
    return "—" if v is None else ("是" if v else "否")


def render_html(r: dict) -> str:
    inc, det, tm, clock = r["incident"], r["detection"], r["timing"], r["clock"]
    fp = det["first_publisher"]
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:">',
        f"<title>舆情处置报告：{e(inc['title'])}</title><style>{CSS}</style></head><body>",
        f"<h1>舆情处置报告：{e(inc['title'])}</h1>",
        f'<p class="meta">事件编号 #{inc["id"]} · 生成时间 {e(fmt_time(r["generated_at"]))}（{e(zone_label())}）</p>',
        "<h2>一、基本情况</h2><table>",
        _rows([
            ("状态", e(inc["state"])), ("等级", f"{e(inc['severity'])}（时限档位 {e(inc['tier'])}）"),
            ("核实", e(inc["verification"])), ("领域", e(inc["topic"])),
            ("涉及地点", e("、".join(inc["places"])) or "—"), ("涉及部门", e("、".join(inc["departments"])) or "—"),
            ("路由建议单位", e("、".join(inc["responsible_units"])) or "—"),
            ("时限", f"{e(fmt_time(inc['clock_started_at']))} 起 {clock['hours']:g} 小时，截止 "
                   f"{e(fmt_time(inc['release_due']))}（{e(clock['status_label'])}）"),
        ] + ([("结案理由", e(inc["dismiss_reason"]))] if inc["dismiss_reason"] else [])),
        "</table>",
        "<h2>二、监测发现</h2><table>",
        _rows([
            ("首发", f"{e(fp['source'])} {e(fp['title'])}（{e(fp['published_label'])}）" if fp else "—"),
            ("首发链接", link(fp["url"]) if fp else "—"),
            ("最早发布时间", e(fmt_time(inc["first_published"])
                          + (f"（计时起点：{det['clock_start_basis']}）" if det["clock_start_basis"] else ""))),
            ("监测发现时间", f"{e(fmt_time(inc['detected_at']))}（发现滞后 {e(fmt_duration(det['detection_lag']))}）"),
            ("关联条目", f"{inc['item_count']} 条，来源 {det['source_count']} 个"),
            ("触发原因", e(inc["trigger"]) or "—"),
        ]),
        "</table>",
        "<h3>传播曲线（每小时条目数；绿线为发布，红色虚线为发布时限）</h3>",
        spread_svg(r["spread"], r["releases"], inc["release_due"]),
        "<h2>三、研判</h2><table>",
        _rows([("等级", e(inc["severity"])), ("理由", e("；".join(inc["severity_reasons"])) or "—"),
               ("核实状态", e(inc["verification"]))]),
        "</table>",
        "<h2>四、处置与发布</h2>",
        f"<p>交办单位：{e('、'.join(inc['assigned_units'])) or '—'}</p>",
        "<table><tr><th>类型</th><th>渠道</th><th>时间</th><th>链接</th><th>内容</th></tr>",
    ]
    for rel in r["releases"]:
        out.append(f"<tr><td>{e(rel['kind_label'])}{'（自动检测）' if rel['detected'] else ''}</td>"
                   f"<td>{e(rel['channel'])}</td><td>{e(fmt_time(rel['released_at']))}</td>"
                   f"<td>{link(rel['url'])}</td><td>{e(rel['text'])}</td></tr>")
    if not r["releases"]:
        out.append('<tr><td colspan="5">尚无发布</td></tr>')
    if r.get("instructions"):
        out.append("</table><h3>领导批示</h3><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in INSTRUCTION_HEADER) + "</tr>")
        out += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in instruction_rows(r)]
    out.append("</table><h2>五、时间线</h2>")
    out.append("<table><tr><th>序号</th><th>时间</th><th>类型</th><th>操作人</th><th>内容</th></tr>")
    for ev in r["timeline"]:
        out.append(f"<tr><td>{ev['seq']}</td><td>{e(fmt_time(ev['at']))}</td><td>{e(ev['kind_label'])}</td>"
                   f"<td>{e(ev.get('actor_name') or ev['actor'])}</td><td>{e(ev['summary'])}</td></tr>")
    out.append("</table><h2>六、时效统计</h2><table>")
    out.append(_rows([
        ("接报确认用时", e(fmt_duration(tm["time_to_acknowledge"]))),
        ("首次权威发布用时", f"{e(fmt_duration(tm['time_to_first_release']))}（按时：{_ok(tm['on_time'])}）"),
        ("持续发布情况", e(tm["update_regularity"])),
        ("处置结果发布用时", e(fmt_duration(tm["time_to_final"]))),
    ]))
    out.append("</table><h2>七、附件：证据快照</h2>")
    for ev in r["evidence"]:
        out.append(f'<div class="evidence"><b>{e(ev["title"])}{e(edited_mark(ev))}</b><br><span class="meta">{e(ev["source"])} · '
                   f'{e(fmt_time(ev["published"]))} · {link(ev["url"])}</span><pre>{e(ev["text"][:2000])}</pre></div>')
    if not r["evidence"]:
        out.append("<p>无</p>")
    out.append("</body></html>")
    return "\n".join(out)
