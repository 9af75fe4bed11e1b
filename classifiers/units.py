"""Unit names (责任单位): the one canonical name of every department and town/street office
of the district, from the gazetteer.

Any known form (official name, alias, former name, a "区..." form with the district in
front, a town's short name or its government's name) maps to the gazetteer's short canonical name: 区卫计局,
汉台区卫生健康局 and 区卫健委 are all 区卫健局; 北关 is 北关街道. Routing, assignment and
reports all name units this way, so one unit is never counted under two names. For a
name nobody knows, :meth:`UnitNames.nearest` gives the closest known ones.

Pure: built from a :class:`classifiers.gazetteer.Gazetteer`.
"""
from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Mapping

if TYPE_CHECKING:
    from classifiers.gazetteer import Gazetteer

__all__ = ["UnitNames", "normalize_unit"]


def normalize_unit(name: str) -> str:
    """How a unit name is compared: full-width folded (NFKC), spaces removed."""
    return "".join(unicodedata.normalize("NFKC", str(name or "")).split())


def _office_forms(town: str) -> tuple[str, ...]:
    """How the town's government is written: 北关街道办事处, 北关街道办; 铺镇人民政府, 铺镇政府."""
    if town.endswith("街道"):
        return (town + "办事处", town + "办")
    if town.endswith(("镇", "乡")):
        return (town + "人民政府", town + "政府")
    return ()


@dataclass(frozen=True)
class UnitNames:
    #: every known form -> its canonical name
    forms: Mapping[str, str] = field(default_factory=dict)
    #: canonical names, departments first (gazetteer order), then towns/street offices
    names: tuple[str, ...] = ()

    @classmethod
    def from_gazetteer(cls, gazetteer: "Gazetteer") -> "UnitNames":
        forms: dict[str, str] = {}
        names: list[str] = []
        for dept in gazetteer.departments:
            names.append(dept.name)
            forms[normalize_unit(dept.name)] = dept.name  # a canonical name always wins
        for form, (dept, _alone) in gazetteer.department_forms().items():
            forms.setdefault(normalize_unit(form), dept.name)
        for dept in gazetteer.departments:  # 1-character-stem forms department_forms() leaves out
            for form in dept.forms():
                forms.setdefault(normalize_unit(form), dept.name)
        prefixes = tuple(p for p in (gazetteer.district_name, *gazetteer.district.short_names) if p)
        for town in gazetteer.towns:
            if not gazetteer.in_district(town.code):
                continue
            names.append(town.name)
            forms[normalize_unit(town.name)] = town.name
            for form in (*town.short_names, *(p + town.name for p in prefixes), *_office_forms(town.name)):
                forms.setdefault(normalize_unit(form), town.name)
        return cls(forms, tuple(dict.fromkeys(names)))

    def canonical(self, name: str) -> str | None:
        """The canonical name of a known unit form, else None."""
        return self.forms.get(normalize_unit(name))

    def canonicalize(self, name: str) -> str:
        """The canonical name when known; an unknown name stays as written (old data)."""
        return self.canonical(name) or str(name).strip()

    def canonicalize_all(self, names: Iterable[str]) -> tuple[str, ...]:
        """Each name canonical, each unit once, in the given order."""
        return tuple(dict.fromkeys(self.canonicalize(n) for n in names if n and str(n).strip()))

    def nearest(self, name: str, n: int = 3) -> list[str]:
        """Up to ``n`` canonical names closest to an unknown ``name`` (closest first)."""
        key = normalize_unit(name)
        if not key:
            return []
        scored: dict[str, float] = {}
        for form, canon in self.forms.items():
            matcher = difflib.SequenceMatcher(None, key, form)
            ratio = matcher.ratio()
            if key in form or form in key:
                ratio = max(ratio, 0.6)
            if ratio > scored.get(canon, 0.0):
                scored[canon] = ratio
        ranked = sorted(((r, i, c) for i, (c, r) in enumerate(scored.items()) if r >= 0.4),
                        key=lambda t: (-t[0], t[1]))
        return [c for _r, _i, c in ranked[:n]]
