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
