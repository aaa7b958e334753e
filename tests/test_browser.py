"""A real browser: Playwright drives Debian's Chromium against the launched app, as a person would."""

from __future__ import annotations

import contextlib
import itertools
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import app
from resnet.samples import load_samples
from resnet.strings import english_left

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> app.Context:
    return app.Context.create(runs_dir=tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="module")
def page(ctx):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh --dev installs it)")
    _, url, _ = app.launch(ctx, prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    SHOTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.set_default_timeout(30_000)
        pg.goto(url)
        pg.wait_for_selector("#sketch canvas")
        yield pg
        browser.close()
    app.gr.close_all()


def label_text(page) -> str:
    return page.locator("#label").inner_text()


def wait_for_label(page, text: str) -> None:
    page.wait_for_function(
        "t => { const l = document.querySelector('#label h2, #label .output-class');"
        " return l && l.innerText.trim() === t; }",
        arg=text,
    )


def draw(page, strokes: list[list[tuple[float, float]]]) -> None:
    """Mouse strokes in canvas coordinates from 0 to 1 over the drawable square."""
    box = page.locator("#sketch canvas").first.bounding_box()
    side = min(box["width"], box["height"]) * 0.9
    x0 = box["x"] + (box["width"] - side) / 2
    y0 = box["y"] + (box["height"] - side) / 2
    for points in strokes:
        page.mouse.move(x0 + points[0][0] * side, y0 + points[0][1] * side)
        page.mouse.down()
        for u, v in points[1:]:
            page.mouse.move(x0 + u * side, y0 + v * side, steps=12)
        page.mouse.up()


def test_draw_a_seven_then_clothing_and_a_lesion(page):
    assert "empty" in page.locator("#status").inner_text()
    page.get_by_role("button", name="Brush").first.click()
    blob_posts = []  # the canvas's accept_blobs posts that reached the network
    page.on("request", lambda r: "/component_server" in r.url and blob_posts.append(r.url))
    draw(page, [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]])
    wait_for_label(page, "7")
    assert "%" in label_text(page)
    page.wait_for_function("() => document.querySelector('#stage-grids img') !== null")  # views follow
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "1-drawn-seven.png", full_page=True)
    # The stroke went up once; every later read of the canvas (Gradio's page reads it again at each status message
    # of any event: ~100 uploads a stroke) was answered by the page itself (app.KEPT_UPLOADS_JS), and so were the
    # canvas's three blob posts, which no event reads.
    kept = page.evaluate("() => window.keptUploads")
    assert kept["sent"]["composite.png"] == 1 and kept["answered"] > 0, kept
    assert kept["blobs"] >= 3 and blob_posts == [], (kept, blob_posts)

    page.get_by_role("button", name="Clear canvas").first.click()
    page.wait_for_function("() => document.querySelector('#status')?.innerText.includes('canvas is empty')")
    assert "%" not in label_text(page)  # a prompt, never a prediction

    page.get_by_text("Clothing (Fashion-MNIST)").click()
    page.wait_for_function("() => document.querySelector('#gallery')?.innerText.includes('Trouser')")
    page.locator("#gallery button.thumbnail-item").nth(2).click()  # the first trouser (two per class)
    wait_for_label(page, "Trouser")
    # the top-3 class names in the page's own type, not Gradio's monospace
    assert page.evaluate(
        "() => getComputedStyle(document.querySelector('#label dt')).fontFamily"
        " === getComputedStyle(document.querySelector('#label h2')).fontFamily"
    )
    page.screenshot(path=SHOTS / "2-clothing-sample.png", full_page=True)

    page.locator("#lesions").get_by_label("b4.0").check()
    page.wait_for_function("() => document.querySelector('#status')?.innerText.includes('without F(x) in b4.0.')")
    page.get_by_role("tab", name="Residual vs identity").click()
    page.wait_for_selector("#block-panel img")
    page.wait_for_selector("#block-chart img")  # the block statistics, a picture since this session
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "3-lesion-residual-view.png", full_page=True)
    assert "without F(x) in b4.0." in page.locator("#status").inner_text()  # still, after the tab switch


def test_language_and_architecture(page):
    page.get_by_text("中文").click()
    page.wait_for_function("() => document.body.innerText.includes('看懂 ResNet-18')")
    page.wait_for_function("() => document.body.innerText.includes('使用 Gradio 构建')")  # Gradio's own texts follow
    page.get_by_role("tab", name="结构与公式").click()  # every tab's name follows at once (app.GRADIO_WORDS_JS)
    page.wait_for_function("() => document.body.innerText.includes('卷积 7×7，64 通道，步幅 2')")  # the layer table
    page.wait_for_function("() => document.querySelector('#arch-table')?.innerText.includes('输出形状')")  # its header
    page.screenshot(path=SHOTS / "4-architecture-zh.png", full_page=True)
    page.get_by_text("English").click()
    page.wait_for_function("() => document.body.innerText.includes('seen from inside')")
    page.wait_for_function(  # the view tabs, every one back in English
        "names => JSON.stringify([...document.querySelectorAll('#view-tabs [role=tab]')].map((t) => t.innerText))"
        " === JSON.stringify(names)",
        arg=TAB_NAMES,
    )
    page.wait_for_function("() => document.body.innerText.includes('conv 7×7, 64 ch, stride 2')")
    page.wait_for_function("() => document.body.innerText.includes('Built with Gradio')")


def test_plain_vs_residual(page):
    """The tab of the depth experiment, the path ensemble with the ticked lesions, and the plain twin's views."""
    page.get_by_role("tab", name="Plain vs residual").click()
    page.wait_for_selector("#depth-chart img")
    page.wait_for_selector("#path-chart img")  # computed for the model and lesions on screen
    assert "What you see" in page.locator("#depth-verdict").inner_text()
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "7-plain-vs-residual.png", full_page=True)

    page.get_by_role("tab", name="Residual vs identity").click()
    page.wait_for_selector("#block-panel img")
    before = page.locator("#block-panel img").get_attribute("src")
    page.get_by_text("Digits, plain twin (no shortcuts)").click()
    page.wait_for_function("() => document.querySelector('#status')?.innerText.includes('plain twin')")
    page.wait_for_function(  # the panel follows the model switch: the plain twin's blocks
        "src => { const i = document.querySelector('#block-panel img'); return i && i.src !== src; }", arg=before
    )
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "8-plain-twin-blocks.png", full_page=True)
    page.get_by_text("Digits (MNIST)").first.click()
    page.wait_for_function("() => !document.querySelector('#status').innerText.includes('plain twin')")


