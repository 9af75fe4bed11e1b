"""jieba-compatible word segmentation with a user dictionary (gazetteer names, lexicons).

The default engine is ``rjieba`` (jieba-rs): the same dictionary and algorithm as
jieba, about 20x faster (bench/bench_classify_a.py). ``engine="jieba"`` uses jieba
itself. Both load lazily; ``default_segmenter`` keeps one instance per process.
"""
from __future__ import annotations

import threading
from typing import Iterable

__all__ = ["Segmenter", "default_segmenter", "ENGINES"]

ENGINES = ("rjieba", "jieba")


class Segmenter:
    """Cuts text into words like ``jieba.lcut(text, HMM=True)``.

    ``user_words`` are added like ``jieba.add_word(word)`` (frequency suggested by
    the engine), so multi-character names such as 联丰村 or 区住建局 stay whole.
    ``shared``: use rjieba's module-level dictionary (its ``rjieba.cut`` then sees the
    user words too); only the process-wide :func:`default_segmenter` does.
    """

    def __init__(self, user_words: Iterable[str] = (), engine: str = "rjieba", *, shared: bool = False):
        if engine not in ENGINES:
            raise ValueError(f"unknown segmentation engine {engine!r}; choose one of {', '.join(ENGINES)}")
        self.engine = engine
        self._lock = threading.Lock()
        self._words: set[str] = set()
        if engine == "rjieba":
            import rjieba

            # ``import rjieba`` already builds a dictionary (~30 MB) for its module-level
            # functions; the process-wide segmenter (``shared``) uses that one instead of a second.
            self._impl = rjieba._DEFAULT_JIEBA if shared and hasattr(rjieba, "_DEFAULT_JIEBA") else rjieba.Jieba()
            self._cut = self._impl.cut
            self._cut_nohmm = lambda text: self._impl.cut(text, False)
        else:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            self._impl = jieba.Tokenizer()
            self._impl.initialize()
            self._cut = self._impl.lcut
            self._cut_nohmm = lambda text: self._impl.lcut(text, HMM=False)
        self.add_words(user_words)

    def add_words(self, words: Iterable[str]) -> int:
        """Add user words not yet known; returns how many were new."""
        new = [w.strip() for w in words if w and w.strip() and w.strip() not in self._words]
        if not new:
            return 0
        with self._lock:
            for w in new:
                if w in self._words:
                    continue
                if self.engine == "rjieba":
                    self._impl.add_word(w, None, None)
                else:
                    self._impl.add_word(w)
                self._words.add(w)
        return len(new)

    @property
    def user_words(self) -> frozenset[str]:
        return frozenset(self._words)

    def cut(self, text: str, *, hmm: bool = True) -> list[str]:
        """Words of ``text``; ``hmm=False`` skips jieba's HMM for unknown words (dictionary
        words only, the rest single characters), like ``jieba.lcut(text, HMM=False)``."""
        if not text:
            return []
        return list(self._cut(text) if hmm else self._cut_nohmm(text))

    def cut_many(self, texts: list[str]) -> list[list[str]]:
        cut = self._cut
        return [list(cut(t)) if t else [] for t in texts]


_default: Segmenter | None = None
_default_lock = threading.Lock()


def default_segmenter(user_words: Iterable[str] = ()) -> Segmenter:
    """The process-wide rjieba segmenter; ``user_words`` are added to it (once each)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Segmenter(shared=True)
    _default.add_words(user_words)
    return _default
