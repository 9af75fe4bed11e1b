"""`yuqing sources`: health of every source; add, test, enable, disable."""
from __future__ import annotations

import asyncio
import json

import click

from storage.db import desk_exists

from common.errors import ConfigError
from monitor.exceptions import MonitorError
from yuqing.clictx import (act_on_desk, actor_options, db_error_message, db_errors, home_from, load_config_or_exit,
                           open_desk_db)
from yuqing.config import load_sources


def _fmt_time(dt, tz) -> str:
    return dt.astimezone(tz).strftime("%m-%d %H:%M") if dt else "—"


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print health as JSON lines.")
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List every source with its health: last success, last error, error streak,
    items in the last 24 h and whether it has gone silent.

    Example: yuqing sources
    """
    if ctx.invoked_subcommand is not None:
        return
    from monitor import store
    from storage.timeutil import desk_iso, utcnow, zone_label
    from yuqing.clictx import pad

    cfg = load_config_or_exit(ctx)
    db = open_desk_db(cfg.home.db_target, must_exist=False)
    with db_errors(cfg.home.db_target):
        store.sync_sources(db, cfg.sources, utcnow())
        health = store.source_health(db, utcnow())
    if as_json:
        for h in health:
            click.echo(json.dumps({
                "id": h.source_id, "name": h.name, "enabled": h.enabled,
                "last_success_at": desk_iso(h.last_success_at, cfg.timezone),
                "last_error_at": desk_iso(h.last_error_at, cfg.timezone),
                "last_error": h.last_error, "error_streak": h.error_streak, "items_24h": h.items_24h,
                "sightings_24h": h.sightings_24h, "edited_24h": h.edited_24h, "silent": h.silent,
            }, ensure_ascii=False))
        return
    tz = cfg.timezone
    rows = [("来源", "状态", f"最近成功（{zone_label(tz)}）", "连续失败", "24h条数", "其中复见", "修改", "最近错误")]
    for h in health:
        if not h.enabled:
            state = "停用"
        elif h.error_streak:
            state = "故障"
        elif h.silent:
            state = "沉默"
        else:
            state = "正常"
        rows.append((h.source_id, state, _fmt_time(h.last_success_at, tz), str(h.error_streak), str(h.items_24h),
                     str(h.sightings_24h), str(h.edited_24h), (h.last_error or "")[:60]))
    from yuqing.clictx import display_width

    widths = [max(display_width(r[i]) for r in rows) for i in range(7)]
    for r in rows:
        click.echo(" ".join([pad(r[0], widths[0]), pad(r[1], widths[1]), pad(r[2], widths[2])]
                            + [pad(r[i], widths[i], ">") for i in range(3, 7)]) + ("  " + r[7]).rstrip())
    if any(h.sightings_24h or h.edited_24h for h in health):
        click.echo("其中复见：链接已由其他来源收录的条目（同一报道在多个平台传播，计入热度与首发）；"
                   "修改：已收录条目的标题或正文有变化（各版本均保留）")


@sources.command("add")
@click.argument("source_id")
@click.option("--url", required=True, help="Feed or page address.")
@click.option("--name", default=None, help="Display name (default: the id).")
@click.option("--kind", default="auto", help="auto|rss|atom|jsonfeed|json|html.")
@click.option("--mapping", default=None, help="JSON preset: weibo|hotlist.")
@click.option("--interval", default=300, type=int, help="Seconds between checks.")
@click.option("--priority", default=5, type=int, help="1 (most urgent) .. 9.")
@click.option("--platform", default="news", help="news|weibo|hotlist|gov|own|hotline|other.")
@click.option("--encoding", default=None, help="Override the declared charset (e.g. gbk).")
@click.option("--local", is_flag=True, help="A local source: its items carry district context.")
@click.option("--own-channel", is_flag=True, help="The district's own release channel.")
@click.option("--select", "selectors", multiple=True, metavar="FIELD=SELECTOR",
              help="For html sources: item=..., title=..., link=a@href, published=...")
@actor_options
@click.pass_context
def add(ctx, source_id, url, name, kind, mapping, interval, priority, platform, encoding, local, own_channel,
        selectors, as_id, actor) -> None:
    """Append a source to sources.toml (validated first; comments kept). Admin only.

    Example: yuqing sources add hz-news --url https://example.org/rss.xml --interval 300 --as wang
    """
    from monitor.sources import parse_source
    from yuqing.sourcesfile import append_source

    home = home_from(ctx)
    act_on_desk(home.db_target, as_id, actor, "admin")
    fields = {}
    for sel in selectors:
        if "=" not in sel:
            raise click.BadParameter(f"'{sel}' is not FIELD=SELECTOR", param_hint="--select")
        k, v = sel.split("=", 1)
        fields[k.strip()] = v.strip()
    table = {"name": name or source_id, "url": url, "kind": kind, "interval": interval, "priority": priority,
             "platform": platform, "local": local, "own_channel": own_channel}
    if mapping:
        table["mapping"] = mapping
    if encoding:
        table["encoding"] = encoding
    if fields:
        table["fields"] = fields
    try:
        spec = parse_source(source_id, table, file="--options")
        load_sources(home)  # the file as it is must be valid before we append to it
        append_source(home.sources_toml, spec)
    except (ConfigError, MonitorError) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(_write_error(home, exc)) from None
    click.echo(f"added [sources.{source_id}] to {home.sources_toml}")


def _write_error(home, exc: OSError) -> str:
    return (f"{home.sources_toml}: cannot write ({exc.strerror}); it is unchanged: check that this user "
            f"may write {home.path}")


def _set_enabled(ctx, source_id: str, enabled: bool, as_id: str | None, actor: str | None) -> None:
    from monitor import store
    from storage.timeutil import desk_iso, utcnow, zone_label
    from yuqing.clictx import pad
    from yuqing.sourcesfile import set_enabled_in_file

    import sqlite3

    home = home_from(ctx)
    act_on_desk(home.db_target, as_id, actor, "admin")
    # the database first: a file we cannot use is refused before sources.toml changes
    db = open_desk_db(home.db_target) if desk_exists(home.db_target) else None
    try:
        load_sources(home)  # a broken file is named as broken, not as "no such source"
        set_enabled_in_file(home.sources_toml, source_id, enabled)
    except (ConfigError, MonitorError) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(_write_error(home, exc)) from None
    if db is not None:  # a running daemon picks it up at its next tick
        try:
            store.set_enabled(db, source_id, enabled, utcnow())
        except sqlite3.Error as exc:
            raise click.ClickException(
                f"{home.sources_toml} is updated, but the running desk was not told: "
                f"{db_error_message(home.db_target, exc)} (a restarted desk reads the file)") from None
    click.echo(f"{source_id}: {'enabled' if enabled else 'disabled'}")


@sources.command("enable")
@click.argument("source_id")
@actor_options
@click.pass_context
def enable(ctx, source_id, as_id, actor) -> None:
    """Enable a source (sources.toml and the running desk). Admin only.

    Example: yuqing sources enable hz-news --as wang
    """
    _set_enabled(ctx, source_id, True, as_id, actor)


@sources.command("disable")
@click.argument("source_id")
@actor_options
@click.pass_context
def disable(ctx, source_id, as_id, actor) -> None:
    """Disable a source; its stored items stay. Admin only.

    Example: yuqing sources disable hz-news --as wang
    """
    _set_enabled(ctx, source_id, False, as_id, actor)


@sources.command("test")
@click.argument("source_id")
@click.option("--limit", default=10, type=int, help="Items to show.")
@click.pass_context
def test(ctx, source_id, limit) -> None:
    """Fetch a source once and show what would be stored (stores nothing).

    Example: yuqing sources test hz-news
    """
    from responders.masking import mask_personal
    from storage.timeutil import desk_text

    cfg = load_config_or_exit(ctx)
    spec = next((s for s in cfg.sources if s.id == source_id), None)
    if spec is None:
        raise click.ClickException(f"no source '{source_id}' in {cfg.home.sources_toml}")
    try:
        feed, result = asyncio.run(_fetch_and_parse(cfg, spec))
    except MonitorError as exc:
        raise click.ClickException(f"{source_id}: {exc.__class__.__name__}: {exc}") from None
    click.echo(f"{source_id}: HTTP {result.status}, {len(result.body or b'')} bytes, "
               f"charset {feed.encoding or '?'}, {len(feed.items)} items")
    for w in feed.warnings:
        click.echo(f"  warning: {w}")
    preview = _preview(cfg, spec, feed.items)
    clamped = dict(preview.clamped) if preview else {}
    if preview is not None:
        click.echo(f"  对照库中已有条目：新条目 {preview.new}（其中复见 {preview.sightings}：链接已由其他来源收录），"
                   f"已收录 {preview.known}（其中内容有修改 {preview.edited}），本来源重复链接 {preview.duplicates}，"
                   f"发布时间异常 {len(preview.clamped)}")
    for i, item in enumerate(feed.items[:limit]):
        when = desk_text(item.published, cfg.timezone)
        click.echo(f"  {when}  {mask_personal(item.title)[:60]!s}")  # masked whole, then cut
        if i in clamped:
            from monitor.timebounds import published_note

            click.echo(f"      {published_note(clamped[i].original, clamped[i].reason)}")
        if item.link:
            click.echo(f"      {item.link}")


def _preview(cfg, spec, items):
    """How the desk's database would take these items, or None when there is no database yet."""
    from monitor import store
    from storage.timeutil import utcnow

    if not desk_exists(cfg.home.db_target):
        return None
    db = open_desk_db(cfg.home.db_target)
    try:
        with db_errors(cfg.home.db_target):
            return store.preview_fetch(db, spec, items, utcnow())
    finally:
        db.conn.close()


async def _fetch_and_parse(cfg, spec):
    from monitor.fetch import Fetcher
    from monitor.parsing import parse_document
    from storage.timeutil import utcnow

    async with Fetcher(cfg.fetch_policy()) as fetcher:
        result = await fetcher.fetch(spec.url)
    feed = parse_document(result.body or b"", kind=spec.kind, mapping=spec.mapping, fields=spec.fields or None,
                          url=result.url, content_type=result.content_type, encoding=spec.encoding,
                          fetched_at=utcnow())
    return feed, result
