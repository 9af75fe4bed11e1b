"""The text of a CSV file as staff's spreadsheets save it: UTF-8 with or without a BOM, else
GB18030 (Excel on Chinese Windows saves GBK). Used by every CSV import (hotline, roster)."""
from __future__ import annotations


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030; undecodable bytes become U+FFFD."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")
