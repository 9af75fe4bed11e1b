"""Monitoring schemes (监测方案): boolean word expressions, matched in one Aho-Corasick pass.

A scheme is the industry form 地域词 AND 事件词 NOT 排除词 written in the language of
:mod:`classifiers.scheme_parser`. A :class:`SchemeSet` holds many schemes (and the
expansion of templates, "every town × an event-word list") and finds every word of
every scheme with one pass of ``ahocorasick_rs`` over the text, then evaluates only
the schemes whose words occurred. Every hit says which words fired.

Pure: the TOML is read by ``yuqing.classify_io``; this module gets a mapping.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from classifiers.scheme_parser import (And, Near, Not, Or, SchemeError, SchemeSyntaxError, Word, parse,
                                       words_of)
from classifiers.types import SchemeHit

__all__ = ["Scheme", "SchemeSet", "SchemeError", "SchemeSyntaxError", "compile_scheme"]

Occurrences = Mapping[str, list[tuple[int, int]]]
_MAX_OCC = 64  # occurrences per word considered for proximity


def _gap(a: tuple[int, int], b: tuple[int, int]) -> int:
    if a[1] <= b[0]:
        return b[0] - a[1]
    if b[1] <= a[0]:
        return a[0] - b[1]
    return 0


def _evaluate(node, occ: Occurrences, fired: list[str], notes: list[str]) -> bool:
    """True when ``node`` holds; appends the words that fired and proximity notes."""
    if isinstance(node, Word):
        if node.text in occ:
            fired.append(node.text)
            return True
        return False
    if isinstance(node, And):
        mark_f, mark_n = len(fired), len(notes)
        for child in node.children:
            if type(child) is Word:  # inlined: most children are plain words
                if child.text in occ:
                    fired.append(child.text)
                    continue
            elif _evaluate(child, occ, fired, notes):
                continue
            del fired[mark_f:], notes[mark_n:]
            return False
        return True
    if isinstance(node, Or):
        hit = False
        for child in node.children:
            if type(child) is Word:
                if child.text in occ:
                    fired.append(child.text)
                    hit = True
            elif _evaluate(child, occ, fired, notes):
                hit = True
        return hit
    if isinstance(node, Not):
        scratch_f: list[str] = []
        scratch_n: list[str] = []
        return not _evaluate(node.child, occ, scratch_f, scratch_n)
    if isinstance(node, Near):
        best: tuple[int, str, str] | None = None
        for lw in node.left:
            for rw in node.right:
                lo, ro = occ.get(lw), occ.get(rw)
                if not lo or not ro:
                    continue
                for a in lo[:_MAX_OCC]:
                    for b in ro[:_MAX_OCC]:
                        g = _gap(a, b)
                        if best is None or g < best[0]:
                            best = (g, lw, rw)
        if best is None or best[0] > node.distance:
            return False
        fired.extend((best[1], best[2]))
        notes.append(f"「{best[1]}」与「{best[2]}」相距{best[0]}字（限{node.distance}字内）")
        return True
    raise TypeError(node)  # pragma: no cover


def _excluded_words(node) -> list[str]:
    """Words under a NOT (for the explanation: '排除词未出现')."""
    if isinstance(node, Not):
        return words_of(node.child)
    if isinstance(node, (And, Or)):
        out: list[str] = []
        for c in node.children:
            out.extend(_excluded_words(c))
        return out
    return []


def _dedupe(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(words))


def _automaton(words: Sequence[str]):
    import ahocorasick_rs

    return ahocorasick_rs.AhoCorasick(list(words), matchkind=ahocorasick_rs.MatchKind.Standard,
                                      implementation=ahocorasick_rs.Implementation.ContiguousNFA)


def _find(ac, words: Sequence[str], text: str) -> dict[str, list[tuple[int, int]]]:
    occ: dict[str, list[tuple[int, int]]] = {}
    if not text:
        return occ
    for idx, start, end in ac.find_matches_as_indexes(text, overlapping=True):
        word = words[idx]
        spans = occ.get(word)
        if spans is None:
            occ[word] = [(start, end)]
        else:
            spans.append((start, end))
    return occ


@dataclass(frozen=True, eq=False)
class Scheme:
    name: str
    expr: str
    node: Any = field(repr=False)
    alert: bool = False
    description: str = ""
    words: tuple[str, ...] = ()  # every distinct word of the expression
    empty_value: bool = False  # the value on a text with none of the words
    required: tuple[frozenset, ...] = ()  # word groups that must each occur for a match
    excluded: tuple[str, ...] = ()  # words under a NOT (for the explanation)
    place: str = ""  # for a scheme expanded from a "towns" template: the town's official name

    def evaluate(self, occ: Occurrences) -> SchemeHit | None:
        """Evaluate against precomputed occurrences (word -> [(start, end)])."""
        fired: list[str] = []
        notes: list[str] = []
        if not _evaluate(self.node, occ, fired, notes):
            return None
        words = _dedupe(fired)
        parts = []
        if words:
            parts.append("命中" + "".join(f"「{w}」" for w in words))
        else:
            parts.append("未出现任何排除词")
        parts.extend(dict.fromkeys(notes))
        excluded = self.excluded
        if excluded and words:
            parts.append("未出现排除词" + "".join(f"「{w}」" for w in excluded[:5])
                         + ("等" if len(excluded) > 5 else ""))
        return SchemeHit(self.name, words, self.alert, "；".join(parts))

    def match(self, text: str) -> SchemeHit | None:
        """Match one text (builds and caches this scheme's own automaton)."""
        ac = self.__dict__.get("_ac")
        if ac is None:
            ac = _automaton(self.words)
            object.__setattr__(self, "_ac", ac)
        return self.evaluate(_find(ac, self.words, text or ""))


def _required(node) -> tuple[frozenset, ...]:
    """Groups of words of which one must occur for ``node`` to hold (a cheap pre-filter)."""
    if isinstance(node, Word):
        return (frozenset([node.text]),)
    if isinstance(node, Or) and all(isinstance(c, Word) for c in node.children):
        return (frozenset(c.text for c in node.children),)
    if isinstance(node, Near):
        return (frozenset(node.left), frozenset(node.right))
    if isinstance(node, And):
        out: list[frozenset] = []
        for child in node.children:
            out.extend(_required(child))
        return tuple(out)
    return ()


def _make(name: str, expr: str, node, alert: bool, description: str) -> Scheme:
    words = _dedupe(w for w in words_of(node))
    empty = _evaluate(node, {}, [], [])
    return Scheme(name, expr, node, bool(alert), description, words, empty,
                  () if empty else _required(node), _dedupe(_excluded_words(node)))


def compile_scheme(name: str, expr: str, alert: bool = False, description: str = "") -> Scheme:
    """Parse ``expr``; raise :class:`SchemeSyntaxError` (with the column) when it is wrong."""
    return _make(name, expr, parse(expr, name), alert, description)


def _quote(word: str) -> str:
    return f'"{word}"'


def _or_expr(words: Sequence[str]) -> str:
    return "(" + " OR ".join(_quote(w) for w in words) + ")"


def _normalize_towns(towns) -> list[tuple[str, tuple[str, ...]]]:
    out: list[tuple[str, tuple[str, ...]]] = []
    if towns is None:
        return out
    items = towns.items() if isinstance(towns, Mapping) else towns
    for entry in items:
        if isinstance(entry, str):
            out.append((entry, (entry,)))
            continue
        if isinstance(towns, Mapping):
            name, aliases = entry
            forms = [name, *aliases]
        else:
            forms = list(entry)
            name = forms[0]
        out.append((name, _dedupe(f for f in forms if f)))
    return out


_SCHEME_KEYS = {"expr", "alert", "description", "label"}
_TEMPLATE_KEYS = {"places", "events", "exclude", "alert", "description", "near", "label"}


def _str_list(value, where: str, *, required: bool) -> list[str]:
    if value is None:
        if required:
            raise SchemeError(f"{where}: missing (a list of words)")
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SchemeError(f"{where}: expected a list of non-empty words, got {value!r}")
    if required and not value:
        raise SchemeError(f"{where}: the list is empty")
    return [v.strip() for v in value]


def _check_bool(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise SchemeError(f"{where}: expected true or false, got {value!r}")
    return value


def scheme_labels(doc: Mapping[str, Any]) -> dict[str, str]:
    """Scheme and template name -> its Chinese ``label`` from a parsed schemes file (what staff
    read instead of the name; a template's instances are named ``NAME:PLACE``). Names without a
    label are left out; a malformed file gives what can be read (it is checked where it is loaded)."""
    out: dict[str, str] = {}
    if not isinstance(doc, Mapping):
        return out
    for section in ("schemes", "templates"):
        table = doc.get(section)
        if not isinstance(table, Mapping):
            continue
        for name, spec in table.items():
            label = spec.get("label") if isinstance(spec, Mapping) else None
            if isinstance(label, str) and label.strip():
                out[str(name)] = label.strip()
    return out


class SchemeSet:
    """Many schemes matched together with one Aho-Corasick pass per text."""

    def __init__(self, schemes: Iterable[Scheme] = ()):
        self.schemes: tuple[Scheme, ...] = tuple(schemes)
        names = [s.name for s in self.schemes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SchemeError(f"scheme '{dupes[0]}' is defined twice")
        self.words: tuple[str, ...] = _dedupe(w for s in self.schemes for w in s.words)
        # A scheme is looked at only when a word of its smallest required group occurred (a
        # town template is not woken by its event words alone); one without required
        # groups, by any of its words.
        self._by_word: dict[str, list[int]] = {}
        for i, s in enumerate(self.schemes):
            trigger = min(s.required, key=len) if s.required else s.words
            for w in trigger:
                self._by_word.setdefault(w, []).append(i)
        self._always = [i for i, s in enumerate(self.schemes) if s.empty_value]
        self.by_name = {s.name: s for s in self.schemes}
        self._ac = _automaton(self.words) if self.words else None

    def __len__(self) -> int:
        return len(self.schemes)

    def __iter__(self):
        return iter(self.schemes)

    def names(self) -> list[str]:
        return [s.name for s in self.schemes]

    def match(self, text: str) -> list[SchemeHit]:
        """Every scheme that holds on ``text``, in definition order."""
        occ = _find(self._ac, self.words, text or "") if self._ac is not None else {}
        candidates = set(self._always)
        by_word = self._by_word
        for w in occ:
            ids = by_word.get(w)
            if ids:
                candidates.update(ids)
        if not candidates:
            return []
        hits = []
        schemes = self.schemes
        for i in sorted(candidates):
            scheme = schemes[i]
            if scheme.required:
                for g in scheme.required:
                    if g.isdisjoint(occ):
                        break
                else:
                    hit = scheme.evaluate(occ)
                    if hit is not None:
                        hits.append(hit)
                continue
            hit = scheme.evaluate(occ)
            if hit is not None:
                hits.append(hit)
        return hits

    def match_many(self, texts: Iterable[str]) -> list[list[SchemeHit]]:
        return [self.match(t) for t in texts]

    @classmethod
    def from_mapping(cls, doc: Mapping[str, Any], towns=None) -> "SchemeSet":
        """Build from a parsed schemes.toml: ``[schemes.NAME]`` and ``[templates.NAME]`` tables.

        ``towns`` is what ``places = "towns"`` expands to: names, sequences
        ``(official name, short form, ...)`` or a mapping name -> short forms.
        """
        if not isinstance(doc, Mapping):
            raise SchemeError("schemes file: expected a table")
        unknown = sorted(set(doc) - {"schemes", "templates"})
        if unknown:
            raise SchemeError(f"[{unknown[0]}]: unknown section (known: schemes, templates)")
        out: list[Scheme] = []
        for name, spec in (doc.get("schemes") or {}).items():
            where = f"[schemes.{name}]"
            if not isinstance(spec, Mapping):
                raise SchemeError(f"{where}: expected a table with expr = \"...\"")
            extra = sorted(set(spec) - _SCHEME_KEYS)
            if extra:
                raise SchemeError(f"{where}.{extra[0]}: unknown key (known: {', '.join(sorted(_SCHEME_KEYS))})")
            if "expr" not in spec:
                raise SchemeError(f"{where}.expr: missing")
            if not isinstance(spec["expr"], str):
                raise SchemeError(f"{where}.expr: expected a string, got {spec['expr']!r}")
            alert = _check_bool(spec.get("alert", False), f"{where}.alert")
            desc = spec.get("description", "")
            if not isinstance(desc, str):
                raise SchemeError(f"{where}.description: expected a string")
            if not isinstance(spec.get("label", ""), str):
                raise SchemeError(f"{where}.label: expected a string (the name staff read)")
            out.append(compile_scheme(name, spec["expr"], alert, desc))
        town_list = _normalize_towns(towns)
        for name, spec in (doc.get("templates") or {}).items():
            out.extend(_expand_template(name, spec, town_list))
        return cls(out)


def _expand_template(name: str, spec, towns: list[tuple[str, tuple[str, ...]]]) -> list[Scheme]:
    where = f"[templates.{name}]"
    if not isinstance(spec, Mapping):
        raise SchemeError(f"{where}: expected a table")
    extra = sorted(set(spec) - _TEMPLATE_KEYS)
    if extra:
        raise SchemeError(f"{where}.{extra[0]}: unknown key (known: {', '.join(sorted(_TEMPLATE_KEYS))})")
    places = spec.get("places", "towns")
    if places == "towns":
        if not towns:
            raise SchemeError(f"{where}.places = \"towns\": no towns are known (is the gazetteer loaded?)")
        groups = towns
    elif isinstance(places, (str, list)):
        groups = [(p, (p,)) for p in _str_list(places, f"{where}.places", required=True)]
    else:
        raise SchemeError(f"{where}.places: expected \"towns\" or a list of place words")
    events = _str_list(spec.get("events"), f"{where}.events", required=True)
    exclude = _str_list(spec.get("exclude"), f"{where}.exclude", required=False)
    alert = _check_bool(spec.get("alert", False), f"{where}.alert")
    desc = spec.get("description", "")
    if not isinstance(spec.get("label", ""), str):
        raise SchemeError(f"{where}.label: expected a string (the name staff read)")
    near = spec.get("near")
    if near is not None and (isinstance(near, bool) or not isinstance(near, int) or near < 0):
        raise SchemeError(f"{where}.near: expected a distance in characters (a whole number >= 0)")
    out = []
    for town, forms in groups:
        if near is None:
            node = And((Or(tuple(Word(f) for f in forms)), Or(tuple(Word(e) for e in events))))
            expr = f"{_or_expr(forms)} AND {_or_expr(events)}"
        else:
            node = Near(tuple(forms), tuple(events), near)
            expr = f"NEAR/{near}({' OR '.join(map(_quote, forms))}, {' OR '.join(map(_quote, events))})"
        if exclude:
            node = And((node, Not(Or(tuple(Word(x) for x in exclude)))))
            expr += f" NOT {_or_expr(exclude)}"
        scheme = _make(f"{name}:{town}", expr, node, alert, desc or f"{town} × {name}")
        if places == "towns":
            object.__setattr__(scheme, "place", town)
        out.append(scheme)
    return out
