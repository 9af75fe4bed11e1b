"""Frozen evidence snapshots of an incident (incident_evidence rows): added once each.

A snapshot is skipped when the incident already has its content hash or URL (or an
earlier snapshot of the same call brought it). ``cache`` (incident id -> (hashes, URLs))
lets a caller holding one transaction over many candidates read each incident's keys
once (``IncidentService.batch_cache``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from responders.store import evidence_keys, has_evidence, insert_evidence
from storage.timeutil import to_db

__all__ = ["add_evidence"]


def _key(value: Any) -> str:
    """A hash or URL as the TEXT column holds it (SQLite compares it so)."""
    if isinstance(value, str):
        return value
    return str(int(value)) if isinstance(value, bool) else str(value)


def add_evidence(conn, iid: int, evidence: Iterable[Mapping[str, Any]], now: datetime,
                 cache: dict[int, tuple[set, set]] | None = None) -> int:
    """Add evidence snapshots, skipping those whose content hash or URL the incident already
    has (or an earlier one of the same call brought); returns how many were added."""
    evidence = list(evidence)
    if not evidence:
        return 0
    if cache is None:
        hashes: set = set()  # this call's own (the table is asked per snapshot)
        urls: set = set()
    else:
        if iid not in cache:
            cache[iid] = evidence_keys(conn, iid)
        hashes, urls = cache[iid]
    at = to_db(now)
    rows = []
    for e in evidence:
        h, url = e.get("content_hash"), e.get("url")
        if h or url:
            if (h is not None and _key(h) in hashes) or (url is not None and _key(url) in urls):
                continue
            if cache is None and has_evidence(conn, iid, h, url):
                continue
        pub = e.get("published")
        if isinstance(pub, str) and pub:
            pub = datetime.fromisoformat(pub)
        rank = e.get("rank")
        rows.append(
            [iid, None if e.get("item_id") is None else str(e["item_id"]), str(e.get("title") or ""),
             str(e.get("text") or ""), url, to_db(pub) if isinstance(pub, datetime) else None,
             e.get("source"), int(rank) if isinstance(rank, (int, float)) and not isinstance(rank, bool) else None,
             h, at])
        if h is not None:
            hashes.add(_key(h))
        if url is not None:
            urls.add(_key(url))
    if rows:
        try:
            insert_evidence(conn, rows)
        except BaseException:
            if cache is not None:
                cache.pop(iid, None)  # its sets hold keys that were not written
            raise
    return len(rows)

