"""`yuqing gazetteer`: build a gazetteer for any county, or show the one in use."""
from __future__ import annotations

import json
from pathlib import Path

import click

from yuqing.clictx import act_on_desk, actor_options, home_from


def _in_use(ctx: click.Context, directory: str | None) -> Path:
    from yuqing.gazetteer_io import gazetteer_dir

    if directory:
        return Path(directory)
    try:
        home = home_from(ctx).path
    except Exception:  # noqa: BLE001 - an unusable home just means: use the bundled one
        home = None
    return gazetteer_dir(home)


@click.group()
def gazetteer() -> None:
    """Build or inspect the district gazetteer (towns, villages, departments).

    The desk uses <home>/gazetteer when it holds a divisions.csv, else the bundled
    汉台区 gazetteer.

    Example: yuqing gazetteer show
    """


@gazetteer.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False))
@click.option("--county", "county_code", required=True, help="6-digit county code, e.g. 610702.")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: <home>/gazetteer).")
@click.option("--national", type=click.Path(dir_okay=False), default=None,
              help="Optional all-China town list (code,name,level,parent_code) to flag town names "
                   "shared with other places and list other provinces/cities/counties.")
@actor_options
@click.pass_context
def import_(ctx: click.Context, csv_file: str, county_code: str, out_dir: str | None, national: str | None,
            as_id: str | None, actor: str | None) -> None:
    """Build a gazetteer folder for one county from a division CSV with columns
    code,name,level,parent_code[,short_name,source,mca2025_code].

    Writes divisions.csv (county, towns, villages with short forms), the city context
    file (other counties and their towns), and a departments.toml template to fill in.

    Example: yuqing gazetteer import divisions_hanzhong.csv --county 610703 -o ./nanzheng
    """
    from yuqing.gazetteer_io import GazetteerError, import_county_csv

    if not Path(csv_file).is_file():
        raise click.ClickException(f"{csv_file}: file not found")
    if not (county_code.isdigit() and len(county_code) == 6):
        raise click.ClickException(f"--county {county_code!r}: expected a 6-digit county code such as 610702")
    if not out_dir:  # the desk's own gazetteer is desk configuration, like sources and schemes
        act_on_desk(home_from(ctx).db_target, as_id, actor, "admin")
    out = Path(out_dir) if out_dir else home_from(ctx).path / "gazetteer"
    try:
        summary = import_county_csv(Path(csv_file), county_code, out,
                                    national_csv=Path(national) if national else None)
    except GazetteerError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"已生成 {summary['county']}（{summary['county_code']}）地名库：{summary['towns']} 个镇办，"
               f"{summary['villages']} 个村/社区，本市其他县区及镇办 {summary['context_rows']} 条")
    click.echo(f"目录：{summary['directory']}（{', '.join(summary['files'])}）")
    if "departments.toml" in summary["files"]:
        click.echo("请在 departments.toml 中填写本区县部门名称及别名。")


@gazetteer.command("show")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="Gazetteer folder (default: the one the desk uses).")
@click.option("--villages", is_flag=True, help="List villages/communities under each town.")
@click.option("--departments", is_flag=True, help="List departments and their aliases.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@click.pass_context
def show(ctx: click.Context, directory: str | None, villages: bool, departments: bool, as_json: bool) -> None:
    """Print the district's towns and street offices (code, name, short forms, villages).

    Example: yuqing gazetteer show --villages
    """
    from yuqing.gazetteer_io import GazetteerError, load_gazetteer

    path = _in_use(ctx, directory)
    try:
        gaz = load_gazetteer(path)
    except GazetteerError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        for town in gaz.towns:
            kids = gaz.children(town.code)
            click.echo(json.dumps({
                "code": town.code, "name": town.name, "short_names": list(town.short_names),
                "mca2025_code": town.mca2025_code or town.code, "villages": len(kids),
                **({"village_list": [{"code": v.code, "name": v.name, "short_names": list(v.short_names)}
                                     for v in kids]} if villages else {}),
            }, ensure_ascii=False))
        if departments:
            for d in gaz.departments:
                click.echo(json.dumps({"department": d.name, "official_name": d.official_name,
                                       "aliases": list(d.aliases), "former_names": list(d.former_names),
                                       "domains": list(d.domains)}, ensure_ascii=False))
        return
    click.echo(f"{gaz.district_name}（{gaz.district_code}）  {len(gaz.towns)} 个镇办，{len(gaz.villages)} 个村/社区"
               f"  [{path}]")
    from yuqing.clictx import display_width, pad

    rows = [(town.code, town.name, "、".join(town.short_names) or "—", str(len(gaz.children(town.code))),
             town.mca2025_code if town.mca2025_code and town.mca2025_code != town.code else "")
            for town in gaz.towns]
    head = ("代码", "名称", "简称", "村/社区", "民政部代码")
    w = [max(display_width(r[i]) for r in (head, *rows)) for i in range(4)]

    def line(r):
        return f"{pad(r[0], w[0])} {pad(r[1], w[1])} {pad(r[2], w[2])} {pad(r[3], w[3], '>')}  {r[4]}".rstrip()

    click.echo(line(head))
    for town, row in zip(gaz.towns, rows):
        click.echo(line(row))
        if villages:
            kids = gaz.children(town.code)
            vw = max((display_width(v.name) for v in kids), default=0)
            for v in kids:
                click.echo(f"    {v.code}  {pad(v.name, vw)}  {'、'.join(v.short_names)}".rstrip())
    if departments:
        click.echo(f"\n部门（{len(gaz.departments)}）：")
        for d in gaz.departments:
            names = "、".join((*d.aliases, *(f"原{n}" for n in d.former_names)))
            click.echo(f"  {d.name}  {d.official_name}  {names}")
