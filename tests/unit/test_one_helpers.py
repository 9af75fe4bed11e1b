"""The desk's one-of-each helpers, through their public functions: the TOML reader, the
severity scale, the secret scrubber, the content hash, html_to_text, the atomic write, the
desk-clock override, terminal-safe text and the data folder."""
from __future__ import annotations

import pytest

from common.errors import YuqingError
from storage.tomlfile import TomlError, parse_toml, read_toml


def test_toml_reader_names_file_and_line(tmp_path):
    path = tmp_path / "desk.toml"
    path.write_text('[desk]\nname = "汉台"\nbroken = \n', encoding="utf-8")
    with pytest.raises(TomlError) as err:
        read_toml(path)
    assert err.value.line == 3 and err.value.kind == "syntax"
    assert str(err.value).startswith(f"{path}: not valid TOML") and "line 3" in str(err.value)
    assert isinstance(err.value, YuqingError) and isinstance(err.value, ValueError)


@pytest.mark.parametrize("content, kind, words", [
    (None, "missing", "file not found"),
    ("[a]\nx = 1\n[a]\n".encode(), "syntax", "may appear only once"),
    ("name = '汉台'".encode("gbk"), "encoding", "not UTF-8 text"),
    (("x = " + "[" * 3000 + "]" * 3000).encode(), "nesting", "nested too deeply"),
])
def test_toml_reader_says_what_is_wrong(tmp_path, content, kind, words):
    path = tmp_path / "f.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(TomlError) as err:
        read_toml(path)
    assert err.value.kind == kind and words in str(err.value) and str(path) in str(err.value)


def test_toml_text_and_folder():
    assert parse_toml('a = 1\n[b]\nc = "汉中"\n') == {"a": 1, "b": {"c": "汉中"}}
    with pytest.raises(TomlError, match=r"^schemes\.toml: not valid TOML"):
        parse_toml("a = ", "schemes.toml")


def test_toml_reader_refuses_a_folder(tmp_path):
    with pytest.raises(TomlError, match="is a folder"):
        read_toml(tmp_path)


def test_one_severity_scale():
    import responders.alerts.types
    import responders.types
    from classifiers.types import SEVERITIES, severity_rank

    assert responders.types.SEVERITIES is SEVERITIES and responders.alerts.types.SEVERITIES is SEVERITIES
    assert [severity_rank(s) for s in SEVERITIES] == [0, 1, 2, 3]
    assert severity_rank("未知") == 0 and max(["重大", "一般", "特别重大"], key=severity_rank) == "特别重大"


def test_the_one_scrubber_masks_every_name_of_the_union():
    from common.secrets import SECRET_NAMES, is_secret_field, scrub_record, scrub_text
    from monitor.fetch import redact_url
    from responders.alerts.redact import redact
    from responders.masking import scrub_secrets

    assert redact is scrub_text and scrub_secrets is scrub_record
    # every name of the three former lists (fetch errors, alerts, exports), in a URL and in text
    for name in sorted(SECRET_NAMES) + ["myToken", "app-secret", "auth_code", "webhook_key"]:
        assert redact_url(f"https://h.example/x?{name}=S3CRETVALUE&page=2") == \
            f"https://h.example/x?{name}=***&page=2", name
        out = scrub_text(f"GET /send?{name}=S3CRETVALUE&page=2 and {{\"{name}\": \"S3CRETVALUE\"}}")
        assert "S3CRETVALUE" not in out and "page=2" in out, name
    assert "timestamp=17" in scrub_text("x?timestamp=17&sign=abc")
    # records: a field with a telling name is masked; short generic names (a rate-limit key,
    # a place code) stay data
    for field in ("app_secret", "webhook_url", "access_token", "password", "api_key", "client_secret", "jwt"):
        assert is_secret_field(field), field
        assert scrub_record({field: "v", "n": [1]}) == {field: "***", "n": [1]}
    assert scrub_record({"key": "warning:12h", "code": "610702"}) == {"key": "warning:12h", "code": "610702"}
    assert scrub_text("smtp://user:pa55@mail.example.com") == "smtp://***@mail.example.com"


