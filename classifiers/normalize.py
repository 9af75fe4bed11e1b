"""Text normalisation: HTML to text, Traditional to Simplified, width, whitespace,
crawler residue, and Weibo-style repost chains kept apart from the poster's own words.

Pure functions, no I/O. OpenCC (the C++ ``opencc`` binding) loads lazily; HTML goes through
the desk's one :func:`classifiers.htmltext.html_to_text`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from classifiers.htmltext import html_to_text

__all__ = ["NormalizedText", "to_simplified", "to_simplified_many", "html_to_text", "normalize", "normalize_many"]

_converter = None

# Full-width ASCII letters/digits and the symbols that matter for parsing (@ # / : etc.)
# become half-width; Chinese punctuation (，。！？；：（）) is kept as written.
_WIDTH = {0x3000: " "}
for _cp in range(0xFF01, 0xFF5F):
    _ch = chr(_cp - 0xFEE0)
    if _ch.isalnum() or _ch in "@#/%&+=_-.<>*~^|$'\"`[]{}\\":
        _WIDTH[_cp] = _ch
_WIDTH.update({0x00A0: " ", 0x200B: "", 0x200C: "", 0x200D: "", 0xFEFF: "", 0x2060: ""})
_WIDTH_TABLE = str.maketrans(_WIDTH)
_NEEDS_WIDTH = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_WIDTH)) + "]")
_RESIDUE_HINTS = ("全文", "网页链接", "秒拍视频", "微博视频", "\u200b")

# Residue that crawlers leave behind on Weibo-like pages.
_RESIDUE = re.compile(
    r"(?:收起全文\s*[a-zA-Z]?|展开全文\s*[a-zA-Z]?"
    r"|(?:\.{2,3}|…{1,2}|\?)\s*全文(?=\s*$|\s*[\s/#@【])"
    r"|(?<![\u4e00-\u9fff])[OoL]?网页链接|[OoL]\s*秒拍视频|[^\s，。！？]{0,20}的微博视频"
    r"|\u200b)"
)
_TRAILING_FULLTEXT = re.compile(r"(?:\.{2,3}|…{1,2})\s*全文\s*$")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_NEWLINES = re.compile(r"\s*\n\s*")
_REPOST = re.compile(r"//\s*@([^:：\s/]{1,40})\s*[:：]")
_HASHTAG = re.compile(r"#([^#\n]{1,60}?)#")
_BATCH_SEP = "\ue000"


@dataclass(frozen=True)
class NormalizedText:
    """``text``: everything, cleaned and simplified (repost markers kept);
    ``own``: the poster's own words (before the first ``//@user:``);
    ``reposts``: each quoted chain part as ``@user: words``;
    ``hashtags``: ``#topic#`` names without the ``#``."""

    text: str
    own: str
    reposts: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()


def _opencc():
    global _converter
    if _converter is None:
        import opencc  # the C++ binding; config names with or without ".json" are accepted

        _converter = opencc.OpenCC("t2s.json")
    return _converter


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese (OpenCC t2s). Simplified text passes through."""
    if not text:
        return text
    return _opencc().convert(text)


def to_simplified_many(texts: list[str]) -> list[str]:
    """Batch t2s: one OpenCC call for the whole list (much faster than one call per text)."""
    if not texts:
        return []
    if any(_BATCH_SEP in t for t in texts):
        return [to_simplified(t) for t in texts]
    out = _opencc().convert(_BATCH_SEP.join(texts)).split(_BATCH_SEP)
    if len(out) != len(texts):  # pragma: no cover - defensive: separator altered
        return [to_simplified(t) for t in texts]
    return out


def _clean(text: str) -> str:
    if _NEEDS_WIDTH.search(text):
        text = text.translate(_WIDTH_TABLE)
    if any(h in text for h in _RESIDUE_HINTS):
        text = _RESIDUE.sub("", text)
        text = _TRAILING_FULLTEXT.sub("", text)
    if "  " in text or "\t" in text or "\r" in text or "\f" in text or "\v" in text:
        text = _SPACES.sub(" ", text)
    if "\n" in text:
        text = _NEWLINES.sub("\n", text)
    return text.strip()


def _split(cleaned: str) -> NormalizedText:
    hashtags = tuple(dict.fromkeys(h.strip() for h in _HASHTAG.findall(cleaned) if h.strip())) \
        if "#" in cleaned else ()
    marks = list(_REPOST.finditer(cleaned)) if "//" in cleaned else []
    if not marks:
        return NormalizedText(cleaned, cleaned, (), hashtags)
    own = cleaned[: marks[0].start()].strip()
    parts = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(cleaned)
        words = cleaned[m.end():end].strip()
        parts.append(f"@{m.group(1)}: {words}".rstrip())
    return NormalizedText(cleaned, own, tuple(parts), hashtags)


def normalize(text: str, *, html: bool = False) -> NormalizedText:
    """Clean one text: optional HTML stripping, Traditional → Simplified, full-width
    letters/digits → half-width, whitespace collapsed, crawler residue (收起全文,
    展开全文, …全文, 网页链接) removed, ``//@user:`` repost chains split off."""
    if text is None:
        text = ""
    if html:
        text = html_to_text(text)
    return _split(_clean(to_simplified(text)))


def normalize_many(texts: list[str], *, html: bool = False) -> list[NormalizedText]:
    """Batch form of :func:`normalize` (one OpenCC call per batch)."""
    if html:
        texts = [html_to_text(t or "") for t in texts]
    simplified = to_simplified_many([t or "" for t in texts])
    return [_split(_clean(t)) for t in simplified]
