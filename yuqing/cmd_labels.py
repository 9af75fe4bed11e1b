"""`yuqing label` and `yuqing labels`: staff corrections (training labels) from the command line.

The console's 检索 screen saves the same corrections (topic / sentiment / place of an item)
through :func:`pipeline.store.add_label`, which holds the validation both use; `yuqing
train` learns from the latest topic label per item.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from storage.visible import visible
from yuqing.clictx import acting_staff, actor_options, db_errors, fail, home_from, now_fn, open_desk_db, parse_id

FIELD_NAMES = {"topic": "主题", "sentiment": "情感", "place": "地点"}


def _db_path(ctx: click.Context, db_path: str | None) -> Path:
    from storage.dburl import as_target

    return as_target(db_path) if db_path else home_from(ctx).db_target


def _open(path: Path):
    """The desk database (items and labels, with the rest of the desk's schema)."""
    return open_desk_db(path)


def _item_id(value: str) -> int:
    return parse_id(value, "an item", "a whole number such as 12, as the console's 检索 screen shows it")


@click.command("label")
@click.argument("item_id")
@click.argument("field")
@click.argument("value")
@actor_options
@click.option("--db", "db_path", default=None, type=click.Path(dir_okay=False),
              help="Desk database file or postgresql:// URL (default: the home's, see --database).")
@click.pass_context
def label(ctx: click.Context, item_id: str, field: str, value: str, as_id: str | None, actor: str | None,
          db_path: str | None) -> None:
    """Correct an item's topic, sentiment or place (a training label, as in the console).

    FIELD is topic (one of the 19 topics, e.g. 城市管理), sentiment (负面/中性/正面) or
    place (a town, e.g. 铺镇). History is kept: the latest label per item and field counts,
    and `yuqing train` learns from the topic labels.

    Example: yuqing label 12 topic 城市管理
    """
    from monitor.store import get_items
    from pipeline.store import add_label
    from responders.exceptions import ResponderError

    iid = _item_id(item_id)
    path = _db_path(ctx, db_path)
    value = value.strip()
    db = _open(path)
    with db_errors(path):
        try:
            who = acting_staff(db, (as_id or "").strip() or None, (actor or "").strip() or None, "write")
        except ResponderError as exc:
            fail(str(exc))
        if not get_items(db, [iid]):
            fail(f"no item #{iid} in {path} (see the console's 检索 screen, or `yuqing labels` for labelled items)")
        try:
            add_label(db, iid, field, value, who, now_fn()())
        except ValueError as exc:
            fail(str(exc))
    click.echo(f"已保存更正（训练标注）：#{iid} {FIELD_NAMES.get(field, field)} → {value}")


@click.command("labels")
@click.option("--field", default=None, help="Only this field: topic, sentiment or place.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (ISO 8601 times).")
@click.option("--no-mask", is_flag=True, help="Do not mask phone/ID numbers in titles (internal use only).")
@click.option("--db", "db_path", default=None, type=click.Path(dir_okay=False),
              help="Desk database file or postgresql:// URL (default: the home's, see --database).")
@click.pass_context
def labels(ctx: click.Context, field: str | None, as_json: bool, no_mask: bool, db_path: str | None) -> None:
    """List the latest staff label per item and field (what `yuqing train` learns from).

    Example: yuqing labels --field topic --json
    """
    from pipeline.store import LABEL_FIELDS, labels as latest_labels
    from responders.masking import mask_personal
    from storage.timeutil import desk_iso, desk_text, from_db

    if field is not None and field not in LABEL_FIELDS:
        fail(f"--field: unknown field {field!r} (use one of {', '.join(LABEL_FIELDS)})")
    path = _db_path(ctx, db_path)
    db = _open(path)
    with db_errors(path):
        rows = latest_labels(db, field)
    show = (lambda t: visible(t or "")) if no_mask else (lambda t: mask_personal(visible(t or "")))
    if as_json:
        out = [{"item_id": r["item_id"], "field": r["field"], "value": r["value"], "actor": r["actor"],
                "created_at": desk_iso(from_db(r["created_at"])), "title": show(r["title"])} for r in rows]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("没有人工标注。")
        return
    for r in rows:
        at = desk_text(from_db(r["created_at"]))
        click.echo(f"#{r['item_id']:<6} {FIELD_NAMES.get(r['field'], r['field'])} {visible(r['value']):<8} "
                   f"{visible(r['actor'])} {at}  {show(r['title'])[:60]}")