def test_train_in_the_browser_then_explore_and_download(page, ctx, tiny_data, monkeypatch):
    monkeypatch.setenv("RESNET_DATA_DIR", str(tiny_data))  # the app runs in this process
    page.get_by_role("tab", name="Train it yourself").click()
    page.locator("#train-dataset").get_by_text("Digits (MNIST)").click()
    page.locator("#train-button").click()
    page.wait_for_function(
        "() => document.querySelector('#train-status')?.innerText.includes('Finished after 2 epochs')", timeout=120_000
    )
    page.wait_for_selector("#explore-model", state="visible", timeout=60_000)
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "5-trained-in-the-browser.png", full_page=True)
    page.get_by_text("中文").click()  # the run's status, curves and comparison chart follow the page's language
    page.wait_for_function("() => document.querySelector('footer')?.innerText.includes('使用 Gradio 构建')")
    page.wait_for_timeout(1000)  # (Gradio drew its first text again ~0.4 s after the server's answers: not any more)
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('完成，共 2')")
    page.wait_for_function("() => document.querySelector('#train-loss')?.innerText.includes('已训练图像数')")
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "5-trained-in-the-browser-zh.png", full_page=True)
    page.get_by_text("English").click()
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('Finished after 2')")

    with page.expect_download() as info:
        page.locator("#download-model").click()
    saved = Path(info.value.path())
    assert saved.stat().st_size > 40_000_000  # float32 weights of 11.2M parameters
    assert info.value.suggested_filename.startswith("digits-")

    page.locator("#explore-model").click()
    page.wait_for_function("() => document.querySelector('#dataset input:checked')?.value.startsWith('digits:')")
    page.wait_for_function("() => document.querySelector('#gallery')?.innerText.includes('7')")
    page.locator("#gallery button.thumbnail-item").nth(14).click()  # the first 7 (two samples per class)
    page.wait_for_function("() => document.querySelector('#status')?.innerText.includes('trained here, 2 epochs')")
    page.get_by_role("tab", name="Feature maps").click()
    page.wait_for_function("() => document.querySelector('#stage-grids img') !== null")
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "6-your-model-in-the-views.png", full_page=True)


# -- teaching: links, the tour, the projector, phones, the browser's language, a switch of domain ----------------
@pytest.fixture(scope="module")
def browser(page):
    """The browser of ``page`` (the app is launched there), for pages of other sizes, languages and devices."""
    return page.context.browser


def open_page(browser, page, query: str = "", **context):
    """A new page at the app's address with ``query``, in a new context (viewport, locale, touch...)."""
    base = page.url.split("?")[0]
    pg = browser.new_context(**({"viewport": {"width": 1400, "height": 1000}} | context)).new_page()
    pg.set_default_timeout(30_000)
    pg.goto(base + query)
    pg.wait_for_selector("#dataset input")
    return pg


def checked(pg, elem_id: str) -> list[str]:
    """The values of a radio's checked choice, or the labels of a checkbox group's ticked boxes."""
    return pg.eval_on_selector_all(
        f"#{elem_id} input:checked",
        "els => els.map(e => e.type === 'checkbox' ? e.closest('label').innerText.trim() : e.value)",
    )


def test_a_link_restores_the_scene(browser, page):
    link = "?model=clothing&sample=clothing:2&lesions=b2.1,b3.1&tab=features&target=Sneaker&stage=b5&language=zh"
    pg = open_page(browser, page, link)
    wait_for_label(pg, "裤子")  # the sample (a trouser), labelled in Chinese
    pg.wait_for_function("() => document.querySelector('#status')?.innerText.includes('b2.1, b3.1 的 F(x) 已去掉')")
    assert checked(pg, "dataset") == ["clothing"] and checked(pg, "language") == ["zh"]
    assert checked(pg, "lesions") == ["b2.1", "b3.1"]
    pg.wait_for_function(
        "() => document.querySelector('#view-tabs button[role=tab][aria-selected=true]')?.innerText === '特征图'"
    )
    pg.wait_for_function("() => document.querySelector('#target input')?.value === '运动鞋'")  # the class: Sneaker
    assert pg.locator("#stage input").input_value() == "b5"
    # The stages and their Grad-CAMs for that class: one picture each (captions drawn in, tests/test_strings.py).
    pg.wait_for_function("() => document.querySelector('#stage-grids img') && document.querySelector('#cams img')")
    # the notes in Chinese too (they may come ~1 s after the label: the first load's language answers queue behind
    # the scene's; the nineteenth session's screenshot happened to come after them, the twentieth's first before)
    notes = ["看懂 ResNet-18", "损毁实验", "特征图。"]
    pg.wait_for_function("ts => ts.every(t => document.body.innerText.includes(t))", arg=notes)
    pg.wait_for_timeout(500)
    pg.screenshot(path=SHOTS / "9-link-restored-zh.png", full_page=True)

    pg.locator("#copy-link").click()  # and the page's own link is the same scene
    pg.wait_for_function("() => document.querySelector('#link textarea, #link input')?.value.includes('?')")
    made = pg.locator("#link textarea, #link input").first.input_value()
    assert made.endswith(link.replace("tab=features&", "")), made  # the features tab is the default: left out
    pg.context.close()


def test_a_crafted_link_shows_its_values_as_text(browser, page):
    """What a link could not use is listed under it: as text, not as the link's own links and pictures."""
    crafted = (
        "?lesions=%5BLog%20in%5D(https://evil.example/login),b4.1&stage=%3Cimg%20src=https://evil.example/p.png%3E"
    )
    pg = open_page(browser, page, crafted)
    pg.wait_for_function("() => document.querySelector('#link-note')?.innerText.includes('Log in')")
    assert checked(pg, "lesions") == ["b4.1"]  # the rest of the link is used
    assert pg.locator("#link-note a, #link-note img").count() == 0
    assert "evil.example/p.png" in pg.locator("#link-note").inner_text()  # shown as text
    pg.context.close()


