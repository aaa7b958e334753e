"""How soon a Chinese page reads Chinese: a Chinese browser, and a Chinese link opened in an English browser.

    python benchmarks/first_paint.py                      # ~1 min: this checkout, 3 loads of each
    python benchmarks/first_paint.py --tree /tmp/before   # also another checkout (a git worktree), side by side

The app runs in a process of its own (with ``--tree``, the two checkouts' apps side by side, taking turns load by
load, in either order); headless Chromium opens the page ``--loads`` times in each case, and the page itself notes
(``performance.now()``, from the start of the navigation, checked at every frame) when it was first drawn (the model
switch is on screen) and when each of these first read Chinese: every view tab's name, the page's notes (its
title), the model names (the switch's choices), and when the label came. Printed: the medians and ranges, the other
checkout's and their ratios (other ÷ this). One browser, nothing else running.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import Server  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
CASES = {  # name: (query, the browser's language)
    "Chinese browser": ("?sample=digits:0", "zh-CN"),
    "Chinese link, English browser": ("?language=zh&sample=digits:0", "en-US"),
}
MARKS = {  # name: a JS condition, true from the moment it first holds
    "drawn": "!!document.querySelector('#dataset input')",
    "view tabs": "(() => { const tabs = [...document.querySelectorAll('#view-tabs [role=tablist] button,"
    " #view-tabs .overflow-dropdown button')].map((b) => b.innerText.trim()).filter(Boolean);"
    " return tabs.length >= 5 && !tabs.some((t) => /[A-Za-z]{2,}/.test(t)); })()",
    "notes": "(document.querySelector('#intro')?.innerText || '').includes('看懂')",
    "model names": "(document.querySelector('#dataset')?.innerText || '').includes('数字（MNIST）')",
    "label": "(document.querySelector('#label')?.innerText || '').includes('%')",
}
# Each mark's first time, noted by the page at every frame from the start.
CHECKS = ", ".join(f"{name!r}: () => {holds}" for name, holds in MARKS.items())
NOTE_MARKS = (
    "window.__marks = {}; const marks = {" + CHECKS + "};"
    " const check = () => { for (const [name, holds] of Object.entries(marks))"
    " { try { if (!(name in window.__marks) && holds()) window.__marks[name] = performance.now(); } catch (e) {} }"
    f" if (Object.keys(window.__marks).length < {len(MARKS)}) requestAnimationFrame(check); }};"
    " requestAnimationFrame(check);"
)


def measure(roots: list[Path], loads: int, port: int) -> list[dict[str, dict[str, list[float]]]]:
    """Seconds from the navigation's start to each mark, per checkout and case, over ``loads`` loads of each: the
    checkouts' apps run side by side and take turns, load by load (the machine's speed drifts within a minute)."""
    from playwright.sync_api import sync_playwright

    servers = [Server.start(port + n, root=root) for n, root in enumerate(roots)]
    found = [{case: {mark: [] for mark in MARKS} for case in CASES} for _ in roots]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for load in range(loads + 1):  # the first load of each case warms the servers up: not counted
                for case, (query, locale) in CASES.items():
                    turn = 1 - 2 * (load % 2)  # this checkout first, then the other first, ...
                    for server, times in zip(servers[::turn], found[::turn], strict=True):
                        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale=locale)
                        context.add_init_script(NOTE_MARKS)
                        page = context.new_page()
                        page.goto(server.url + "/" + query)
                        page.wait_for_function(f"() => Object.keys(window.__marks || {{}}).length === {len(MARKS)}")
                        marks = page.evaluate("() => window.__marks")
                        if load:
                            for mark in MARKS:
                                times[case][mark].append(marks[mark] / 1000)
                        context.close()
            browser.close()
    finally:
        for server in servers:
            server.process.kill()
            server.process.wait()
    return found


def say(seconds: list[float]) -> str:
    return f"{statistics.median(seconds):.2f} s ({min(seconds):.2f}–{max(seconds):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--tree", type=Path, help="another checkout of the app, measured in turn with this one")
    parser.add_argument("--port", type=int, default=7890)
    args = parser.parse_args()
    this, *others = measure([ROOT] + ([args.tree.resolve()] if args.tree else []), args.loads, args.port)
    other = others[0] if others else None
    head = f"{'case':31s} {'mark':14s} {'this checkout':22s}"
    print(head + (f" {'--tree ' + str(args.tree):22s} ratio" if other else ""))
    for case in CASES:
        for mark in MARKS:
            line = f"{case:31s} {mark:14s} {say(this[case][mark]):22s}"
            if other:
                ratio = statistics.median(other[case][mark]) / statistics.median(this[case][mark])
                line += f" {say(other[case][mark]):22s} {ratio:.2f}×"
            print(line)


if __name__ == "__main__":
    main()
