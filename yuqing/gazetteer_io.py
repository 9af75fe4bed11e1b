"""Gazetteer files: load the bundled (or a configured) gazetteer folder, and build a
folder for any county from a division CSV (code,name,level,parent_code,short_name,
source,mca2025_code — the format of divisions_hanzhong.csv).

A gazetteer folder holds:
  divisions.csv      the county, its towns/street offices and villages/communities
  departments.toml   [[department]] name, official_name, aliases, former_names, domains
  landmarks.csv      optional: name,code,aliases
  *context.csv       optional: the rest of the city (city, other counties, their towns)
  other_places.txt   optional: provinces/cities/counties elsewhere (negative context)
"""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from classifiers.gazetteer import LEVELS, Gazetteer, GazetteerError, derive_short_names
from data import DATA_DIR
from storage.tomlfile import TomlError, read_toml

__all__ = ["DEFAULT_DIR", "gazetteer_dir", "load_gazetteer", "load_unit_names", "load_matcher", "load_context_gazetteer", "import_county_csv", "GazetteerError",
           "DIVISION_FIELDS"]

DEFAULT_DIR = DATA_DIR / "gazetteer"
DIVISION_FIELDS = ["code", "name", "level", "parent_code", "short_names", "mca2025_code", "homonyms", "source"]
_CODE_LEN = {"province": 6, "city": 6, "county": 6, "town": 9, "village": 12}
_PSEUDO = ("开发区", "园区", "高新", "经济", "示范", "管理", "管委会", "市辖区", "直辖", "新城", "工业", "农场")

_cache: dict[tuple[str, str], Gazetteer] = {}


def gazetteer_dir(home: Path | None = None) -> Path:
    """The gazetteer folder the desk uses: ``<home>/gazetteer`` when it holds a
    divisions.csv (written by `yuqing gazetteer import`), else the bundled one."""
    if home is not None:
        local = Path(home) / "gazetteer"
        if (local / "divisions.csv").is_file():
            return local
    return DEFAULT_DIR


def _read_csv(path: Path) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return list(csv.DictReader(fh))
    except FileNotFoundError:
        raise GazetteerError(f"{path}: file not found") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise GazetteerError(f"{path}: not a readable UTF-8 CSV ({exc})") from None


def _read_departments(path: Path) -> list[dict]:
    if not path.exists():
        return []
    try:
        data = read_toml(path)
    except TomlError as exc:
        raise GazetteerError(str(exc)) from None
    rows = data.get("department", [])
    if not isinstance(rows, list):
        raise GazetteerError(f"{path}: 'department' must be an array of tables ([[department]])")
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise GazetteerError(f"{path}: department {i} is not a table")
        for key in ("aliases", "former_names", "domains"):
            if key in row and not isinstance(row[key], (list, str)):
                raise GazetteerError(f"{path}: department {i} ({row.get('name', '?')}): {key} must be a list")
    return rows


def _context_path(directory: Path) -> Path | None:
    found = sorted(directory.glob("*context.csv"))
    return found[0] if found else None


def load_gazetteer(directory: Path | None = None) -> Gazetteer:
    """The gazetteer in ``directory`` (default: the bundled Hantai one in data/gazetteer).
    Cached per folder. Raises GazetteerError with the file and row on bad data."""
    directory = Path(directory) if directory else DEFAULT_DIR
    key = (str(directory.resolve()), "main")
    if key in _cache:
        return _cache[key]
    where = directory / "divisions.csv"
    rows = _read_csv(where)
    counties = [r for r in rows if (r.get("level") or "").strip() == "county"]
    if len(counties) != 1:
        raise GazetteerError(f"{where}: expected exactly one county row, found {len(counties)}")
    foreign: list[str] = []
    other = directory / "other_places.txt"
    if other.exists():
        foreign = [ln.strip() for ln in other.read_text(encoding="utf-8").splitlines()
                   if ln.strip() and not ln.startswith("#")]
    landmarks = _read_csv(directory / "landmarks.csv") if (directory / "landmarks.csv").exists() else []
    try:
        gaz = Gazetteer.from_rows(rows, _read_departments(directory / "departments.toml"), landmarks,
                                  district_code=counties[0]["code"].strip(), foreign_names=foreign)
    except GazetteerError as exc:
        raise GazetteerError(f"{directory}: {exc}") from None
    _cache[key] = gaz
    return gaz