def test_the_tour_goes_through_every_scene(browser, page, ctx):
    from resnet.tour import TOUR

    pg = open_page(browser, page)
    pg.locator("#tour").get_by_text("Guided tour").click()
    tabs = {
        "features": "Feature maps",
        "residual": "Residual vs identity",
        "plain": "Plain vs residual",
        "architecture": "Architecture & formulas",
        "train": "Train it yourself",
    }
    for i, step in enumerate(TOUR):
        pg.locator("#tour-next").click()
        pg.wait_for_function("t => document.querySelector('#tour-text')?.innerText.includes(t)", arg=step.title["en"])
        pg.wait_for_function("m => document.querySelector('#dataset input:checked')?.value === m", arg=step.scene.model)
        pg.wait_for_function(
            "t => document.querySelector('#view-tabs button[role=tab][aria-selected=true]')?.innerText === t",
            arg=tabs[step.scene.tab],
        )
        assert checked(pg, "lesions") == list(step.scene.lesions)
        if step.scene.sample:  # the scene's own label and status, not the previous scene's still on screen
            dataset, index = step.scene.sample
            image = load_samples(dataset).images[index]
            expected = app.classify(ctx, image, step.scene.model, list(step.scene.lesions), "upload", "en")
            wait_for_label(pg, next(iter(expected.label)))
            pg.wait_for_function("t => document.querySelector('#status')?.innerText.includes(t)", arg=expected.status)
            pg.wait_for_timeout(300)  # the previews follow the label
        pg.screenshot(path=SHOTS / f"tour-{i + 1}.png")
    pg.locator("#tour-back").click()
    pg.wait_for_function("t => document.querySelector('#tour-text')?.innerText.includes(t)", arg=TOUR[-2].title["en"])
    # a presenter's clicker: Page Up and Page Down press Back and Next (not while a control with the focus reads keys)
    pg.locator("#tour-text").click()
    pg.keyboard.press("PageUp")
    pg.wait_for_function("t => document.querySelector('#tour-text')?.innerText.includes(t)", arg=TOUR[-3].title["en"])
    pg.keyboard.press("PageDown")
    pg.wait_for_function("t => document.querySelector('#tour-text')?.innerText.includes(t)", arg=TOUR[-2].title["en"])
    pg.locator("#dataset input").first.focus()
    pg.keyboard.press("ArrowRight")  # the model switch's own key: the tour stays
    pg.wait_for_timeout(500)
    assert TOUR[-2].title["en"] in pg.locator("#tour-text").inner_text()
    pg.context.close()


def test_the_projector_view(browser, page):
    pg = open_page(browser, page, "?projector=1&sample=digits:0", viewport={"width": 1280, "height": 720})
    pg.wait_for_function("() => document.body.classList.contains('projector')")
    wait_for_label(pg, "7")
    for first_screen in ("#intro", "#label"):  # the page's title and the label on the first screen, as shot
        box = pg.locator(first_screen).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 720, (first_screen, box)
    pg.screenshot(path=SHOTS / "10-projector-1280x720.png")
    pg.context.close()
    pg = open_page(browser, page, "?tour=2&projector=1", viewport={"width": 1280, "height": 720})
    pg.wait_for_function("() => document.body.classList.contains('projector')")
    scene_under_the_tour(pg, 2, 720, 300)  # a tour link opens on its scene's view, as Next brings it in
    pg.wait_for_selector("#block-panel img")
    for hidden in ("#gallery", "#model-input", "#lesion-costs", "#link-row"):
        assert not pg.locator(hidden).is_visible(), hidden
    size = pg.eval_on_selector("#tour-text", "e => parseFloat(getComputedStyle(e.querySelector('p')).fontSize)")
    assert size >= 19, size
    pg.wait_for_selector("#block-chart img")
    # the block statistics under the panel, as wide as the view: the text drawn in the chart ~1.9x its drawn size
    chart = pg.eval_on_selector("#block-chart img", "e => [e.getBoundingClientRect().width, e.naturalWidth]")
    assert chart[0] >= 1.8 * chart[1] and chart[0] >= 0.9 * pg.locator("#view-tabs").bounding_box()["width"], chart
    assert pg.locator("#block-panel").bounding_box()["y"] < pg.locator("#block-chart").bounding_box()["y"]
    # the block panel a stage a row (1,108 px; the desk's one block a row, 542 px, was ~1.5 screens high at 1.4x), as
    # wide as the view and whole on the screen under the open tour
    drawn = "w => document.querySelector('#block-panel img')?.naturalWidth === w"
    pg.wait_for_function(drawn, arg=1108)
    panel = pg.eval_on_selector("#block-panel img", "e => [e.getBoundingClientRect().width, e.naturalWidth]")
    assert panel[0] >= 0.95 * pg.locator("#block-panel").bounding_box()["width"] and panel[0] >= 1.05 * panel[1], panel
    box, tour = pg.locator("#block-panel img").bounding_box(), pg.locator("#tour").bounding_box()
    assert tour["y"] + tour["height"] <= box["y"] and box["y"] + box["height"] <= 720, (tour, box)
    pg.locator("#block-chart").scroll_into_view_if_needed()  # the block statistics, under the panel
    pg.screenshot(path=SHOTS / "10b-projector-view-1280x720.png")
    pg.locator("#projector input").uncheck()  # the toggle by hand: the panel drawn again, one block a row, and back
    pg.wait_for_function(drawn, arg=542)
    pg.locator("#projector input").check()
    pg.wait_for_function(drawn, arg=1108)
    # the depth experiment, a wide chart: drawn for the projector (as wide, 1.4x as high, its text 1.5x), and for a
    # desk again when the toggle is off
    pg.get_by_role("tab", name="Plain vs residual").click()
    shape = "([sel, low, high]) => { const e = document.querySelector(sel); const a = e && e.complete && "
    shape += "e.naturalWidth > 0 && e.naturalHeight / e.naturalWidth; return a && a > low && a < high; }"
    pg.wait_for_function(shape, arg=["#depth-chart img", 0.45, 0.5])  # 900 x 428 px
    pg.locator("#depth-chart").scroll_into_view_if_needed()
    pg.screenshot(path=SHOTS / "10c-projector-depth-1280x720.png")
    # the formulas above the layer table, each whole at the projector's type (side by side both were cut off)
    pg.get_by_role("tab", name="Architecture & formulas").click()
    pg.wait_for_function("() => document.querySelector('#arch-table')?.innerText.includes('b2.0.conv1')")
    cut = pg.evaluate(
        "() => [...document.querySelectorAll('#arch-row .katex-display, #arch-row .katex-display > .katex')]"
        ".filter((e) => e.scrollWidth > e.clientWidth + 1).length"
    )
    headers = pg.eval_on_selector_all("#arch-table th", "hs => hs.map((h) => h.getBoundingClientRect().right)")
    assert cut == 0 and len(headers) >= 4 and max(headers) <= 1280, (cut, headers)
    formulas_bottom = pg.evaluate(
        "() => document.querySelector('#arch-row .katex-display').getBoundingClientRect().bottom"
    )
    assert pg.locator("#arch-table").bounding_box()["y"] > formulas_bottom
    pg.locator("#projector input").uncheck()  # the toggle
    pg.wait_for_function("() => !document.body.classList.contains('projector')")
    assert pg.locator("#gallery").is_visible()
    pg.wait_for_function(shape, arg=["#depth-chart img", 0.3, 0.36])  # 900 x 306 px, as drawn for a desk
    pg.context.close()


