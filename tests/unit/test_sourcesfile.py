import tomllib

import pytest

from monitor.exceptions import ConfigError
from monitor.sources import parse_source
from yuqing.sourcesfile import append_source, set_enabled_in_file

TEXT = """# staff comment kept
[sources.a]
name = "A"
url = "http://127.0.0.1/a"
enabled = true  # trailing

[sources.b]
name = "B"
url = "http://127.0.0.1/b"
[sources.b.fields]
item = "li"
"""


def test_enable_disable_keeps_comments(tmp_path):
    p = tmp_path / "sources.toml"
    p.write_text(TEXT, encoding="utf-8")
    set_enabled_in_file(p, "a", False)
    set_enabled_in_file(p, "b", False)
    text = p.read_text("utf-8")
    doc = tomllib.loads(text)
    assert doc["sources"]["a"]["enabled"] is False and doc["sources"]["b"]["enabled"] is False
    assert "# staff comment kept" in text
    assert doc["sources"]["b"]["fields"] == {"item": "li"}
    with pytest.raises(ConfigError, match="no source 'zz'"):
        set_enabled_in_file(p, "zz", True)


def test_append_source(tmp_path):
    p = tmp_path / "sources.toml"
    p.write_text(TEXT, encoding="utf-8")
    append_source(p, parse_source("c", {"url": "http://127.0.0.1/c", "kind": "json", "mapping": "weibo"}))
    doc = tomllib.loads(p.read_text("utf-8"))
    assert doc["sources"]["c"]["mapping"] == "weibo"
    with pytest.raises(ConfigError, match="already exists"):
        append_source(p, parse_source("a", {"url": "http://127.0.0.1/a"}))
