"""Jurisdiction matcher: which places (county, towns/street offices, villages/communities,
landmarks) and which district departments an item names, each with its official code and
the reason it counts, in words.

How it decides (every rule has a test in tests/unit/test_jurisdiction.py):
- One Aho-Corasick pass (leftmost-longest) over every name form, the names of the rest of
  the city, other provinces/cities/counties of China ("foreign" names) and a few known
  confusers ("blockers"). Longest-first consumption handles 黑龙江 ⊃ 龙江, 武汉中考 ⊃ 汉中,
  南京汉中路 ⊃ 汉中, 城固县XX镇, 新铺镇 ⊃ 铺镇 ...
- Short forms (北关, 汉王, 武乡, 联丰村, 汉中 ...) must sit on word boundaries (checked
  with the segmenter, only when such a form is present).
- Full official names that exist nowhere else in China (铺镇, 河东店镇, 汉台区铺镇) count
  on their own. Full names shared with towns elsewhere (北关街道, 汉王镇) count unless a
  place elsewhere is written against them as an address (徐州市铜山区汉王镇) or the text
  names another county of the city.
- Short town names need district context: the text names 汉台 (or something that only
  Hantai has), or 汉中 without naming another county of the city, or the source is
  local, or a unique co-mention (the town together with one of its villages).
- Villages/communities always need their own town, or district context, in the text.
- Department forms naming the district (汉台区住建局) count on their own; generic forms
  (区住建局, 住建局) need district context and must not follow another place's name.
- Places in other counties of the city are reported with their own code, in_district=False.
"""
from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Iterable

from classifiers.gazetteer import Department, Division, Gazetteer
from classifiers.types import DepartmentHit, Jurisdiction, PlaceHit

__all__ = ["JurisdictionMatcher", "BLOCKERS"]

# Words that contain a short place name but are something else. Matched like names, so
# the longer word consumes the short one.
BLOCKERS = (
    "汉王科技", "汉王电子", "汉王笔", "汉王刘邦", "汉王朝", "封为汉王", "封汉王", "汉王府", "汉王城", "汉王宫",
    "汉中门", "南京汉中路", "上海汉中路", "汉中路地铁站", "汉中路站",
    "太上老君", "老君山", "老君庙", "老君洞", "七里香", "七里河", "七里塘", "七里坪", "七里山",
    "龙江镇", "龙江县", "黑龙江", "武乡县", "八路军太行", "徐望之", "鑫源汽车", "鑫源公司",
    "北关区", "东关村", "好汉中", "罗汉中", "铁汉中",
)
_FOREIGN_PREFIX = set("省市县州国镇乡")
_WINDOW = 16  # characters of context either side when checking word boundaries
_STREET_SUFFIX = ("办事处", "办")
_first = itemgetter(0)


@dataclass(frozen=True)
class _Entry:
    kind: str  # place | dept | landmark | blocker | foreign
    form: str  # full | short (places); strong | generic (departments)
    div: Division | None = None
    dept: Department | None = None
    local: bool = False  # belongs to the configured district
    county_code: str = ""
    level: str = ""
    homonyms: int = 0


@dataclass(slots=True)
class _Cand:
    entry: _Entry
    surface: str
    start: int
    end: int


