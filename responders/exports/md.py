"""Markdown rendering of the 舆情处置报告, from the template ``incident_report.md.j2``. Feed text is
made literal (no markup, no links) by the template engine (responders/exports/templates.py)."""
from __future__ import annotations

from pathlib import Path

from responders.exports.templates import md_escape, render_text

__all__ = ["md_escape", "render_markdown"]


def render_markdown(r: dict, home: Path | str | None = None) -> str:
    return render_text("incident_report.md.j2", r, home)
