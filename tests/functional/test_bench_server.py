"""`yuqing bench --database URL`: the server measures run next to SQLite in an empty PostgreSQL
database, leave it empty again, and refuse a database that holds a desk or anything else."""
from __future__ import annotations

import re

from click.testing import CliRunner

from pipeline.schema import all_migrations
from storage.db import connect, open_db
from yuqing import cli as climod


def _bench(tmp_path, *args):
    res = CliRunner().invoke(climod.cli, ["--home", str(tmp_path / "home"), "bench", *args])
    assert "Traceback" not in res.output, res.output
    return res


def _objects(url) -> list[str]:
    db = connect(url)
    try:
        return [r[0] for r in db.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() ORDER BY 1").fetchall()]
    finally:
        db.close()


def test_a_database_holding_a_desk_is_refused_and_left_as_it_was(tmp_path, pg_url):
    open_db(pg_url, all_migrations()).close()
    before = _objects(pg_url)
    res = _bench(tmp_path, "--database", pg_url, "--only", "stmt")
    assert res.exit_code == 1, res.output
    assert "已经有一个值班台" in res.output and "createdb" in res.output
    assert _objects(pg_url) == before


def test_a_database_holding_other_tables_is_refused(tmp_path, pg_url):
    db = connect(pg_url)
    db.execute("CREATE TABLE payroll (id INTEGER PRIMARY KEY, name TEXT)")
    db.close()
    before = _objects(pg_url)
    res = _bench(tmp_path, "--database", pg_url, "--only", "stmt")
    assert res.exit_code == 1, res.output
    assert "不是空的" in res.output and "payroll" in res.output
    assert "payroll" in before and _objects(pg_url) == before


def test_a_path_is_not_a_server(tmp_path):
    res = _bench(tmp_path, "--database", str(tmp_path / "desk.sqlite"), "--only", "stmt")
    assert res.exit_code == 1, res.output
    assert "postgresql://" in res.output


def _value(output: str, label: str) -> float:
    m = re.search(re.escape(label) + r": ([\d,.]+) ", output)
    assert m, f"no line {label!r} in:\n{output}"
    return float(m.group(1).replace(",", ""))


def test_statement_costs_side_by_side_count_the_servers_cpu_and_leave_the_database_empty(tmp_path, pg_url):
    res = _bench(tmp_path, "--database", pg_url, "--only", "stmt", "--quick")
    assert res.exit_code == 0, res.output
    for what in ("point read by primary key", "insert, one per transaction", "insert, 50 per transaction"):
        for name in ("SQLite", "PostgreSQL"):
            assert _value(res.output, f"statement: {what} · {name}") > 0
    # The server's backend did part of the work, and it is counted.
    assert re.search(r"point read by primary key · PostgreSQL: .*ours [\d.]+ \+ server [\d.]+", res.output)
    assert _objects(pg_url) == []


def test_the_global_database_option_means_the_same(tmp_path, pg_url):
    db = connect(pg_url)
    db.execute("CREATE TABLE payroll (id INTEGER PRIMARY KEY)")
    db.close()
    res = CliRunner().invoke(climod.cli, ["--home", str(tmp_path / "home"), "--database", pg_url, "bench",
                                          "--only", "stmt"])
    assert res.exit_code == 1 and "payroll" in res.output, res.output


def test_roles_on_both_backends_side_by_side(tmp_path, pg_url):
    res = _bench(tmp_path, "--database", pg_url, "--only", "roles,intake2", "--items", "100")
    assert res.exit_code == 0, res.output
    intake = next(ln for ln in res.output.splitlines() if ln.startswith("intake: store") and "PostgreSQL" in ln)
    assert re.search(r"\+ server [\d.]+ s", intake) and "statements/item" in intake, intake
    for name in ("SQLite", "PostgreSQL"):
        assert _value(res.output, f"intake, 2 processes storing at once / 1 · {name}") > 0
    assert _objects(pg_url) == []  # what the benchmark created is dropped, whatever failed
    for role in ("intake: store items", "understanding: classify", "stateful stage", "whole pipeline"):
        for name in ("SQLite", "PostgreSQL"):
            line = next((ln for ln in res.output.splitlines() if ln.startswith(role) and f"· {name}:" in ln), None)
            assert line is not None and "未测" not in line, res.output
            assert float(re.search(r": ([\d,.]+) items/s/core", line).group(1).replace(",", "")) > 0
    pg_stage = next(ln for ln in res.output.splitlines() if ln.startswith("stateful stage") and "PostgreSQL" in ln)
    assert re.search(r"\+ server [\d.]+ s", pg_stage) and "statements/item" in pg_stage and "WAL" in pg_stage
    assert _value(res.output, "database size per item · SQLite") > 0
    assert _value(res.output, "database size per item · PostgreSQL") > 0
    assert _objects(pg_url) == []


def test_two_understanding_workers_against_one(tmp_path):
    res = _bench(tmp_path, "--only", "scaleout", "--items", "100")
    assert res.exit_code == 0, res.output
    assert _value(res.output, "understanding, 1 worker (SQLite items)") > 0
    assert _value(res.output, "understanding, 2 workers on disjoint halves (SQLite items)") > 0
    assert re.search(r"scale-out of understanding, 2 workers / 1 \(\d+ cores: ceiling \d×\): [\d.]+ ×", res.output)
    assert "cores busy" in res.output  # what else the machine was doing is said