def test_one_content_hash_and_old_databases_are_rehashed(tmp_path):
    """Items (monitor), their versions and story evidence use one hash; a database written
    with the former sha1 item hashes is recomputed on upgrade, so an unchanged item re-served
    by its feed is still unchanged and an edited one is still an edit."""
    import hashlib
    from datetime import datetime, timedelta, timezone

    import sqlite_utils

    from classifiers.stories import content_hash as story_hash
    from common.hashing import content_hash
    from monitor import store
    from monitor.types import ParsedItem, SourceSpec
    from storage.db import open_db

    assert story_hash is content_hash and len(content_hash("标题", "正文")) == 64
    t0 = datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)
    spec = SourceSpec(id="news", name="news", url="http://127.0.0.1/news")

    def fetch(db, items, now):
        return store.store_fetch(db, spec, items, now=now, next_check=now + timedelta(minutes=5), etag=None,
                                 last_modified=None, body_digest="x")

    def item(guid, text):
        return ParsedItem(guid=guid, title=f"标题{guid}", link=None, text=text, published=t0)

    path = tmp_path / "desk.sqlite"
    old = sqlite_utils.Database(path)
    # Today's schema (the store's writes need it) with the hash step not yet applied.
    store.migrations.apply(old)
    old.execute("DELETE FROM _sqlite_migrations WHERE name = 'm006_content_hash_sha256'")
    store.sync_sources(old, [spec], t0)
    fetch(old, [item("a", "正文一"), item("b", "正文二")], t0)
    fetch(old, [item("b", "正文二（更正）")], t0 + timedelta(hours=1))  # b now has two versions
    sha1 = lambda title, text: hashlib.sha1(f"{title}\n{text}".encode()).hexdigest()  # noqa: E731
    old.conn.create_function("sha1_hash", 2, sha1)
    old.execute("UPDATE items SET content_hash = sha1_hash(title, text)")
    old.execute("UPDATE item_versions SET content_hash = sha1_hash(title, text)")
    old.conn.commit()
    old.conn.close()

    db = open_db(path, [store.migrations])
    rows = db.execute("SELECT title, text, content_hash FROM items UNION ALL "
                      "SELECT title, text, content_hash FROM item_versions").fetchall()
    assert len(rows) == 4 and all(h == content_hash(t, x) for t, x, h in rows)
    again = fetch(db, [item("a", "正文一"), item("b", "正文二（更正）")], t0 + timedelta(hours=2))
    assert again.edited == 0
    edited = fetch(db, [item("a", "正文一（改）")], t0 + timedelta(hours=3))
    assert edited.edited == 1
    db.conn.close()


def test_one_html_to_text_with_the_nesting_guard():
    import classifiers.normalize
    from classifiers.htmltext import html_to_text

    assert classifiers.normalize.html_to_text is html_to_text
    assert html_to_text("<p>汉台&amp;汉中</p><script>x()</script><div>第二段<br>第三行</div>") == "汉台&汉中\n第二段\n第三行"
    deep = "<div>" * 20_000 + "深层正文" + "</div>" * 20_000
    assert html_to_text(deep) == "深层正文"  # stripped textually, in bounded time
    assert html_to_text("<img alt=[怒] src=x.png>气死了") == "[怒]气死了"


def test_atomic_write_is_whole_or_nothing(tmp_path):
    import stat

    from storage.files import write_atomic

    path = tmp_path / "schemes.toml"
    write_atomic(path, "a = 1\n")
    assert path.read_text() == "a = 1\n" and stat.S_IMODE(path.stat().st_mode) == 0o600

    def half_then_fail(fh):
        fh.write(b"b = ")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_atomic(path, half_then_fail)
    assert path.read_text() == "a = 1\n"  # the old file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["schemes.toml"]  # no partial temporary file
    write_atomic(path, b"\x00\x01", mode=0o644)
    assert path.read_bytes() == b"\x00\x01" and stat.S_IMODE(path.stat().st_mode) == 0o644
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "no-such-folder" / "x", "x")


def test_one_desk_clock_override():
    from datetime import datetime, timezone

    from storage.deskclock import desk_clock, pinned_now
    from storage.timeutil import TimeInputError

    assert pinned_now({}) is None
    assert pinned_now({"YUQING_NOW": "2026-06-14 10:00"}) == datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)
    assert desk_clock({"YUQING_NOW": "2026-06-14T10:00+08:00"})() == datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)
    assert desk_clock({})().tzinfo is not None
    for bad in ("soon", "0099-01-01", "3026-01-01T00:00"):  # unreadable or out of range
        with pytest.raises(TimeInputError, match="YUQING_NOW"):
            pinned_now({"YUQING_NOW": bad})


def test_one_terminal_safe_text():
    from storage.visible import visible
    from tui.text import clean

    hostile = "标题\x1b[2J\x07\u202e\n第二行"
    assert visible(hostile) == "标题␛[2J␇<U+202E>␊第二行"  # one value, one line
    assert visible(hostile, multiline=True) == "标题␛[2J␇<U+202E>\n第二行"
    assert clean(hostile, mask=False) == visible(hostile)  # the console shows what the CLI prints


def test_one_data_folder():
    import data
    import tui.facade
    import yuqing.classify_io
    import yuqing.config
    import yuqing.gazetteer_io

    assert (data.DATA_DIR / "schemes.toml").is_file()
    assert tui.facade.REPO_SCHEMES == data.DATA_DIR / "schemes.toml"
    assert yuqing.gazetteer_io.DEFAULT_DIR == data.DATA_DIR / "gazetteer"
    assert yuqing.classify_io.LEXICON_DIR.parent == data.DATA_DIR == yuqing.config.DEFAULT_DESK_TOML.parent
