"""Load what the classifiers need: data files, staff labels and the cached topic model.

``classifiers`` does no I/O; this module reads data/ (or the desk home's edited copies:
<home>/schemes.toml, <home>/routing.toml, <home>/gazetteer/) and keeps the trained topic
model in <home>/models, keyed by a hash of the seed, the hint words and the staff labels,
so it retrains when any of them changes.

Staff corrections live in the ``labels`` table (``pipeline.store``): the TUI writes a row
per correction and ``yuqing train`` uses the latest label per item and field.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from data import DATA_DIR
from storage.files import write_atomic
from storage.tomlfile import TomlError, read_toml
from yuqing.errors import DeskError

LEXICON_DIR = DATA_DIR / "lexicons"
SEED_PATH = DATA_DIR / "topics_seed.jsonl"
MODEL_VERSION = "topic-v6"  # bump when features or the model format change

class ClassifyDataError(DeskError, ValueError):
    """A data file for the classifiers is missing or malformed; the message names it."""


# -- labels ------------------------------------------------------------------------

def add_label(db, item_id: int, field: str, value: str, actor: str = "", now=None) -> int:
    """Store one staff correction; returns the row id (the table lives in pipeline.store)."""
    from pipeline.store import add_label as _add
    from storage.timeutil import utcnow

    return _add(db, int(item_id), field, value, actor or "staff", now or utcnow())


def labelled_topic_items(target) -> list[tuple[str, str, str]]:
    """(title, text, topic) for every item whose latest topic label is known; [] without a desk
    database. ``target``: the SQLite file or a server's URL (read only)."""
    import sqlite3

    from storage.db import connect, desk_exists
    from storage.dburl import as_target

    target = as_target(str(target))
    try:
        if not desk_exists(target):
            return []
        db = connect(target, readonly=True)
    except sqlite3.Error:
        return []
    from pipeline.store import latest_topic_labels

    try:
        rows = latest_topic_labels(db.conn)
    except sqlite3.Error:
        return []
    finally:
        db.conn.close()
    from classifiers.types import TOPICS

    return [(t or "", x or "", v) for t, x, v in rows if v in TOPICS]


def desk_database(home, database=None):
    """The desk database of ``home`` when the caller did not name one: the server URL from
    YUQING_DATABASE_URL or desk.toml, else the home's SQLite file."""
    if database is not None:
        return database
    from yuqing.home import DeskHome

    return DeskHome(Path(home)).db_target


# -- data files --------------------------------------------------------------------

def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ClassifyDataError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise ClassifyDataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _toml(path: Path) -> dict:
    try:
        return read_toml(path)
    except TomlError as exc:
        raise ClassifyDataError(str(exc)) from None


def _home_or_default(home: Path | None, name: str) -> Path:
    """The home's edited copy of a data file, else the bundled one. A folder in its place is an
    error: it would silently mean the bundled defaults."""
    if home is not None:
        path = Path(home) / name
        if path.is_dir():
            raise ClassifyDataError(f"{path}: is a folder, not a file (move it away to use the bundled {name})")
        if path.is_file():
            return path
    return DATA_DIR / name


def load_sentiment_lexicon(lexicon_dir: Path = LEXICON_DIR, names: Iterable[str] = ()):
    """The bundled sentiment lexicon; ``names`` (the gazetteer's words) carry no sentiment."""
    from classifiers.sentiment import SentimentLexicon, parse_sections, parse_weighted_lines

    def rd(name: str) -> dict[str, float]:
        path = lexicon_dir / name
        try:
            return parse_weighted_lines(_lines(path))
        except ValueError as exc:
            raise ClassifyDataError(f"{path}: {exc}") from None

    gov_path = lexicon_dir / "sentiment_gov.txt"
    try:
        gov = parse_sections(_lines(gov_path))
    except ValueError as exc:
        raise ClassifyDataError(f"{gov_path}: {exc}") from None
    unknown = sorted(set(gov) - {"event", "praise", "boilerplate", "prevention", "neutral"})
    if unknown:
        raise ClassifyDataError(f"{gov_path}: unknown section [{unknown[0]}] (known: event, praise, boilerplate, "
                                "prevention, neutral)")
    return SentimentLexicon(rd("sentiment_positive.txt"), rd("sentiment_negative.txt"), rd("sentiment_degree.txt"),
                            frozenset(rd("sentiment_negation.txt")), rd("emoticons.txt"), rd("sentiment_cues.txt"),
                            events=gov.get("event", {}), praise=gov.get("praise", {}),
                            boilerplate=frozenset(gov.get("boilerplate", ())),
                            prevention=frozenset(gov.get("prevention", ())),
                            names=frozenset(names) | frozenset(gov.get("neutral", ())))


TAXONOMY_MAP = DATA_DIR / "topic_taxonomy_map.csv"