class JurisdictionMatcher:
    """Built once per gazetteer; ``match`` is pure and thread-safe after the first call."""

    def __init__(self, gazetteer: Gazetteer, *, context_gazetteer: Gazetteer | None = None,
                 blockers: Iterable[str] = BLOCKERS, segmenter=None):
        """``segmenter`` checks word boundaries; default: the process-wide one, loaded at
        the first short name met, with the gazetteer's words added."""
        import ahocorasick_rs

        self.gazetteer = gazetteer
        self.context = context_gazetteer
        g = gazetteer
        self._district_short = tuple(g.district.short_names)
        table: dict[str, list[_Entry]] = {}

        def add(surface: str, entry: _Entry) -> None:
            if len(surface) < 2:
                return
            bucket = table.setdefault(surface, [])
            if entry not in bucket:
                bucket.append(entry)

        # the configured district
        dist = g.district
        add(dist.name, _Entry("place", "full", dist, local=True, county_code=dist.code, level="county"))
        for short in dist.short_names:
            add(short, _Entry("place", "short", dist, local=True, county_code=dist.code, level="county"))
        for div in g.divisions.values():
            if div.level == "town":
                e = _Entry("place", "full", div, local=True, county_code=dist.code, level="town",
                           homonyms=div.homonyms)
                add(div.name, e)
                add(dist.name + div.name, _Entry("place", "full", div, local=True, county_code=dist.code,
                                                 level="town"))
                if div.name.endswith("街道"):
                    for suffix in _STREET_SUFFIX:
                        add(div.name + suffix, e)
                for short in div.short_names:
                    add(short, _Entry("place", "short", div, local=True, county_code=dist.code, level="town"))
            elif div.level == "village":
                add(div.name, _Entry("place", "full", div, local=True, county_code=dist.code, level="village"))
                for short in div.short_names:
                    add(short, _Entry("place", "short", div, local=True, county_code=dist.code, level="village"))
        for mark in g.landmarks:
            e = _Entry("landmark", "full", Division(mark.code, mark.name, "landmark", mark.code), local=True,
                       county_code=dist.code, level="landmark")
            for surface in (mark.name, *mark.aliases):
                add(surface, e)
        for surface, (dept, strong) in g.department_forms().items():
            add(surface, _Entry("dept", "strong" if strong else "generic", dept=dept))
        # the rest of the city
        if context_gazetteer is not None:
            c = context_gazetteer
            for div in c.divisions.values():
                if div.code.startswith(dist.code) or div.code == dist.code:
                    continue
                county = c.county_of(div.code) if div.level in ("town", "village") else (
                    div.code if div.level == "county" else "")
                add(div.name, _Entry("place", "full", div, county_code=county, level=div.level,
                                     homonyms=div.homonyms))
                if div.level in ("city", "county"):
                    for short in div.short_names:
                        add(short, _Entry("place", "short", div, county_code=county, level=div.level))
        for name in g.foreign_names:
            if name not in table:
                add(name, _Entry("foreign", "full"))
        for word in blockers:
            if word not in table:
                add(word, _Entry("blocker", "full"))
        self._patterns = list(table)
        self._entries = [table[p] for p in self._patterns]
        # a contiguous NFA: 15 MB less than a DFA for these ~4,600 names, matching ~20 % slower
        self._ac = ahocorasick_rs.AhoCorasick(self._patterns, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
                                              implementation=ahocorasick_rs.Implementation.ContiguousNFA)
        self._inert = frozenset(i for i, es in enumerate(self._entries)
                                if all(e.kind in ("foreign", "blocker") for e in es))
        self._user_words = g.user_words() + (context_gazetteer.user_words() if context_gazetteer else [])
        self._segmenter = segmenter
        if segmenter is not None:
            segmenter.add_words(self._user_words)

    # -- helpers --------------------------------------------------------------------
    def _bounds(self, text: str, start: int, end: int) -> set[int]:
        """Token boundaries (absolute offsets) of the segmented window around text[start:end]."""
        if self._segmenter is None:
            from classifiers.segment import default_segmenter

            self._segmenter = default_segmenter(self._user_words)
        lo = max(0, start - _WINDOW)
        hi = min(len(text), end + _WINDOW)
        bounds = {lo}
        pos = lo
        for tok in self._segmenter.cut(text[lo:hi], hmm=False):
            pos += len(tok)
            bounds.add(pos)
        return bounds

    def match_many(self, texts: list[str], *, local_source: bool = False) -> list[Jurisdiction]:
        return [self.match(t, local_source=local_source) for t in texts]

    def match(self, text: str, *, local_source: bool = False) -> Jurisdiction:
        if not text:
            return Jurisdiction(reasons=("空文本",))
        found = self._ac.find_matches_as_indexes(text)
        if not found:
            return Jurisdiction()
        if not local_source and all(i in self._inert for i, _, _ in found):
            return Jurisdiction()  # only foreign names / blockers: nothing of ours or the city
        entries, patterns = self._entries, self._patterns
        cands = [_Cand(entry, patterns[idx], start, end) for idx, start, end in found for entry in entries[idx]]
        return _Decision(self, text, cands, local_source).run()


