"""Self-contained HTML rendering of the 舆情处置报告: the template ``incident_report.html.j2``
(jinja2, autoescaped; inline CSS, no scripts, no external resources) and the inline SVG spread
chart drawn here, its text escaped with :func:`e`."""
from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path

from responders.exports.model import fmt_time
from storage.timeutil import local
from storage.visible import visible


def e(text) -> str:
    """Escape feed text for HTML; control characters become visible symbols (␛, ␇ ...)."""
    return escape(visible(text, multiline=True), quote=True)


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


def render_html(r: dict, home: Path | str | None = None) -> str:
    """The report through the template ``incident_report.html.j2``, with the spread chart."""
    from markupsafe import Markup

    from responders.exports.templates import render_text

    chart = Markup(spread_svg(r["spread"], r["releases"], r["incident"]["release_due"]))
    return render_text("incident_report.html.j2", {**r, "spread_svg": chart}, home)