def load_unit_names(directory: Path | None = None):
    """The canonical unit names (classifiers.units.UnitNames) of the gazetteer in ``directory``
    (default: bundled). Cached per folder."""
    from classifiers.units import UnitNames

    directory = Path(directory) if directory else DEFAULT_DIR
    key = (str(directory.resolve()), "units")
    if key not in _units:
        _units[key] = UnitNames.from_gazetteer(load_gazetteer(directory))
    return _units[key]


_units: dict = {}


def load_context_gazetteer(directory: Path | None = None) -> Gazetteer | None:
    """The rest of the district's city (other counties and their towns) from the
    folder's ``*context.csv``, or None when the folder has none."""
    directory = Path(directory) if directory else DEFAULT_DIR
    key = (str(directory.resolve()), "context")
    if key in _cache:
        return _cache[key]
    path = _context_path(directory)
    if path is None:
        return None
    rows = _read_csv(path)
    cities = [r for r in rows if (r.get("level") or "").strip() == "city"]
    if len(cities) != 1:
        raise GazetteerError(f"{path}: expected exactly one city row, found {len(cities)}")
    try:
        gaz = Gazetteer.from_rows(rows, district_code=cities[0]["code"].strip())
    except GazetteerError as exc:
        raise GazetteerError(f"{path}: {exc}") from None
    _cache[key] = gaz
    return gaz


def load_matcher(directory: Path | None = None):
    """A JurisdictionMatcher for the gazetteer folder (default: bundled), with its city
    context when present. Cached per folder. The gazetteer's words are added to the
    process-wide segmenter now, so every later ``default_segmenter().cut`` (topic
    features) sees the same dictionary."""
    from classifiers.jurisdiction import JurisdictionMatcher
    from classifiers.segment import default_segmenter

    directory = Path(directory) if directory else DEFAULT_DIR
    key = (str(directory.resolve()), "matcher")
    if key not in _matchers:
        _matchers[key] = JurisdictionMatcher(load_gazetteer(directory),
                                             context_gazetteer=load_context_gazetteer(directory),
                                             segmenter=default_segmenter())
    return _matchers[key]


_matchers: dict = {}


# -- import ------------------------------------------------------------------------

def _validate(rows: list[dict], path: Path) -> list[str]:
    errors = []
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        code = (row.get("code") or "").strip()
        name = (row.get("name") or "").strip()
        level = (row.get("level") or "").strip()
        if level not in LEVELS:
            errors.append(f"row {line} ({code or name or 'empty'}): unknown level {level!r}")
        elif not code.isdigit() or len(code) != _CODE_LEN[level]:
            errors.append(f"row {line} ({name or 'empty'}): code {code!r} must be {_CODE_LEN[level]} digits "
                          f"for level {level}")
        elif not name:
            errors.append(f"row {line} ({code}): name is empty")
        elif level != "province" and not (row.get("parent_code") or "").strip():
            errors.append(f"row {line} ({code} {name}): parent_code is empty")
    return errors


def _national(national_csv: Path | None):
    if national_csv is None:
        return None
    rows = _read_csv(Path(national_csv))
    if not rows or "level" not in rows[0]:
        raise GazetteerError(f"{national_csv}: expected columns code,name,level,parent_code")
    return rows


def _foreign_names(national: list[dict], city_code: str) -> list[str]:
    province = city_code[:2]
    names: list[str] = []
    for row in national:
        code, name, level = row["code"].strip(), row["name"].strip(), row["level"].strip()
        if level not in ("province", "city", "county") or code.startswith(city_code[:4]):
            continue
        if level == "province" and code[:2] == province:
            continue
        if any(p in name for p in _PSEUDO) or name in ("县", "市辖区", "省直辖县级行政区划"):
            continue
        names.append(name)
        if level in ("province", "city"):
            names.extend(derive_short_names(name, level))
    return list(dict.fromkeys(n for n in names if len(n) >= 2))


def _row(row: dict, homonyms: Counter | None) -> dict:
    name, level = row["name"].strip(), row["level"].strip()
    code = row["code"].strip()
    out = {
        "code": code, "name": name, "level": level, "parent_code": (row.get("parent_code") or "").strip(),
        "short_names": "|".join(derive_short_names(name, level)),
        "mca2025_code": (row.get("mca2025_code") or "").strip(),
        "homonyms": "", "source": (row.get("source") or "").strip(),
    }
    if out["mca2025_code"] == code:
        out["mca2025_code"] = ""
    if homonyms is not None and level == "town":
        out["homonyms"] = str(max(0, homonyms[name] - 1))
    return out


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=DIVISION_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


