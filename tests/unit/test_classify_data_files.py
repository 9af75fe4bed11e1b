"""The desk home's edited data files: a broken one is named, never a traceback."""
from __future__ import annotations

import pytest

from yuqing.classify_io import ClassifyDataError, load_routing, load_schemes


@pytest.mark.parametrize("load,name", [(load_schemes, "schemes.toml"), (load_routing, "routing.toml")])
def test_gbk_toml_is_named_with_what_to_do(tmp_path, load, name):
    (tmp_path / name).write_bytes('[meta]\nnote = "汉台区"\n'.encode("gbk"))
    with pytest.raises(ClassifyDataError, match=rf"{name}: not UTF-8 text .*save it as UTF-8"):
        load(tmp_path)


@pytest.mark.parametrize("load,name", [(load_schemes, "schemes.toml"), (load_routing, "routing.toml")])
def test_toml_syntax_error_is_named(tmp_path, load, name):
    (tmp_path / name).write_text("[meta\n", encoding="utf-8")
    with pytest.raises(ClassifyDataError, match=rf"{name}: not valid TOML"):
        load(tmp_path)


def test_training_uses_the_last_correction_written_even_with_an_earlier_clock(tmp_path):
    """The console, `yuqing labels` and training agree: the last correction written wins, also when
    the desk clock (YUQING_NOW, a demo clock) put it earlier than the one before."""
    from datetime import datetime, timezone

    from monitor import store
    from monitor.types import ParsedItem, SourceSpec
    from pipeline.store import migrations as analysis_migrations
    from storage.db import open_db
    from yuqing.classify_io import add_label, labelled_topic_items

    t0 = datetime(2026, 11, 27, 2, tzinfo=timezone.utc)
    db = open_db(tmp_path / "desk.sqlite", [store.migrations, analysis_migrations])
    src = SourceSpec(id="s", name="s", url="http://127.0.0.1/s")
    store.sync_sources(db, [src], t0)
    res = store.store_fetch(db, src, [ParsedItem(guid="a", title="铺镇停水", link=None, text="铺镇停水三天", published=t0)],
                            now=t0, next_check=t0, etag=None, last_modified=None, body_digest="x")
    item = res.new_ids[0]
    add_label(db, item, "topic", "城市管理", now=datetime(2026, 11, 27, 10, tzinfo=timezone.utc))
    add_label(db, item, "topic", "社会保障", now=datetime(2026, 11, 27, 9, tzinfo=timezone.utc))
    db.conn.close()
    assert labelled_topic_items(tmp_path / "desk.sqlite") == [("铺镇停水", "铺镇停水三天", "社会保障")]
