from datetime import datetime, timezone

import pytest

from monitor import store
from monitor.exceptions import MonitorError
from monitor.hotline import import_rows, parse_intake_csv
from storage.db import open_db

CSV = """工单编号,来电时间,来电人,联系电话,诉求内容,所属区域,诉求类型
GD001,2026-06-14 09:12,张某,13800001111,铺镇某小区楼道积水多日无人处理。,铺镇,城市管理
GD002,2026/06/14 10:30,李某,13900002222,反映河东店镇学校食堂饭菜异味。,河东店镇,食品药品
GD003,昨天,王某,13700003333,时间写错的工单,,
GD004,2026-06-14 11:00,赵某,,,,
"""


def test_good_rows_kept_bad_rows_named():
    result = parse_intake_csv(CSV.encode("utf-8"))
    assert [r.item.guid for r in result.rows] == ["hotline:GD001", "hotline:GD002"]
    assert [e.row for e in result.errors] == [4, 5]
    assert "unrecognised time '昨天'" in str(result.errors[0])
    assert "content is empty" in str(result.errors[1])
    first = result.rows[0]
    assert first.item.published == datetime(2026, 6, 14, 1, 12, tzinfo=timezone.utc)
    assert "13800001111" not in first.item.text and first.phone == "13800001111"
    assert "所属区域：铺镇" in first.item.text


def test_gbk_file_and_mailbox_headers():
    text = "信件编号,标题,信件内容,提交时间,写信人\nX1,关于汉台区住建局,住建局回复慢,2026年6月14日 08:00,刘某\n"
    result = parse_intake_csv(text.encode("gbk"), kind="mailbox")
    [row] = result.rows
    assert row.item.title == "关于汉台区住建局" and row.item.author == "领导信箱"


@pytest.mark.parametrize("data, fragment", [
    (b"", "empty"),
    ("a,b\n1,2\n".encode(), "no content column"),
])
def test_unusable_files(data, fragment):
    with pytest.raises(MonitorError, match=fragment):
        parse_intake_csv(data)


def test_import_is_idempotent_and_private_data_apart(tmp_path, backend):
    db = open_db(backend or tmp_path / "d.sqlite", [store.migrations])
    rows = parse_intake_csv(CSV.encode("utf-8")).rows
    now = datetime(2026, 6, 14, 4, 0, tzinfo=timezone.utc)
    first = import_rows(db, "hotline", rows, now)
    second = import_rows(db, "hotline", rows, now)
    assert len(first.new_ids) == 2 and second.new_ids == ()
    assert db.execute("SELECT count(*) FROM item_private").fetchone()[0] == 2
    texts = [r[0] for r in db.execute("SELECT text FROM items")]
    assert not any("1380000" in t for t in texts)
    db.conn.close()
