"""The architecture as tests: the floors contract (import-linter, configured in pyproject.toml)
and one owner per table (SQL statements only in the store modules listed here and storage/)."""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: The desk's code. bench/ is left out: it builds million-row desks with bulk statements no owner
#: offers, and reads directly what it measures.
PACKAGES = ("yuqing", "tui", "pipeline", "responders", "monitor", "classifiers", "storage", "data")

#: Modules that own tables: their migrations and every statement on those tables live there.
STORE_MODULES = {
    "monitor/store.py": "sources, items and what intake keeps about them",
    "responders/store.py": "incidents, their stories, items, evidence, releases and release proposals",
    "responders/timeline.py": "the timeline's hash chain (events, head, anchor); verifying it also reads the "
                              "incidents and releases rows its events explain",
    "responders/alerts/store.py": "the alert dispatcher's dedup, queues, retries, folds and channel health",
    "responders/staff.py": "the staff table (members and roles)",
    "responders/roster.py": "the duty roster's shifts",
    "responders/instructions.py": "leader instructions (领导批示) and their feedback",
    "responders/review.py": "incident reviews (复盘) and their follow-up actions",
    "responders/workday_clocks.py": "the working-day clocks' done marks",
    "pipeline/store.py": "item analysis, stories, labels, the search index and watermarks",
    "pipeline/outbox.py": "the notice outbox",
}

#: Statements outside their owner today, each with the part of issue 15 that moves them.
KNOWN_ELSEWHERE: dict[str, str] = {}  # none today

_STATEMENT = re.compile(
    r"\bSELECT\b[\s\S]+\bFROM\b|\bSELECT\s+(1|RAISE|COALESCE|count)\b|\bINSERT\s+(OR\s+\w+\s+)?INTO\b"
    r"|\bUPDATE\s+(OR\s+\w+\s+)?\w+\s+SET\b|\bDELETE\s+FROM\b|\bCREATE\s+(UNIQUE\s+)?(TABLE|INDEX|TRIGGER|VIEW|VIRTUAL)\b")


def _literal_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else " x " for v in node.values)
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def sql_statements(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal in the file that is an SQL statement (docstrings aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    for node in ast.walk(tree):  # an f-string is judged whole, not by its pieces
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        text = _literal_text(node)
        if text and _STATEMENT.search(text):
            found.append((node.lineno, " ".join(text.split())[:80]))
    return found


def _sources():
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            yield path.relative_to(REPO).as_posix(), path


def test_the_floors_contract_holds():
    """tui > pipeline > responders | monitor > classifiers | storage > data; yuqing and bench on top;
    the console's screens reach the desk only through tui.facade. Function-level imports count.
    Runs what `lint-imports` runs, on this checkout."""
    code = ("import sys; from importlinter.cli import lint_imports;"
            " sys.exit(lint_imports('pyproject.toml', no_cache=True, no_logo=True))")
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_package_has_its_floor():
    """A new top-level package must be placed on a floor (pyproject's root_packages and the layers)."""
    import tomllib

    conf = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    ours = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests"}
    assert ours <= set(conf["root_packages"]), f"not in [tool.importlinter] root_packages: {ours - set(conf['root_packages'])}"
    floors = {name.strip(" ()") for c in conf["contracts"] if c["id"] == "floors"
              for layer in c["layers"] for name in layer.replace("|", ":").split(":")}
    assert ours <= floors, f"no floor in the layers contract: {ours - floors}"


def test_no_sql_outside_the_store_modules_and_storage():
    offenders = {}
    for rel, path in _sources():
        if rel.startswith("storage/") or rel in STORE_MODULES or rel in KNOWN_ELSEWHERE:
            continue
        found = sql_statements(path)
        if found:
            offenders[rel] = found
    assert not offenders, "SQL outside its owner (call the owning store module's functions instead):\n" + "\n".join(
        f"{rel}:{line}: {text}" for rel, found in offenders.items() for line, text in found)


@pytest.mark.parametrize("rel", sorted(STORE_MODULES))
def test_every_store_module_is_there(rel):
    assert (REPO / rel).is_file(), f"{rel} moved or went: update STORE_MODULES"


@pytest.mark.parametrize("rel", sorted(KNOWN_ELSEWHERE))
def test_known_exceptions_still_need_their_entry(rel):
    """An entry goes when its module no longer runs SQL (or no longer exists)."""
    path = REPO / rel
    assert path.is_file() and sql_statements(path), f"{rel} has no SQL any more: drop it from KNOWN_ELSEWHERE"


def test_the_detector_sees_statements_and_ignores_prose(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('"""Docs may say SELECT x FROM y."""\n'
                     'def f(db, t):\n'
                     '    db.execute(f"SELECT id FROM {t} WHERE a = ?", [1])\n'
                     '    db.execute("INSERT OR IGNORE INTO x (a) VALUES (?)", [1])\n'
                     '    msg = "Select the file from the list"\n', encoding="utf-8")
    assert [line for line, _ in sql_statements(probe)] == [3, 4]