def tour_moves_with_its_view(pg, press: Callable[[], None], step: int, height: int, scrolled: int) -> None:
    """At tour step ``step``, Next (``press``): the page scrolls past ``scrolled`` px, the tour's text stays at the top
    of the screen (at most 40% of its ``height``) and what the next scene speaks of comes in right under it."""
    pg.wait_for_function("s => document.querySelector('#tour-text')?.innerText.includes(s)", arg=f"{step}/7")
    press()
    scene_under_the_tour(pg, step + 1, height, scrolled)


def scene_under_the_tour(pg, step: int, height: int, scrolled: int) -> None:
    """At tour step ``step`` (1-based): the page scrolled past ``scrolled`` px, the tour's text at the top of the
    screen (at most 40% of its ``height``) and the step's anchor (``Step.anchor``) right under it."""
    from resnet.tour import TOUR

    pg.wait_for_function("s => document.querySelector('#tour-text')?.innerText.includes(s)", arg=f"{step}/7")
    pg.wait_for_function("y => window.scrollY > y", arg=scrolled)
    under = """id => { const t = document.getElementById('tour').getBoundingClientRect(),
      a = document.getElementById(id).getBoundingClientRect();
      return Math.abs(t.top) <= 1 && t.bottom <= a.top && a.top <= t.bottom + 20; }"""
    anchor = TOUR[step - 1].anchor
    pg.wait_for_function(under, arg=anchor)  # the text at the top, the view right under it (once the pictures came)
    pg.wait_for_timeout(1600)
    assert pg.evaluate(under, anchor)  # and there it stays
    assert pg.locator("#tour").bounding_box()["height"] <= 0.4 * height  # the text in at most 40% of the screen


def test_the_projector_view_shows_a_tour_scene_with_its_text(browser, page):
    """At 1280×720 the views start ~700 px below the open tour: a move keeps the tour's text at the top of the screen
    (at most 40% of it) and brings the scene's view in under it, as on a phone."""
    pg = open_page(browser, page, "?tour=2&projector=1", viewport={"width": 1280, "height": 720})
    pg.wait_for_function("() => document.body.classList.contains('projector')")
    tour_moves_with_its_view(pg, pg.locator("#tour-next").click, 2, 720, 300)
    wait_for_label(pg, "Ankle boot")  # the scene's input
    pg.wait_for_timeout(1000)  # and its view
    # the scene's blocks on the screen ("the blocks marked 1×1 projection"): all eight, a stage a row, under the tour
    pg.wait_for_function("() => document.querySelector('#block-panel img')?.naturalWidth === 1108")
    panel, tour = pg.locator("#block-panel img").bounding_box(), pg.locator("#tour").bounding_box()
    assert tour["y"] + tour["height"] <= panel["y"] and panel["y"] + panel["height"] <= 720, (tour, panel)
    over = pg.evaluate(  # and nothing drawn over the tour's text
        "() => { const r = document.getElementById('tour-text').getBoundingClientRect();"
        " const at = document.elementFromPoint(r.right - 40, r.top + 8); return at && !at.closest('#tour'); }"
    )
    assert not over
    pg.screenshot(path=SHOTS / "10d-projector-tour-1280x720.png")
    pg.locator("#tour-next").click()  # scene 4, then the lesions: the label and its lesions under the tour
    tour_moves_with_its_view(pg, pg.locator("#tour-next").click, 4, 720, 100)
    pg.wait_for_function("() => document.querySelector('#status')?.innerText.includes('without F(x) in b3.1, b4.1')")
    b40 = pg.locator("#lesions label").filter(has_text="b4.0").bounding_box()
    assert b40["y"] + b40["height"] <= 720  # "now tick b4.0": with the label on the same screen
    pg.screenshot(path=SHOTS / "10e-projector-lesions-1280x720.png")
    pg.context.close()


# English on purpose on the Chinese page: the switch names English in English; the lecture's title and its notation
# shortcut(x) in running text; the glosses of "plain twin" and "shortcut"; the tour's links; names in Gradio's footer
# and its progress and queue timers. (Formulas are left out whole; the layer table's module paths too, below.)
KEPT_IN_ENGLISH = (
    r"Language / 语言",
    r"\bEnglish\b",
    r"Part 7 ResNet",
    r"\bResNet\b",
    r"shortcut\(",
    r"（plain twin）",
    r"（shortcut）",
    r"\?tour=\d",
    r"\b(Gradio|API)\b",
    r"^(processing|queue: \d+/\d+) \| [\d./]+s$",
)


