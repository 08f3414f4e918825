"""The README's screenshot of the inspector: a 2-layer LSTM character model (the library's
default fused layers), T=12, its grid zoomed to the first steps and one weight's strip cell
clicked, so the panel shows that weight's gradient and its per-step gradients W⁽ᵗ⁾.

    python -m benchmarks.inspector_shot examples/gallery/inspector_lstm.png

Needs chromium, chromedriver and Selenium (headless, the page opened from file://).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import tinygrad_rnn as tr
import viz
from benchmarks.inspector_pages import browser
from viz.zoo import TEXT

WEIGHT, STEP = "weight_hh_l1", 7  # the strip cell clicked


def lstm_char(T: int = 12):
    """Embedding -> 2-layer LSTM (fused, the default) -> Linear, cross-entropy at each step."""
    chars = sorted(set(TEXT))
    ids = np.array([chars.index(c) for c in TEXT[:T + 1]])
    emb = tr.nn.Embedding(len(chars), 8, rng=0)
    rnn = tr.nn.LSTM(8, 16, num_layers=2, rng=1)
    head = tr.nn.Linear(16, len(chars), rng=2)
    out, _ = rnn(emb(ids[:-1].reshape(T, 1)))
    loss = tr.F.cross_entropy(head(out).reshape(T, len(chars)), ids[1:])
    loss.backward(retain_grads=True)
    return loss


# zoom to the row headers and the first steps; return the strip cell of WEIGHT at STEP
CLICK = """var ins = document.querySelector('.tri-root').triInspector, pic = ins.pics()[0];
var id = arguments[0], t = arguments[1], z = pic.zoom, w = pic.box.clientWidth;
z.s = w / (0.62 * z.full.w); z.x = z.full.x; z.y = z.full.y + 0.30 * z.full.h; z.apply();
return Array.from(pic.svg.querySelectorAll('[data-copy][data-node-id="' + id + '"]'))
  .filter(function (e) {
    return ins.data.info[ins.data.graph.edges[+e.dataset.edge].dst].step === t;
  })[0];"""


def main(argv=None) -> int:
    out = Path((argv or sys.argv[1:] or ["inspector_lstm.png"])[0])
    ins = viz.inspect(lstm_char(), title="2-layer LSTM character model, T=12")
    wid = next(i for i, nd in enumerate(ins.data["graph"]["nodes"]) if nd["name"] == WEIGHT)
    with tempfile.TemporaryDirectory() as tmp:
        page = ins.save(Path(tmp) / "lstm.html")
        driver = browser(str(Path(tmp) / "profile"))
        try:
            driver.set_window_size(1600, 900)
            driver.get(page.as_uri())
            time.sleep(0.5)
            from selenium.webdriver.common.action_chains import ActionChains

            cell = driver.execute_script(CLICK, wid, STEP)
            ActionChains(driver).move_to_element(cell).click().perform()
            time.sleep(0.3)
            driver.save_screenshot(str(out))
        finally:
            driver.quit()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
