"""Report templates: find one (the desk home's own first, else the bundled default) and render it.

Every export a person reads (DOCX, Markdown, HTML) is a template the department can replace:
a file ``<home>/templates/NAME`` overrides the default ``data/templates/NAME`` of the same name.
The API (``home`` is the desk home folder, or None for the bundled defaults only):

- ``find_template(name, home=None) -> Path``: the file that will be used.
- ``render_text(name, context, home=None) -> str``: a jinja2 template. ``*.html.j2`` autoescapes
  HTML (control characters shown as symbols); ``*.md.j2`` makes every ``{{ value }}`` literal
  Markdown (specials escaped, one line); any other name renders as plain text.
- ``render_docx(name, context, home=None) -> bytes``: a docxtpl ``.docx`` template (jinja2 tags in
  the document's text: ``{{ x }}``, ``{%p for ... %}``, ``{%tr for ... %}``); values are
  XML-escaped and control characters dropped.
- ``list_templates(home=None)``: (name, path, from the home?) for every template in use.
- ``check_template(name, home=None)``: parse the template in use without rendering it
  (TemplateError when its tags are broken), e.g. after the department edited it.
- ``TemplateError`` (an ``ExportError``): a missing or broken template; ``.path``, ``.line`` and a
  one-line message in Chinese and English naming the file and the line (for a DOCX, the text of
  the paragraph around the bad tag).

Templates run in jinja2's sandbox and fail on undefined names (a misspelt field is an error, not
an empty cell). Filters for every format: ``time`` (desk time, ``2026-06-14 10:00``), ``duration``
(``4小时00分``), ``yesno`` (是/否/—), ``num`` (``24``, ``1.5``), ``pct`` (``50%``), ``hours1``
(``16.5``), ``edited`` (an evidence item's 〔已修改，共N个版本〕 mark); the test ``weburl`` (http/https
links only); the global ``zone`` (北京时间).
"""
from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from data import DATA_DIR
from responders.exceptions import ExportError
from storage.timeutil import zone_label
from storage.visible import visible

DEFAULT_DIR = DATA_DIR / "templates"
HOME_SUBDIR = "templates"

# XML 1.0 forbids most control characters; feed text may carry them.
_XML_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>~])")


class TemplateError(ExportError):
    """A report template is missing or broken; the message names the file and the line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None, near: str = ""):
        self.path, self.line, self.near = Path(path), line, near
        where = f"{path}" + (f" 第 {line} 行 (line {line})" if line else "")
        near_text = f"，附近文字「{near}」(near “{near}”)" if near else ""
        super().__init__(f"报告模板有误 / report template error: {where}{near_text}: {message}")


def md_escape(text: Any) -> str:
    """Markdown/HTML specials escaped, newlines flattened and control characters made visible
    (␛, ␇ ...) so feed and staff text stays literal."""
    text = ("" if text is None else str(text)).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", visible(text))


def template_dirs(home: Path | str | None = None) -> list[Path]:
    """Where templates are looked up, first match wins."""
    dirs = [Path(home) / HOME_SUBDIR] if home else []
    return dirs + [DEFAULT_DIR]


def find_template(name: str, home: Path | str | None = None) -> Path:
    if "/" in name or "\\" in name or name.startswith("."):
        raise TemplateError(name, "模板名只能是文件名 / a template name is a plain file name")
    for folder in template_dirs(home):
        path = folder / name
        if path.is_file():
            return path
    raise TemplateError(template_dirs(home)[0] / name, "找不到模板文件 / template file not found")


def list_templates(home: Path | str | None = None) -> list[tuple[str, Path, bool]]:
    names = sorted(p.name for p in DEFAULT_DIR.iterdir() if p.suffix in (".j2", ".docx", ".css") and p.is_file())
    out = []
    for name in names:
        path = find_template(name, home)
        out.append((name, path, path.parent != DEFAULT_DIR))
    return out


# ------------------------------------------------------------------ filters

def _time(value) -> str:
    from responders.exports.model import fmt_time

    return fmt_time(value)


def _duration(value) -> str:
    from responders.exports.model import fmt_duration

    return fmt_duration(value)


def _yesno(value) -> str:
    return "—" if value is None else ("是" if value else "否")


def _num(value) -> str:
    return "—" if value is None else f"{value:g}"


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _hours1(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def _edited(ev) -> str:
    from responders.exports.model import edited_mark

    return edited_mark(ev)


def _weburl(value) -> bool:
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


def _html_finalize(value):
    # Markup (a join's or macro's output, the chart) is already escaped; its control characters
    # are still made visible, which keeps it safe.
    if value is None:
        return ""
    if isinstance(value, Markup):
        return Markup(visible(str(value), multiline=True))
    return visible(value, multiline=True)


def _md_finalize(value):
    return "" if value is None else md_escape(value)


def _xml_finalize(value):
    if value is None:
        return ""
    if isinstance(value, Markup):
        return Markup(_XML_CONTROL.sub("", str(value)))
    return _XML_CONTROL.sub("", str(value))


def _text_finalize(value):
    return "" if value is None else value


def _kind(name: str) -> str:
    if name.endswith(".docx"):
        return "docx"
    if name.endswith((".html.j2", ".htm.j2")):
        return "html"
    if name.endswith(".md.j2"):
        return "md"
    return "text"


@lru_cache(maxsize=16)
def _environment(kind: str, dirs: tuple[str, ...]) -> SandboxedEnvironment:
    finalize = {"html": _html_finalize, "md": _md_finalize, "docx": _xml_finalize}.get(kind, _text_finalize)
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(list(dirs)) if kind != "docx" else None,
        autoescape=kind in ("html", "docx"), undefined=jinja2.StrictUndefined, finalize=finalize,
        trim_blocks=kind != "docx", lstrip_blocks=kind != "docx", keep_trailing_newline=True)
    env.filters.update(time=_time, duration=_duration, yesno=_yesno, num=_num, pct=_pct, hours1=_hours1,
                       edited=_edited)
    env.tests["weburl"] = _weburl
    return env


def _globals(context: Mapping[str, Any]) -> dict:
    return {"zone": zone_label(), **context}


def _error_line(exc: BaseException, filename: str) -> int | None:
    """The template line a runtime error happened on (jinja2 maps its frames to template lines)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_text(name: str, context: Mapping[str, Any], home: Path | str | None = None) -> str:
    path = find_template(name, home)
    dirs = tuple(str(d) for d in template_dirs(home))
    env = _environment(_kind(name), dirs)
    try:
        template = env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.filename or path, exc.message or str(exc), exc.lineno) from None
    except jinja2.TemplateError as exc:
        raise TemplateError(path, str(exc)) from None
    try:
        return template.render(_globals(context))
    except jinja2.TemplateSyntaxError as exc:  # in an included template
        raise TemplateError(exc.filename or path, exc.message or str(exc), exc.lineno) from None
    except (jinja2.TemplateError, TypeError, ValueError, AttributeError, KeyError) as exc:
        raise TemplateError(path, f"{type(exc).__name__}: {exc}", _error_line(exc, template.filename)) from None