def load_topic_taxonomy_map(path: Path = TAXONOMY_MAP) -> dict[tuple[str, str, str], str]:
    """The reviewed table: (一级, 二级, 三级) of the government message taxonomy -> our topic."""
    import csv

    from classifiers.types import TOPICS

    out: dict[tuple[str, str, str], str] = {}
    for n, row in enumerate(csv.DictReader(_lines(path)), start=2):
        key = (row.get("一级分类") or "", row.get("二级分类") or "", row.get("三级分类") or "")
        topic = (row.get("topic") or "").strip()
        if not all(key) or topic not in TOPICS:
            raise ClassifyDataError(f"{path}: line {n}: needs 一级/二级/三级分类 and one of the topics, got {row}")
        if key in out:
            raise ClassifyDataError(f"{path}: line {n}: {'/'.join(key)} is mapped twice")
        out[key] = topic
    return out


def load_risk_lexicon(lexicon_dir: Path = LEXICON_DIR):
    from classifiers.severity import RiskLexicon, parse_risk_lines

    path = lexicon_dir / "risk_words.txt"
    try:
        return RiskLexicon(parse_risk_lines(_lines(path)))
    except ValueError as exc:
        raise ClassifyDataError(f"{path}: {exc}") from None


def load_keywords(lexicon_dir: Path = LEXICON_DIR):
    from classifiers.topic import KeywordIndex, parse_keyword_lines

    path = lexicon_dir / "topic_keywords.txt"
    try:
        return KeywordIndex(parse_keyword_lines(_lines(path)))
    except ValueError as exc:
        raise ClassifyDataError(f"{path}: {exc}") from None


def load_seed(path: Path = SEED_PATH) -> list[tuple[str, str, str]]:
    """(title, text, topic) rows of the labelled seed corpus."""
    from classifiers.types import TOPICS
    from yuqing.jsonl import BadJSON, loads

    rows = []
    for n, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        try:
            obj = loads(line)
        except BadJSON as exc:
            raise ClassifyDataError(f"{path}: line {n}: {exc}") from None
        topic = obj.get("topic") if isinstance(obj, dict) else None
        if topic not in TOPICS:
            raise ClassifyDataError(f"{path}: line {n}: unknown topic {topic!r}")
        rows.append((str(obj.get("title") or ""), str(obj.get("text") or ""), topic))
    return rows


def load_schemes(home: Path | None, towns=None, path: Path | None = None):
    """The SchemeSet of <home>/schemes.toml, else data/schemes.toml."""
    from classifiers.schemes import SchemeError, SchemeSet

    path = path or _home_or_default(home, "schemes.toml")
    doc = _toml(path)
    try:
        return SchemeSet.from_mapping(doc, towns=towns)
    except SchemeError as exc:
        raise ClassifyDataError(f"{path}: {exc}") from None


def load_routing(home: Path | None, gazetteer=None, path: Path | None = None):
    from classifiers.routing import RoutingError, RoutingTable

    path = path or _home_or_default(home, "routing.toml")
    from classifiers.units import UnitNames

    units = UnitNames.from_gazetteer(gazetteer) if gazetteer is not None else None
    try:
        return RoutingTable.from_mapping(_toml(path), units=units)
    except RoutingError as exc:
        raise ClassifyDataError(f"{path}: {exc}") from None


# -- topic model -------------------------------------------------------------------

