"""Responsible units (责任单位) for an item, from the routing matrix of data/routing.toml.

- A topic in the matrix goes to its units; the placeholder 相关镇办 becomes the towns
  and street offices named in the item, or stays 相关镇办 when none is named.
- Any other topic goes to the departments named in the item, else the default units
  (区政府办公室).
- Departments and towns named in the item are always co-responsible.
- The release owner (区委宣传部) is always listed last: it owns the authoritative release.
- Units come out under their canonical gazetteer names (``same_unit``, from
  :class:`classifiers.units.UnitNames`): a matrix row naming 区卫计局 routes to 区卫健局.

Pure: the matrix arrives as a mapping (``yuqing.classify_io`` reads the TOML).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from classifiers.types import RELEASE_OWNER, TOPICS
from classifiers.units import UnitNames, normalize_unit
from classifiers.errors import ClassifierError


class RoutingError(ClassifierError):
    """The routing table is malformed; the message names the key."""


@dataclass(frozen=True)
class RoutingTable:
    topics: Mapping[str, tuple[str, ...]]
    default_units: tuple[str, ...] = ("区政府办公室",)
    town_placeholder: str = "相关镇办"
    release_owner: str = RELEASE_OWNER
    # any surface form of a unit -> its canonical name (UnitNames.forms), so 区卫计局 and
    # 区卫健局 are one unit, listed as 区卫健局
    same_unit: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, doc: Mapping[str, Any], *, same_unit: Mapping[str, str] | None = None,
                     units: UnitNames | None = None) -> "RoutingTable":
        """The table of a routing.toml document. With ``units`` (the gazetteer's unit names)
        every unit must be one the gazetteer knows (or the town placeholder): a name nobody
        could be assigned is refused, with the nearest known ones."""
        known = {"release_owner", "default_units", "town_placeholder", "topics"}
        extra = sorted(set(doc) - known)
        if extra:
            raise RoutingError(f"routing: unknown key '{extra[0]}' (known: {', '.join(sorted(known))})")
        topics_doc = doc.get("topics", {})
        if not isinstance(topics_doc, Mapping):
            raise RoutingError("routing: [topics] must be a table of topic = [units]")
        topics: dict[str, tuple[str, ...]] = {}
        for topic, row in topics_doc.items():
            if topic not in TOPICS:
                raise RoutingError(f"routing: [topics].{topic}: unknown topic (known: {' '.join(TOPICS)})")
            topics[topic] = _units(row, f"[topics].{topic}")
        owner = doc.get("release_owner", RELEASE_OWNER)
        placeholder = doc.get("town_placeholder", "相关镇办")
        for key, value in (("release_owner", owner), ("town_placeholder", placeholder)):
            if not isinstance(value, str) or not value.strip():
                raise RoutingError(f"routing: {key}: expected a unit name, got {value!r}")
        default = _units(doc.get("default_units", ["区政府办公室"]), "default_units")
        if units is not None:
            same_unit = units.forms
            named = [("release_owner", owner), *(("default_units", u) for u in default)]
            named += [(f"[topics].{t}", u) for t, row in topics.items() for u in row]
            for where, unit in named:
                if unit != placeholder and units.canonical(unit) is None:
                    near = units.nearest(unit)
                    raise RoutingError(
                        f"routing: {where}: unknown unit '{unit}'"
                        + (f" (nearest known: {'、'.join(near)})" if near else "")
                        + "; use the gazetteer's name, or add the unit to gazetteer/departments.toml")
        return cls(topics, default, placeholder, owner, dict(same_unit or {}))

    def route(self, topic: str, departments: Iterable[str] = (), towns: Iterable[str] = ()) -> tuple[str, ...]:
        """Responsible units, most responsible first, the release owner last."""
        departments = [d for d in departments if d]
        towns = [t for t in towns if t]
        key = self._key
        owner = key(self.release_owner)
        owner_key = owner
        out: list[str] = []
        units = self.topics.get(topic)
        if units is not None:
            for unit in units:
                if unit == self.town_placeholder:
                    out.extend(towns or [unit])
                else:
                    out.append(unit)
            out.extend(departments)
        else:
            named = [d for d in departments if key(d) != owner_key]
            out.extend(named or self.default_units)
        out.extend(towns)
        # each unit once (by its key); the release owner always last, even when named in the item
        seen = {owner_key}
        result = []
        for unit in out:
            k = key(unit) if unit != self.town_placeholder else unit
            if k not in seen:
                seen.add(k)
                result.append(k)
        result.append(owner)
        return tuple(result)

    def _key(self, unit: str) -> str:
        return self.same_unit.get(normalize_unit(unit), unit)


def _units(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(u, str) and u.strip() for u in value):
        raise RoutingError(f"routing: {where}: expected a list of unit names, got {value!r}")
    return tuple(u.strip() for u in value)
