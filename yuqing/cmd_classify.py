"""`yuqing classify`, `yuqing eval` and `yuqing train`: the classifiers from the command line."""
from __future__ import annotations

import json
import os
import select
import stat
import sys
from collections import Counter

import click

from yuqing.clictx import act_on_desk, actor_options, check_desk_db, home_from, std_stream

BATCH = 256
FIRST_BATCH = 8  # a small first batch: the first result comes out fast


def _load(ctx, *, with_topic: bool = True):
    from classifiers.gazetteer import GazetteerError
    from yuqing.classify_io import ClassifyDataError, load_classifier

    try:
        home = home_from(ctx)
        return load_classifier(home.path, with_topic=with_topic, database=home.db_target)
    except (ClassifyDataError, GazetteerError) as exc:
        raise click.ClickException(str(exc)) from None


def _more_ready(fh) -> bool:
    """True when more input can be read without waiting (always true for a regular file)."""
    try:
        fd = fh.fileno()
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return True
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError, AttributeError):
        return True


def _batches(fh):
    """Lists of (line number, raw line): full batches while input is flowing, a partial one
    as soon as the input pauses, so an interactive pipe gets its answers at once."""
    from yuqing.jsonl import bounded_lines

    batch: list[tuple[int, str | None]] = []
    limit = FIRST_BATCH
    for n, line in bounded_lines(fh):
        if line is None or line.strip():  # None: a line too long to read
            batch.append((n, line))
        if len(batch) >= limit or (batch and not _more_ready(fh)):
            yield batch
            batch = []
            limit = BATCH
    if batch:
        yield batch


def _parse_line(n: int, line: str | None):
    """(id, title, text, local) or raises ValueError with a message."""
    from yuqing.jsonl import loads, too_long_message

    if line is None:
        raise ValueError(too_long_message())
    obj = loads(line)
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    title, text = obj.get("title", ""), obj.get("text", "")
    if title is None:
        title = ""
    if text is None:
        text = ""
    if not isinstance(title, str) or not isinstance(text, str):
        raise ValueError("'title' and 'text' must be strings")
    if not title.strip() and not text.strip():
        raise ValueError("both 'title' and 'text' are empty")
    return obj.get("id"), title, text, bool(obj.get("local", False))


def classification_json(item_id, c) -> dict:
    """The output object of `yuqing classify` for one Classification."""
    return {
        "id": item_id,
        "topic": c.topic.label,
        "topic_confidence": c.topic.probability,
        "sentiment": c.sentiment.label,
        "sentiment_score": c.sentiment.score,
        "places": [{"code": p.code, "name": p.name, "level": p.level, "in_district": p.in_district}
                   for p in c.jurisdiction.places],
        "departments": [{"name": d.name} for d in c.jurisdiction.departments],
        "responsible_units": list(c.responsible_units),
        "schemes": [h.scheme for h in c.schemes],
        "risk_words": list(c.risk_words),
        "severity": c.severity.level,
        "severity_reasons": list(c.severity.reasons),
        "involves_district": c.jurisdiction.involves_district,
        "release_owner": c.release_owner,
        "topic_alternatives": [[label, p] for label, p in c.topic.alternatives],
        "scheme_hits": [{"scheme": h.scheme, "words": list(h.words), "alert": h.alert,
                         "explanation": h.explanation} for h in c.schemes],
    }


