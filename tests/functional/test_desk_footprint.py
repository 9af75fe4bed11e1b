"""The long-running desk keeps only what prediction needs in memory.

Training the topic model needs scikit-learn and SciPy (~100 MB resident once imported,
never given back). The pipeline of `yuqing run` trains a missing model in a child
process and predicts (and tests bursts) with numpy and plain Python alone.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, sys
from datetime import datetime, timezone
from pathlib import Path
from yuqing.config import init_home
from yuqing.home import DeskHome
from yuqing.pipeline import desk_pipeline

home = DeskHome(Path(sys.argv[1]))
init_home(home, sources_text="")
pipe = desk_pipeline(home.db_path, home.path, clock=lambda: datetime(2026, 11, 27, tzinfo=timezone.utc))
pipe.open()
res = pipe.classifier.classify_many([("汉台区铺镇一化工厂发生爆炸", "据网友爆料，汉台区铺镇一化工厂今天下午发生爆炸，现场浓烟滚滚。")])
pipe.step()
pipe.close()
import gc
print(json.dumps({"loaded": sorted(m for m in ("sklearn", "scipy", "scipy.sparse") if m in sys.modules),
                  "gc_threshold0": gc.get_threshold()[0],
                  "topic": res[0].topic.label if res[0].topic else None,
                  "models": sorted(p.name for p in (home.path / "models").glob("topic-*.npz"))}))
"""


def _run(home: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(home)], cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_pipeline_trains_in_a_child_and_predicts_without_sklearn(tmp_path):
    first = _run(tmp_path / "home")
    assert first["loaded"] == []  # neither scikit-learn nor SciPy in the desk's process
    assert first["gc_threshold0"] >= 20_000  # the window's many long-lived objects: fewer collections
    assert len(first["models"]) == 1  # the child trained and cached the model
    assert first["topic"]  # and the desk classifies with it
    again = _run(tmp_path / "home")  # the cached model is used as it is
    assert again == first
