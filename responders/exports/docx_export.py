"""DOCX rendering of the 舆情处置报告 from the template ``incident_report.docx`` (docxtpl; the
default follows GB/T 9704, see data/templates/build_docx_templates.py)."""
from __future__ import annotations

from pathlib import Path

from responders.exports.templates import render_docx as render_template


def render_docx(r: dict, home: Path | str | None = None) -> bytes:
    return render_template("incident_report.docx", r, home)