def _paragraph_near(exc: BaseException) -> str:
    """The document text around a bad DOCX tag (docxtpl keeps the lines around it, tags stripped)."""
    lines = [re.sub(r"\s+", " ", s).strip() for s in getattr(exc, "docx_context", None) or []]
    text = " ".join(s for s in lines if s)
    return text[:120]


def render_docx(name: str, context: Mapping[str, Any], home: Path | str | None = None) -> bytes:
    from docxtpl import DocxTemplate

    path = find_template(name, home)
    try:
        tpl = DocxTemplate(str(path))
        tpl.render(_globals(context), jinja_env=_environment("docx", ()), autoescape=True)
        buf = io.BytesIO()
        tpl.save(buf)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(path, exc.message or str(exc), near=_paragraph_near(exc)) from None
    except jinja2.TemplateError as exc:
        raise TemplateError(path, f"{type(exc).__name__}: {exc}", near=_paragraph_near(exc)) from None
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise TemplateError(path, f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:  # a file that is not a Word document (zip/XML errors from python-docx)
        if isinstance(exc, ExportError):
            raise
        raise TemplateError(path, f"不是可用的 Word 文档 / not a usable .docx file ({type(exc).__name__}: {exc})") from None
    return buf.getvalue()


def check_template(name: str, home: Path | str | None = None) -> Path:
    """Parse the template ``name`` in use (the home's or the default); TemplateError when broken."""
    path = find_template(name, home)
    kind = _kind(name)
    if kind == "text" and not name.endswith(".j2"):
        return path  # a file templates include verbatim (report_style.css)
    if kind != "docx":
        render_dirs = tuple(str(d) for d in template_dirs(home))
        try:
            _environment(kind, render_dirs).get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(exc.filename or path, exc.message or str(exc), exc.lineno) from None
        return path
    from docxtpl import DocxTemplate

    try:
        tpl = DocxTemplate(str(path))
        tpl.init_docx()
        xml = re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(tpl.get_xml()))
    except Exception as exc:  # not a Word document (zip/XML errors from python-docx)
        raise TemplateError(path, f"不是可用的 Word 文档 / not a usable .docx file ({type(exc).__name__}: {exc})") from None
    try:
        _environment("docx", ()).parse(xml)
    except jinja2.TemplateSyntaxError as exc:
        lines = xml.splitlines()[max((exc.lineno or 1) - 4, 0):(exc.lineno or 1) + 3]
        exc.docx_context = [re.sub(r"<[^>]+>", "", ln) for ln in lines]
        raise TemplateError(path, exc.message or str(exc), near=_paragraph_near(exc)) from None
    return path