_DEPT_TEMPLATE = """# Departments of {name} ({code}). One [[department]] per unit; the matcher finds
# every form: name, official_name, aliases, former_names ("区..." forms also match
# with the district name in front, e.g. {short}住建局). Generic forms (区住建局,
# 住建局) count only when the item has district context.
#
# [[department]]
# name = "区住建局"
# official_name = "{name}住房和城乡建设局"
# aliases = ["住建局", "{short}住建"]
# former_names = []
# domains = ["住房保障", "征地拆迁"]
"""


def import_county_csv(csv_path: Path, county_code: str, out_dir: Path, *, national_csv: Path | None = None,
                      context_name: str = "context.csv") -> dict:
    """Build a gazetteer folder for ``county_code`` from a division CSV.

    Writes divisions.csv (the county, its towns and villages with short forms), an
    empty departments.toml template (kept if one exists), and the city context file
    (the city, its other counties and their towns). With ``national_csv`` (code,name,
    level,parent_code for all of China, province → town) it also records how many
    towns elsewhere share each town's name and writes other_places.txt.
    Returns a summary dict. Raises GazetteerError naming bad rows or an unknown county."""
    csv_path, out_dir = Path(csv_path), Path(out_dir)
    rows = _read_csv(csv_path)
    if not rows:
        raise GazetteerError(f"{csv_path}: no rows")
    missing = {"code", "name", "level", "parent_code"} - set(rows[0])
    if missing:
        raise GazetteerError(f"{csv_path}: missing column(s) {', '.join(sorted(missing))}")
    errors = _validate(rows, csv_path)
    if errors:
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise GazetteerError(f"{csv_path}: {len(errors)} bad row(s):\n" + "\n".join(errors[:20]) + more)
    county_code = str(county_code).strip()
    by_code = {r["code"].strip(): r for r in rows}
    county = by_code.get(county_code)
    if county is None or county["level"].strip() != "county":
        counties = [f"{r['code']} {r['name']}" for r in rows if r["level"].strip() == "county"]
        hint = ("; counties in the file: " + ", ".join(counties[:30])) if counties else ""
        raise GazetteerError(f"unknown county code {county_code!r} in {csv_path}{hint}")
    national = _national(national_csv)
    homonyms = Counter(r["name"].strip() for r in national if r["level"].strip() == "town") if national else None

    towns = [r for r in rows if r["level"].strip() == "town" and r["parent_code"].strip() == county_code]
    town_codes = {r["code"].strip() for r in towns}
    villages = [r for r in rows if r["level"].strip() == "village" and r["parent_code"].strip() in town_codes]
    if not towns:
        raise GazetteerError(f"{csv_path}: county {county_code} has no town rows")
    div_rows = [_row(county, homonyms)] + [_row(r, homonyms) for r in towns + villages]

    city_code = county["parent_code"].strip()
    city = by_code.get(city_code)
    context_rows: list[dict] = []
    if city is not None and city["level"].strip() == "city":
        others = [r for r in rows if r["level"].strip() == "county" and r["parent_code"].strip() == city_code
                  and r["code"].strip() != county_code]
        other_codes = {r["code"].strip() for r in others}
        other_towns = [r for r in rows if r["level"].strip() == "town" and r["parent_code"].strip() in other_codes]
        context_rows = [_row(city, homonyms)] + [_row(r, homonyms) for r in others + other_towns]

    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    _write_csv(out_dir / "divisions.csv", div_rows)
    files.append("divisions.csv")
    if context_rows:
        for old in out_dir.glob("*context.csv"):
            if old.name != context_name:
                old.unlink()
        _write_csv(out_dir / context_name, context_rows)
        files.append(context_name)
    dept_path = out_dir / "departments.toml"
    if not dept_path.exists():
        short = (derive_short_names(county["name"].strip(), "county") or (county["name"].strip(),))[0]
        dept_path.write_text(_DEPT_TEMPLATE.format(name=county["name"].strip(), code=county_code, short=short),
                             encoding="utf-8")
        files.append("departments.toml")
    if national:
        names = _foreign_names(national, city_code or county_code[:4] + "00")
        (out_dir / "other_places.txt").write_text(
            "# Provinces, cities and counties outside this city (negative context). Derived.\n"
            + "\n".join(names) + "\n", encoding="utf-8")
        files.append("other_places.txt")
    for key in [k for k in _cache if k[0] == str(out_dir.resolve())]:
        del _cache[key]
    for key in [k for k in _matchers if k[0] == str(out_dir.resolve())]:
        del _matchers[key]
    return {"county_code": county_code, "county": county["name"].strip(), "towns": len(towns),
            "villages": len(villages), "context_rows": len(context_rows), "directory": str(out_dir),
            "files": files}
