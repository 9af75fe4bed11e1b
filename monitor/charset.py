"""Decode a fetched body to text, the way a Chinese newsroom's feeds need it.

Order of evidence: byte-order mark, the source's override, the HTTP header
charset, the XML declaration, an HTML ``<meta charset>`` / http-equiv, then
UTF-8 when the bytes decode cleanly, else GB18030. GB2312/GBK/cp936 are read as
GB18030 (a superset); Big5 as big5hkscs when plain Big5 fails. Bad bytes are
replaced, with a warning. Never raises.
"""
from __future__ import annotations

import codecs
import re

__all__ = ["decode_body", "normalize_encoding", "charset_from_content_type"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it shares a prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels read as a superset codec.
_ALIASES = {
    "gb2312": "gb18030",
    "gb-2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "hz",
    "gb_2312-80": "gb18030",
    "iso-ir-58": "gb18030",
    "chinese": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5",
    "x-x-big5": "big5",
    "cn-big5": "big5",
    "csbig5": "big5",
    "big5-hkscs": "big5hkscs",
    "iso-8859-1": "cp1252",  # as browsers do
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "utf-16": "utf-16",
    "utf-32": "utf-32",
}

_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']\s*([A-Za-z0-9._:\-]+)""", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)

# How far into the body we look for an XML declaration or a meta charset.
_SNIFF_BYTES = 4096


def normalize_encoding(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when unknown."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    # codecs normalises gb2312/gbk to their own names: widen them too.
    if name in ("gb2312", "gbk"):
        return "gb18030"
    return name


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _CT_CHARSET.search(content_type)
    return m.group(1) if m else None


def _decode(body: bytes, enc: str, warnings: list[str], why: str) -> tuple[str, str]:
    """Decode with ``enc``; on bad bytes try the superset, else replace and warn."""
    try:
        return body.decode(enc), enc
    except UnicodeDecodeError as exc:
        first = exc
    if enc == "big5":
        try:
            return body.decode("big5hkscs"), "big5hkscs"
        except UnicodeDecodeError:
            pass
    if enc == "utf-8":
        # Chinese sites often declare UTF-8 and serve GBK.
        try:
            text = body.decode("gb18030")
            warnings.append(f"{why} says utf-8 but the body is not UTF-8; read as GB18030")
            return text, "gb18030"
        except UnicodeDecodeError:
            pass
    if enc in ("ascii", "cp1252"):
        # A wrong "latin" declaration over UTF-8 bytes is common.
        try:
            text = body.decode("utf-8")
            warnings.append(f"{why} says {enc} but the body is UTF-8; read as UTF-8")
            return text, "utf-8"
        except UnicodeDecodeError:
            pass
    text = body.decode(enc, errors="replace")
    warnings.append(
        f"invalid {enc} bytes at offset {first.start} ({why}); replaced with U+FFFD"
    )
    return text, enc


def _common_share(text: str, codec: str, lo: int, hi: int) -> float:
    """Share of Han characters that are in the codec's frequent-character block.

    GB2312 level 1 (lead bytes B0-D7) and Big5 "frequently used" (A4-C6) hold the
    common characters; text decoded with the wrong one scatters outside them.
    """
    han = [ch for ch in text[:20000] if "\u4e00" <= ch <= "\u9fff"]
    if not han:
        return 0.0
    common = 0
    for ch in han:
        try:
            if lo <= ch.encode(codec)[0] <= hi:
                common += 1
        except UnicodeEncodeError:
            pass
    return common / len(han)


def decode_body(body: bytes, content_type: str | None = None,
                override: str | None = None) -> tuple[str, str, list[str]]:
    """Return ``(text, encoding_used, warnings)``. Never raises."""
    warnings: list[str] = []
    if isinstance(body, str):  # already text
        return body, "utf-8", warnings
    body = bytes(body)

    for bom, enc in _BOMS:
        if body.startswith(bom):
            text, used = _decode(body[len(bom):], enc, warnings, "byte-order mark")
            return text, used, warnings

    candidates: list[tuple[str | None, str]] = []
    if override:
        candidates.append((override, "encoding override"))
    ct = charset_from_content_type(content_type)
    if ct:
        candidates.append((ct, "HTTP charset"))
    head = body[:_SNIFF_BYTES]
    m = _XML_DECL.match(head)
    if m:
        candidates.append((m.group(1).decode("ascii", "replace"), "XML declaration"))
    m = _META_CHARSET.search(head)
    if m:
        candidates.append((m.group(1).decode("ascii", "replace"), "HTML meta charset"))

    for label, why in candidates:
        enc = normalize_encoding(label)
        if enc is None:
            warnings.append(f"unknown charset {label!r} ({why}); ignored")
            continue
        if enc in ("utf-16", "utf-32", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
            # A declaration read from ASCII-compatible bytes cannot be UTF-16:
            # the declaration itself proves the body is not.
            if why in ("XML declaration", "HTML meta charset"):
                continue
        text, used = _decode(body, enc, warnings, why)
        return text, used, warnings

    # EBCDIC "<?xml": read the declaration through cp037, then use the declared codec.
    if body.startswith(b"\x4c\x6f\xa7\x94\x93"):
        m = _XML_DECL.match(body[:_SNIFF_BYTES].decode("cp037", "replace").encode("ascii", "replace"))
        enc = normalize_encoding(m.group(1).decode("ascii")) if m else None
        text, used = _decode(body, enc or "cp037", warnings, "EBCDIC XML declaration")
        return text, used, warnings

    # UTF-16/32 without BOM: recognise "<" encoded as wide characters.
    for prefix, enc in ((b"<\x00\x00\x00", "utf-32-le"), (b"\x00\x00\x00<", "utf-32-be"),
                        (b"<\x00", "utf-16-le"), (b"\x00<", "utf-16-be")):
        if body.startswith(prefix):
            text, used = _decode(body, enc, warnings, "byte pattern")
            return text, used, warnings

    try:
        return body.decode("utf-8"), "utf-8", warnings
    except UnicodeDecodeError:
        pass
    try:
        gb = body.decode("gb18030")
    except UnicodeDecodeError:
        gb = None
    if gb is not None:
        try:
            b5 = body.decode("big5hkscs")
        except UnicodeDecodeError:
            return gb, "gb18030", warnings
        if _common_share(b5, "big5hkscs", 0xA4, 0xC6) > _common_share(gb, "gb18030", 0xB0, 0xD7):
            warnings.append("no charset declared; the body reads as Big5")
            return b5, "big5hkscs", warnings
        return gb, "gb18030", warnings
    # Neither: keep the likelier reading, with replacement characters.
    utf8 = body.decode("utf-8", errors="replace")
    gb = body.decode("gb18030", errors="replace")
    if utf8.count("\ufffd") <= gb.count("\ufffd"):
        warnings.append("body is neither valid UTF-8 nor GB18030; read as UTF-8 with replacements")
        return utf8, "utf-8", warnings
    warnings.append("body is neither valid UTF-8 nor GB18030; read as GB18030 with replacements")
    return gb, "gb18030", warnings