def _open_input(file: str):
    if file == "-":  # JSONL is UTF-8 whatever the locale says
        return std_stream("stdin", errors="replace")
    try:
        return open(file, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise click.ClickException(f"{file}: cannot read: {exc.strerror}") from None


@click.command("classify")
@click.argument("file", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@click.pass_context
def classify(ctx, file) -> None:
    """Classify JSONL items: topic, sentiment, places, departments, units, schemes, severity.

    Reads lines {"id", "title", "text"} (optional "local": true for a local source) from FILE
    or stdin and writes one JSON line per input line, in the same order. A bad line is
    reported on stderr with its line number and answered with {"id": ..., "error": "..."}.

    Example: yuqing classify items.jsonl > classified.jsonl
    """
    fh = _open_input(file)
    clf = _load(ctx)
    out = std_stream("stdout")
    errors = 0
    warned = False
    try:
        for batch in _batches(fh):
            parsed = []
            for n, line in batch:
                if not warned and line is not None and "\ufffd" in line:
                    warned = True
                    click.echo(f"{file}: line {n}: not UTF-8 text (undecodable bytes became \ufffd): "
                               "save the file as UTF-8", err=True)
                try:
                    parsed.append((n, *_parse_line(n, line)))
                except ValueError as exc:
                    parsed.append((n, _guess_id(line), None, str(exc), False))
            good = [p for p in parsed if p[2] is not None]
            results = iter(clf.classify_many([(p[2], p[3], p[4]) for p in good]))
            for n, item_id, title, text_or_error, _local in parsed:
                if title is None:
                    errors += 1
                    click.echo(f"{file}: line {n}: {text_or_error}", err=True)
                    row = {"id": item_id, "error": f"line {n}: {text_or_error}"}
                else:
                    row = classification_json(item_id, next(results))
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
    except BrokenPipeError:  # pragma: no cover - e.g. `| head`
        sys.stderr.close()
        return
    finally:
        if file != "-":
            fh.close()
    if errors:
        click.echo(f"{file}: {errors} bad line(s) answered with an error object", err=True)


def _guess_id(line: str | None):
    from yuqing.jsonl import loads

    try:
        obj = loads(line) if line is not None else None
        return obj.get("id") if isinstance(obj, dict) else None
    except ValueError:
        return None


# -- eval ----------------------------------------------------------------------------

def _read_labelled(file: str, field: str):
    from yuqing.jsonl import BadJSON, bounded_lines, loads, too_long_message

    rows = []
    fh = _open_input(file)
    try:
        for n, line in bounded_lines(fh):
            if line is None:
                click.echo(f"{file}: line {n}: {too_long_message()}", err=True)
                continue
            if not line.strip():
                continue
            try:
                obj = loads(line)
            except BadJSON as exc:
                click.echo(f"{file}: line {n}: {exc}; skipped", err=True)
                continue
            if not isinstance(obj, dict) or field not in obj:
                click.echo(f"{file}: line {n}: no '{field}' field; skipped", err=True)
                continue
            title, text = obj.get("title") or "", obj.get("text") or ""
            if not isinstance(title, str) or not isinstance(text, str):
                click.echo(f"{file}: line {n}: 'title' and 'text' must be strings; skipped", err=True)
                continue
            rows.append((title, text, bool(obj.get("local", False)), obj[field]))
    finally:
        if file != "-":
            fh.close()
    if not rows:
        raise click.ClickException(f"{file}: no usable lines with a '{field}' field")
    return rows


_SENTIMENT_ALIASES = {"负面": "负面", "负": "负面", "negative": "负面", "neg": "负面", "-1": "负面",
                      "中性": "中性", "neutral": "中性", "0": "中性",
                      "正面": "正面", "正": "正面", "positive": "正面", "pos": "正面", "1": "正面"}


def label_metrics(gold: list[str], pred: list[str]) -> dict:
    """Accuracy, macro-F1 over the gold labels, per-label F1 and the confusion counts."""
    labels = sorted(set(gold) | set(pred), key=lambda x: (x not in gold, x))
    conf = Counter(zip(gold, pred))
    acc = sum(conf[(g, g)] for g in set(gold)) / len(gold)
    f1s = {}
    for lab in sorted(set(gold)):
        tp = conf[(lab, lab)]
        fp = sum(v for (g, p), v in conf.items() if p == lab and g != lab)
        fn = sum(v for (g, p), v in conf.items() if g == lab and p != lab)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s[lab] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    macro = sum(f1s.values()) / len(f1s) if f1s else 0.0
    return {"n": len(gold), "accuracy": acc, "macro_f1": macro, "f1": f1s, "labels": labels,
            "confusion": {f"{g}->{p}": v for (g, p), v in sorted(conf.items())}}


def _confusion_table(gold: list[str], pred: list[str], labels: list[str]) -> str:
    conf = Counter(zip(gold, pred))
    width = max([len(x) for x in labels] + [2])
    head = "gold\\pred".ljust(width * 2) + " " + " ".join(lab[:4].rjust(5) for lab in labels)
    lines = [head]
    for g in labels:
        if g not in gold:
            continue
        lines.append(g.ljust(width * 2 - sum(1 for ch in g if ord(ch) > 0x2E80)) + " "
                     + " ".join(str(conf[(g, p)] or ".").rjust(5) for p in labels))
    return "\n".join(lines)


def _place_keys(value) -> set[str]:
    if isinstance(value, (str, int)):
        value = [value]
    keys = set()
    for v in value or []:
        if isinstance(v, dict):
            v = v.get("code") or v.get("name")
        if v is not None and str(v).strip():
            keys.add(str(v).strip())
    return keys


@click.command("eval")
@click.argument("what", type=click.Choice(["topics", "sentiment", "places"]))
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as one JSON object.")
@click.option("--district-only", is_flag=True, help="places: compare only places of the configured district.")
@click.pass_context
def eval_(ctx, what, file, as_json, district_only) -> None:
    """Evaluate topic, sentiment or place accuracy on a labelled JSONL file.

    Each line has "title", "text" and the gold field: "topic" (a label, or a list of
    acceptable labels), "sentiment" (负面/中性/正面) or "places" (a list of codes or names,
    or of {"code", "name"} objects; compared as sets). Prints accuracy, macro-F1 and a
    confusion table.

    Example: yuqing eval topics labelled.jsonl
    """
    field = {"topics": "topic", "sentiment": "sentiment", "places": "places"}[what]
    rows = _read_labelled(file, field)
    clf = _load(ctx, with_topic=(what == "topics"))
    results = []
    for i in range(0, len(rows), BATCH):
        chunk = rows[i:i + BATCH]
        results.extend(clf.classify_many([(t, x, loc) for t, x, loc, _g in chunk]))
    if what == "places":
        _eval_places(rows, results, as_json, district_only)
        return
    gold, pred = [], []
    for (_t, _x, _l, g), c in zip(rows, results):
        p = c.topic.label if what == "topics" else c.sentiment.label
        if what == "topics":
            acceptable = [g] if isinstance(g, str) else [str(x) for x in (g or [])]
            gold.append(p if p in acceptable else (acceptable[0] if acceptable else "?"))
        else:
            gold.append(_SENTIMENT_ALIASES.get(str(g).strip().lower(), str(g)))
        pred.append(p)
    m = label_metrics(gold, pred)
    if what == "sentiment":
        polar = [(g, p) for g, p in zip(gold, pred) if g in ("负面", "正面")]
        if polar:
            m["polar_accuracy"] = sum(g == p for g, p in polar) / len(polar)
            decided = [(g, p) for g, p in polar if p != "中性"]
            m["polar_decided_accuracy"] = sum(g == p for g, p in decided) / len(decided) if decided else 0.0
            m["polar_neutral_share"] = 1 - len(decided) / len(polar)
    if as_json:
        click.echo(json.dumps(m, ensure_ascii=False))
        return
    click.echo(f"{what}: {m['n']} items")
    click.echo(f"accuracy  {m['accuracy']:.3f}")
    click.echo(f"macro-F1  {m['macro_f1']:.3f}")
    if "polar_accuracy" in m:
        click.echo(f"负面/正面 items: accuracy {m['polar_accuracy']:.3f}; on items not judged 中性 "
                   f"{m['polar_decided_accuracy']:.3f} ({m['polar_neutral_share']:.1%} judged 中性)")
    click.echo("")
    click.echo(_confusion_table(gold, pred, m["labels"]))


def _eval_places(rows, results, as_json: bool, district_only: bool) -> None:
    tp = fp = fn = exact = 0
    missed: Counter = Counter()
    extra: Counter = Counter()
    for (_t, _x, _l, g), c in zip(rows, results):
        gold = _place_keys(g)
        use_codes = all(k.isdigit() for k in gold) if gold else True
        places = [p for p in c.jurisdiction.places if p.in_district or not district_only]
        pred = {p.code if use_codes else p.name for p in places}
        tp += len(gold & pred)
        fp += len(pred - gold)
        fn += len(gold - pred)
        exact += gold == pred
        missed.update(gold - pred)
        extra.update(pred - gold)
    n = len(rows)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    m = {"n": n, "accuracy": exact / n, "precision": prec, "recall": rec, "f1": f1, "macro_f1": f1,
         "missed": dict(missed.most_common(20)), "extra": dict(extra.most_common(20))}
    if as_json:
        click.echo(json.dumps(m, ensure_ascii=False))
        return
    click.echo(f"places: {n} items (sets compared{'; district places only' if district_only else ''})")
    click.echo(f"accuracy (exact set)  {m['accuracy']:.3f}")
    click.echo(f"precision             {prec:.3f}")
    click.echo(f"recall                {rec:.3f}")
    click.echo(f"F1                    {f1:.3f}")
    click.echo("")
    click.echo("confusion: gold place missed / predicted place not in gold (top 20)")
    for k, v in missed.most_common(20):
        click.echo(f"  missed  {k}  {v}")
    for k, v in extra.most_common(20):
        click.echo(f"  extra   {k}  {v}")


# -- train ---------------------------------------------------------------------------

@click.command("train")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20),
              help="Folds of the cross-validation.")
