"""Exports of one incident (舆情处置报告): md, html, json, csv, docx.

``export_incident(svc, incident_id, fmt, path=None, mask=True, home=None) -> bytes``
builds the report once (secrets scrubbed, personal data masked unless
``mask=False``), renders it (md, html and docx from the report templates, the desk
``home``'s own first: responders/exports/templates.py) and, when ``path`` is given,
writes it atomically.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from responders.exceptions import ExportError
from storage.files import write_atomic as storage_write_atomic

if TYPE_CHECKING:
    from responders.incidents import IncidentService

FORMATS = ("md", "html", "json", "csv", "docx")


def render(report: dict, fmt: str, home: str | Path | None = None) -> bytes:
    """``report`` in ``fmt``; md, html and docx come from templates (``home``'s own first)."""
    if fmt == "md":
        from responders.exports.md import render_markdown

        return render_markdown(report, home).encode("utf-8")
    if fmt == "html":
        from responders.exports.html_export import render_html

        return render_html(report, home).encode("utf-8")
    if fmt == "json":
        from responders.exports.data_export import render_json

        return render_json(report).encode("utf-8")
    if fmt == "csv":
        from responders.exports.data_export import render_csv

        return render_csv(report).encode("utf-8")
    if fmt == "docx":
        from responders.exports.docx_export import render_docx

        return render_docx(report, home)
    raise ExportError(f"unknown export format {fmt!r} (use one of {', '.join(FORMATS)})")


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all. The folder must exist: a mistyped folder is
    an error, not a new folder."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ExportError(f"cannot write {path}: folder {path.parent} does not exist")
    try:
        storage_write_atomic(path, data)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None


def export_incident(svc: "IncidentService", incident_id: int, fmt: str, path: str | Path | None = None,
                    *, mask: bool = True, home: str | Path | None = None, item_notes=None) -> bytes:
    """``item_notes(db, item_ids)``: what staff should know about the evidence items' dates and
    versions (``monitor.store.item_notes``); without it the report has no such notes."""
    from responders.exports.model import build_report

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (use one of {', '.join(FORMATS)})")
    data = render(build_report(svc, incident_id, mask=mask, item_notes=item_notes), fmt, home)
    if path is not None:
        write_atomic(path, data)
    return data
