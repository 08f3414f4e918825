"""``Inspector._repr_html_`` in a real Jupyter kernel (nbclient + ipykernel): the page comes back
inline as text/html, and two inspectors in one notebook get their own ids. Skipped where nbclient,
nbformat or ipykernel is not installed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import viz

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytestmark = pytest.mark.skipif(not viz.find_renderers(), reason="no Graphviz renderer")

ROOT = Path(__file__).resolve().parents[1]
MODEL = """import sys
sys.path.insert(0, {root!r})  # this checkout, not an installed copy
import numpy as np
import tinygrad_rnn as tr
import viz
W = tr.Tensor(np.eye(2) * 0.5, requires_grad=True, name="W")
h = tr.Tensor(np.ones(2), name="h0")
for t in range(3):
    with tr.scope("rnn", step=t):
        h = (W @ h).tanh()
loss = h.sum()
loss.backward(retain_grads=True)
viz.inspect(loss)"""


def test_repr_html_is_the_page_inline_in_a_kernel():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(MODEL.format(root=str(ROOT))),
                nbformat.v4.new_code_cell("viz.inspect(loss, view='folded')")]
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    pages = [c.outputs[0]["data"]["text/html"] for c in nb.cells]
    roots = [re.findall(r'<div class="tri-root" id="(tri-[^"]+)"', p) for p in pages]
    assert [len(r) for r in roots] == [1, 1] and roots[0] != roots[1]
    for page, first in zip(pages, ("unrolled", "folded")):
        assert "window.TinygradInspector.mount(" in page and "<style>" in page
        assert 'class="tri-panel inspector-panel"' in page
        block = re.search(r'class="tri-data">(.*?)</script>', page, re.S).group(1)
        data = json.loads(block)
        assert data["views"][0]["name"] == first
        assert next(nd for nd in data["graph"]["nodes"] if nd["name"] == "W")["grad"]["norm"] > 0
    ids = re.findall(r'\sid="([^"]+)"', pages[0] + pages[1])
    assert len(ids) == len(set(ids))
