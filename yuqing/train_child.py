"""Train and cache a desk home's topic model, then exit: ``python -m yuqing.train_child HOME``.

The long-running desk (``yuqing run``, ``yuqing demo``) trains here, in a child process,
so that scikit-learn and SciPy, which only training needs, never stay in its memory.
"""
from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m yuqing.train_child HOME", file=sys.stderr)
        return 2
    from yuqing.classify_io import load_classifier

    load_classifier(Path(argv[0]))  # trains and caches the model (in <home>/models)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
