"""Desk homes for pipeline tests, with the topic model trained once per test session.

Every new desk home trains its topic model at its first pipeline (seconds each); the trained
model depends only on the bundled data, so later homes get a copy of the first one's.
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from yuqing.config import init_home
from yuqing.home import DeskHome

_template: Path | None = None


def pipeline_home(path: Path, database: str | None = None) -> DeskHome:
    """``init_home`` at ``path`` (no sources), its topic model already trained."""
    global _template
    if _template is None:
        from yuqing.classify_io import load_classifier

        root = Path(tempfile.mkdtemp(prefix="yuqing-model-"))
        atexit.register(shutil.rmtree, root, True)
        template = DeskHome(root / "home")
        init_home(template, sources_text="")
        load_classifier(template.path, train_in_child=True)
        _template = template.path / "models"
    home = DeskHome(path, database=database)
    init_home(home, sources_text="")
    (home.path / "models").mkdir(exist_ok=True)
    for model in _template.glob("topic-*.npz"):
        shutil.copy2(model, home.path / "models" / model.name)
    return home