@actor_options
@click.pass_context
def train(ctx, folds, as_id, actor) -> None:
    """Retrain the topic model from the seed corpus and the staff labels in the desk's database.

    Prints the cross-validated accuracy and macro-F1, then caches the model in <home>/models
    (`yuqing classify` uses it from then on).

    Example: yuqing train
    """
    from classifiers.gazetteer import GazetteerError
    from classifiers.segment import default_segmenter
    from classifiers.topic import cross_validate
    from yuqing.classify_io import (ClassifyDataError, labelled_topic_items, load_keywords, load_seed,
                                    load_topic_model, training_samples)
    from yuqing.gazetteer_io import gazetteer_dir, load_gazetteer

    desk = home_from(ctx)
    home = desk.path
    check_desk_db(desk.db_target, must_exist=False)  # the staff labels must be readable
    act_on_desk(desk.db_target, as_id, actor, "write")  # the model serves the whole desk
    try:
        gaz = load_gazetteer(gazetteer_dir(home))
        seg = default_segmenter(gaz.user_words())
        seed = load_seed()
        labels = labelled_topic_items(desk.db_target)
        samples = training_samples(seg, seed + labels)
        keywords = load_keywords()
        per_label = Counter(s.label for s in samples)
        k = min(folds, min(per_label.values()))
        if k < 2:
            raise click.ClickException("every topic needs at least 2 training samples for cross-validation")
        acc, f1 = cross_validate(samples, keywords, folds=k)
        _model, info = load_topic_model(home, seg, retrain=True, database=desk.db_target)
    except (ClassifyDataError, GazetteerError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"trained on {len(seed)} seed items + {len(labels)} staff labels ({len(per_label)} topics)")
    click.echo(f"cross-validated ({k} folds): accuracy {acc:.3f}, macro-F1 {f1:.3f}")
    click.echo(f"model cached: {info.path}" if info.path else "model not cached")
