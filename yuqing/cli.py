"""The ``yuqing`` command line: a thin click group whose commands load lazily.

Each command lives in its own ``yuqing.cmd_*`` module and is imported only
when it runs, so ``yuqing --help`` stays fast (no aiohttp, jieba or sklearn).
"""
from __future__ import annotations

import importlib
import sys

import click

# name -> ("module", "attribute", "one-line help shown in `yuqing --help`")
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("yuqing.cmd_desk", "init", "Write a default desk home (desk.toml, sources.toml, database)."),
    "run": ("yuqing.cmd_desk", "run", "Run the headless daemon: collectors and pipeline."),
    "sources": ("yuqing.cmd_sources", "sources", "List source health; add, test, enable, disable sources."),
    "import": ("yuqing.cmd_import", "import_", "Import manual intake records (12345 hotline, 领导信箱) from CSV."),
    "parse": ("yuqing.cmd_parse", "parse", "Parse a feed file and print what would be stored, as JSON."),
    "demo": ("yuqing.cmd_demo", "demo", "Run the desk against the bundled offline demo scenario."),
    "classify": ("yuqing.cmd_classify", "classify", "Classify JSONL items: topic, sentiment, places, units."),
    "eval": ("yuqing.cmd_classify", "eval_", "Evaluate topic, sentiment or place accuracy on labelled JSONL."),
    "gazetteer": ("yuqing.cmd_gazetteer", "gazetteer", "Build or inspect the district gazetteer."),
    "train": ("yuqing.cmd_classify", "train", "Retrain the topic model from seed data and staff corrections."),
    "stories": ("yuqing.cmd_stories", "stories", "Group JSONL items into stories: duplicates, first publisher, heat."),
    "tui": ("yuqing.cmd_tui", "tui", "Open the duty console (Textual) on the desk home."),
    "incidents": ("yuqing.cmd_incidents", "incidents", "List incidents with their release clocks."),
    "incident": ("yuqing.cmd_incidents", "incident", "Show one incident: summary, clock, releases, timeline."),
    "open-incident": ("yuqing.cmd_incidents", "open_incident", "Open (or join) an incident from a candidate JSON."),
    "ack": ("yuqing.cmd_incidents", "ack", "Acknowledge an incident."),
    "grade": ("yuqing.cmd_incidents", "grade", "Grade an incident's severity (recomputes the clock)."),
    "assign": ("yuqing.cmd_incidents", "assign", "Assign responsible units to an incident."),
    "release": ("yuqing.cmd_incidents", "release", "Record an authoritative, progress or final release."),
    "followup": ("yuqing.cmd_incidents", "followup", "Record a follow-up on an incident."),
    "note": ("yuqing.cmd_incidents", "note", "Add a note to an incident's timeline."),
    "verify-status": ("yuqing.cmd_incidents", "verify_status", "Set an incident's verification status."),
    "merge": ("yuqing.cmd_incidents", "merge", "Merge incidents into one."),
    "split": ("yuqing.cmd_incidents", "split", "Split items off an incident into a new one."),
    "close": ("yuqing.cmd_incidents", "close", "Archive an incident (after its final result)."),
    "dismiss": ("yuqing.cmd_incidents", "dismiss", "Dismiss an incident (误报/不予处置) with a reason."),
    "proposals": ("yuqing.cmd_incidents", "proposals", "List detected releases waiting for confirmation."),
    "confirm-release": ("yuqing.cmd_incidents", "confirm_release", "Confirm a detected release with one action."),
    "reject-release": ("yuqing.cmd_incidents", "reject_release", "Reject a detected release, with a reason."),
    "export": ("yuqing.cmd_incidents", "export", "Export an incident's report: md, html, json, csv, docx."),
    "report": ("yuqing.cmd_incidents", "report", "Daily, weekly and on-time performance reports."),
    "review": ("yuqing.cmd_review", "review", "Post-incident review (复盘): findings and action items."),
    "templates": ("yuqing.cmd_templates", "templates", "List the report templates; copy defaults to edit."),
    "verify": ("yuqing.cmd_incidents", "verify", "Check the timeline's hash chain; name the first broken event."),
    "db": ("yuqing.cmd_db", "db", "Server mode: copy a SQLite desk into PostgreSQL; least-privilege roles."),
    "backup": ("yuqing.cmd_ops", "backup", "Copy the desk database safely while it runs (SQLite backup API)."),
    "doctor": ("yuqing.cmd_ops", "doctor", "Check integrity, schema, failing sources, timeline chain, disk and WAL."),
    "retention": ("yuqing.cmd_ops", "retention", "Delete old raw items no incident, evidence or label refers to."),
    "staff": ("yuqing.cmd_staff", "staff", "Staff and roles: add, list, disable (admin only)."),
    "handover": ("yuqing.cmd_handover", "handover", "The handover report (交接班); accept it as the incoming officer."),
    "workday-clocks": ("yuqing.cmd_workdays", "workday_clocks", "Working-day clocks (受理, 公示) and what is overdue."),
    "workday-done": ("yuqing.cmd_workdays", "workday_done", "Record an item's working-day duty done (受理 or 公示)."),
    "roster": ("yuqing.cmd_roster", "roster", "Duty roster (值班表): show, now, gaps, import, generate."),
    "alerts": ("yuqing.cmd_alerts", "alerts", "List alerts: whom they went to, acknowledgement, next escalation."),
    "alert-ack": ("yuqing.cmd_alerts", "alert_ack", "Acknowledge an alert as a staff member (stops escalation)."),
    "instruct": ("yuqing.cmd_instructions", "instruct", "Write a leader's instruction (领导批示) on an incident."),
    "instruct-done": ("yuqing.cmd_instructions", "instruct_done", "Report back on a leader's instruction (反馈)."),
    "instructions": ("yuqing.cmd_instructions", "instructions", "List leader instructions: open, overdue, fed back."),
    "bench": ("yuqing.cmd_bench", "bench", "Run the benchmark suite (--quick for a short run)."),
    "label": ("yuqing.cmd_labels", "label", "Correct an item's topic, sentiment or place (a training label)."),
    "labels": ("yuqing.cmd_labels", "labels", "List the latest staff label per item and field."),
}