def english_on_screen(pg) -> dict[str, list[str]]:
    """Each line of the page's text (outside pictures and formulas) with the English words left in it."""
    pg.add_style_tag(content=".katex { display: none !important; }")  # innerText leaves out what is not shown
    left = {}
    for line in pg.locator(".gradio-container").inner_text().splitlines():
        rest = re.sub(r"\bb\d\.\d\.\w+", "", line)  # a module path of the layer table (b3.0.conv3)
        for kept in KEPT_IN_ENGLISH:
            rest = re.sub(kept, "", rest)
        if english_left(rest):
            left[line] = english_left(rest)
    return left


def test_a_chinese_page_leaves_no_english_on_any_tab(browser, page):
    """Every text on every tab and in the tour, in Chinese (Gradio's own, such as "Drop Image Here", follows the
    browser's language, hence a Chinese browser)."""
    pg = open_page(browser, page, "?sample=digits:0", locale="zh-CN")
    pg.wait_for_function("() => document.querySelector('#label')?.innerText.includes('%')")
    first_answers = ["看懂 ResNet-18", "损毁实验", "特征图。", "在画布上", "衣物，普通孪生网络"]  # title, notes, models
    pg.wait_for_function("ts => ts.every(t => document.body.innerText.includes(t))", arg=first_answers)
    left = {"画": english_on_screen(pg)}
    for tab in ("残差与恒等", "普通与残差", "结构与公式", "自己训练"):
        pg.get_by_role("tab", name=tab).click()
        if tab == "结构与公式":
            pg.wait_for_function("() => document.body.innerText.includes('b3.0.conv3')")  # the layer table's rows
        pg.wait_for_timeout(500)
        left[tab] = english_on_screen(pg)
    assert "按 训练 开始。" in pg.locator("#train-status").inner_text()
    pg.get_by_text("导览").click()
    for step in range(1, 8):  # every scene of the tour, as it sets the page
        pg.get_by_role("button", name="下一步 ▶").click()
        pg.wait_for_function("t => document.body.innerText.includes(t)", arg=f"导览 {step}/7")
        pg.wait_for_timeout(300)
        left[f"导览 {step}/7"] = english_on_screen(pg)
    assert {tab: lines for tab, lines in left.items() if lines} == {}
    pg.context.close()


RECORD_TIMERS = """() => {
  window.timers = [];
  const record = () => document.querySelectorAll(".progress-text").forEach((e) => window.timers.push(e.innerText));
  new MutationObserver(record)
    .observe(document.documentElement, { childList: true, characterData: true, subtree: true });
}"""


@pytest.mark.parametrize(
    ("query", "shown", "never"), [("?language=zh", "处理中 |", "processing"), ("", "processing |", "处理中")]
)
def test_gradios_timers_follow_the_page_language(browser, page, query, shown, never):
    """Gradio's "processing | 0.4s" timer (English in every locale as Gradio writes it) on a Chinese page reads
    处理中 from its first paint: the timers' texts are recorded at every change of the page, after the page's own
    rewriting (an observer made later is called later) and before they are painted."""
    pg = open_page(browser, page, query + ("&" if query else "?") + "tab=residual&sample=digits:0")
    pg.wait_for_selector("#block-panel img")  # the link's view drawn
    pg.evaluate(RECORD_TIMERS)
    pg.locator("#gallery button.thumbnail-item").nth(6).click()  # a new input: its label and residual view
    pg.wait_for_function("t => window.timers.some((text) => text.startsWith(t))", arg=shown)
    seen = pg.evaluate("() => window.timers")
    assert not [t for t in seen if never in t], seen
    pg.context.close()


def hold_events(context) -> tuple[list, Callable[[], None]]:
    """Every event's request of the pages of ``context`` held back (the list) until the function is called."""
    held, released = [], []

    def hold(route) -> None:
        route.continue_() if released else held.append(route)

    def release() -> None:
        released.append(True)
        for route in held:
            route.continue_()

    context.route("**/queue/join*", hold)
    return held, release


def test_a_chinese_page_is_drawn_in_chinese(browser, page):
    """A Chinese browser's page, and a Chinese link's in an English browser, are Chinese as they are drawn, before
    any answer of the server (held back here: the page used to stay English until its first load's answers)."""
    for query, locale in (("?sample=digits:0", "zh-CN"), ("?language=zh&sample=digits:0", "en-US")):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale=locale)
        held, release = hold_events(context)
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        pg.goto(page.url.split("?")[0] + query)
        pg.wait_for_selector("#dataset input")
        pg.wait_for_function("() => document.querySelector('#intro')?.innerText.includes('看懂')", timeout=5000)
        pg.wait_for_timeout(300)
        left = english_on_screen(pg)
        assert held and left == {}  # labels, buttons, choices, notes, every tab's name: all in Chinese
        assert checked(pg, "dataset") == ["digits"] and "数字（MNIST）" in pg.locator("#dataset").inner_text()
        assert checked(pg, "language") == ["en"] and shown_chosen(pg, "language") == ["中文"]  # drawn as the page
        english_chart = pg.eval_on_selector("#lesion-chart img", "e => e.src")  # a picture in the page's config
        assert not pg.locator("#lesion-chart img").is_visible()  # not shown until the server's Chinese one comes
        if locale == "en-US":
            pg.screenshot(path=SHOTS / "13-chinese-link-as-drawn.png")
        release()
        wait_for_label(pg, "7")
        pg.wait_for_function("() => document.querySelector('#status')?.innerText.includes('数字模型')")
        assert checked(pg, "language") == ["zh"]  # the switch: set by the scene's answer
        pg.wait_for_function("src => document.querySelector('#lesion-chart img')?.src !== src", arg=english_chart)
        pg.wait_for_function(
            "() => getComputedStyle(document.querySelector('#lesion-chart img')).visibility === 'visible'"
        )
        assert english_on_screen(pg) == {}  # and still once the server's answers came
        context.close()


def shown_chosen(pg, elem_id: str) -> list[str]:
    """The choices of a radio that look chosen: drawn with the background of the model switch's chosen one."""
    return pg.evaluate(
        """id => {
          const chosen = getComputedStyle(document.querySelector('#dataset label.selected')).backgroundColor;
          return [...document.querySelectorAll(`#${id} label`)]
            .filter((l) => getComputedStyle(l).backgroundColor === chosen).map((l) => l.innerText.trim());
        }""",
        elem_id,
    )


