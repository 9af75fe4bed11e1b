import pytest

from monitor.exceptions import ConfigError
from monitor.sources import parse_source, parse_sources, source_to_table
from yuqing.config import init_home, load_config, parse_desk
from yuqing.home import DeskHome, resolve_home


def test_init_then_load(tmp_path):
    home = DeskHome(tmp_path / "desk")
    written = init_home(home)
    assert home.desk_toml in written and home.sources_toml in written
    cfg = load_config(home)
    assert cfg.district_code == "610702"
    assert str(cfg.timezone) == "Asia/Shanghai"
    assert init_home(home) == []  # never overwrites


def test_home_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("YUQING_HOME", str(tmp_path / "env"))
    assert resolve_home(None).path == (tmp_path / "env").resolve()
    assert resolve_home(tmp_path / "opt").path == (tmp_path / "opt").resolve()


@pytest.mark.parametrize("doc, fragment", [
    ({}, "[desk] section is missing"),
    ({"desk": {"district_code": "610702", "district_name": "汉台区"}}, "[desk].timezone is missing"),
    ({"desk": {"district_code": "6107", "district_name": "x", "timezone": "Asia/Shanghai"}}, "6-digit"),
    ({"desk": {"district_code": "610702", "district_name": "x", "timezone": "Asia/Shangai"}}, "unknown time zone"),
    ({"desk": {"district_code": "610702", "district_name": "x", "timezone": "UTC"}, "fetch": {"max_bytes": "1"}},
     "[fetch].max_bytes: expected int"),
    ({"desk": {"district_code": "610702", "district_name": "x", "timezone": "UTC"}, "fetch": {"max_byte": 1}},
     "[fetch].max_byte: unknown key"),
    ({"desk": {"district_code": "610702", "district_name": "x", "timezone": "UTC"}, "colck": {}},
     "unknown section [colck]"),
])
def test_desk_errors_name_the_key(tmp_path, doc, fragment):
    with pytest.raises(ConfigError) as err:
        parse_desk(doc, DeskHome(tmp_path), file="desk.toml")
    assert fragment in str(err.value)
    assert str(err.value).startswith("desk.toml")


def test_bad_toml_names_the_file(tmp_path):
    home = DeskHome(tmp_path)
    init_home(home)
    home.desk_toml.write_text("[desk\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="desk.toml: not valid TOML"):
        load_config(home)


@pytest.mark.parametrize("table, fragment", [
    ({"url": "ftp://x"}, ".url: 'ftp://x' is not an http(s) URL"),
    ({}, ".url: missing"),
    ({"url": "http://x/", "interval": "60"}, ".interval: expected int"),
    ({"url": "http://x/", "interval": 0}, ".interval: 0 s is outside"),
    ({"url": "http://x/", "kind": "xml"}, ".kind: 'xml' is not one of"),
    ({"url": "http://x/", "mapping": "twitter"}, ".mapping: 'twitter'"),
    ({"url": "http://x/", "kind": "html"}, ".fields.item"),
    ({"url": "http://x/", "encoding": "klingon"}, "unknown encoding"),
    ({"url": "http://x/", "enabled": "yes"}, ".enabled: expected bool"),
    ({"url": "http://x/", "colour": "red"}, "unknown key 'colour'"),
])
def test_source_errors_name_the_key(table, fragment):
    with pytest.raises(ConfigError) as err:
        parse_source("s1", table, file="sources.toml")
    assert "sources.toml: [sources.s1]" in str(err.value)
    assert fragment in str(err.value)


def test_source_round_trip():
    spec = parse_source("gov", {"url": "http://x/", "kind": "html", "fields": {"item": "li"}, "local": True})
    again = parse_sources({"sources": {"gov": source_to_table(spec)}})[0]
    assert again == spec
