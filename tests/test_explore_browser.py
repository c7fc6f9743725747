"""The explorer page in a real browser: headless Chromium (the Debian package) driven by Playwright.

It loads from ``file://`` with no console error and no request beyond the file itself; moving
a control changes what is drawn (read back from the page's state and its SVG, and checked
against NumPy quantiles of the Dataset); a screenshot has the expected structure (the plot
area is not blank, the band and median colours are where the plot is).  A missing browser
fails these tests: install it with ``apt-get install -y chromium`` (``.ci/run`` does).
"""

from __future__ import annotations

import io
import os
import shutil

import numpy as np
import pytest

import optsim
import optsim.plotting
from optsim import _explore_data as xd

import explore_cases

INSTALL = ("the explorer's browser test needs headless Chromium: install it with `apt-get install -y chromium` "
           "(Debian/Ubuntu; `.ci/run` does this), or point OPTSIM_CHROMIUM at a Chromium binary")


def _chromium():
    for candidate in (os.environ.get("OPTSIM_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"),
                      "/usr/bin/chromium"):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(f"no Chromium found: {INSTALL}")


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        pytest.fail("the explorer's browser test needs Playwright for Python: pip install playwright "
                    "(it is in the test extra: pip install -e '.[test]'); " + INSTALL)
    exe = _chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def valley():
    return explore_cases.valley()


