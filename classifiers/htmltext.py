"""HTML to plain text and whitespace clean-up: the desk's one ``html_to_text``, used by the
feed parsers (monitor) and text normalisation.

The output is inert text: tags dropped, entities decoded, control characters
(terminal escapes included) removed, whitespace collapsed. Paragraph breaks
(``<br>``, block elements) become single newlines. Pure; selectolax loads lazily.
"""
from __future__ import annotations

import html as _html
import re

__all__ = ["html_to_text", "clean_text", "one_line", "nesting_depth", "strip_huge_tags", "MAX_NESTING"]

_BLOCK_TAGS = re.compile(
    r"<\s*(?:br|hr)\b[^>]*>|<\s*/\s*(?:p|div|li|tr|h[1-6]|blockquote|pre|section|article|table|ul|ol|dd|dt)\s*>",
    re.I,
)
# C0/C1 controls except tab and newline, plus bidi overrides and zero-width junk.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_HSPACE = re.compile(r"[ \t\r\f\v\u00a0\u3000\u2000-\u200a\u202f\u205f]+")
_NEWLINES = re.compile(r"\s*\n\s*")
_ANY_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<(/?)([A-Za-z][\w:-]*)[^>]*?(/?)>")
_ANY_TAG = re.compile(r"<[^>]*>")
# Emoticon images (Weibo: <img alt=[怒] ...>) carry sentiment: keep their alt text.
_EMOTICON = re.compile(r"""<img\b[^>]*?\balt\s*=\s*["']?(\[[^\]"'<>]{1,12}\])[^>]*>""", re.I)
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# HTML parsers slow down badly on pathological nesting (lexbor: 40k levels ~ 6 s).
MAX_NESTING = 1000
_CHECK_NESTING_FROM = 16_384  # shorter fragments cannot nest deep enough to matter


# A start tag this long is an attack (parsers are quadratic in attribute count).
MAX_TAG_CHARS = 16_384
_HUGE_TAG = re.compile(r"<([A-Za-z][\w:.-]*)\s[^<>]{%d,}?(/?)>" % MAX_TAG_CHARS)


def strip_huge_tags(markup: str) -> tuple[str, int]:
    """Drop the attributes of absurdly long start tags. Returns (markup, tags changed)."""
    if len(markup) <= MAX_TAG_CHARS:
        return markup, 0
    return _HUGE_TAG.subn(r"<\1\2>", markup)


def nesting_depth(html: str, stop_at: int | None = None) -> int:
    """Approximate maximum element nesting of ``html`` (a linear scan, no parsing)."""
    depth = deepest = 0
    for m in _TAG.finditer(html):
        closing, name, selfclose = m.groups()
        if closing:
            depth = max(0, depth - 1)
        elif not selfclose and name.lower() not in _VOID:
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_at is not None and deepest > stop_at:
                    break
    return deepest


def clean_text(text: str | None) -> str:
    """Remove control characters and collapse whitespace (keeps single newlines)."""
    if not text:
        return ""
    text = _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _HSPACE.sub(" ", text)
    text = _NEWLINES.sub("\n", text)
    return text.strip()


def one_line(text: str | None) -> str:
    """Like :func:`clean_text` but on one line (for titles, authors)."""
    if not text:
        return ""
    return _ANY_SPACE.sub(" ", _CONTROLS.sub("", text)).strip()


def html_to_text(fragment: str | None) -> str:
    """Visible text of an HTML fragment or page (or of text that merely has entities): entities
    decoded, scripts and styles dropped, block elements become line breaks, emoticons keep their
    alt text. Never raises on broken markup; pathological nesting is stripped textually."""
    if not fragment:
        return ""
    if "<" not in fragment:
        return clean_text(_html.unescape(fragment) if "&" in fragment else fragment)
    fragment, _ = strip_huge_tags(fragment)
    if "alt" in fragment:
        fragment = _EMOTICON.sub(lambda m: _html.escape(m.group(1)), fragment)
    if len(fragment) > _CHECK_NESTING_FROM and nesting_depth(fragment, MAX_NESTING) > MAX_NESTING:
        # Too deep to parse in bounded time: strip tags textually instead.
        return clean_text(_html.unescape(_ANY_TAG.sub(" ", _BLOCK_TAGS.sub("\n", fragment))))
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    marked = _BLOCK_TAGS.sub("\n", fragment)
    tree = HTMLParser(marked)
    tree.strip_tags(["script", "style", "noscript", "template", "iframe", "object", "svg"])
    node = tree.body if tree.body is not None else tree.root  # a page's <head> (its title) is not its text
    text = node.text(deep=True) if node is not None else ""
    return clean_text(text)
