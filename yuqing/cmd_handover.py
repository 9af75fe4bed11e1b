"""``yuqing handover``: print or export the handover report; ``handover accept`` records the
incoming officer's acceptance (CLI wiring over responders.handover)."""
from __future__ import annotations

import click

from yuqing.cmd_incidents import desk_command


def prepare(svc, since=None) -> dict:
    """The handover report for this desk now (responders.handover_desk.prepare_handover)."""
    from monitor.store import source_health
    from responders.handover_desk import prepare_handover

    return prepare_handover(svc, since, source_health=source_health)


@click.group(name="handover", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (same as --format json).")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "docx", "json"]), default=None,
              help="md (default on screen), html, docx or json.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="File to write.")
@click.option("--since", default=None, help="When this shift began (desk time; default: the last handover).")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@click.option("--mkdir", is_flag=True, help="Create the file's folder if it does not exist.")
@click.option("--db", "db_path", default=None, type=click.Path(dir_okay=False),
              help="Desk database file or postgresql:// URL (default: the home's, see --database).")
@click.pass_context
def handover(ctx, as_json, fmt, output, since, force, mkdir, db_path):
    """The handover report (交接班): open incidents with time left, this shift's actions,
    unacknowledged alerts, open instructions, pending release proposals, failing sources.
    Example: yuqing handover --format docx -o 交接班.docx; then yuqing handover accept --as ID"""
    if ctx.invoked_subcommand is not None:
        return
    from responders import handover as ho
    from responders.exceptions import ResponderError
    from responders.wording import staff_message
    from yuqing.clictx import home_from, output_file, parse_user_time
    from yuqing.cmd_incidents import service

    fmt = "json" if as_json else (fmt or "md")
    if fmt == "docx" and not output:
        raise click.UsageError("DOCX 需要 -o/--output 文件名")
    try:
        svc = service(ctx, db_path)
        rep = prepare(svc, parse_user_time(since, "--since") if since else None)
        data = ho.render_handover(rep, fmt, home_from(ctx).path)
    except ResponderError as exc:
        raise click.ClickException(staff_message(exc)) from None
    if output:
        from responders.exports import write_atomic

        output_file(output, force=force, mkdir=mkdir)
        write_atomic(output, data)
        click.echo(f"已导出 {output}（{len(data)} 字节）")
    else:
        click.echo(data.decode("utf-8"))


@desk_command("accept")
@click.option("--note", default="", help="A note from the incoming officer.")
@click.option("--since", default=None, help="When the shift being handed over began (desk time).")
def accept(svc, actor, note, since):
    """Accept the handover as the incoming officer (a timeline event). Example:
    yuqing handover accept --as li"""
    from responders import handover as ho
    from yuqing.clictx import parse_user_time

    rep = prepare(svc, parse_user_time(since, "--since") if since else None)
    ev = ho.accept_handover(svc, actor, rep, note)
    click.echo(f"已接班：{actor}，交接事件 {ev.id}，在办事件 {len(rep['open_incidents'])} 起，"
               f"未确认预警 {len(rep['unacked_alerts'])} 条，待落实批示 {len(rep['open_instructions'])} 条"
               f"（交接指纹 {ev.payload['digest']}）")


handover.add_command(accept)