GLOBAL_OPTIONS = ("--home", "--database")  # options of the group that staff may also type after the command


def hoist_global_options(args: list[str]) -> list[str]:
    """``yuqing init --home X`` as ``yuqing --home X init``: a global option typed after the command
    name (in any subcommand, ``--home X`` or ``--home=X``) moves in front of it. Everything after a
    ``--`` stays where it is (it is an argument, not an option)."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            if "=" in arg:
                front.append(arg)
                i += 1
                continue
            front.extend(args[i:i + 2])  # a missing value is reported by click as usual
            i += 2
            continue
        rest.append(arg)
        i += 1
    return front + rest


class LazyGroup(click.Group):
    def parse_args(self, ctx, args):
        return super().parse_args(ctx, hoist_global_options(list(args)))

    def invoke(self, ctx):
        """A database error no command caught is one line naming the database (a server's
        password hidden), never a traceback."""
        import sqlite3

        try:
            return super().invoke(ctx)
        except sqlite3.Error as exc:
            raise click.ClickException(_database_error(ctx, exc)) from None

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        spec = COMMANDS.get(name)
        if spec is None:
            return None
        module, attr, _ = spec
        try:
            return getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                return _missing(name)
            raise

    def format_commands(self, ctx, formatter):
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _database_error(ctx, exc) -> str:
    from yuqing.clictx import db_error_message
    from yuqing.home import resolve_home

    obj = ctx.obj or {}
    try:
        target = resolve_home(obj.get("home"), (obj.get("database") or "").strip() or None).db_target
    except Exception:  # the home itself is unusable: the error alone, any URL in it hidden
        from storage.dburl import redacted

        return f"database error: {redacted(str(exc))}"
    return db_error_message(target, exc)


def _missing(name: str) -> click.Command:
    @click.command(name=name, help=COMMANDS[name][2] + " (not available in this build)")
    def cmd():
        raise click.ClickException(f"'{name}' is not available in this build yet")

    return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    envvar="YUQING_HOME",
    type=click.Path(file_okay=False),
    default=None,
    help="Desk home folder (default: the platform's data folder; env YUQING_HOME). "
         "May also follow the command name.",
)
@click.option(
    "--database",
    envvar="YUQING_DATABASE_URL",
    default=None,
    metavar="URL",
    help="Server mode: the desk's PostgreSQL database, postgresql://user@host:port/dbname "
         "(env YUQING_DATABASE_URL; else [database] url in desk.toml; default: the SQLite file in the home).",
)
@click.pass_context
def cli(ctx: click.Context, home: str | None, database: str | None) -> None:
    """舆情值班台 Yuqing Desk — public-opinion monitoring and rapid-response desk.

    Quick start: `yuqing demo` runs the desk on a bundled offline scenario.
    """
    from yuqing.home import make_private

    make_private()  # personal data: nothing the desk writes is readable by other local users
    ctx.obj = {"home": home, "database": database}


def main() -> None:
    try:
        cli(prog_name="yuqing")
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