def _fingerprint(seed_path: Path, lexicon_dir: Path, labels: list[tuple[str, str, str]]) -> str:
    h = hashlib.sha256(MODEL_VERSION.encode())
    for p in (seed_path, lexicon_dir / "topic_keywords.txt"):
        h.update(p.read_bytes())
    h.update(json.dumps(labels, ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def training_samples(segmenter, rows: Iterable[tuple[str, str, str]]):
    from classifiers.normalize import normalize_many
    from classifiers.pipeline import _join
    from classifiers.topic import Sample

    rows = list(rows)
    normed = normalize_many([r[0] for r in rows] + [r[1] for r in rows])
    n = len(rows)
    texts = [_join(normed[i].text, normed[n + i].text) for i in range(n)]
    tokens = segmenter.cut_many(texts)
    return [Sample(tuple(t), x, r[2]) for t, x, r in zip(tokens, texts, rows)]


@dataclass(frozen=True)
class ModelInfo:
    path: Path | None
    trained: bool  # trained now (not loaded from the cache)
    seed_samples: int
    label_samples: int


def load_topic_model(home: Path | None, segmenter, *, seed_path: Path = SEED_PATH,
                     lexicon_dir: Path = LEXICON_DIR, retrain: bool = False, train_in_child: bool = False,
                     database=None):
    """The topic model for the seed + stored labels: from <home>/models when cached, else
    trained now and cached. Returns (TopicModel, ModelInfo).

    ``train_in_child``: when the model must be trained, train and cache it in a child
    process and load the cache. Training imports scikit-learn and SciPy, about 100 MB of
    resident memory a long-running desk would otherwise keep until it exits. If the child
    fails (or the home cannot cache), the model is trained here after all."""
    import numpy as np

    from classifiers.topic import TopicModel

    keywords = load_keywords(lexicon_dir)
    database = desk_database(home, database) if home is not None else None
    labels = labelled_topic_items(database) if database is not None else []
    fp = _fingerprint(seed_path, lexicon_dir, labels)
    path = Path(home) / "models" / f"topic-{fp}.npz" if home is not None else None
    trained_in_child = False
    if path is not None and train_in_child and not retrain and not path.is_file() \
            and seed_path == SEED_PATH and lexicon_dir == LEXICON_DIR:
        trained_in_child = _train_in_child(Path(home), database) and path.is_file()
    if path is not None and path.is_file() and not retrain:
        try:
            with np.load(path, allow_pickle=False) as arrays:
                model = TopicModel.from_arrays(dict(arrays), keywords, {"fingerprint": fp})
            if trained_in_child:
                return model, ModelInfo(path, True, len(load_seed(seed_path)), len(labels))
            return model, ModelInfo(path, False, 0, len(labels))
        except (OSError, ValueError, KeyError) as exc:
            print(f"yuqing: cached topic model {path} is unusable ({exc}); retraining", file=sys.stderr)
    seed = load_seed(seed_path)
    samples = training_samples(segmenter, seed + labels)
    model = TopicModel.train(samples, keywords, info={"fingerprint": fp})
    if path is not None:
        _save(path, model)
    return model, ModelInfo(path, True, len(seed), len(labels))


def _train_in_child(home: Path, database=None) -> bool:
    """Run ``python -m yuqing.train_child HOME``; True when it exited cleanly. A server's URL goes
    to the child in its environment (never on a command line, which ``ps`` shows)."""
    import subprocess

    from storage.dburl import is_server
    from yuqing.home import DATABASE_ENV

    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    if is_server(database):
        env[DATABASE_ENV] = str(database)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        done = subprocess.run([sys.executable, "-m", "yuqing.train_child", str(home)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"yuqing: could not train the topic model in a child process ({exc}); training here",
              file=sys.stderr)
        return False
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        print(f"yuqing: training the topic model in a child process failed ({err[-1] if err else done.returncode});"
              " training here", file=sys.stderr)
        return False
    return True


def _save(path: Path, model) -> None:
    """Write atomically; drop older cached models. A read-only home just skips caching."""
    import numpy as np

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda fh: np.savez(fh, **model.to_arrays()))
        for old in path.parent.glob("topic-*.npz"):
            if old != path:
                old.unlink(missing_ok=True)
        stale = time.time() - 3600  # temp files of saves killed half-way (not one being written now)
        for left in path.parent.glob(".topic-*"):
            try:
                if left.stat().st_mtime < stale:
                    left.unlink(missing_ok=True)
            except OSError:
                pass
    except OSError as exc:
        print(f"yuqing: cannot cache the topic model in {path.parent} ({exc.strerror})", file=sys.stderr)


# -- the whole classifier ----------------------------------------------------------

def load_classifier(home: Path | None = None, *, with_topic: bool = True, train_in_child: bool = False,
                    database=None):
    """A :class:`classifiers.pipeline.Classifier` wired from data files and the model cache.

    ``home`` is the desk home folder (None: bundled data only, model not cached); ``database``
    its desk database, whose staff labels train the topic model (default: :func:`desk_database`).
    ``train_in_child``: see :func:`load_topic_model` (for the long-running desk).
    Raises ClassifyDataError (or GazetteerError) naming the bad file.
    """
    from classifiers.pipeline import Classifier
    from classifiers.segment import default_segmenter
    from classifiers.sentiment import SentimentAnalyzer
    from classifiers.severity import RiskDetector
    from yuqing.gazetteer_io import gazetteer_dir, load_gazetteer, load_matcher

    home = Path(home) if home is not None else None
    gdir = gazetteer_dir(home)
    gaz = load_gazetteer(gdir)
    matcher = load_matcher(gdir)
    segmenter = default_segmenter(gaz.user_words())
    towns = [(t.name, *t.short_names) for t in gaz.towns]
    schemes = load_schemes(home, towns)
    routing = load_routing(home, gaz)
    sentiment = SentimentAnalyzer(load_sentiment_lexicon(names=gaz.user_words()))
    risk = RiskDetector(load_risk_lexicon())
    model = None
    if with_topic:
        model, _info = load_topic_model(home, segmenter, train_in_child=train_in_child, database=database)
    town_names = {t.code: t.name for t in gaz.towns}
    return Classifier(matcher=matcher, schemes=schemes, topic_model=model, sentiment=sentiment, routing=routing,
                      risk=risk, segmenter=segmenter, town_names=town_names)
