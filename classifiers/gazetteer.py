"""The district gazetteer: divisions (county, towns/street offices, villages/communities),
departments with their official names and aliases, and landmarks. Built from rows
(mappings) that ``yuqing.gazetteer_io`` reads from data files: no I/O here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from classifiers.errors import ClassifierError

__all__ = ["Division", "Department", "Landmark", "Gazetteer", "GazetteerError", "LEVELS",
           "derive_short_names", "split_list"]

LEVELS = ("province", "city", "county", "town", "village")

_CODE_LEN = {"province": 6, "city": 6, "county": 6, "town": 9, "village": 12}
_VILLAGE_SUFFIXES = (
    ("社区居民委员会", "社区"), ("社区居委员会", "社区"), ("社区居委会", "社区"), ("居民委员会", "社区"),
    ("居委员会", "社区"), ("居委会", "社区"), ("村民委员会", "村"), ("村委会", "村"),
)
_TOWN_SUFFIXES = ("街道办事处", "街道", "镇", "乡", "苏木")
_COUNTY_SUFFIXES = ("自治县", "县", "区", "市", "旗")


class GazetteerError(ClassifierError):
    """A gazetteer row or file is invalid; the message names the row."""


def split_list(value) -> tuple[str, ...]:
    """'a|b' or 'a;b' or a list → ('a', 'b'); blanks dropped."""
    if value is None:
        return ()
    if isinstance(value, str):
        parts = re.split(r"[|;；、]", value)
    else:
        parts = list(value)
    return tuple(dict.fromkeys(p.strip() for p in parts if p and str(p).strip()))


def derive_short_names(name: str, level: str) -> tuple[str, ...]:
    """Short forms people write: 北关街道 → 北关; 铺镇 → () (a 1-character stem is too short);
    人民路居委会 → 人民路社区; 联丰村委会 → 联丰村; 汉台区 → 汉台; 汉中市 → 汉中."""
    if level == "village":
        for suffix, kind in _VILLAGE_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                stem = name[: -len(suffix)]
                if kind == "社区" and stem.endswith("社区"):
                    stem = stem[:-2]
                if kind == "村" and stem.endswith("村") and len(stem) > 2:
                    return (stem,)
                return (stem + kind,) if stem else ()
        return ()
    if level == "town":
        for suffix in _TOWN_SUFFIXES:
            if name.endswith(suffix):
                stem = name[: -len(suffix)]
                return (stem,) if len(stem) >= 2 else ()
        return ()
    if level == "county":
        for suffix in _COUNTY_SUFFIXES:
            if name.endswith(suffix):
                stem = name[: -len(suffix)]
                return (stem,) if len(stem) >= 2 else ()
        return ()
    if level in ("city", "province"):
        for suffix in ("特别行政区", "自治区", "自治州", "地区", "省", "市", "盟"):
            if name.endswith(suffix):
                stem = name[: -len(suffix)]
                return (stem,) if len(stem) >= 2 else ()
    return ()


@dataclass(frozen=True)
class Division:
    code: str
    name: str  # official name
    level: str  # province | city | county | town | village
    parent_code: str
    short_names: tuple[str, ...] = ()
    mca2025_code: str = ""  # MCA code when it differs from the NBS statistical code
    homonyms: int = 0  # towns elsewhere in China with the same official name


@dataclass(frozen=True)
class Department:
    name: str  # short canonical, e.g. 区住建局
    official_name: str  # e.g. 汉台区住房和城乡建设局
    aliases: tuple[str, ...] = ()
    former_names: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()  # topic labels it typically answers for

    def forms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.name, self.official_name, *self.aliases, *self.former_names)))


@dataclass(frozen=True)
class Landmark:
    name: str
    code: str  # the division it lies in (town or county code)
    aliases: tuple[str, ...] = ()


def _text(row: Mapping, key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


@dataclass
class Gazetteer:
    district_code: str
    district_name: str
    divisions: dict[str, Division]
    departments: list[Department] = field(default_factory=list)
    landmarks: list[Landmark] = field(default_factory=list)
    foreign_names: tuple[str, ...] = ()  # provinces/cities/counties elsewhere in China (negative context)

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_rows(cls, divisions: Iterable[Mapping], departments: Iterable[Mapping] = (),
                  landmarks: Iterable[Mapping] = (), *, district_code: str,
                  foreign_names: Iterable[str] = ()) -> "Gazetteer":
        """Build from row mappings. Division rows: code, name, level, parent_code and
        optionally short_names ('|'-separated; derived when absent), mca2025_code,
        homonyms. Department rows: name, official_name, aliases, former_names, domains.
        Landmark rows: name, code, aliases. Raises GazetteerError naming the bad row."""
        divs: dict[str, Division] = {}
        for i, row in enumerate(divisions, start=1):
            code, name, level = _text(row, "code"), _text(row, "name"), _text(row, "level")
            where = f"division row {i} ({code or name or 'empty'})"
            if level not in LEVELS:
                raise GazetteerError(f"{where}: unknown level {level!r} (expected one of {', '.join(LEVELS)})")
            if not name:
                raise GazetteerError(f"{where}: name is empty")
            if not code.isdigit() or len(code) != _CODE_LEN[level]:
                raise GazetteerError(f"{where}: code {code!r} must be {_CODE_LEN[level]} digits for level {level}")
            if code in divs:
                raise GazetteerError(f"{where}: duplicate code {code}")
            shorts = row.get("short_names")
            if shorts is None:
                shorts = row.get("short_name")
            short_names = split_list(shorts) if shorts else derive_short_names(name, level)
            homonyms = _text(row, "homonyms")
            if homonyms and not homonyms.isdigit():
                raise GazetteerError(f"{where}: homonyms {homonyms!r} is not a number")
            divs[code] = Division(code, name, level, _text(row, "parent_code"),
                                  tuple(s for s in short_names if s != name),
                                  _text(row, "mca2025_code"), int(homonyms or 0))
        if district_code not in divs:
            raise GazetteerError(f"district {district_code} is not among the divisions")
        depts = []
        seen = set()
        for i, row in enumerate(departments, start=1):
            name = _text(row, "name")
            if not name:
                raise GazetteerError(f"department {i}: name is empty")
            if name in seen:
                raise GazetteerError(f"department {i} ({name}): duplicate name")
            seen.add(name)
            depts.append(Department(name, _text(row, "official_name") or name, split_list(row.get("aliases")),
                                    split_list(row.get("former_names")), split_list(row.get("domains"))))
        marks = []
        for i, row in enumerate(landmarks, start=1):
            name, code = _text(row, "name"), _text(row, "code")
            if not name or code not in divs:
                raise GazetteerError(f"landmark row {i} ({name or 'empty'}): name empty or unknown division code {code!r}")
            marks.append(Landmark(name, code, split_list(row.get("aliases"))))
        return cls(district_code, divs[district_code].name, divs, depts, marks,
                   tuple(dict.fromkeys(n for n in foreign_names if n)))

    # -- queries ------------------------------------------------------------------
    @property
    def district(self) -> Division:
        return self.divisions[self.district_code]

    @property
    def towns(self) -> list[Division]:
        """Town-level units directly under the district (or, for a city gazetteer, all towns)."""
        return sorted((d for d in self.divisions.values() if d.level == "town"), key=lambda d: d.code)

    @property
    def villages(self) -> list[Division]:
        return sorted((d for d in self.divisions.values() if d.level == "village"), key=lambda d: d.code)

    def division(self, code) -> Division | None:
        if type(code) is str:
            hit = self.divisions.get(code)
            if hit is not None:
                return hit
        code = str(code).strip()
        hit = self.divisions.get(code)
        if hit is None:  # an MCA code may differ from the NBS code
            mca = self.__dict__.get("_mca")
            if mca is None or mca[0] != len(self.divisions):
                mca = (len(self.divisions), {d.mca2025_code: d for d in reversed(list(self.divisions.values()))
                                             if d.mca2025_code})
                self.__dict__["_mca"] = mca
            hit = mca[1].get(code)
        return hit

    def children(self, code: str) -> list[Division]:
        return sorted((d for d in self.divisions.values() if d.parent_code == code), key=lambda d: d.code)

    def county_of(self, code: str) -> str:
        """The county-level code a division belongs to ('' for city/province)."""
        div = self.divisions.get(code)
        while div is not None and div.level not in ("county",):
            if div.level in ("city", "province"):
                return ""
            div = self.divisions.get(div.parent_code)
        return div.code if div else (code[:6] if len(code) > 6 else "")

    def in_district(self, code: str) -> bool:
        return code.startswith(self.district_code) if self.district.level == "county" else False

    def department(self, name: str) -> Department | None:
        for dept in self.departments:
            if name in dept.forms():
                return dept
        return None

    def district_short(self) -> tuple[str, ...]:
        return self.district.short_names

    def department_forms(self) -> dict[str, tuple[Department, bool]]:
        """Every surface form of every department → (department, stands_alone).
        Forms that name the district (汉台区住建局, 汉台住建) stand alone; generic forms
        (区住建局, 住建局) need district context."""
        prefixes = tuple(p for p in (self.district_name, *self.district.short_names) if p)
        out: dict[str, tuple[Department, bool]] = {}
        for dept in self.departments:
            forms = list(dept.forms())
            for form in list(forms):
                if form.startswith("区") and len(form) > 2:
                    forms += [p + form[1:] for p in prefixes]
            for form in forms:
                if len(form) < 2:
                    continue
                strong = any(p in form for p in prefixes)
                prev = out.get(form)
                if prev is None or (strong and not prev[1]):
                    out[form] = (dept, strong)
        return out

    def user_words(self) -> list[str]:
        """Words for the segmenter: official names, village short forms, department forms.
        Bare town stems (北关, 汉王) are left out so the segmenter judges their boundaries."""
        words: list[str] = []
        for d in self.divisions.values():
            words.append(d.name)
            if d.level in ("village", "county", "city", "province"):
                words.extend(d.short_names)
        words.extend(self.department_forms())
        for mark in self.landmarks:
            words.append(mark.name)
            words.extend(mark.aliases)
        return list(dict.fromkeys(w for w in words if len(w) >= 2))
