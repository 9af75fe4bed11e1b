"""English words left on the duty console's main pages, on the demo scenario's desk.

Runs the offline demo (``yuqing demo``'s server and daemon on loopback, fast scenario clock) for
about 40 s into a temporary desk home — or uses ``--home DIR`` of an earlier run — then renders
the board, the four other pages, the first incident (scrolled through) and the command palette
at 80×24 and 120×40, and prints per page the ASCII words of 2+ letters on screen outside the
allowlist of key-cap names (tests/tui_kit.english_words; URLs are data and not counted).

    python bench/bench_console_words.py [--home DIR] [--seconds 40]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.tui_kit import english_words, screen_text  # noqa: E402


def run_demo(home_dir: Path, seconds: float) -> None:
    from yuqing.cmd_demo import DemoSession
    from yuqing.home import DeskHome

    session = DemoSession(DeskHome(home_dir), speed=2400.0, echo=lambda line: None, duty_officer=True)

    def stop() -> None:
        session.ready.wait(300)
        time.sleep(seconds)
        session.stop()

    threading.Thread(target=stop, daemon=True).start()
    asyncio.run(session.run(None))


async def pages(db: Path, size: tuple[int, int]) -> dict[str, list[str]]:
    from tui.app import DeskApp

    app = DeskApp(db)
    seen: dict[str, str] = {}
    async with app.run_test(size=size) as pilot:
        deadline = time.monotonic() + 30
        while app.snapshot is None and time.monotonic() < deadline:
            await pilot.pause(0.1)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        seen["值班台"] = screen_text(app)
        for key, name in zip("2345", ("信息检索", "信源状态", "监测方案", "统计报表")):
            await pilot.press(key)
            await pilot.pause(0.8)
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)
            seen[name] = screen_text(app)
        await pilot.press("1")
        await pilot.pause(0.3)
        if app.snapshot and app.snapshot.board:
            await pilot.press("enter")
            await pilot.pause(1.0)
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            box, texts = app.screen.query_one("#incident"), []
            for y in range(0, 400, size[1] - 4):
                box.scroll_to(y=y, animate=False)
                await pilot.pause(0.1)
                texts.append(screen_text(app))
            seen["事件"] = "\n".join(texts)
        await pilot.press("ctrl+p")
        await pilot.pause(0.5)
        seen["命令面板"] = screen_text(app)
    return {name: english_words(text) for name, text in seen.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, help="a desk home from an earlier demo run (else a new run)")
    ap.add_argument("--seconds", type=float, default=40.0, help="how long the demo runs (real seconds)")
    args = ap.parse_args()
    home = args.home
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="yuqing-words-")) / "home"
        print(f"running the demo for {args.seconds:g} s into {home} …", file=sys.stderr)
        run_demo(home, args.seconds)
    total = 0
    for size in ((80, 24), (120, 40)):
        for name, words in asyncio.run(pages(home / "desk.sqlite", size)).items():
            total += len(words)
            print(f"{size[0]}x{size[1]} {name}: {len(words)} {' '.join(words)}")
    print(f"English words on the main pages: {total}")


if __name__ == "__main__":
    main()
