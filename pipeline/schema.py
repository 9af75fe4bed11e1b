"""The desk database's schema: the one list of every package's migration set.

Each set belongs to the module that owns its tables. Every command, the daemon, the console
and the demo open the desk with :func:`all_migrations`, so they all create, check and refuse
the same schema. A package that adds tables adds its set's module to :data:`MIGRATION_SETS`
(after the sets its tables refer to); sets are imported only when the list is asked for.
"""
from __future__ import annotations

from importlib import import_module

#: Modules defining a ``migrations`` set (``sqlite_utils.Migrations``), in the order they apply.
MIGRATION_SETS: tuple[str, ...] = (
    "monitor.store",            # sources, items, sightings, versions, health
    "pipeline.store",           # item_analysis, stories, labels, watermarks, the search index
    "responders.store",         # incidents, their items/stories/evidence, timeline, releases
    "responders.staff",         # staff members and their roles
    "responders.alerts.store",  # the alert dispatcher's queue, dedup and escalation state
    "pipeline.outbox",          # notices decided but not yet handed to the dispatcher
    "responders.roster",        # the duty roster
    "responders.workday_clocks",  # release clocks counted in working days
    "responders.instructions",  # leader instructions (领导批示)
    "responders.review",        # post-incident reviews (复盘) and their action items
)


def all_migrations() -> list:
    """Every package's migration set, in dependency order."""
    return [import_module(name).migrations for name in MIGRATION_SETS]