def test_the_browser_language_on_first_load(browser, page):
    pg = open_page(browser, page, locale="zh-CN")
    pg.wait_for_function("() => document.querySelector('#language input[value=zh]')?.checked")
    pg.wait_for_function("() => document.body.innerText.includes('特征图') && document.body.innerText.includes('模型')")
    pg.locator("#dataset").get_by_text("衣物（Fashion-MNIST）").click()  # captions and the lesion chart in Chinese too
    pg.wait_for_function("() => document.querySelector('#gallery')?.innerText.includes('裤子')")
    pg.wait_for_timeout(500)
    pg.screenshot(path=SHOTS / "11-chinese-from-the-browser.png", full_page=True)
    assert "裤子" in pg.locator("#gallery").inner_text()  # the first load's language answer (digits) came before
    pg.get_by_text("English").click()  # the switch still works, on every text: none is left in Chinese
    pg.wait_for_function("() => document.body.innerText.includes('Feature maps')")
    assert shown_chosen(pg, "language") == ["English"]
    pg.wait_for_function("() => document.documentElement.lang === 'en'")  # the page's language, for screen readers
    for tab in TAB_NAMES:
        pg.locator("#view-tabs").get_by_role("tab", name=tab).click()
        pg.wait_for_timeout(300)
        assert chinese_on_screen(pg) == []
    pg.context.close()


def chinese_on_screen(pg) -> list[str]:
    """The page's lines with Chinese in them (bar the language switch's own name, "Language / 语言", and "中文"),
    once the page has had 5 s to settle."""
    script = "() => document.querySelector('.gradio-container').innerText.replaceAll('语言', '').replaceAll('中文', '')"
    with contextlib.suppress(Exception):
        pg.wait_for_function(f"() => !/[\\u3000-\\u9fff\\uff00-\\uffef]/.test(({script})())", timeout=5000)
    return [line for line in pg.evaluate(script).splitlines() if re.search("[\u3000-\u9fff\uff00-\uffef]", line)]


def test_a_drawing_travels_in_its_link(browser, page):
    """A student's drawing, copied as a link and opened in another browser: the same label to the percent, the same
    28x28 view, the same lesion, in the upload box; the note says what the link holds."""
    pg = open_page(browser, page, "?lesions=b4.1")
    pg.wait_for_selector("#sketch canvas")
    pg.get_by_role("button", name="Brush").first.click()
    draw(pg, [[(0.3, 0.3), (0.55, 0.15), (0.55, 0.85)]])  # a 1 with a flag; one stroke: one label, the last
    pg.wait_for_function("() => document.querySelector('#status')?.innerText.includes('without F(x) in b4.1')")
    pg.wait_for_function("() => document.querySelector('#label')?.innerText.includes('%')")
    drawn = label_text(pg)
    pg.locator("#copy-link").click()
    pg.wait_for_function("() => document.querySelector('#link textarea, #link input')?.value.includes('seen=')")
    made = pg.locator("#link textarea, #link input").first.input_value()
    assert "28×28" in pg.locator("#link-note").inner_text() and len(made) < 1200, made
    pg.screenshot(path=SHOTS / "15-drawing-copied-as-a-link.png")
    pg.context.close()

    opened = open_page(browser, page, made[made.index("?") :])
    opened.wait_for_function(
        "t => document.querySelector('#label')?.innerText === t && document.querySelector('#upload img')", arg=drawn
    )
    assert checked(opened, "lesions") == ["b4.1"]
    assert "without F(x) in b4.1" in opened.locator("#status").inner_text()
    opened.wait_for_timeout(500)
    opened.screenshot(path=SHOTS / "15b-drawing-from-its-link.png")
    opened.context.close()


def test_a_switch_of_domain_replaces_the_input(browser, page):
    pg = open_page(browser, page, "?model=clothing&sample=clothing:2")
    wait_for_label(pg, "Trouser")
    pg.locator("#dataset").get_by_text("Digits (MNIST)").click()
    wait_for_label(pg, "7")  # the trouser gave way to the first digit sample, a 7
    pg.context.close()


def test_a_language_switch_keeps_what_the_server_sent(browser, page):
    """Gradio's browser draws a text first drawn from an I18n key (the page's first paint) from that key again at every
    change of locale, over what the server sent since (``app.hold_across_locales``): the hint went back to the digits
    hint under the clothing model, the tour's text to its start."""
    from resnet.tour import TOUR

    pg = open_page(browser, page, "?model=clothing&sample=clothing:2")
    wait_for_label(pg, "Trouser")
    pg.locator("#tour").get_by_text("Guided tour").click()
    pg.locator("#tour-next").click()
    pg.wait_for_function("t => document.querySelector('#tour-text')?.innerText.includes(t)", arg=TOUR[0].title["en"])
    pg.locator("#dataset").get_by_text("Clothing (Fashion-MNIST)").click()  # the scene's digits model, then clothing
    pg.wait_for_function("() => document.querySelector('#hint')?.innerText.includes('piece of clothing')")
    for lang, code, footer, clothing in (
        ("中文", "zh", "使用 Gradio 构建", "画一件衣物"),
        ("English", "en", "Built with", "clothing"),
    ):
        pg.get_by_text(lang, exact=True).click()
        pg.wait_for_function("t => document.querySelector('footer')?.innerText.includes(t)", arg=footer)  # locale set
        pg.wait_for_timeout(1000)  # (the key came back ~0.4 s after the server's answers)
        assert clothing in pg.locator("#hint").inner_text()
        assert TOUR[0].title[code] in pg.locator("#tour-text").inner_text()
    pg.context.close()


def touch_stroke(pg, points: list[tuple[float, float]]) -> None:
    """One finger stroke over the canvas, through Chromium's touch events (canvas coordinates 0..1)."""
    box = pg.locator("#sketch canvas").first.bounding_box()
    side = min(box["width"], box["height"]) * 0.9
    x0, y0 = box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2
    cdp = pg.context.new_cdp_session(pg)
    path = []
    for (u0, v0), (u1, v1) in itertools.pairwise(points):
        path += [(u0 + (u1 - u0) * k / 12, v0 + (v1 - v0) * k / 12) for k in range(12)]
    path.append(points[-1])
    for n, (u, v) in enumerate(path):
        kind = "touchStart" if n == 0 else "touchMove"
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x0 + u * side, "y": y0 + v * side}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