@pytest.fixture(scope="module")
def url(valley, tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "valley.html"
    optsim.explore(valley, path, max_steps=120)
    return path.as_uri()


@pytest.fixture()
def page(browser, url):
    pg = browser.new_page(viewport={"width": 1400, "height": 800})
    log = {"console": [], "errors": [], "failed": [], "requests": []}
    pg.on("console", lambda m: log["console"].append((m.type, m.text)))
    pg.on("pageerror", lambda e: log["errors"].append(str(e)))
    pg.on("requestfailed", lambda r: log["failed"].append(r.url))
    pg.on("request", lambda r: log["requests"].append(r.url))
    pg.goto(url)
    pg.wait_for_function("window.optsimExplorer && window.optsimExplorer.renders >= 1")
    pg.log = log
    yield pg
    pg.close()


def _current(pg):
    return pg.evaluate("window.optsimExplorer.current")


def _median_oracle(valley, optimizer, lr_index, steps):
    sub = valley["loss"].sel(optimizer=optimizer).isel(lr=lr_index).sel(step=steps)
    with np.errstate(invalid="ignore"):
        return np.quantile(sub.transpose("replicate", "step").values, 0.5, axis=0)


def test_page_loads_offline_without_errors(page, url):
    log = page.log
    assert log["errors"] == [] and log["failed"] == []
    assert [m for m in log["console"] if m[0] in ("error", "warning")] == []
    assert all(u == url or u.startswith("data:") for u in log["requests"]), log["requests"]
    assert page.locator("#curves path.median").count() == 2  # sgd and adam overlaid
    assert page.locator("#curves path.band").count() == 2
    assert page.locator("#paths-fig").is_visible()
    assert page.locator("#paths path.trajectory").count() == 2 * 3
    assert page.locator("#paths .contours path").count() > 10 and page.locator("#paths polygon.optimum").count() == 1
    assert page.locator("#ctl-lr").get_attribute("type") == "range"
    assert page.locator("#ctl-optimizer").is_disabled()  # overlaid


def test_moving_a_control_changes_the_plotted_data(page, valley):
    before = _current(page)
    d_before = page.locator("#curves path.median").first.get_attribute("d")
    lr0 = before["idx"]["lr"]
    page.focus("#ctl-lr")
    page.keyboard.press("ArrowLeft" if lr0 == len(explore_cases.LRS) - 1 else "ArrowRight")
    after = _current(page)
    lr1 = after["idx"]["lr"]
    assert lr1 != lr0
    assert page.locator("#curves path.median").first.get_attribute("d") != d_before
    steps = np.array(page.evaluate("window.optsimExplorer.data.x.values")).astype(int)
    blob = [v for v in page.evaluate("window.optsimExplorer.data.variables") if v["name"] == "loss"][0]["bands"]
    rel, _ = xd.error_bound(blob)
    for k, name in enumerate(explore_cases.OPTIMIZERS):  # what the page draws is NumPy's median of the Dataset
        assert after["series"][k]["label"] == name
        got = np.array([np.inf if v is None else v for v in after["series"][k]["mid"]], dtype=float)
        want = _median_oracle(valley, name, lr1, steps)
        fin = np.isfinite(want)
        assert np.all(np.abs(got[fin] / want[fin] - 1) <= rel)
        assert not np.allclose(got, np.array(before["series"][k]["mid"], dtype=float))

    page.select_option("#ctl-compare", "")  # one series: the optimizer menu comes back
    assert page.locator("#curves path.median").count() == 1 and not page.locator("#ctl-optimizer").is_disabled()
    page.select_option("#ctl-optimizer", "1")
    assert _current(page)["series"][0]["color"] == optsim.plotting.optimizer_color("adam")
    page.fill("#ctl-reps", "3")
    assert page.locator("#curves path.replicate").count() == 3
    ticks = page.locator("#curves .axis text").all_inner_texts()
    page.click("#ctl-logy")
    assert page.locator("#curves .axis text").all_inner_texts() != ticks
    page.select_option("#ctl-var", "grad_norm")
    assert _current(page)["var"] == "grad_norm"
    assert "gradient" in page.locator("#curves").inner_html() or "grad norm" in page.locator("#curves").inner_html()


def test_step_slider_and_play_animate_the_trajectories(page):
    d_end = page.locator("#paths path.trajectory").last.get_attribute("d")
    page.focus("#ctl-step")
    for _ in range(10):
        page.keyboard.press("ArrowLeft")
    state = _current(page)
    assert state["step"] == len(page.evaluate("window.optsimExplorer.data.x.values")) - 11
    d_mid = page.locator("#paths path.trajectory").last.get_attribute("d")
    assert d_mid.count("L") < d_end.count("L")
    page.keyboard.press("Home")  # from the first step, the animation runs for seconds
    assert _current(page)["step"] == 0
    assert page.locator("#paths path.trajectory").last.get_attribute("d").count("L") == 0
    page.click("#ctl-play")
    page.wait_for_function("window.optsimExplorer.state.step > 3")
    assert page.inner_text("#ctl-play") == "pause"
    page.click("#ctl-play")
    stopped = page.evaluate("window.optsimExplorer.state.step")
    page.wait_for_timeout(300)
    assert page.evaluate("window.optsimExplorer.state.step") == stopped and page.inner_text("#ctl-play") == "play"


def _rgb(hex_colour):
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def _near(img, rgb, tol):
    return np.all(np.abs(img[..., :3].astype(float) - rgb) <= tol, axis=-1)


def test_screenshot_has_the_expected_structure(page):
    from PIL import Image

    page.fill("#ctl-reps", "0")
    img = np.asarray(Image.open(io.BytesIO(page.locator("#curves").screenshot())).convert("RGB"))
    h, w, _ = img.shape
    clip = page.locator("#clip-curves rect")
    l, t = float(clip.get_attribute("x")), float(clip.get_attribute("y"))
    r, b = l + float(clip.get_attribute("width")), t + float(clip.get_attribute("height"))
    scale = w / float(page.locator("#curves").get_attribute("width"))
    inside = np.zeros((h, w), bool)
    inside[int(t * scale) + 1:int(b * scale) - 1, int(l * scale) + 1:int(r * scale) - 1] = True
    blank = _near(img, np.array([255.0, 255, 255]), 3)
    assert (~blank & inside).mean() / inside.mean() > 0.05  # the plot area is not blank
    series = _current(page)["series"]
    for s in series:
        line = _near(img, _rgb(s["color"]), 40 if s["color"] == "#000000" else 30)
        assert (line & inside).sum() > 150, s["label"]  # the median, in its colour, inside the axes
        assert (line & ~inside).sum() < 0.05 * (line & inside).sum() + 60  # (the legend lies outside this SVG)
        band = 255 - 0.18 * (255 - _rgb(s["color"]))  # fill-opacity 0.18 over white
        assert (_near(img, band, 6) & inside).sum() > 300, s["label"]
    paths = np.asarray(Image.open(io.BytesIO(page.locator("#paths").screenshot())).convert("RGB"))
    assert _near(paths, np.array([255.0, 215, 0]), 25).sum() > 20  # the gold star at the minimum
    bluish = (paths[..., 2].astype(int) - paths[..., 0].astype(int)) > 15
    assert bluish.mean() > 0.25  # the shaded loss surface


def test_a_missing_browser_fails_with_how_to_install_it(monkeypatch):
    monkeypatch.setenv("OPTSIM_CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os.path, "isfile", lambda path: False)
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        _chromium()
