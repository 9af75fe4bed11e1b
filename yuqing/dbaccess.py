"""Who may write which table on a PostgreSQL desk: the console and collector roles' policy.

Three kinds of database role use a server desk (docs/server-roles.md):

- the desk's own role owns the tables (it ran the migrations: ``yuqing init`` or ``db copy``) and
  runs the pipeline, the alert dispatcher and administration (staff, sources.toml, retention);
- a **console** role, for staff workstations: reads everything and writes what a response
  action writes (incidents and their links, releases, instructions, reviews, acknowledgements,
  the roster) and what manual intake writes (as a collector does), but the timeline only by INSERT: no UPDATE, DELETE or TRUNCATE of history, and as
  it owns nothing it cannot drop or disable the timeline's guard triggers either (which refuse
  UPDATE, DELETE and TRUNCATE even to the desk's own role);
- a **collector** role, for ``yuqing run --role collect`` machines: writes only the intake
  tables and reads the sources, whose definitions (from sources.toml) it may not change.

Every table the desk's migrations create is named below (a test checks it), so a new table gets
a decision rather than a silent default; a name the database lacks is skipped when granting.
"""
from __future__ import annotations

from storage.pgroles import TableGrant

#: Tables a console writes, and how; it reads every table.
CONSOLE_WRITES: dict[str, tuple[str, ...]] = {
    "incidents": ("INSERT", "UPDATE"),
    "incident_items": ("INSERT", "UPDATE", "DELETE"),  # split and merge move items between incidents
    "incident_stories": ("INSERT", "UPDATE"),
    "incident_evidence": ("INSERT", "UPDATE"),
    "releases": ("INSERT", "UPDATE"),
    "release_proposals": ("INSERT", "UPDATE"),
    "timeline_events": ("INSERT",),  # history: appended, never changed
    "timeline_head": ("INSERT", "UPDATE"),  # moves with each append; signed, checked by verify
    "timeline_anchor": ("INSERT",),
    "instructions": ("INSERT", "UPDATE"),
    "incident_reviews": ("INSERT", "UPDATE"),
    "review_actions": ("INSERT", "UPDATE"),
    "workday_clock_marks": ("INSERT", "UPDATE"),
    "labels": ("INSERT",),
    "alert_tracks": ("UPDATE",),  # acknowledgements
    "alert_queue": ("DELETE",),  # an acknowledged alert's pending escalations are dropped
    "alert_retries": ("DELETE",),
    "roster_shifts": ("INSERT", "UPDATE", "DELETE"),
}
# Staff also do manual intake (`yuqing import hotline`, the console's entry form): that goes
# through intake's own store, so a console gets the collector's writes too (console_grants).

#: The sources' columns that come from sources.toml: the collector may not change them.
SOURCE_DEFINITION = ("id", "name", "url", "spec", "enabled", "interval", "priority")

#: Tables a collector reads and writes; it reads nothing else.
COLLECTOR: dict[str, tuple[str, ...]] = {
    "sources": ("SELECT", "UPDATE"),  # its schedule and health columns only (SOURCE_DEFINITION aside)
    "items": ("SELECT", "INSERT", "UPDATE"),
    "item_metrics": ("SELECT", "INSERT"),
    "item_private": ("INSERT",),  # personal data from manual intake: written, never read back
    "item_sightings": ("SELECT", "INSERT"),
    "item_versions": ("SELECT", "INSERT", "UPDATE"),
}

#: Both roles read the migration records: opening a desk checks its schema.
BOTH_READ = ("yuqing_migrations",)

#: Written by the desk's own role only (pipeline, dispatcher, administration).
DESK_ONLY = (
    "sources",  # definitions are synchronised from sources.toml by the desk
    "item_analysis", "item_understanding", "stories", "items_fts", "pipeline_state", "notice_outbox",
    "alert_channel_health", "alert_dedup", "alert_folds", "alert_sends", "alert_steps",
    "staff",  # roles and logins: administration, never from a workstation's role
    "yuqing_migrations",
)


def classified() -> set[str]:
    """Every table this policy decides about."""
    return set(CONSOLE_WRITES) | set(COLLECTOR) | set(DESK_ONLY) | set(BOTH_READ)


def console_grants() -> list[TableGrant]:
    """The response tables, and the intake writes of manual intake (reads: every table)."""
    intake = [TableGrant(g.table, tuple(p for p in g.privileges if p != "SELECT"), g.update_except)
              for g in collector_grants() if g.table in COLLECTOR]
    return [TableGrant(t, privs) for t, privs in CONSOLE_WRITES.items()] + intake


def collector_grants() -> list[TableGrant]:
    out = [TableGrant(t, privs, SOURCE_DEFINITION if t == "sources" else ())
           for t, privs in COLLECTOR.items()]
    return out + [TableGrant(t, ("SELECT",)) for t in BOTH_READ]
