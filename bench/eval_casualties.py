"""Eval: casualty figures and severity grades on tests/data/casualty_headlines.tsv, and the
severity stage's cost per title (run by hand).

    python -m bench.eval_casualties [--against REV] [--titles N]

Prints how many rows get every figure exactly right and how many get the grade right. With
``--against REV`` (e.g. the commit before the casualty parser), the same table is graded by that
revision's ``classifiers/severity.py`` too (grades only: older code had fewer figures). Timing
uses CPU seconds of this process on THUCNews titles from ../shared when present.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
FIELDS = ("deaths", "missing", "trapped", "injured", "serious", "minor", "poisoned", "hospital", "gathering")


def rows():
    with (REPO / "tests" / "data" / "casualty_headlines.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t",
                                   quoting=csv.QUOTE_NONE))


def load_old(rev: str):
    src = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:classifiers/severity.py"], check=True,
                         capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "old_severity.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_severity", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_severity"] = mod
    spec.loader.exec_module(mod)
    return mod


def per_title_us(fn, titles) -> float:
    best = float("inf")
    for _ in range(5):
        t0 = time.process_time()
        for t in titles:
            fn(t)
        best = min(best, time.process_time() - t0)
    return best / len(titles) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--against", help="a git revision whose severity grading to compare")
    ap.add_argument("--titles", type=int, default=10000)
    args = ap.parse_args()
    from classifiers.normalize import normalize
    from classifiers.severity import estimate_severity, extract_counts

    table = rows()
    texts = [normalize(r["text"]).text for r in table]
    exact = sum(all(getattr(extract_counts(t), f) == int(r[f]) for f in FIELDS) for t, r in zip(texts, table))
    grade = sum(estimate_severity(t).level == r["grade"] for t, r in zip(texts, table))
    real = sum(r["origin"] == "report" for r in table)
    print(f"table: {len(table)} rows ({real} from reports); all figures exact {exact}/{len(table)} "
          f"({exact / len(table):.1%}); grade {grade}/{len(table)} ({grade / len(table):.1%})")
    old = load_old(args.against) if args.against else None
    if old:
        og = sum(old.estimate_severity(t).level == r["grade"] for t, r in zip(texts, table))
        print(f"{args.against}: grade {og}/{len(table)} ({og / len(table):.1%})")
    corpus = REPO.parent / "shared" / "data" / "corpora" / "thucnews_titles" / "dev.txt"
    if corpus.exists():
        with corpus.open(encoding="utf-8") as fh:
            titles = [normalize(line.split("\t")[0].strip()).text for _, line in zip(range(args.titles), fh)]
        now = per_title_us(estimate_severity, titles)
        before = f" ({args.against}: {per_title_us(old.estimate_severity, titles):.2f})" if old else ""
        print(f"estimate_severity on {len(titles)} THUCNews titles: {now:.2f} us/title{before}")


if __name__ == "__main__":
    main()
