"""The pipeline's store: what it learned about each item and story, for the console and reports.

It owns the tables of migration set "analysis": ``item_analysis`` (one row per analysed
item), ``stories`` (one row per story, updated as it grows), ``labels`` (staff corrections,
used by `yuqing train`), ``pipeline_state`` (each stage's watermark over item ids, written in
the same transaction as the stage's output so a crash never skips or repeats an item),
``items_fts`` (the search index: FTS5 on SQLite, a tsvector with a GIN index on PostgreSQL, the
same query syntax on both) and ``item_understanding`` (classification claimed and done ahead of
the pipeline leader by other processes). It reads monitor's ``items`` alongside them, never writes it.
"""
from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any, Iterable, Iterator, Mapping, Sequence

import sqlite_utils
from sqlite_utils import Migrations

from responders.masking import mask_personal
from pipeline.errors import WatermarkMoved
from storage.db import dialect
from storage.timeutil import from_db, to_db

migrations = Migrations("analysis")


@migrations()
def m001_analysis(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE item_analysis (
            item_id INTEGER PRIMARY KEY,
            topic TEXT NOT NULL,
            topic_p REAL NOT NULL,
            sentiment TEXT NOT NULL,
            sentiment_score REAL NOT NULL,
            severity TEXT NOT NULL,
            severity_reasons TEXT NOT NULL DEFAULT '[]',
            places TEXT NOT NULL DEFAULT '[]',
            departments TEXT NOT NULL DEFAULT '[]',
            units TEXT NOT NULL DEFAULT '[]',
            schemes TEXT NOT NULL DEFAULT '[]',
            risk_words TEXT NOT NULL DEFAULT '[]',
            involves_district INTEGER NOT NULL DEFAULT 0,
            flagged INTEGER NOT NULL DEFAULT 0,
            story_id TEXT,
            duplicate_of INTEGER,
            hot INTEGER NOT NULL DEFAULT 0,
            heat REAL NOT NULL DEFAULT 0,
            analysed_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX item_analysis_flagged ON item_analysis(flagged, item_id)")
    db.execute("CREATE INDEX item_analysis_story ON item_analysis(story_id)")
    db.execute("""
        CREATE TABLE stories (
            id TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            size INTEGER NOT NULL,
            first_item_id INTEGER,
            first_source TEXT,
            first_published TEXT,
            sources INTEGER NOT NULL DEFAULT 1,
            hot INTEGER NOT NULL DEFAULT 0,
            hot_since TEXT,
            heat REAL NOT NULL DEFAULT 0,
            peak_heat REAL NOT NULL DEFAULT 0,
            explanation TEXT NOT NULL DEFAULT '[]',
            incident_id INTEGER,
            updated_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX stories_updated ON stories(updated_at)")
    db.execute("""
        CREATE TABLE labels (
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL,
            field TEXT NOT NULL CHECK (field IN ('topic', 'sentiment', 'place')),
            value TEXT NOT NULL,
            actor TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX labels_item ON labels(item_id)")
    db.execute("CREATE TABLE pipeline_state (stage TEXT PRIMARY KEY, last_item_id INTEGER NOT NULL)")


@migrations()
def m002_search_index(db: sqlite_utils.Database) -> None:
    # Full-text search over segmented text: tokens joined by spaces, so unicode61 splits
    # exactly at our word boundaries (Chinese has no spaces of its own). rowid = items.id.
    # On PostgreSQL the same index is a tsvector over the same space-joined tokens ('simple':
    # split at spaces, lower-cased, no stemming) with a GIN index: no server extension needed.
    if dialect(db) == "postgresql":
        db.execute("CREATE TABLE items_fts (rowid BIGINT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL,"
                   " tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || text)) STORED)")
        db.execute("CREATE INDEX items_fts_tsv ON items_fts USING GIN (tsv)")
    else:
        db.execute("CREATE VIRTUAL TABLE items_fts USING fts5(title, text, tokenize = 'unicode61')")


@migrations()
def m003_understanding_claims(db: sqlite_utils.Database) -> None:
    # Understanding done ahead of the pipeline leader by other `--role pipeline` processes: a row
    # claims an item for one worker (the primary key makes the claim exclusive); ``result`` is
    # its classification (JSON) once done. The leader takes results it finds and deletes the
    # rows of each batch it commits; a claim never fulfilled (its worker died) is classified by
    # the leader itself, so nothing waits on a dead worker.
    db.execute("CREATE TABLE item_understanding (item_id INTEGER PRIMARY KEY, claimed_by TEXT NOT NULL,"
               " claimed_at TEXT NOT NULL, result TEXT, done_at TEXT)")


LABEL_FIELDS = ("topic", "sentiment", "place")


def index_for_search(conn, item_id: int, title_tokens: Sequence[str], text_tokens: Sequence[str]) -> None:
    """Add one item's segmented text to the search index (inside the stage's transaction)."""
    index_many(conn, [(item_id, title_tokens, text_tokens)])


def index_many(conn, rows: Sequence[tuple[int, Sequence[str], Sequence[str]]]) -> None:
    """:func:`index_for_search` for a batch of (item id, title tokens, text tokens)."""
    # Masked: the index is a copy of the text that outlives no one's need to find a phone number.
    if dialect(conn) == "postgresql":  # FTS5 tables take no upsert; its words are cut as FTS5 cuts them
        conn.executemany("INSERT INTO items_fts (rowid, title, text) VALUES (?, ?, ?) ON CONFLICT (rowid)"
                         " DO UPDATE SET title = excluded.title, text = excluded.text",
                         [(item_id, _fts_words(_masked_tokens(tt)), _fts_words(_masked_tokens(xt))[:PG_INDEX_CHARS])
                          for item_id, tt, xt in rows])
        return
    conn.executemany("INSERT OR REPLACE INTO items_fts (rowid, title, text) VALUES (?, ?, ?)",
                     [(item_id, _masked_tokens(tt), _masked_tokens(xt)) for item_id, tt, xt in rows])


# A tsvector holds at most 1 MB: an item's indexed text is cut well below (about 0.6 MB at worst).
PG_INDEX_CHARS = 100_000
_WORD = re.compile(r"[^\W_]+")


def _fts_words(text: str) -> str:
    """Text as SQLite's FTS5 ``unicode61`` tokenizer cuts it, joined by spaces: runs of letters and
    digits (punctuation, symbols and ``_`` separate), lower-cased, Latin diacritics removed. The
    PostgreSQL index and its queries go through this, so PostgreSQL's parser (which keeps
    ``example.com``, ``12.5`` or ``a-b`` whole) finds what FTS5 finds for the same query."""
    words = []
    for m in _WORD.finditer(text):
        w = m.group().lower()
        if not w.isascii() and all(ord(c) < 0x250 for c in w):
            w = "".join(c for c in unicodedata.normalize("NFD", w) if not unicodedata.combining(c))
        words.append(w)
    return " ".join(words)


def _masked_tokens(tokens: Sequence[str]) -> str:
    """Tokens joined by spaces, personal data masked as in the running text: the segmenter may
    cut 来电人 or 陕F12345 in two, so mask the unsegmented text and put the token boundaries
    back (a boundary inside a masked span, e.g. an e-mail address, is dropped)."""
    import difflib

    tokens = [str(t) for t in tokens]
    whole = "".join(tokens)
    masked = mask_personal(whole)
    if masked == whole:
        return " ".join(tokens)
    cuts, pos = set(), 0
    for t in tokens[:-1]:
        pos += len(t)
        cuts.add(pos)
    out_cuts = set()
    for tag, i1, i2, j1, _j2 in difflib.SequenceMatcher(None, whole, masked, autojunk=False).get_opcodes():
        for c in cuts:
            if tag == "equal" and i1 <= c <= i2:
                out_cuts.add(j1 + (c - i1))
            elif tag == "replace" and i2 - i1 == _j2 - j1 and i1 <= c <= i2:
                out_cuts.add(j1 + (c - i1))
    out, last = [], 0
    for c in sorted(out_cuts):
        if last < c:
            out.append(masked[last:c])
            last = c
    out.append(masked[last:])
    return " ".join(p for p in out if p)


def search_items(db: sqlite_utils.Database, query_tokens: Sequence[str], *, limit: int = 100) -> list[dict]:
    """Items whose segmented text contains every query token (phrase per token), newest first.
    Tokens without a letter or digit (punctuation) are left out of the query on both backends."""
    if dialect(db) == "postgresql":  # each token a phrase of its words, cut as the index was cut
        terms = [w for w in map(_fts_words, query_tokens) if w]
        if not terms:
            return []
        return db.execute_returning_dicts(
            "SELECT i.id, i.source_id, i.title, i.text, i.url, i.published, i.fetched_at FROM items_fts f"
            " JOIN items i ON i.id = f.rowid WHERE f.tsv @@ ("
            + " && ".join(["phraseto_tsquery('simple', ?)"] * len(terms)) + ") ORDER BY f.rowid DESC LIMIT ?",
            [*terms, limit])
    terms = [t.replace('"', '""') for t in query_tokens if _fts_words(t)]
    if not terms:
        return []
    match = " AND ".join(f'"{t}"' for t in terms)
    return db.execute_returning_dicts(
        "SELECT i.id, i.source_id, i.title, i.text, i.url, i.published, i.fetched_at FROM items_fts f"
        " JOIN items i ON i.id = f.rowid WHERE items_fts MATCH ? ORDER BY f.rowid DESC LIMIT ?",
        [match, limit],
    )


@dataclass(frozen=True)
class ItemAnalysis:
    item_id: int
    topic: str
    topic_p: float
    sentiment: str
    sentiment_score: float
    severity: str
    severity_reasons: tuple[str, ...]
    places: tuple[Mapping[str, Any], ...]
    departments: tuple[str, ...]
    units: tuple[str, ...]
    schemes: tuple[Mapping[str, Any], ...]
    risk_words: tuple[str, ...]
    involves_district: bool
    flagged: bool
    story_id: str | None
    duplicate_of: int | None
    hot: bool
    heat: float
    analysed_at: datetime


def understood_of(c, title_tokens: Sequence[str], text_tokens: Sequence[str]) -> dict:
    """What classification learned about one item (``classifiers.pipeline`` result ``c``) and the
    words it was cut into, as a JSON-able dict: what an understanding worker hands the leader."""
    return {
        "topic": c.topic.label, "topic_p": float(c.topic.probability), "sentiment": c.sentiment.label,
        "sentiment_score": float(c.sentiment.score), "severity": c.severity.level,
        "severity_reasons": list(c.severity.reasons),
        "places": [{"code": p.code, "name": p.name, "level": p.level, "in_district": p.in_district,
                    "reason": p.reason} for p in c.jurisdiction.places],
        "departments": [d.name for d in c.jurisdiction.departments], "units": list(c.responsible_units),
        "schemes": [{"scheme": s.scheme, "words": list(s.words), "alert": s.alert} for s in c.schemes],
        "risk_words": list(c.risk_words), "involves_district": bool(c.jurisdiction.involves_district),
        "title_tokens": list(title_tokens), "text_tokens": list(text_tokens)}


def analysis_from(item_id: int, u: Mapping[str, Any], a, now: datetime) -> ItemAnalysis:
    """The row of one item from what was understood about it (:func:`understood_of`) and its story
    assignment ``a`` (``classifiers.stories`` engine)."""
    schemes = tuple(dict(s) for s in u["schemes"])
    return ItemAnalysis(
        item_id=item_id, topic=u["topic"], topic_p=float(u["topic_p"]), sentiment=u["sentiment"],
        sentiment_score=float(u["sentiment_score"]), severity=u["severity"],
        severity_reasons=tuple(u["severity_reasons"]), places=tuple(dict(p) for p in u["places"]),
        departments=tuple(u["departments"]), units=tuple(u["units"]), schemes=schemes,
        risk_words=tuple(u["risk_words"]), involves_district=bool(u["involves_district"]),
        flagged=bool(u["involves_district"]) or bool(schemes), story_id=a.story_id,
        duplicate_of=int(a.duplicate_of) if a.duplicate_of else None, hot=a.hot, heat=float(a.heat), analysed_at=now)


def claim_understanding(conn, worker: str, now: datetime, *, after: int, skip: int, limit: int) -> list[int]:
    """Claim for ``worker`` up to ``limit`` unclaimed items beyond the leader's next batch (the
    ``skip`` items after ``after``, its watermark); their ids. Call inside a transaction."""
    row = conn.execute("SELECT id FROM items WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?", [after, skip]).fetchone()
    if row is None:
        return []
    return sorted(r[0] for r in conn.execute(
        "INSERT INTO item_understanding (item_id, claimed_by, claimed_at)"
        " SELECT i.id, ?, ? FROM items i WHERE i.id >= ?"
        " AND NOT EXISTS (SELECT 1 FROM item_understanding u WHERE u.item_id = i.id) ORDER BY i.id LIMIT ?"
        " ON CONFLICT (item_id) DO NOTHING RETURNING item_id", [worker, to_db(now), row[0], limit]).fetchall())


def save_understood(conn, worker: str, results: Sequence[tuple[int, Mapping[str, Any]]], now: datetime) -> None:
    """Store a worker's results for the items it claimed (a claim the leader consumed meanwhile
    is gone: its result is dropped)."""
    at = to_db(now)
    conn.executemany("UPDATE item_understanding SET result = ?, done_at = ? WHERE item_id = ? AND claimed_by = ?",
                     [(json.dumps(u, ensure_ascii=False), at, item_id, worker) for item_id, u in results])


def understood(conn, item_ids: Sequence[int]) -> dict[int, dict]:
    """item id -> what a worker understood about it, for those of ``item_ids`` that have a result."""
    if not item_ids:
        return {}
    rows = conn.execute(f"SELECT item_id, result FROM item_understanding WHERE item_id IN"
                        f" ({','.join('?' * len(item_ids))}) AND result IS NOT NULL", list(item_ids)).fetchall()
    return {item_id: json.loads(result) for item_id, result in rows}


def clear_understood(conn, up_to: int) -> None:
    """Drop the claims and results of items up to ``up_to`` (inside the batch that consumed them)."""
    conn.execute("DELETE FROM item_understanding WHERE item_id <= ?", [up_to])


def facts_dict(row: ItemAnalysis) -> dict:
    """What a story's facts take from an item's analysis (the shape :func:`decode_lists` gives)."""
    return {"places": row.places, "departments": row.departments, "units": row.units, "topic": row.topic,
            "risk_words": row.risk_words, "severity": row.severity, "severity_reasons": row.severity_reasons,
            "sentiment": row.sentiment, "schemes": row.schemes, "involves_district": row.involves_district}


_LIST_COLUMNS = ("places", "departments", "units", "risk_words", "severity_reasons", "schemes")


def decode_lists(r: Mapping[str, Any], memo: dict | None = None) -> dict:
    """The row with its JSON lists decoded. With ``memo`` (a replay: copies of one post
    have the same lists) equal strings are decoded once and share the result: read it only."""
    d = dict(r)
    for key in _LIST_COLUMNS:
        v = r[key]
        if not v or v == "[]":
            d[key] = []
        elif memo is None:
            d[key] = json.loads(v)
        else:
            got = memo.get(v)
            if got is None:
                if len(memo) >= 4096:
                    memo.clear()
                got = memo[v] = json.loads(v)
            d[key] = got
    return d


def replay_rows(conn, last_item_id: int, since: datetime, chunk: int) -> Iterator[list[dict]]:
    """The stored items of the story window (published or fetched since ``since``) up to
    ``last_item_id``, each with its analysis row, in item order, ``chunk`` at a time: a full
    window can be 300,000 items, far too many to hold at once (a page per query, by item id, so
    neither backend's driver buffers the whole window). Reads ``items`` (monitor's)."""
    after = 0
    while True:
        cur = conn.execute(
            "SELECT i.id, i.title, i.text, i.url, i.published, i.fetched_at, i.source_id, i.metrics, a.*"
            " FROM items i JOIN item_analysis a ON a.item_id = i.id"
            " WHERE i.id > ? AND i.id <= ? AND coalesce(i.published, i.fetched_at) >= ? ORDER BY i.id LIMIT ?",
            [after, last_item_id, to_db(since), chunk])
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        if not rows:
            return
        yield [dict(zip(names, r)) for r in rows]
        after = rows[-1][0]


def watermark(conn, stage: str) -> int:
    row = conn.execute("SELECT last_item_id FROM pipeline_state WHERE stage = ?", [stage]).fetchone()
    return row[0] if row else 0


def set_watermark(conn, stage: str, last_item_id: int) -> None:
    conn.execute(
        "INSERT INTO pipeline_state (stage, last_item_id) VALUES (?, ?)"
        " ON CONFLICT(stage) DO UPDATE SET last_item_id = excluded.last_item_id",
        [stage, last_item_id],
    )


def advance_watermark(conn, stage: str, expected: int, last_item_id: int) -> None:
    """Move a stage's watermark from ``expected`` to ``last_item_id`` inside the caller's
    transaction, or raise :class:`WatermarkMoved` (and write nothing) when it is not at
    ``expected``: a batch is committed only on top of the state it was computed from."""
    found = watermark(conn, stage)
    if found != expected:
        raise WatermarkMoved(stage, expected, found)
    set_watermark(conn, stage, last_item_id)


_ANALYSIS_COLUMNS = ("item_id", "topic", "topic_p", "sentiment", "sentiment_score", "severity", "severity_reasons",
                     "places", "departments", "units", "schemes", "risk_words", "involves_district", "flagged",
                     "story_id", "duplicate_of", "hot", "heat", "analysed_at")
_SAVE_SQL = (
    f"INSERT INTO item_analysis ({', '.join(_ANALYSIS_COLUMNS)}) VALUES ({','.join('?' * len(_ANALYSIS_COLUMNS))})"
    " ON CONFLICT (item_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _ANALYSIS_COLUMNS[1:]))


def _analysis_params(a: ItemAnalysis, analysed_at: str | None = None) -> tuple:
    return (a.item_id, a.topic, a.topic_p, a.sentiment, a.sentiment_score, a.severity, _j(a.severity_reasons),
            _j(a.places), _j(a.departments), _j(a.units), _j(a.schemes), _j(a.risk_words), int(a.involves_district),
            int(a.flagged), a.story_id, a.duplicate_of, int(a.hot), a.heat,
            analysed_at if analysed_at is not None else to_db(a.analysed_at))


def save_analysis(conn, a: ItemAnalysis) -> None:
    """Insert or replace one item's analysis (call inside the stage's transaction)."""
    conn.execute(_SAVE_SQL, _analysis_params(a))


def save_analyses(conn, rows: Sequence[ItemAnalysis]) -> None:
    """:func:`save_analysis` for a batch, in one statement."""
    stamps: dict[datetime, str] = {}  # a batch shares one analysis time: encode it once
    params = []
    for a in rows:
        at = stamps.get(a.analysed_at)
        if at is None:
            at = stamps[a.analysed_at] = to_db(a.analysed_at)
        params.append(_analysis_params(a, at))
    conn.executemany(_SAVE_SQL, params)


_encode = json.JSONEncoder(ensure_ascii=False).encode  # what json.dumps(v, ensure_ascii=False) does, built once
_quote = encode_basestring  # a JSON string literal, non-ASCII kept (ensure_ascii=False)


def _j(value) -> str:
    """``json.dumps(list(value), ensure_ascii=False)``, byte for byte, without building an encoder per
    call: most columns hold no or a few plain strings (the pipeline writes ~7 per item)."""
    if not isinstance(value, (tuple, list)):
        value = list(value)
    if not value:
        return "[]"
    for v in value:
        if type(v) is not str:
            return _encode(list(value))
    return "[" + ", ".join(map(_quote, value)) + "]"


def _row_to_analysis(r: Mapping[str, Any]) -> ItemAnalysis:
    return ItemAnalysis(
        item_id=r["item_id"], topic=r["topic"], topic_p=r["topic_p"], sentiment=r["sentiment"],
        sentiment_score=r["sentiment_score"], severity=r["severity"],
        severity_reasons=tuple(json.loads(r["severity_reasons"])), places=tuple(json.loads(r["places"])),
        departments=tuple(json.loads(r["departments"])), units=tuple(json.loads(r["units"])),
        schemes=tuple(json.loads(r["schemes"])), risk_words=tuple(json.loads(r["risk_words"])),
        involves_district=bool(r["involves_district"]), flagged=bool(r["flagged"]), story_id=r["story_id"],
        duplicate_of=r["duplicate_of"], hot=bool(r["hot"]), heat=r["heat"], analysed_at=from_db(r["analysed_at"]),
    )


def get_analysis(db: sqlite_utils.Database, item_ids: Sequence[int]) -> dict[int, ItemAnalysis]:
    if not item_ids:
        return {}
    rows = db.execute_returning_dicts(
        f"SELECT * FROM item_analysis WHERE item_id IN ({','.join('?' * len(item_ids))})", list(item_ids))
    return {r["item_id"]: _row_to_analysis(r) for r in rows}


def flagged_items(db: sqlite_utils.Database, *, limit: int = 200, before_id: int | None = None) -> list[dict]:
    """Newest flagged items joined with their text, for the live stream."""
    sql = ("SELECT i.id, i.source_id, i.title, i.text, i.url, i.published, i.fetched_at, a.* "
           "FROM item_analysis a JOIN items i ON i.id = a.item_id WHERE a.flagged = 1")
    args: list[Any] = []
    if before_id is not None:
        sql += " AND a.item_id < ?"
        args.append(before_id)
    sql += " ORDER BY a.item_id DESC LIMIT ?"
    args.append(limit)
    return db.execute_returning_dicts(sql, args)


_ANALYSED_SQL = ("SELECT i.id, i.source_id, i.title, i.text, i.url, i.published, a.topic, a.sentiment, a.places,"
                 " a.flagged FROM items i LEFT JOIN item_analysis a ON a.item_id = i.id WHERE 1=1")


def analysed_items(db: sqlite_utils.Database, *, ids: Sequence[int] | None = None, town: str = "",
                   since: datetime | None = None, topic: str = "", sentiment: str = "", source: str = "",
                   limit: int = 200) -> list[dict]:
    """Items with what was learned about them (topic, sentiment, places, flagged; None when not
    analysed yet), newest first: only ``ids`` when given, a town named in their places, fetched
    at or after ``since``, of a topic, sentiment or source."""
    sql, args = _ANALYSED_SQL, []
    if ids is not None:
        sql += f" AND i.id IN ({','.join('?' * len(ids))})"
        args += [int(i) for i in ids]
    if town:
        sql += " AND a.places LIKE ?"
        args.append(f"%{town}%")
    if since is not None:
        sql += " AND i.fetched_at >= ?"
        args.append(to_db(since))
    for col, val in (("a.topic", topic), ("a.sentiment", sentiment), ("i.source_id", source)):
        if val:
            sql += f" AND {col} = ?"
            args.append(val)
    return db.execute_returning_dicts(sql + " ORDER BY i.id DESC LIMIT ?", [*args, limit])


def item_heat(db: sqlite_utils.Database, ids: Sequence[int]) -> dict[int, float]:
    """item id -> the heat of its story when it was analysed."""
    ids = [int(i) for i in ids]
    if not ids:
        return {}
    return dict(db.execute(f"SELECT item_id, heat FROM item_analysis WHERE item_id IN ({','.join('?' * len(ids))})",
                           ids).fetchall())


def analysis_values(db: sqlite_utils.Database, column: str) -> list[str]:
    """The distinct non-empty topics or sentiments seen, sorted."""
    if column not in ("topic", "sentiment"):
        raise ValueError(f"not a choice column: {column!r}")
    return [r[0] for r in db.execute(f"SELECT DISTINCT {column} FROM item_analysis ORDER BY {column}") if r[0]]


def top_stories(db: sqlite_utils.Database, limit: int) -> list[tuple[str, float, int]]:
    """(label, heat, size) of the hottest ``limit`` stories."""
    return [tuple(r) for r in db.execute("SELECT label, heat, size FROM stories ORDER BY heat DESC LIMIT ?", [limit])]


_STORY_SQL = (
    "INSERT INTO stories (id, label, size, first_item_id, first_source, first_published, sources, hot,"
    " hot_since, heat, peak_heat, explanation, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT(id) DO UPDATE SET label=excluded.label, size=excluded.size,"
    " first_item_id=excluded.first_item_id, first_source=excluded.first_source,"
    " first_published=excluded.first_published, sources=excluded.sources, hot=excluded.hot,"
    " hot_since=excluded.hot_since, heat=excluded.heat, peak_heat=CASE WHEN excluded.peak_heat > stories.peak_heat"
    " THEN excluded.peak_heat ELSE stories.peak_heat END,"
    " explanation=excluded.explanation, updated_at=excluded.updated_at")


def _story_params(story: Mapping[str, Any], updated_at: str) -> tuple:
    return (story["id"], story.get("label", ""), story.get("size", 1), story.get("first_item_id"),
            story.get("first_source"), story.get("first_published"), story.get("sources", 1),
            int(bool(story.get("hot"))), story.get("hot_since"), float(story.get("heat", 0.0)),
            float(story.get("peak_heat", 0.0)), _j(story.get("explanation", ())), updated_at)


def story_dict(story) -> dict:
    """The row of a story as the story engine summarises it (``classifiers.stories`` Story)."""
    return {"id": story.id, "label": story.label, "size": story.size,
            "first_item_id": int(story.first_id) if str(story.first_id).isdigit() else None,
            "first_source": story.first_source, "first_published": to_db(story.first_published),
            "sources": len(story.sources), "hot": story.hot, "hot_since": to_db(story.hot_since),
            "heat": story.heat, "peak_heat": story.peak_heat, "explanation": []}


def save_story(conn, story: Mapping[str, Any], now: datetime) -> None:
    """Upsert a story summary (the keys of the story stage's summary JSON)."""
    conn.execute(_STORY_SQL, _story_params(story, to_db(now)))


def save_stories(conn, stories: Iterable[Mapping[str, Any]], now: datetime) -> None:
    """:func:`save_story` for a batch, in one statement (a story given twice: the last one wins,
    as with separate calls)."""
    at = to_db(now)
    conn.executemany(_STORY_SQL, [_story_params(s, at) for s in stories])


def add_label(db: sqlite_utils.Database, item_id: int, field: str, value: str, actor: str, at: datetime) -> int:
    """Store a staff correction as a training label (a new row each time: history is kept)."""
    if field not in LABEL_FIELDS:
        raise ValueError(f"label field must be one of {', '.join(LABEL_FIELDS)}, got {field!r}")
    if not str(value).strip():
        raise ValueError("label value is empty")
    from classifiers.types import SENTIMENTS, TOPICS

    if field == "topic" and value not in TOPICS:
        raise ValueError(f"unknown topic {value!r} (known: {' '.join(TOPICS)})")
    if field == "sentiment" and value not in SENTIMENTS:
        raise ValueError(f"unknown sentiment {value!r} (known: {' '.join(SENTIMENTS)})")
    from storage.db import transaction

    with transaction(db) as conn:
        return conn.execute(
            "INSERT INTO labels (item_id, field, value, actor, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
            [item_id, field, value, actor, to_db(at)],
        ).fetchall()[0][0]


def labels(db: sqlite_utils.Database, field: str | None = None) -> list[dict]:
    """The latest label per (item, field): what `yuqing train` learns from."""
    sql = ("SELECT l.item_id, l.field, l.value, l.actor, l.created_at, i.title, i.text FROM labels l"
           " JOIN items i ON i.id = l.item_id WHERE l.id IN (SELECT max(id) FROM labels GROUP BY item_id, field)")
    args: list[Any] = []
    if field:
        sql += " AND l.field = ?"
        args.append(field)
    return db.execute_returning_dicts(sql + " ORDER BY l.id", args)


def latest_topic_labels(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(title, text, topic) of every labelled item by its latest topic label, in item order;
    [] when the desk has no items or labels yet (a plain, possibly read-only, connection)."""
    try:
        return _latest_topic_labels(conn)
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # a desk without items or labels yet
            return []
        raise


def _latest_topic_labels(conn) -> list[tuple[str, str, str]]:
    return conn.execute("""
        SELECT i.title, i.text, l.value FROM labels l
        JOIN items i ON i.id = l.item_id
        WHERE l.field = 'topic' AND l.id = (  -- the last correction written, as everywhere else
            SELECT max(l2.id) FROM labels l2 WHERE l2.item_id = l.item_id AND l2.field = 'topic')
        ORDER BY l.item_id""").fetchall()


def labelled_items(tables: set[str]) -> list[str]:
    """The query selecting the ids of items staff labelled (kept when old items are pruned)."""
    return ["SELECT item_id FROM labels"] if "labels" in tables else []


#: The pipeline's tables whose rows hang off an item id: (table, column).
ITEM_CHILDREN = (("item_analysis", "item_id"), ("items_fts", "rowid"), ("item_understanding", "item_id"))


def forget_items(conn, ids: Sequence[int], tables: set[str]) -> dict[str, int]:
    """Delete what the pipeline stored about these items (inside the caller's transaction; only
    tables in ``tables``, the existing ones); rows deleted per table."""
    marks = ",".join("?" * len(ids))
    deleted: dict[str, int] = {}
    for table, col in ITEM_CHILDREN:
        if table in tables:
            cur = conn.execute(f"DELETE FROM {table} WHERE {col} IN ({marks})", list(ids))
            deleted[table] = max(cur.rowcount, 0)
    return deleted


def item_labels(db: sqlite_utils.Database, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """item id -> {field: value} of its corrections, the latest per field."""
    out: dict[int, dict[str, str]] = {}
    ids = [int(i) for i in ids]
    if ids:
        for item_id, field, value in db.execute(
                f"SELECT item_id, field, value FROM labels WHERE item_id IN ({','.join('?' * len(ids))}) ORDER BY id",
                ids):
            out.setdefault(item_id, {})[field] = value
    return out


def iter_json(value: str | None) -> Iterable[Any]:
    return json.loads(value) if value else []
