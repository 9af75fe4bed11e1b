"""`yuqing parse`: parse a feed file and print what would be stored, as JSON."""
from __future__ import annotations

import json
import sys

import click

_KINDS = ["auto", "rss", "atom", "jsonfeed", "json", "html"]


def _fail(name: str, message: str) -> None:
    one_line = " ".join(str(message).split())
    click.echo(f"yuqing parse: {name}: {one_line}", err=True)
    sys.exit(1)


def _read(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read()
    with open(file, "rb") as fh:
        return fh.read()


def _load_fields(spec: str | None, name: str):
    if not spec:
        return None
    text = spec
    if spec.startswith("@"):
        try:
            with open(spec[1:], "rb") as fh:
                text = fh.read().decode("utf-8")
        except OSError as exc:
            raise ValueError(f"--fields {spec}: cannot read: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise ValueError(f"--fields {spec}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--fields is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    if not isinstance(fields, dict):
        raise ValueError("--fields must be a JSON object")
    return fields


def _absolute_http(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@click.command()
@click.argument("file", type=str)
@click.option("--kind", type=click.Choice(_KINDS), default="auto", show_default=True,
              help="Document kind; auto sniffs JSON Feed, JSON, XML feeds and HTML.")
@click.option("--mapping", type=click.Choice(["weibo", "hotlist"]), default=None,
              help="JSON mapping preset.")
@click.option("--fields", "fields_spec", default=None, metavar="JSON|@FILE",
              help='Custom JSON field mapping or HTML CSS selectors, e.g. '
                   '\'{"item": "ul.list li", "title": "a", "link": "a@href", "published": "span"}\'.')
@click.option("--url", default=None, help="The document's URL (resolves relative links).")
@click.option("--encoding", default=None, help="Charset override, e.g. gbk.")
@click.option("--content-type", "content_type", default=None,
              help="The HTTP Content-Type the document came with.")
def parse(file: str, kind: str, mapping: str | None, fields_spec: str | None, url: str | None,
          encoding: str | None, content_type: str | None) -> None:
    """Parse a feed file (RSS, Atom, JSON Feed, JSON API, HTML list) and print
    the feed, its items and warnings as UTF-8 JSON. FILE may be - for stdin.

    Exit 0 when anything usable was parsed (warnings included), else 1 with a
    one-line error.

    Example: yuqing parse feed.xml --url https://www.hantai.gov.cn/rss.xml
    """
    name = "<stdin>" if file == "-" else file
    if url is not None and not _absolute_http(url):
        _fail(name, f"--url {url!r} is not an absolute http(s) URL (e.g. https://www.hantai.gov.cn/rss.xml)")
        return
    try:
        body = _read(file)
        fields = _load_fields(fields_spec, name)
        from monitor.exceptions import ParseError
        from monitor.parsing import parse_document
    except OSError as exc:
        _fail(name, exc.strerror or exc)
        return
    except ValueError as exc:
        _fail(name, exc)
        return
    except Exception as exc:  # noqa: BLE001 - never a traceback at the command boundary
        _fail(name, f"{type(exc).__name__}: {exc}")
        return
    try:
        feed = parse_document(body, kind=kind, mapping=mapping, fields=fields, url=url,
                              content_type=content_type, encoding=encoding)
    except ParseError as exc:
        _fail(name, exc)
        return
    except Exception as exc:  # noqa: BLE001
        _fail(name, f"unexpected {type(exc).__name__}: {exc}")
        return
    out = json.dumps(feed.to_json(), ensure_ascii=False, indent=2)
    sys.stdout.buffer.write(out.encode("utf-8") + b"\n")
    sys.stdout.flush()