def test_a_phone_draws_with_a_finger(browser, page):
    from playwright.sync_api import sync_playwright  # noqa: F401 (the page fixture skipped when it is missing)

    pg = open_page(browser, page, **PHONE)
    pg.locator("#sketch canvas").first.scroll_into_view_if_needed()
    touch_stroke(pg, [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)])
    wait_for_label(pg, "7")
    pg.wait_for_function("() => document.querySelector('#stage-grids img') && document.querySelector('#cams img')")
    assert pg.evaluate("() => document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    top = pg.evaluate("id => document.getElementById(id).getBoundingClientRect().top", "label")
    canvas_bottom = pg.evaluate("() => document.querySelector('#sketch').getBoundingClientRect().bottom")
    gallery_top = pg.evaluate("id => document.getElementById(id).getBoundingClientRect().top", "gallery")
    assert canvas_bottom <= top < gallery_top  # the label straight after the canvas, the samples below it
    assert pg.locator("#gallery .icon-button-wrapper button").count() == 0  # nothing over the samples' label
    assert sample_rows(pg)[:2] == [4, 4]  # every sample in view, four a row (two classes: 0 0 1 1)
    previews = pg.eval_on_selector_all(  # what the model sees beside its input, each label on one line over it
        "#previews > .block",
        "els => els.map((e) => { const r = e.getBoundingClientRect(), l = e.querySelector('[data-testid=block-label]');"
        " return [r.top, r.height, l.getBoundingClientRect().height]; })",
    )
    assert len(previews) == 2 and previews[0][0] == previews[1][0] and max(p[1] for p in previews) <= 220, previews
    assert max(p[2] for p in previews) <= 30, previews
    assert view_tabs_in_sight(pg) <= 390  # every view tab in sight and tappable, none behind Gradio's "•••" menu
    pg.locator("#cams").scroll_into_view_if_needed()  # the view's pictures load lazily, once near the screen
    pg.wait_for_function("() => document.querySelector('#cams img').complete")
    for montage in ("stage-grids", "cams"):  # five stages at a readable size, swiped sideways inside their box
        assert_swiped(pg, montage)
    pg.screenshot(path=SHOTS / "12-phone.png", full_page=True)
    pg.context.close()
    pg = open_page(browser, page, "?sample=digits:14&tab=residual", **PHONE)  # the residual view: drawn for the
    # phone's column (NARROW_JS), each whole in sight at its drawn size, not swiped: the block panel's four tiles a
    # block (at its desk width of 542 px, its texts beside the tiles, 1.7 of the four were) and the block statistics
    # (at 640 px, its two charts side by side, it was swiped)
    for picture, width in (("block-panel", 316), ("block-chart", 320)):
        pg.locator(f"#{picture}").scroll_into_view_if_needed()
        pg.wait_for_function("id => document.querySelector(`#${id} img`)?.complete", arg=picture)
        natural, shown, box, scrolled = pg.evaluate(
            "id => { const c = document.querySelector(`#${id} .image-container`), i = c.querySelector('img');"
            " return [i.naturalWidth, i.getBoundingClientRect().toJSON(), c.clientWidth, c.scrollWidth]; }",
            picture,
        )
        assert natural == width and shown["width"] == natural and scrolled <= box and shown["right"] <= 390, picture
    # the phone turned sideways (844 px: past the 700 px breakpoint) and back: the view drawn again for each width
    # (it kept the layout it was drawn for until the next view)
    drawn = "([id, w]) => document.querySelector(`#${id} img`)?.naturalWidth === w"
    pg.wait_for_function(drawn, arg=["lesion-chart", 297])  # the lesions' costs, drawn for the column too
    for size, widths in (((844, 390), (542, 640, 576)), ((390, 844), (316, 320, 297))):
        pg.set_viewport_size(dict(zip(("width", "height"), size, strict=True)))
        for picture, width in zip(("block-panel", "block-chart", "lesion-chart"), widths, strict=True):
            pg.wait_for_function(drawn, arg=[picture, width])
    pg.context.close()
    pg = open_page(browser, page, "?tab=plain", **PHONE)  # the charts: at their drawn size (576-900 px), swiped
    pg.wait_for_function(
        "t => document.querySelector('#view-tabs button[aria-selected=true]')?.innerText === t", arg="Plain vs residual"
    )
    assert view_tabs_in_sight(pg) <= 390  # the chosen tab in its place (it was drawn first, after Feature maps)
    # the lesions' costs drawn for the column (297 px, the bars lying down; at 576 px it was swiped, its title cut),
    # whole in sight at its drawn size
    pg.wait_for_function("() => document.querySelector('#lesion-chart img')?.naturalWidth === 297")
    lesions = pg.eval_on_selector(
        "#lesion-chart .matplotlib",
        "box => { const r = box.querySelector('img').getBoundingClientRect();"
        " return [r.width, r.right, box.clientWidth, box.scrollWidth]; }",
    )
    assert lesions[0] == 297 and lesions[1] <= 390 and lesions[3] <= lesions[2], lesions
    pg.locator("#why-row").scroll_into_view_if_needed()
    charts = "#depth-chart, #path-chart, #why-row"
    pg.wait_for_function(
        "s => [...document.querySelectorAll(s)].every((c) => c.querySelector('img')?.complete)", arg=charts
    )
    shown = pg.evaluate(
        "s => [...document.querySelectorAll(`:is(${s}) .matplotlib`)].map((box) => {"
        " const img = box.querySelector('img');"
        " return [img.getBoundingClientRect().width, img.naturalWidth, box.clientWidth, box.scrollWidth]; })",
        charts,
    )
    assert len(shown) == 4, shown  # the depth experiment, the paths, the responses, the gradients
    for width, natural, box, scrollable in shown:
        assert width == natural >= 576 and box <= 390 and scrollable >= natural, shown  # all of it in reach
    assert pg.evaluate("() => document.documentElement.scrollWidth") <= 390  # the page itself no wider
    pg.context.close()
    pg = open_page(browser, page, "?tab=train", **PHONE)  # the training tab's controls one a row, each whole
    pg.wait_for_selector("#train-network input")
    widths = pg.eval_on_selector_all(
        "#train-network, #train-shortcuts, #train-dataset, #train-images, #train-epochs",
        "els => els.map((e) => e.getBoundingClientRect().width)",
    )
    assert len(widths) == 5 and min(widths) >= 300, widths  # (two a row: ~163 px each)
    assert pg.eval_on_selector("#train-network input", "e => e.scrollWidth <= e.clientWidth")  # the name uncut
    pg.context.close()


def test_a_phone_shows_a_tour_scene_with_its_text(browser, page):
    """On a phone the views start thousands of pixels below the tour: a move keeps the tour's text at the top of the
    screen (at most 40% of it) and brings the scene's view in under it."""
    pg = open_page(browser, page, "?tour=1", **PHONE)
    tour_moves_with_its_view(pg, pg.locator("#tour-next").tap, 1, 844, 1000)
    assert pg.locator("#view-tabs").get_by_role("tab", selected=True).inner_text() == "Residual vs identity"
    pg.wait_for_function("() => document.querySelector('#block-panel img')?.naturalWidth === 316")  # a phone's
    panel = pg.locator("#block-panel img").bounding_box()  # the scene's "x, F(x), their sum": b2.0's numbers and its
    assert panel["x"] + panel["width"] <= 390 and panel["y"] + 22 + 133 <= 844  # four tiles all on the screen
    pg.screenshot(path=SHOTS / "14-phone-tour.png")
    pg.context.close()
    pg = open_page(browser, page, "?tour=5", **PHONE)  # "the 7 is still a 7 ... Now tick b4.0": both on the screen
    wait_for_label(pg, "7")
    scene_under_the_tour(pg, 5, 844, 1000)  # its label right under the tour
    ticked = pg.locator("#lesions label", has_text="b4.0").bounding_box()
    assert ticked["y"] + ticked["height"] <= 844  # (under what the model sees, the lesions began at ~810 px)
    pg.screenshot(path=SHOTS / "14b-phone-tour-lesions.png")
    pg.context.close()


TAB_NAMES = ["Feature maps", "Residual vs identity", "Plain vs residual", "Architecture & formulas"]
TAB_NAMES += ["Train it yourself"]  # the view tabs, in order


def view_tabs_in_sight(pg) -> float:
    """Where the rightmost view tab ends, after checking that every one is shown (none behind Gradio's "•••"), in
    their order as a person reads them, row by row (the chosen one moved to the first row on a phone)."""
    tabs = pg.eval_on_selector_all(
        "#view-tabs button[role=tab]",
        "els => els.filter(e => e.offsetWidth > 0 && e.innerText.trim()).map(e => [e.innerText.trim(),"
        " e.getBoundingClientRect().top, e.getBoundingClientRect().left, e.getBoundingClientRect().right])",
    )
    assert [name for name, *_ in sorted(tabs, key=lambda t: (round(t[1]), t[2]))] == TAB_NAMES
    return max(right for *_, right in tabs)


def sample_rows(pg) -> list[int]:
    """How many samples each row of the gallery holds, after checking that none lies out of its box sideways."""
    pg.wait_for_selector("#gallery .grid-wrap .thumbnail-item")  # (drawn after the radios: the CI run once came first)
    grid = "document.querySelector('#gallery .grid-wrap')"
    assert pg.evaluate(f"() => {grid}.scrollWidth <= {grid}.clientWidth")
    tops = pg.eval_on_selector_all("#gallery .thumbnail-item", "els => els.map(e => e.getBoundingClientRect().top)")
    return [len(list(row)) for _, row in itertools.groupby(round(top) for top in tops)]


@pytest.mark.parametrize("width", [768, 1024, 1400])
def test_the_samples_the_view_tabs_and_the_block_panel_fit(browser, page, width):
    """A tablet, a small laptop, a desktop: the samples five a row, none swiped sideways out of view (Gradio's 100 px
    columns showed three or four a row at 768 and 1024 px); every view tab in sight (two hid behind "•••" at 768);
    the block panel at its own size or at least 480 px wide (~270 at 768 px), in a box of its height (820 px)."""
    pg = open_page(browser, page, "?sample=digits:0&tab=residual", viewport={"width": width, "height": 900})
    assert sample_rows(pg) == [5, 5, 5, 5]
    assert view_tabs_in_sight(pg) <= width
    pg.locator("#block-panel").scroll_into_view_if_needed()  # its picture loads lazily, once near the screen
    pg.wait_for_function("() => document.querySelector('#block-panel img')?.complete")
    img, natural, box, buttons = pg.evaluate(
        "() => { const c = document.querySelector('#block-panel .image-container'), i = c.querySelector('img');"
        " return [i.getBoundingClientRect().toJSON(), i.naturalWidth, c.getBoundingClientRect().toJSON(),"
        " c.querySelector('.icon-button-wrapper').getBoundingClientRect().toJSON()]; }"
    )
    assert img["width"] >= min(natural, 480) - 1 and box["bottom"] - img["bottom"] <= 2
    assert box["height"] - img["height"] <= 40 and buttons["bottom"] <= img["top"]  # its label and buttons above it
    pg.context.close()


def assert_swiped(pg, elem_id: str, wide: int = 600) -> None:
    """A picture on a phone kept at a readable width (≥ ``wide`` px), swiped sideways inside a box no wider than
    390 px, its buttons above it, not over the titles drawn along its top edge."""
    width, box, scrollable, buttons_bottom, top = pg.evaluate(
        "id => { const c = document.querySelector('#' + id + ' .image-container');"
        " const img = c.querySelector('img').getBoundingClientRect();"
        " const buttons = c.querySelector('.icon-button-wrapper').getBoundingClientRect();"
        " return [img.width, c.clientWidth, c.scrollWidth, buttons.bottom, img.top]; }",
        elem_id,
    )
    assert width >= wide and box <= 390 < scrollable
    assert buttons_bottom <= top
