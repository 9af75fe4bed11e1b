"""Which open incident a story tells the same event as: the town index of open incidents.

A story of a town is compared with the open incidents of that town by content with place
names set aside (:func:`pipeline.triggers.weak_join_reason`). The index is built once per
batch (staff may have closed or merged incidents meanwhile) and grows as incidents open;
an incident's bigrams are kept from one batch to the next while its title and evidence
titles stay the same.
"""
from __future__ import annotations

from typing import Mapping

from classifiers.normalize import to_simplified_many
from classifiers.same_event import bigrams
from pipeline.triggers import StoryFacts, norm, weak_join_reason

EVIDENCE_TITLES = 20  # evidence titles per incident compared with stories


class IncidentMatcher:
    """Open incidents by town for one pipeline, read through ``incidents`` (the incident
    service); ``gazetteer`` gives the district's and city's names (set aside like places)."""

    def __init__(self, incidents, gazetteer=None):
        self.svc = incidents
        self.gazetteer = gazetteer
        self._regions: tuple[str, ...] | None = None
        self._index: dict[str, list[tuple]] | None = None
        self._compared: set[str] = set()  # stories whose bigrams were computed in the last batch
        self._grams_kept: dict[int, tuple] = {}  # incident id -> (title key, bigrams, norm, set) of the last index

    def new_batch(self, touched: Mapping[str, object], facts: Mapping[str, StoryFacts]) -> None:
        """Start a batch: the index is rebuilt when next needed. Bigram counts are kept only while
        a story is active: tens of KB each, they would otherwise pile up over every district
        story of the window."""
        self._index = None
        for sid in self._compared - touched.keys():
            if sid in facts:
                facts[sid].forget_bigrams()
        self._compared = set()

    def similar(self, sid: str, facts: StoryFacts, only: set[int] | None = None) -> tuple[object, str] | None:
        """(incident, why) of an open incident of the same town telling the same event as the story
        (``only``: among these incident ids)."""
        index = self._incident_index()
        seen: set[int] = set()
        self._compared.add(sid)
        for code in sorted(facts.town_codes):  # the same incident in every process (sets follow the hash seed)
            for inc, towns, grams, grams_norm, keys in index.get(code, ()):
                if inc.id in seen or (only is not None and inc.id not in only):
                    continue
                seen.add(inc.id)
                why = weak_join_reason(facts, towns, grams, incident_norm=grams_norm, incident_keys=keys,
                                       region_names=self._region_names())
                if why:
                    return inc, why
        return None

    def opened(self, inc, evidence_titles: list[str]) -> None:
        """An incident opened in this batch: later stories of the batch are compared with it too."""
        self._add(inc, evidence_titles[:EVIDENCE_TITLES])

    def _incident_index(self) -> dict[str, list[tuple]]:
        """Town code -> [(incident, its towns, bigrams of title and evidence, norm, bigram set)]."""
        if self._index is None:
            self._index = {}
            incidents = self.svc.list(links=False)  # the index needs no item or story ids
            titles = self.svc.evidence_titles([inc.id for inc in incidents], EVIDENCE_TITLES)
            kept, self._grams_kept = self._grams_kept, {}
            for inc in incidents:
                self._add(inc, titles.get(inc.id, []), kept)
        return self._index

    def _add(self, inc, evidence_titles: list[str], kept: dict | None = None) -> None:
        towns = {p["code"] for p in inc.places if p.get("level") == "town"}
        if not towns or self._index is None:
            return
        key = (inc.title, tuple(evidence_titles))
        parts = (kept or {}).get(inc.id)
        if parts is None or parts[0] != key:
            grams = bigrams(to_simplified_many([inc.title] + list(evidence_titles)))
            parts = (key, grams, norm(grams), frozenset(grams))
        if kept is not None:  # (rebuilding the index) keep them for the next batch
            self._grams_kept[inc.id] = parts
        entry = (inc, towns, *parts[1:])
        for code in towns:
            self._index.setdefault(code, []).append(entry)

    def _region_names(self) -> tuple[str, ...]:
        """The district's and its city's names: every district report carries them, so they
        say nothing about which event a story tells."""
        if self._regions is None:
            g = self.gazetteer
            names: list[str] = []
            if g is not None:
                names = [g.district.name, *g.district.short_names]
                for div in g.divisions.values():
                    if div.level in ("city", "province"):
                        names += [div.name, *div.short_names]
            self._regions = tuple(dict.fromkeys(n for n in names if n))
        return self._regions
