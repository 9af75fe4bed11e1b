"""Bursts through a sustained crisis on real posts (../shared): a background of real Weibo
posts growing 50x over four days, with its own ongoing topics, and real news events of
different sizes planted on later days (tests/waves.py). Every event turns hot on its day;
the background stays quiet. Run with -s to see the numbers; bench/bench_waves.py runs
the full-size six days."""
from __future__ import annotations

import random

import pytest

from classifiers.stories import StoryEngine
from tests.waves import build_stream, default_events, evaluate, load_sources

pytestmark = pytest.mark.shared


def test_new_events_turn_hot_on_their_day_while_the_crisis_background_stays_quiet(shared_data):
    import opencc

    per_day = [150, 1500, 5000, 8000]
    posts, titles = load_sources(shared_data)
    events = [e for e in default_events(titles, random.Random(11), scale=0.5) if e.day < len(per_day)]
    items, events = build_stream(posts, events, per_day, seed=11, s2t=opencc.OpenCC("s2t.json"))
    eng = StoryEngine()
    out = []
    for i in range(0, len(items), 200):
        out.extend(eng.add_many(items[i:i + 200]))
    res = evaluate(items, out, events, len(per_day))
    for j, ev in enumerate(events):
        print(f"event day {ev.day} size {ev.size}: hot on day {res['detected'][j]}  {ev.name}")
    print("hot per day", res["hot_per_day"], "background", res["background_hot_per_day"])
    assert [res["detected"][j] for j in range(len(events))] == [ev.day for ev in events]
    # at most 15 background stories a day of 20,000 posts, in proportion
    assert all(n <= max(1, 15 * v / 20000) for n, v in zip(res["background_hot_per_day"], per_day))
