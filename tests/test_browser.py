"""A real browser: Playwright drives Debian's Chromium against the launched app, as a person would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import app

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
    draw(page, [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]])
    wait_for_label(page, "7")
    assert "%" in label_text(page)
    page.wait_for_function("() => document.querySelectorAll('#stage-grids img').length >= 5")  # views follow
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "1-drawn-seven.png", full_page=True)

    page.get_by_role("button", name="Clear canvas").first.click()
    page.wait_for_function("() => document.querySelector('#status').innerText.includes('canvas is empty')")
    assert "%" not in label_text(page)  # a prompt, never a prediction

    page.get_by_text("Clothing (Fashion-MNIST)").click()
    page.wait_for_function("() => document.querySelector('#gallery').innerText.includes('Trouser')")
    page.locator("#gallery button.thumbnail-item").nth(2).click()  # the first trouser (two per class)
    wait_for_label(page, "Trouser")
    page.screenshot(path=SHOTS / "2-clothing-sample.png", full_page=True)

    page.locator("#lesions").get_by_label("b4.0").check()
    page.wait_for_function("() => document.querySelector('#status').innerText.includes('1 block(s) lesioned')")
    page.get_by_role("tab", name="Residual vs identity").click()
    page.wait_for_selector("#block-panel img")
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "3-lesion-residual-view.png", full_page=True)
    assert "lesioned" in page.locator("#status").inner_text()


def test_language_and_architecture(page):
    page.get_by_text("中文").click()
    page.wait_for_function("() => document.body.innerText.includes('看懂 ResNet-18')")
    page.get_by_role("tab", name="Architecture & formulas").click()
    page.wait_for_function("() => document.body.innerText.includes('conv 7×7, 64 ch, stride 2')")
    page.screenshot(path=SHOTS / "4-architecture-zh.png", full_page=True)
    page.get_by_text("English").click()
    page.wait_for_function("() => document.body.innerText.includes('seen from inside')")


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
    page.wait_for_function("() => document.querySelector('#status').innerText.includes('plain twin')")
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
        "() => document.querySelector('#train-status').innerText.includes('Finished after 2 epochs')", timeout=120_000
    )
    page.wait_for_selector("#explore-model", state="visible", timeout=60_000)
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "5-trained-in-the-browser.png", full_page=True)

    with page.expect_download() as info:
        page.locator("#download-model").click()
    saved = Path(info.value.path())
    assert saved.stat().st_size > 40_000_000  # float32 weights of 11.2M parameters
    assert info.value.suggested_filename.startswith("digits-")

    page.locator("#explore-model").click()
    page.wait_for_function("() => document.querySelector('#dataset input:checked')?.value.startsWith('digits:')")
    page.wait_for_function("() => document.querySelector('#gallery').innerText.includes('7')")
    page.locator("#gallery button.thumbnail-item").nth(14).click()  # the first 7 (two samples per class)
    page.wait_for_function("() => document.querySelector('#status').innerText.includes('trained here, 2 epochs')")
    page.get_by_role("tab", name="Feature maps").click()
    page.wait_for_function("() => document.querySelectorAll('#stage-grids img').length >= 5")
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "6-your-model-in-the-views.png", full_page=True)