class _Decision:
    """The rules for one text (kept apart so each step reads plainly)."""

    def __init__(self, m: JurisdictionMatcher, text: str, cands: list[_Cand], local_source: bool):
        self.m, self.text, self.cands, self.local_source = m, text, cands, local_source
        self._bounds: dict[tuple[int, int], bool] = {}
        self.notes: list[str] = []

    def on_boundary(self, c: _Cand) -> bool:
        """True when the name is a word of its own: the segmenter (dictionary words, no
        HMM guessing) puts boundaries at both ends, or an end touches another name found
        (汉台|北关: the segmenter would see 台北)."""
        key = (c.start, c.end)
        ok = self._bounds.get(key)
        if ok is None:
            names = [x for x in self.cands if x.entry.kind in ("place", "landmark", "dept")
                     and (x.start, x.end) != key]
            bounds = self.m._bounds(self.text, c.start, c.end)
            ok = self._bounds[key] = ((c.start in bounds or any(x.end == c.start for x in names))
                                      and (c.end in bounds or any(x.start == c.end for x in names)))
        return ok

    def run(self) -> Jurisdiction:
        places: dict[str, tuple[int, PlaceHit]] = {}
        depts: dict[str, tuple[int, DepartmentHit]] = {}
        cands = self.cands
        ours = [c for c in cands if c.entry.local and c.entry.kind in ("place", "landmark")]

        def put(c: _Cand, div: Division, reason: str, local: bool, county: str, level: str | None = None):
            key = div.code if (level or div.level) != "landmark" else "landmark:" + div.name
            if key not in places:
                places[key] = (c.start, PlaceHit(div.code, div.name, level or div.level, county, local,
                                                 c.surface, reason))

        # 1. the city and other counties of the city (reported with their own codes)
        city = [c for c in cands if c.entry.kind == "place" and not c.entry.local and c.entry.level == "city"
                and (c.entry.form == "full" or self.on_boundary(c))]
        for c in city:
            put(c, c.entry.div, "地级市名称命中", False, "")
        county_hits = [c for c in cands if c.entry.kind == "place" and not c.entry.local
                       and c.entry.level == "county" and (c.entry.form == "full" or self.on_boundary(c))]
        for c in county_hits:
            put(c, c.entry.div, "本市其他县区" + ("全称命中" if c.entry.form == "full" else "简称命中"), False,
                c.entry.county_code)
        other_counties = {c.entry.county_code for c in county_hits}
        for c in cands:
            e = c.entry
            if e.kind != "place" or e.local or e.level != "town":
                continue
            if e.county_code in other_counties:
                why = "外县镇办全称命中，且文中有所属县区"
            elif city:
                why = f"外县镇办全称命中，且文中有'{city[0].surface}'语境"
            elif e.homonyms == 0:
                why = "外县镇办全称命中（全国唯一）"
            elif not self._near_foreign(c):
                why = "外县镇办全称命中（外地有同名，前后无外地地名）"
            else:
                self.notes.append(f"'{c.surface}'外地有同名且紧邻外地地名'{self._near_foreign(c)}'，未计入")
                continue
            put(c, e.div, why, False, e.county_code)
            other_counties.add(e.county_code)
        city_ctx = city[0].surface if city else ""

        # 2. what gives district context on its own
        strong: list[str] = []
        if self.local_source:
            strong.append("来源为本地")
        for c in ours:
            e = c.entry
            if e.level == "county" and (e.form == "full" or self.on_boundary(c)):
                put(c, e.div, "本区名称命中", True, e.county_code)
                strong.append(c.surface)
            elif e.kind == "landmark":
                put(c, e.div, "本区地标命中", True, e.county_code, "landmark")
                where = self.m.gazetteer.division(e.div.code)
                if where is not None and where.level == "town":
                    put(c, where, f"由地标'{c.surface}'推定所属镇办", True, e.county_code)
                strong.append(c.surface)
            elif e.level == "town" and e.form == "full" and e.homonyms == 0:
                put(c, e.div, "全称命中", True, e.county_code)
                strong.append(c.surface)
            elif e.level == "village" and any(s in c.surface for s in self.m._district_short):
                put(c, e.div, "村/社区名含本区名称", True, e.county_code)
                strong.append(c.surface)
        for c in cands:
            if c.entry.kind == "dept" and c.entry.form == "strong":
                strong.append(c.surface)

        def ctx_words() -> str:
            if strong:
                return "文中有本区语境'" + strong[0] + "'" if strong[0] != "来源为本地" else "来源为本地"
            return ""

        city_ok = bool(city_ctx) and not other_counties

        def district_ok() -> bool:
            # a local source does not make another county's place ours
            return any(w != "来源为本地" for w in strong) or (bool(strong) and not other_counties)
        villages = [c for c in ours if c.entry.level == "village"]
        towns = [c for c in ours if c.entry.level == "town"]

        def village_of(town: Division) -> _Cand | None:
            for v in villages:
                if v.entry.div.parent_code == town.code and (v.entry.form == "full" or self.on_boundary(v)):
                    return v
            return None

        # 3. towns that need context
        counted_towns: set[str] = {code for code, (_, h) in places.items() if h.level == "town" and h.in_district}
        for c in towns:
            e = c.entry
            if e.div.code in counted_towns:
                continue
            if e.form == "short" and not self.on_boundary(c):
                self.notes.append(f"'{c.surface}'不在词边界上（如'{self._around(c)}'），未计入")
                continue
            label = "全称命中（外地有同名）" if e.form == "full" else "简称命中"
            v = village_of(e.div)
            if district_ok():
                why = f"{label}，且{ctx_words()}"
            elif city_ok:
                why = f"{label}，且文中有'{city_ctx}'语境"
            elif v is not None:
                why = f"{label}，且同时提到下辖'{v.surface}'"
            elif e.form == "full" and not self._near_foreign(c) and not other_counties:
                why = f"{label}，前后无外地地名"
            else:
                near = self._near_foreign(c)
                reason = (f"紧邻外地地名'{near}'" if near else
                          "文中提到本市其他县区" if other_counties else "文中无汉中/汉台语境")
                self.notes.append(f"'{c.surface}'为多地通用名称，{reason}，未计入")
                continue
            put(c, e.div, why, True, e.county_code)
            counted_towns.add(e.div.code)
        if counted_towns and not strong:
            # the first counted town in the order places were found (a set's order changes with the hash seed)
            strong.append(next(h.matched for code, (_, h) in places.items() if code in counted_towns))

        # 4. villages and communities: own town or district context
        town_cands = {c.entry.div.code: c for c in towns
                      if c.entry.form == "full" or self.on_boundary(c)}
        by_surface: dict[str, list[_Cand]] = {}
        for c in villages:
            by_surface.setdefault(f"{c.start}:{c.surface}", []).append(c)
        for group in by_surface.values():
            c0 = group[0]
            if c0.entry.form == "short" and not self.on_boundary(c0):
                self.notes.append(f"'{c0.surface}'不在词边界上，未计入")
                continue
            with_town = [c for c in group if c.entry.div.parent_code in counted_towns
                         or c.entry.div.parent_code in town_cands
                         or self._names_town(c)]
            if with_town:
                for c in with_town:
                    town = self.m.gazetteer.division(c.entry.div.parent_code)
                    tname = town.name if town else c.entry.div.parent_code
                    put(c, c.entry.div, f"村/社区名命中，且同时提到所属镇办'{tname}'", True, c.entry.county_code)
                    self._imply_town(c, places, put)
                continue
            if district_ok():
                why = f"村/社区名命中，且{ctx_words()}"
            elif city_ok:
                why = f"村/社区名命中，且文中有'{city_ctx}'语境"
            else:
                self.notes.append(f"'{c0.surface}'为常见村/社区名，文中无所属镇办或本区语境，未计入")
                continue
            if len(group) > 1:
                why += f"（区内同名{len(group)}处）"
            for c in group:
                put(c, c.entry.div, why, True, c.entry.county_code)
                if len(group) == 1:
                    self._imply_town(c, places, put)

        # 5. departments
        any_local = False
        for _, h in places.values():
            if h.in_district:
                any_local = True
                break
        for c in cands:
            e = c.entry
            if e.kind != "dept" or e.dept.name in depts:
                continue
            if e.form == "strong":
                depts[e.dept.name] = (c.start, DepartmentHit(e.dept.name, e.dept.official_name, c.surface,
                                                             "部门全称命中"))
                continue
            prev = self._preceding_place(c)
            if prev:
                self.notes.append(f"'{c.surface}'前接'{prev}'，属其他地方的部门，未计入")
                continue
            if strong or any_local:
                ctx = ctx_words() or "文中有本区地名"
                depts[e.dept.name] = (c.start, DepartmentHit(e.dept.name, e.dept.official_name, c.surface,
                                                             f"部门简称命中，且{ctx}"))
            else:
                self.notes.append(f"'{c.surface}'可指任何区县的部门，文中无本区语境，未计入")

        place_hits = tuple([h for _, h in sorted(places.values(), key=_first)])
        dept_hits = tuple([h for _, h in sorted(depts.values(), key=_first)]) if depts else ()
        involves = any(h.in_district for h in place_hits) or bool(dept_hits)
        reasons = [f"{h.name}（{h.code}）：{h.reason}" for h in place_hits]
        reasons += [f"{h.name}：{h.reason}" for h in dept_hits]
        reasons += self.notes
        return Jurisdiction(place_hits, dept_hits, involves, tuple(reasons))

    # -- small rules ----------------------------------------------------------------
    def _near_foreign(self, c: _Cand) -> str:
        """A place elsewhere in China written right against ``c`` as part of an address
        (徐州市铜山区汉王镇, 江苏徐州的汉王镇, 汉王镇（江苏徐州）)."""
        for other in self.cands:
            if other.entry.kind == "foreign" or (other.entry.kind == "place" and not other.entry.local
                                                 and other.entry.level != "city"):
                gap_before = self.text[other.end:c.start] if other.end <= c.start else None
                gap_after = self.text[c.end:other.start] if other.start >= c.end else None
                if gap_before is not None and len(gap_before) <= 1 and gap_before.strip("的 ·") == "":
                    return other.surface
                if gap_after is not None and len(gap_after) <= 1 and gap_after.strip("（( ，,") == "":
                    return other.surface
        return ""

    def _around(self, c: _Cand) -> str:
        return self.text[max(0, c.start - 2): c.end + 2]

    def _names_town(self, c: _Cand) -> bool:
        town = self.m.gazetteer.division(c.entry.div.parent_code)
        return bool(town) and any(n and c.surface.startswith(n) for n in (town.name, *town.short_names))

    def _imply_town(self, c: _Cand, places, put) -> None:
        town = self.m.gazetteer.division(c.entry.div.parent_code)
        if town is not None and town.code not in places:
            put(c, town, f"由'{c.surface}'推定所属镇办", True, c.entry.county_code)

    def _preceding_place(self, c: _Cand) -> str:
        """A non-district place name (or 省/市/县/国…) right before a generic department form."""
        for other in self.cands:
            if other.end == c.start and other.entry.kind in ("foreign", "place") and not other.entry.local:
                return other.surface
        before = self.text[max(0, c.start - 2): c.start]
        if before == "国家":
            return before
        if before[-1:] in _FOREIGN_PREFIX and not c.surface.startswith("区"):
            return before[-1:]
        return ""
