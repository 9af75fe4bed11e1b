"""Markdown rendering of the 舆情处置报告. Feed text is made literal (no markup, no links)."""
from __future__ import annotations

import re

from responders.exports.model import INSTRUCTION_HEADER, edited_mark, fmt_duration, fmt_time, instruction_rows
from storage.timeutil import zone_label
from storage.visible import visible

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>~])")


def md_escape(text: str | None) -> str:
    """Escape Markdown/HTML specials, flatten newlines and make control characters
    visible (␛, ␇ ...) so feed and staff text stays literal."""
    text = (text or "").replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", visible(text))


def _ok(v) -> str:
    return "—" if v is None else ("是" if v else "否")


def render_markdown(r: dict) -> str:
    inc, det, tm = r["incident"], r["detection"], r["timing"]
    e = md_escape
    lines = [
        f"# 舆情处置报告：{e(inc['title'])}",
        "",
        f"事件编号 #{inc['id']} · 生成时间 {fmt_time(r['generated_at'])}（{zone_label()}）",
        "",
        "## 一、基本情况",
        "",
        "| 项目 | 内容 |",
        "|---|---|",
        f"| 事件 | {e(inc['title'])} |",
        f"| 状态 | {inc['state']} |",
        f"| 等级 | {inc['severity']}（时限档位 {e(inc['tier'])}） |",
        f"| 核实 | {inc['verification']} |",
        f"| 领域 | {e(inc['topic'])} |",
        f"| 涉及地点 | {e('、'.join(inc['places'])) or '—'} |",
        f"| 涉及部门 | {e('、'.join(inc['departments'])) or '—'} |",
        f"| 路由建议单位 | {e('、'.join(inc['responsible_units'])) or '—'} |",
        f"| 时限 | {fmt_time(inc['clock_started_at'])} 起 {r['clock']['hours']:g} 小时，截止 {fmt_time(inc['release_due'])}"
        f"（{r['clock']['status_label']}） |",
    ]
    if inc["dismiss_reason"]:
        lines.append(f"| 结案理由 | {e(inc['dismiss_reason'])} |")
    fp = det["first_publisher"]
    lines += [
        "",
        "## 二、监测发现",
        "",
        f"- 首发：{e(fp['source']) + ' ' + e(fp['title']) + '（' + e(fp['published_label']) + '）' if fp else '—'}",
        f"- 首发链接：{e(fp['url']) if fp and fp['url'] else '—'}",
        f"- 最早发布时间：{fmt_time(inc['first_published'])}"
        + (f"（计时起点：{e(det['clock_start_basis'])}）" if det["clock_start_basis"] else ""),
        f"- 监测发现时间：{fmt_time(inc['detected_at'])}（发现滞后 {fmt_duration(det['detection_lag'])}）",
        f"- 关联条目 {inc['item_count']} 条，来源 {det['source_count']} 个；触发原因：{e(inc['trigger']) or '—'}",
        "",
        "## 三、研判",
        "",
        f"- 等级：{inc['severity']}",
        f"- 理由：{e('；'.join(inc['severity_reasons'])) or '—'}",
        f"- 核实状态：{inc['verification']}",
        "",
        "## 四、处置与发布",
        "",
        f"- 交办单位：{e('、'.join(inc['assigned_units'])) or '—'}",
        "",
        "| 类型 | 渠道 | 时间 | 链接 | 内容 |",
        "|---|---|---|---|---|",
    ]
    for rel in r["releases"]:
        lines.append(f"| {rel['kind_label']}{'（自动检测）' if rel['detected'] else ''} | {e(rel['channel'])} | "
                     f"{fmt_time(rel['released_at'])} | {e(rel['url'])} | {e(rel['text'])} |")
    if not r["releases"]:
        lines.append("| — | — | — | — | 尚无发布 |")
    if r.get("instructions"):
        lines += ["", "### 领导批示", "", "| " + " | ".join(INSTRUCTION_HEADER) + " |", "|---" * len(INSTRUCTION_HEADER) + "|"]
        lines += ["| " + " | ".join(e(c) for c in row) + " |" for row in instruction_rows(r)]
    lines += ["", "## 五、时间线", "", "| 序号 | 时间 | 类型 | 操作人 | 内容 |", "|---|---|---|---|---|"]
    for ev in r["timeline"]:
        lines.append(f"| {ev['seq']} | {fmt_time(ev['at'])} | {ev['kind_label']} | {e(ev.get('actor_name') or ev['actor'])} | {e(ev['summary'])} |")
    lines += [
        "",
        "## 六、时效统计",
        "",
        f"- 接报确认用时：{fmt_duration(tm['time_to_acknowledge'])}",
        f"- 首次权威发布用时：{fmt_duration(tm['time_to_first_release'])}（按时：{_ok(tm['on_time'])}）",
        f"- 持续发布情况：{e(tm['update_regularity'])}",
        f"- 处置结果发布用时：{fmt_duration(tm['time_to_final'])}",
        "",
        "## 七、附件：证据快照",
        "",
    ]
    for i, ev in enumerate(r["evidence"], 1):
        lines.append(f"{i}. {e(ev['source'])} · {fmt_time(ev['published'])} · {e(ev['title'])}{edited_mark(ev)}")
        if ev["url"]:
            lines.append(f"   - 链接：{e(ev['url'])}")
        if ev["text"]:
            lines.append(f"   - 摘录：{e(ev['text'][:500])}")
    if not r["evidence"]:
        lines.append("无")
    return "\n".join(lines) + "\n"
