"""Rotation patterns for ``yuqing roster generate``: a small TOML file that says which shifts each
kind of day has and who takes them in turn, turned into shifts over China's calendar
(:mod:`storage.workdays`: working days including the 调休 make-up days, ordinary rest days, public
holidays). Pure: reads a parsed TOML mapping, returns shifts; :mod:`responders.roster` stores them.

The format (``data/roster_pattern.example.toml`` is a commented example)::

    anchor = 2026-01-01          # optional: the day each list starts from its first name (default --from)

    [workday]                    # 工作日, the 调休 make-up days included
    shifts = [ { name = "日班", start = "08:30", end = "17:30" },
               { name = "夜班", start = "17:30", end = "08:30" } ]   # an end ≤ start is the next day
    officers = ["zhang", "li", "wang"]   # 值班员 in turn: each shift takes the next one
    leaders  = ["zhao", "qian"]          # 带班领导 in turn: each day takes the next one

    [restday]                    # ordinary weekends; optional, default [workday]
    [holiday]                    # public holidays (their weekend days too); optional, default [restday]

A section may leave out ``shifts``, ``officers`` or ``leaders``: it then uses those of the section
it defaults to (holiday → restday → workday), and a borrowed list continues that section's turn
rather than starting its own. Turns are counted from ``anchor``, so generating February and then
March with the same anchor continues the rotation.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from responders.roster import RosterError, Shift, make_shift, parse_clock
from storage.workdays import DAY_KIND_LABELS, day_kind

KINDS = ("workday", "restday", "holiday")
_FALLBACK = {"workday": None, "restday": "workday", "holiday": "restday"}
_KEYS = {"shifts", "officers", "leaders"}
MAX_DAYS = 366


@dataclass(frozen=True)
class ShiftSpec:
    name: str
    start: str
    end: str


@dataclass(frozen=True)
class Pattern:
    anchor: date | None
    shifts: dict[str, tuple[ShiftSpec, ...]]  # day kind -> its shifts
    officers: dict[str, str]  # day kind -> the section whose officer list (and turn) it uses
    leaders: dict[str, str]
    lists: dict[tuple[str, str], tuple[str, ...]]  # (section, "officers"/"leaders") -> ids

    def people(self) -> tuple[set[str], set[str]]:
        """Every officer id and every leader id the pattern names."""
        officers = {p for (_, key), ids in self.lists.items() if key == "officers" for p in ids}
        leaders = {p for (_, key), ids in self.lists.items() if key == "leaders" for p in ids}
        return officers, leaders


def parse_pattern(table: dict, *, where: str = "pattern") -> Pattern:
    """Check a parsed pattern TOML; every problem is a RosterError naming the key."""
    unknown = set(table) - set(KINDS) - {"anchor"}
    if unknown:
        raise RosterError(f"{where}: 未知的键 {', '.join(sorted(unknown))}（可用：anchor、workday、restday、holiday）")
    anchor = table.get("anchor")
    if anchor is not None and not (isinstance(anchor, date) and not hasattr(anchor, "hour")):
        raise RosterError(f"{where}: anchor 须为日期，例如 anchor = 2026-01-01（不加引号）")
    if "workday" not in table:
        raise RosterError(f"{where}: 缺少 [workday] 段（工作日的班次和轮换名单）")
    sections: dict[str, dict] = {}
    for kind in KINDS:
        sec = table.get(kind)
        if sec is None:
            continue
        if not isinstance(sec, dict):
            raise RosterError(f"{where}: [{kind}] 须为一个表（段）")
        bad = set(sec) - _KEYS
        if bad:
            raise RosterError(f"{where}: [{kind}] 未知的键 {', '.join(sorted(bad))}（可用：shifts、officers、leaders）")
        sections[kind] = sec
    shifts: dict[str, tuple[ShiftSpec, ...]] = {}
    owners: dict[str, dict[str, str]] = {"officers": {}, "leaders": {}}
    lists: dict[tuple[str, str], tuple[str, ...]] = {}
    for kind in KINDS:
        sec = sections.get(kind, {})
        if "shifts" in sec:
            shifts[kind] = _shift_specs(sec["shifts"], f"{where}: [{kind}] shifts")
        else:
            shifts[kind] = shifts[_FALLBACK[kind]] if _FALLBACK[kind] else ()
        for key in ("officers", "leaders"):
            if key in sec:
                ids = sec[key]
                if not isinstance(ids, list) or not ids or not all(isinstance(x, str) and x.strip() for x in ids):
                    raise RosterError(f"{where}: [{kind}] {key} 须为非空的人员编号列表，例如 {key} = [\"zhang\", \"li\"]")
                lists[(kind, key)] = tuple(x.strip() for x in ids)
                owners[key][kind] = kind
            elif _FALLBACK[kind]:
                owners[key][kind] = owners[key][_FALLBACK[kind]]
            else:
                raise RosterError(f"{where}: [workday] 缺少 {key}（{'值班员' if key == 'officers' else '带班领导'}轮换名单）")
    if not shifts["workday"]:
        raise RosterError(f"{where}: [workday] 缺少 shifts（班次列表）")
    return Pattern(anchor, shifts, owners["officers"], owners["leaders"], lists)


def _shift_specs(value, where: str) -> tuple[ShiftSpec, ...]:
    if not isinstance(value, list):
        raise RosterError(f"{where}: 须为班次列表，例如 [{{ name = \"日班\", start = \"08:30\", end = \"17:30\" }}]")
    specs, names = [], set()
    for i, entry in enumerate(value, 1):
        if not isinstance(entry, dict) or set(entry) != {"name", "start", "end"}:
            raise RosterError(f"{where} 第 {i} 项: 须有且只有 name、start、end")
        name, start, end = (str(entry[k]).strip() for k in ("name", "start", "end"))
        if not name or name in names:
            raise RosterError(f"{where} 第 {i} 项: 班次名称为空或重复（{name}）")
        parse_clock(start, f"{where} 第 {i} 项 start")
        parse_clock(end, f"{where} 第 {i} 项 end")
        names.add(name)
        specs.append(ShiftSpec(name, start, end))
    return tuple(specs)


def generate(pattern: Pattern, first: date, last: date) -> list[Shift]:
    """The shifts of the days ``first``..``last`` (inclusive) by the pattern and China's calendar."""
    if last < first:
        raise RosterError(f"结束日期 {last} 早于开始日期 {first}")
    if (last - first).days + 1 > MAX_DAYS:
        raise RosterError(f"一次最多生成 {MAX_DAYS} 天（{first} 至 {last} 共 {(last - first).days + 1} 天）")
    anchor = pattern.anchor or first
    if anchor > first:
        raise RosterError(f"anchor {anchor} 晚于开始日期 {first}：anchor 须不晚于 --from")
    turn: dict[tuple[str, str], int] = {key: 0 for key in pattern.lists}
    out: list[Shift] = []
    day = anchor
    while day <= last:
        kind = day_kind(day)
        specs = pattern.shifts[kind]
        lkey = (pattern.leaders[kind], "leaders")
        leader = pattern.lists[lkey][turn[lkey] % len(pattern.lists[lkey])] if specs else ""
        if specs:
            turn[lkey] += 1
        for spec in specs:
            okey = (pattern.officers[kind], "officers")
            officer = pattern.lists[okey][turn[okey] % len(pattern.lists[okey])]
            turn[okey] += 1
            if day >= first:
                out.append(make_shift(day, spec.name, spec.start, spec.end, officer, leader))
        day += timedelta(days=1)
    return out


def describe_kinds() -> str:
    return "、".join(f"{k}（{DAY_KIND_LABELS[k]}）" for k in KINDS)
