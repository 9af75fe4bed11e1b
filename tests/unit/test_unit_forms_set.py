"""Unit names on a hand-labelled set of how people write them (tests/data/unit_forms.tsv)."""
from __future__ import annotations

from pathlib import Path

SET = Path(__file__).resolve().parents[1] / "data" / "unit_forms.tsv"


def _rows():
    for line in SET.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            form, expected, kind = line.split("\t")
            yield form, expected, kind


def score() -> dict[str, tuple[int, int]]:
    """kind -> (right, total): known forms mapped to the unit; typos refused with the unit meant
    as the nearest suggestion; other names refused."""
    from yuqing.gazetteer_io import load_unit_names

    units = load_unit_names()
    out: dict[str, list[int]] = {}
    for form, expected, kind in _rows():
        if kind == "known":
            ok = units.canonical(form) == expected
        elif kind == "typo":
            near = units.nearest(form)
            ok = units.canonical(form) is None and bool(near) and near[0] == expected
            top3 = out.setdefault("typo, among the 3 nearest", [0, 0])
            top3[0] += units.canonical(form) is None and expected in near
            top3[1] += 1
        else:
            ok = units.canonical(form) is None
        right_total = out.setdefault(kind, [0, 0])
        right_total[0] += ok
        right_total[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def test_the_labelled_set():
    s = score()
    assert s["known"][0] == s["known"][1]  # every known form maps
    assert s["other"][0] == s["other"][1]  # nothing outside the district is guessed
    assert s["typo"][0] >= 0.8 * s["typo"][1]
    assert s["typo, among the 3 nearest"][0] == s["typo"][1]


if __name__ == "__main__":  # python3 -m tests.unit.test_unit_forms_set
    for kind, (right, total) in score().items():
        print(f"{kind}: {right}/{total}")
