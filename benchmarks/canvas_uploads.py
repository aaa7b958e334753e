"""What a real browser's canvas costs the server per stroke: Gradio's own page against the page that keeps uploads.

    python benchmarks/canvas_uploads.py                 # ~3 min: Debian's chromium, 8 strokes on each page
    python benchmarks/canvas_uploads.py --strokes 12 --gap 4

Gradio's page reads every input of an event again at each status message of any event, and its canvas answers each
read by uploading its background, its layer and its composite anew; after every stroke it also posts the three to
the canvas's ``accept_blobs``, which no event reads. The app's page answers both itself (``app.KEPT_UPLOADS_JS``).
This benchmark counts what a real browser sends. The app runs twice, one after the other, in a process of its own:
``$RESNET_KEEP_UPLOADS=0`` (Gradio's page as it is) and the default. On each, headless Chromium draws the same
strokes with the mouse, ``--gap`` seconds apart (the label and the view on screen come in between), and the benchmark
prints, per stroke: the uploads and blob posts that reached the server, the events the page sent, the server's CPU
time (its process and the painter's, less what it spends idle for as long, after one stroke that warms it up), and
the ratios between the two pages. One browser, nothing else: a class multiplies it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import Server  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
# Strokes in canvas coordinates (0..1): a 7, a 1, a bar across, a 4's parts..., each added to the drawing before.
STROKES = [
    [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)],
    [(0.35, 0.5), (0.6, 0.5)],
    [(0.2, 0.3), (0.2, 0.6)],
    [(0.8, 0.3), (0.8, 0.7)],
    [(0.3, 0.9), (0.7, 0.9)],
    [(0.5, 0.1), (0.5, 0.3)],
]


def draw_strokes(server: Server, strokes: int, gap_s: float) -> tuple[int, int, int, float, float]:
    """Uploads, blob posts and events the server received for ``strokes`` mouse strokes (after one stroke not
    counted, that warms the server up), the server's CPU seconds over them, and its CPU seconds idle for as long."""
    from playwright.sync_api import sync_playwright

    uploads = blobs = events = 0

    def count(request) -> None:
        nonlocal uploads, blobs, events
        if request.method == "POST":
            uploads += "/gradio_api/upload" in request.url
            blobs += "/gradio_api/component_server" in request.url
            events += "/gradio_api/queue/join" in request.url

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(server.url)
        page.wait_for_selector("#sketch canvas")
        page.get_by_role("button", name="Brush").first.click()
        box = page.locator("#sketch canvas").first.bounding_box()
        side = min(box["width"], box["height"]) * 0.9
        x0, y0 = box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2

        def stroke(points: list[tuple[float, float]]) -> None:
            page.mouse.move(x0 + points[0][0] * side, y0 + points[0][1] * side)
            page.mouse.down()
            for u, v in points[1:]:
                page.mouse.move(x0 + u * side, y0 + v * side, steps=12)
            page.mouse.up()
            page.wait_for_timeout(gap_s * 1000)

        stroke(STROKES[-1])  # warms the server up; not counted
        page.get_by_role("button", name="Clear canvas").first.click()
        page.get_by_role("button", name="Brush").first.click()
        page.wait_for_timeout(gap_s * 1000)
        idle0 = server.cpu_s()
        page.wait_for_timeout(strokes * gap_s * 1000)
        idle = server.cpu_s() - idle0
        page.on("request", count)
        cpu0 = server.cpu_s()
        for n in range(strokes):
            stroke(STROKES[n % len(STROKES)])
        cpu = server.cpu_s() - cpu0
        page.wait_for_function("() => document.querySelector('#label').innerText.includes('%')")  # labelled
        browser.close()
    return uploads, blobs, events, cpu, idle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strokes", type=int, default=8)
    parser.add_argument("--gap", type=float, default=4.0, help="seconds between strokes")
    parser.add_argument("--port", type=int, default=7891)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit("Debian's chromium is needed (scripts/setup.sh --dev installs it)")
    rows = {}
    for name, keep in (("Gradio's page", "0"), ("page keeping uploads and blobs", "1")):
        server = Server.start(args.port, {"RESNET_KEEP_UPLOADS": keep})
        try:
            uploads, blobs, events, cpu, idle = draw_strokes(server, args.strokes, args.gap)
            rows[name] = tuple(n / args.strokes for n in (uploads, blobs, events, cpu - idle))
        finally:
            server.stop()
    print(f"{args.strokes} strokes, {args.gap:g} s apart, one browser (headless Chromium), the digits model\n")
    print("| page | uploads a stroke | blob posts a stroke | events a stroke | server CPU a stroke, idle less (ms) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (uploads, blobs, events, cpu) in rows.items():
        print(f"| {name} | {uploads:.1f} | {blobs:.1f} | {events:.1f} | {cpu * 1000:.0f} |")
    (u0, _, _, c0), (u1, _, _, c1) = rows.values()
    print(f"\nkeeping uploads against Gradio's page: uploads {u1 / u0:.3f}×, server CPU {c1 / c0:.2f}×")


if __name__ == "__main__":
    main()
