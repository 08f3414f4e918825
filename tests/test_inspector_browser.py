"""The inspector page in a real browser: headless Chromium driven by Selenium, pages opened from
file:// as a user would. Skipped where no browser, driver or Selenium is installed.

One browser for the module (starting Chromium costs seconds); each test loads its page afresh.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile

import numpy as np
import pytest
from pngread import read_png

import tinygrad_rnn as tr
import viz

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.actions.wheel_input import ScrollOrigin  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or DRIVER is None or not viz.find_renderers(),
                                reason="needs chromium, chromedriver and a Graphviz renderer")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,900")


@pytest.fixture(scope="module")
def driver():
    opts = webdriver.ChromeOptions()
    for flag in FLAGS:
        opts.add_argument(flag)
    profile = tempfile.TemporaryDirectory()
    opts.add_argument(f"--user-data-dir={profile.name}")
    opts.binary_location = CHROMIUM
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    d = webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=opts)
    yield d
    d.quit()
    profile.cleanup()


@pytest.fixture(scope="module")
def model():
    """A 2-layer LSTM (composite cells) over 6 steps: the grid of 12 cells."""
    rng = np.random.default_rng(0)
    lstm, head = tr.nn.LSTM(3, 4, num_layers=2, fused=False, rng=0), tr.nn.Linear(4, 5, rng=1)
    out, _ = lstm(rng.standard_normal((6, 1, 3)))
    loss = tr.F.cross_entropy(head(out[:, 0, :]), rng.integers(0, 5, 6))
    loss.backward(retain_grads=True)
    return loss, lstm


@pytest.fixture(scope="module")
def pages(model, tmp_path_factory):
    loss = model[0]
    out = tmp_path_factory.mktemp("inspector")
    default = viz.inspect(loss, title="2-layer LSTM")
    gates = viz.inspect(loss, views=["unrolled"], expand="all")  # every op, as in viz.draw
    two = out / "two.html"
    two.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                   f"{default._repr_html_()}{gates._repr_html_()}</body></html>", encoding="utf-8")
    return {"default": default.save(out / "lstm.html"), "two": two, "data": default.data}


def load(d, path):
    d.get(path.as_uri())
    WebDriverWait(d, 10).until(lambda d: d.execute_script(
        "return Array.from(document.querySelectorAll('.tri-root')).every(r => r.triInspector)"))


def js(d, script, *args):
    return d.execute_script("var ins = document.querySelector('.tri-root').triInspector;"
                            + script, *args)


def view_box(d):
    return [float(x) for x in js(d, "return ins.pics()[0].svg.getAttribute('viewBox')").split()]


def reveal_and_click(d, css):
    """Bring an element into view the way a user would zoom to it, then click it for real."""
    el = d.find_element(By.CSS_SELECTOR, css)
    js(d, "var p = ins.pics(); (arguments[0].closest('.tri-cellview') ? p[p.length - 1] : p[0])"
          ".zoom.reveal(arguments[0])", el)
    ActionChains(d).move_to_element(el).click().perform()
    return el


def test_opens_offline_without_errors_or_requests(driver, pages):
    driver.get_log("browser"), driver.get_log("performance")  # drop older entries
    load(driver, pages["default"])
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert not errors, errors
    urls = [json.loads(e["message"])["message"]["params"].get("request", {}).get("url", "")
            for e in driver.get_log("performance")
            if "Network.requestWillBeSent" in e["message"]]
    assert urls and all(u.startswith(("file:", "data:", "blob:")) for u in urls), urls
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_clicking_a_weight_shows_its_gradient_norm(driver, pages, model):
    _, lstm = model
    W = dict(lstm.named_parameters())["weight_hh_l0"]
    load(driver, pages["default"])
    wid = next(i for i, nd in enumerate(pages["data"]["graph"]["nodes"])
               if nd["name"] == "weight_hh_l0")
    reveal_and_click(driver, f'.tri-view:not([hidden]) [data-node-id="{wid}"]:not([data-copy])')
    panel = driver.find_element(By.ID, "inspector-panel")
    assert panel.text.startswith("weight_hh_l0")
    norm = panel.find_element(By.CSS_SELECTOR, "[data-grad-norm]")
    want = float(np.linalg.norm(W.grad))
    assert float(norm.get_attribute("data-grad-norm")) == pytest.approx(want, rel=1e-12)
    assert float(norm.text) == pytest.approx(want, rel=1e-3)  # 4 significant digits shown
    bars = panel.find_elements(By.CSS_SELECTOR, ".tri-chart .tri-bar")
    assert len(bars) == 6 and "✓" in panel.text  # one bar per step; they add up to .grad
    # the weight's strip in its row header: the cell of step 3 is that step's use W^(3)
    edges, info = pages["data"]["graph"]["edges"], pages["data"]["info"]
    use = next(k for k, e in enumerate(edges) if e["src"] == wid and info[e["dst"]]["step"] == 3)
    reveal_and_click(driver, f'.tri-view:not([hidden]) [data-copy][data-edge="{use}"]')
    panel = driver.find_element(By.ID, "inspector-panel")
    assert panel.text.startswith("weight_hh_l0")
    on = panel.find_elements(By.CSS_SELECTOR, ".tri-chart .tri-bar.on")
    assert [int(b.get_attribute("data-use")) for b in on] == [use]


def test_wheel_zooms_and_drag_pans(driver, pages):
    load(driver, pages["default"])
    stage = driver.find_element(By.CSS_SELECTOR, ".tri-view:not([hidden])")
    before = view_box(driver)
    ActionChains(driver).scroll_from_origin(ScrollOrigin.from_element(stage), 0, -400).perform()
    zoomed = view_box(driver)
    assert zoomed[2] < 0.7 * before[2] and zoomed[3] < 0.7 * before[3]
    hint = driver.find_element(By.ID, "inspector-panel").text
    ActionChains(driver).click_and_hold(stage).move_by_offset(120, 60).release().perform()
    panned = view_box(driver)
    assert panned[0] < zoomed[0] and panned[1] < zoomed[1] and panned[2] == zoomed[2]
    assert driver.find_element(By.ID, "inspector-panel").text == hint  # a drag is no click
    driver.find_element(By.CSS_SELECTOR, '[data-act="fit"]').click()
    assert view_box(driver)[2] > zoomed[2]


def test_a_click_opens_a_cell_and_its_gates_are_clickable(driver, pages):
    load(driver, pages["default"])
    boxes = pages["data"]["boxes"]
    key = next(k for k, b in boxes.items() if b["title"].startswith("lstm.l1.h[t=2]"))
    reveal_and_click(driver, f'.tri-view:not([hidden]) [data-box="{key}"]')
    cell = driver.find_element(By.CSS_SELECTOR, ".tri-cell")
    assert cell.is_displayed()
    assert driver.find_element(By.CSS_SELECTOR, ".tri-celltitle").text == boxes[key]["title"]
    inside = js(driver, "return Array.from(document.querySelectorAll('.tri-cellview "
                        "[data-node-id]:not([data-copy])'), e => +e.dataset.nodeId)")
    assert set(boxes[key]["members"]) <= set(inside)  # the cell's ops, one by one
    gate = js(driver, "return Array.from(document.querySelectorAll('.tri-cellview "
                      "[data-node-id]')).map(e => +e.dataset.nodeId).find(i => "
                      "ins.data.graph.nodes[i].op === 'sigmoid')")
    assert gate is not None
    reveal_and_click(driver, f'.tri-cellview [data-node-id="{gate}"]')
    label = js(driver, "return ins.data.info[arguments[0]].label", gate)
    assert "_gate" in label
    assert driver.find_element(By.ID, "inspector-panel").text.startswith(label)


def test_arrow_keys_step_through_backward(driver, pages):
    load(driver, pages["default"])
    frames = pages["data"]["replay"]["frames"]
    body = driver.find_element(By.TAG_NAME, "body")
    for _ in range(3):
        body.send_keys(Keys.ARROW_RIGHT)
    pos = driver.find_element(By.CSS_SELECTOR, ".tri-rpos").text
    assert pos.startswith(f"Backward step 3 / {len(frames)}")
    current = driver.find_element(By.CSS_SELECTOR, ".tri-view:not([hidden]) .rp-current")
    assert int(current.get_attribute("data-node-id")) == frames[2]["node"]
    assert driver.find_element(By.CSS_SELECTOR, ".tri-rcap").text.startswith("Step 3 of")
    body.send_keys(Keys.ARROW_LEFT)
    assert driver.find_element(By.CSS_SELECTOR, ".tri-rpos").text.startswith("Backward step 2")
    body.send_keys(Keys.ESCAPE)
    assert not driver.find_elements(By.CSS_SELECTOR, ".rp-current")


def test_tabs_switch_views_and_keep_the_selection(driver, pages):
    load(driver, pages["default"])
    box = driver.find_element(By.CSS_SELECTOR, ".tri-search")
    box.send_keys("weight_ih_l1", Keys.ENTER)
    wid = js(driver, "return ins.selected.node")
    assert pages["data"]["graph"]["nodes"][wid]["name"] == "weight_ih_l1"
    for name in ("folded", "backward", "unrolled"):
        driver.find_element(By.CSS_SELECTOR, f'.tri-tab[data-view="{name}"]').click()
        view = driver.find_element(By.CSS_SELECTOR, f'.tri-view[data-view="{name}"]')
        assert view.is_displayed()
        marked = view.find_elements(By.CSS_SELECTOR, ".tri-sel")
        assert marked and all(int(m.get_attribute("data-node-id")) == wid for m in marked)
        assert driver.find_element(By.ID, "inspector-panel").text.startswith("weight_ih_l1")


def test_search_and_step_slider_highlight(driver, pages):
    load(driver, pages["default"])
    info = pages["data"]["info"]
    driver.find_element(By.CSS_SELECTOR, ".tri-search").send_keys("f_gate")
    want = sum("f_gate" in x["label"].lower() for x in info)
    assert driver.find_element(By.CSS_SELECTOR, ".tri-hits").text == f"{want} found"
    slider = driver.find_element(By.CSS_SELECTOR, ".tri-step")
    slider.send_keys(Keys.ARROW_RIGHT)  # from "all" to the first step
    assert driver.find_element(By.CSS_SELECTOR, ".tri-stepval").text == "t = 0"
    marked = driver.find_elements(By.CSS_SELECTOR, ".tri-view:not([hidden]) g.node.tri-step")
    assert marked
    for m in marked:
        i = int(m.get_attribute("data-node-id"))
        assert info[i].get("step") == 0 or m.get_attribute("data-box")
    cells = [int(m.get_attribute("data-node-id")) for m in marked if m.get_attribute("data-box")
             and pages["data"]["graph"]["nodes"][int(m.get_attribute("data-node-id"))]
             ["meta"].get("role") == "h"]
    assert sorted(info[i]["label"] for i in cells) == ["lstm.l0.h[t=0]", "lstm.l1.h[t=0]"]
    strips = driver.find_elements(By.CSS_SELECTOR, ".tri-view:not([hidden]) g.tri-step[data-copy]")
    edges = pages["data"]["graph"]["edges"]
    assert len(strips) == 8  # each weight's strip cell of step 0, in both rows
    assert all(info[edges[int(s.get_attribute("data-edge"))]["dst"]]["step"] == 0 for s in strips)


def test_export_and_screenshot(driver, pages, tmp_path):
    load(driver, pages["default"])
    driver.find_element(By.CSS_SELECTOR, '[data-act="export-svg"]').click()
    driver.find_element(By.CSS_SELECTOR, '[data-act="export-json"]').click()
    assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    svg = js(driver, "return ins.exportSvg()")
    assert svg.startswith("<?xml") and "<svg" in svg and "data-node-id" in svg
    assert not re.search(r'class="[^"]*\btri-', svg)
    graph = json.loads(js(driver, "return ins.exportJson()"))
    assert tr.Graph.from_dict(graph).nodes[0].id == 0
    driver.find_element(By.CSS_SELECTOR, ".tri-search").send_keys("weight_hh_l1", Keys.ENTER)
    driver.save_screenshot(str(tmp_path / "page.png"))  # zoomed to the weight, panel filled
    png = read_png(str(tmp_path / "page.png"))
    rgb = png[..., :3].reshape(-1, 3)
    assert (rgb.min(axis=1) < 160).mean() > 0.02  # ink on more than 2% of the page
    assert len(np.unique(rgb, axis=0)) > 20


def test_two_inspectors_on_one_page_do_not_clash(driver, pages):
    load(driver, pages["two"])
    ids = driver.execute_script("return Array.from(document.querySelectorAll('[id]'), e => e.id)")
    assert len(ids) == len(set(ids)) and len(ids) >= 4
    roots = driver.find_elements(By.CSS_SELECTOR, ".tri-root")
    panels = driver.find_elements(By.CSS_SELECTOR, ".inspector-panel")
    assert len(roots) == 2 and len(panels) == 2
    hint = panels[0].text
    node = roots[1].find_element(By.CSS_SELECTOR, ".tri-view:not([hidden]) [data-node-id]")
    driver.execute_script("arguments[0].closest('.tri-root').triInspector.pics()[0].zoom"
                          ".reveal(arguments[0])", node)
    ActionChains(driver).move_to_element(node).click().perform()
    assert panels[0].text == hint and panels[1].text != hint
    driver.execute_script("window.leaked = 0; document.addEventListener('keydown', "
                          "function () { window.leaked += 1; })")
    ActionChains(driver).send_keys(Keys.ARROW_RIGHT).perform()  # focus is in the 2nd one
    assert roots[1].find_element(By.CSS_SELECTOR, ".tri-rpos").text.startswith("Backward step 1")
    assert driver.execute_script("return window.leaked") == 0  # a notebook would not see it
    assert not roots[0].find_element(By.CSS_SELECTOR, ".tri-rpos").text.startswith("Backward step")
