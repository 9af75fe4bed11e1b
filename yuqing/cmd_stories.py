"""`yuqing stories [FILE|-] [--summary]`: group a JSONL stream of items into stories."""
from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

import click

from yuqing.clictx import std_stream
from yuqing.errors import DeskError

_TZ = None
BATCH = 256


def _local_tz():
    global _TZ
    if _TZ is None:
        from zoneinfo import ZoneInfo

        _TZ = ZoneInfo("Asia/Shanghai")
    return _TZ


class BadLine(DeskError, ValueError):
    pass


def parse_published(value) -> datetime:
    """Epoch seconds (milliseconds when > 1e11) or ISO 8601; a time without zone is Asia/Shanghai."""
    if isinstance(value, bool) or value is None:
        raise BadLine("'published' is missing")
    if isinstance(value, str):
        s = value.strip()
        try:
            value = float(s)
        except ValueError:
            try:
                d = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                raise BadLine(f"'published' is not epoch seconds or ISO 8601: {value[:40]!r}") from None
            if d.tzinfo is None:
                d = d.replace(tzinfo=_local_tz())
            return d.astimezone(timezone.utc)
    if isinstance(value, (int, float)):
        v = float(value)
        if not math.isfinite(v):
            raise BadLine("'published' is not a finite number")
        if abs(v) > 1e11:
            v /= 1000.0
        try:
            return datetime.fromtimestamp(v, timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise BadLine(f"'published' is out of range: {value!r}") from None
    raise BadLine(f"'published' must be a number or a string, not {type(value).__name__}")


def parse_line(raw: bytes):
    """One JSONL line -> StoryItem, or BadLine with a specific reason."""
    from classifiers.stories import StoryItem

    from yuqing.jsonl import BadJSON, loads

    try:
        obj = loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BadLine("not UTF-8") from None
    except BadJSON as exc:
        raise BadLine(str(exc)) from None
    if not isinstance(obj, dict):
        raise BadLine("not a JSON object")
    iid = obj.get("id")
    if isinstance(iid, bool) or not isinstance(iid, (str, int)) or str(iid).strip() == "":
        raise BadLine("'id' is missing or not a string")
    title, text = obj.get("title") or "", obj.get("text") or ""
    if not isinstance(title, str) or not isinstance(text, str):
        raise BadLine("'title' and 'text' must be strings")
    if not title.strip() and not text.strip():
        raise BadLine("both 'title' and 'text' are empty")
    source = obj.get("source")
    if source is None:
        source = ""
    if not isinstance(source, (str, int)):
        raise BadLine("'source' must be a string")
    metrics = obj.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise BadLine("'metrics' must be a JSON object")
    url = obj.get("url") if isinstance(obj.get("url"), str) else None
    return StoryItem(id=str(iid), title=title, text=text, published=parse_published(obj.get("published")),
                     source=str(source), metrics=metrics, url=url)


class FutureBound:
    """Items dated after ``now`` (plus a little skew) take the latest sane time seen so far (or
    ``now`` before any): the engine's time is the latest time it has seen, and one item dated
    2099 would otherwise age every story out of the window and make the rest of the stream
    one-item stories."""

    SKEW = timedelta(minutes=10)

    def __init__(self, now: datetime):
        self.now = now
        self.latest: datetime | None = None
        self.clamped = 0

    def __call__(self, item):
        import dataclasses

        if item.published > self.now + self.SKEW:
            self.clamped += 1
            return dataclasses.replace(item, published=self.latest or self.now)
        if self.latest is None or item.published > self.latest:
            self.latest = item.published
        return item


@click.command("stories")
@click.argument("file", type=click.File("rb"), default="-", required=False)
@click.option("--summary", is_flag=True, help="After the stream, print one line per story.")
@click.option("--window-hours", type=click.FloatRange(min=1.0), default=72.0, show_default=True,
              help="Sliding window of stream time kept in memory.")
@click.option("--explain", is_flag=True, help="With --summary: add the heat explanation (Chinese) to each story.")
def stories(file, summary: bool, window_hours: float, explain: bool) -> None:
    """Group JSONL items into stories: near-duplicates, same-event clusters, 首发 and heat.

    Input, one JSON object a line, in published order: {"id", "title", "text",
    "published" (epoch seconds or ISO 8601; no zone = Asia/Shanghai), "source",
    optional "metrics" {"reposts", "comments", "likes", "rank"}}.

    Output, one line per input: {"id", "story", "duplicate_of", "hot"}. With --summary,
    then one line per story: {"story", "size", "label", "first_id", "first_source",
    "first_published", "sources", "hot_since", "peak_heat", ...}. Bad lines are reported
    on stderr by line number and skipped. An item dated in the future is taken as of the
    latest earlier time in the stream (counted on stderr): it cannot age the stories out.

    Example: yuqing stories items.jsonl --summary
    """
    from classifiers.stories import StoryEngine
    from yuqing.jsonl import bounded_lines, too_long_message

    finished: dict[str, dict] = {}
    order: dict[str, int] = {}
    engine_ref = {}

    def on_evict(story) -> None:
        if summary:
            finished[story.id] = _summary_json(story, engine_ref, explain)

    engine = StoryEngine(window=timedelta(hours=window_hours), on_evict=on_evict)
    engine_ref["engine"] = engine
    out = std_stream("stdout")
    name = getattr(file, "name", "-")
    name = "<stdin>" if name in ("-", "<stdin>") else name
    good = bad = 0
    batch: list = []

    def flush() -> None:
        if not batch:
            return
        for a in engine.add_many(batch):
            if a.new_story and a.story_id not in order:
                order[a.story_id] = len(order)
            out.write(json.dumps(a.to_json(), ensure_ascii=False) + "\n")
        batch.clear()
        out.flush()

    bound = FutureBound(datetime.now(timezone.utc))
    try:
        for lineno, raw in bounded_lines(file):
            if raw is None:
                bad += 1
                click.echo(f"{name}: line {lineno}: {too_long_message()}", err=True)
                continue
            if not raw.strip():
                continue
            try:
                batch.append(bound(parse_line(raw)))
                good += 1
            except BadLine as exc:
                bad += 1
                click.echo(f"{name}: line {lineno}: {exc}", err=True)
                continue
            if len(batch) >= BATCH:
                flush()
        flush()
    except OSError as exc:
        raise click.ClickException(f"{name}: cannot read: {exc.strerror or exc}") from None
    if bound.clamped:
        click.echo(f"{name}: {bound.clamped} items dated in the future (after {bound.now:%Y-%m-%d %H:%M} UTC) were"
                   " taken as of the latest earlier time in the stream", err=True)
    if summary:
        for st in engine.stories():
            finished[st.id] = _summary_json(st, engine_ref, explain)
        for sid in sorted(finished, key=lambda s: order.get(s, math.inf)):
            out.write(json.dumps(finished[sid], ensure_ascii=False) + "\n")
        out.flush()
    if bad and not good:
        raise click.ClickException(f"{name}: no valid lines ({bad} bad)")


def _summary_json(story, engine_ref, explain: bool) -> dict:
    d = story.to_summary_json()
    if explain:
        try:
            d["explain"] = engine_ref["engine"].explain_heat(story.id)
        except KeyError:
            d["explain"] = []
    return d
