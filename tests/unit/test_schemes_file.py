"""The desk's schemes file (storage.schemes_file) and how the console reports a broken one."""
from __future__ import annotations

import pytest

from storage import schemes_file
from tests.tui_kit import build_desk
from tui.facade import DeskBusy, DeskFacade


def test_the_bundled_file_until_the_desk_saves_its_own(tmp_path):
    assert schemes_file.schemes_path(tmp_path) == schemes_file.BUNDLED
    bundled = schemes_file.BUNDLED.read_bytes()
    schemes = schemes_file.read_schemes(tmp_path)
    assert "pollution" in schemes and schemes["pollution"]["expr"]
    dest = schemes_file.save_expression(tmp_path, "新方案", "铺镇 AND 积水")
    assert dest == tmp_path / "schemes.toml" and schemes_file.schemes_path(tmp_path) == dest
    saved = schemes_file.read_schemes(tmp_path)
    assert saved["新方案"] == {"expr": "铺镇 AND 积水"} and saved["pollution"] == schemes["pollution"]
    assert dest.read_text(encoding="utf-8").startswith(schemes_file.EDITED_HEADER)
    assert schemes_file.BUNDLED.read_bytes() == bundled  # the bundled file is never written
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("text, words", [
    ("[schemes.a\nexpr = 1", "无法读取方案文件"),
    ("x = " + "[" * 5000 + "]" * 5000, "数组或表嵌套过深"),
])
def test_a_broken_desk_file_is_one_line_for_staff_and_is_not_overwritten(tmp_path, text, words):
    path, clock = build_desk(tmp_path)
    (tmp_path / "schemes.toml").write_text(text, encoding="utf-8")
    facade = DeskFacade(path, clock=clock, actor="值班员")
    try:
        with pytest.raises(DeskBusy, match=words):
            facade.schemes()
        with pytest.raises(DeskBusy, match=words):
            facade.save_scheme("pollution", "汉台 AND 污染")
    finally:
        facade.close()
    assert (tmp_path / "schemes.toml").read_text(encoding="utf-8") == text
