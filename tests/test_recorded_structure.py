"""Structure the core records when it happens, and the pictures look up: initial states
(``tr.initial_state``, the layers' h0/c0), seq2seq's context C and attention memory, the cells of
a step; graphs saved before these records keep loading and drawing."""

import json

import numpy as np
import pytest

import tinygrad_rnn as tr
import viz
import viz.zoo


def lstm_with_states(bidirectional=False, fused=None):
    rng = np.random.default_rng(0)
    kw = {} if fused is None else {"fused": fused}
    m = tr.nn.LSTM(3, 4, num_layers=2, bidirectional=bidirectional, dtype=np.float64, **kw)
    D = 2 if bidirectional else 1
    h0 = tr.Tensor(rng.standard_normal((2 * D, 1, 4)), requires_grad=True, name="h0")
    c0 = tr.Tensor(rng.standard_normal((2 * D, 1, 4)), requires_grad=True, name="c0")
    out, _ = m(tr.Tensor(rng.standard_normal((5, 1, 3))), (h0, c0))
    loss = (out * out).sum()
    loss.backward(retain_grads=True)
    return tr.trace(loss), h0, c0


# -- tr.initial_state ---------------------------------------------------------------------------

def test_initial_state_is_recorded_as_a_state_leaf_with_its_role():
    W = tr.Tensor(np.eye(2) * 0.5, requires_grad=True, name="W")
    h = h0 = tr.initial_state(tr.Tensor(np.ones(2), requires_grad=True, name="h0"))
    x = tr.initial_state(tr.Tensor(np.ones(2), name="s"), role="s0")  # no gradient: an input
    for t in range(3):
        with tr.scope("rnn", step=t):
            h = (W @ h + x).tanh()
    h.sum().backward()
    g = tr.trace(h.sum())
    by_name = {n.name: n for n in g.nodes if n.kind != "op"}
    assert (by_name["h0"].kind, by_name["h0"].meta) == ("state", {"role": "h0"})
    assert (by_name["s"].kind, by_name["s"].meta) == ("input", {"role": "s0"})
    assert by_name["W"].kind == "param" and h0.grad is not None
    assert tr.Graph.from_json(g.to_json()).nodes[by_name["h0"].id].kind == "state"


@pytest.mark.parametrize("args, err, words", [
    ((np.zeros(2),), tr.DTypeError, "must be a Tensor; got ndarray"),
    ((tr.Tensor(np.ones(2), requires_grad=True).tanh(),), tr.ArgumentError, "op 'tanh'"),
    ((tr.Tensor(np.ones(2)), ""), tr.ArgumentError, "'role' must be a non-empty str"),
])
def test_initial_state_errors_name_the_argument(args, err, words):
    with pytest.raises(err, match="initial_state") as info:
        tr.initial_state(*args)
    assert words in str(info.value)


# -- the layers' initial states ------------------------------------------------------------------

@pytest.mark.parametrize("fused", [True, False])
def test_given_h0_c0_are_states_and_each_layer_records_its_slice(fused):
    g, h0, c0 = lstm_with_states(bidirectional=True, fused=fused)
    leaves = {n.name: n for n in g.nodes if n.kind != "op"}
    assert leaves["h0"].kind == leaves["c0"].kind == "state"
    slices = [n for n in g.nodes if n.kind == "op" and n.meta.get("role") in ("h0", "c0")]
    got = sorted((n.meta["role"], n.meta["layer"], n.meta["direction"]) for n in slices)
    assert got == sorted((r, k, d) for r in ("h0", "c0") for k in (0, 1)
                         for d in ("forward", "reverse"))
    assert all("step" not in n.meta for n in slices)


def test_grid_draws_each_rows_initial_state_in_the_row():
    g, h0, c0 = lstm_with_states(bidirectional=True)
    src = viz.draw(g).source
    rows = src.split("subgraph row")[1:]
    assert len(rows) == 4
    for k, row in enumerate(rows):
        block = row.split("}")[0]
        assert f"init{k} [" in block, f"row {k} has no initial-state box"
        assert "h0, c0" in block and "‖∂L/∂h0‖" in block and "‖∂L/∂c0‖" in block
    # the stacked leaves stay inputs (no parameter boxes, no per-step copies)
    for name in ("h0", "c0"):
        leaf = next(n for n in g.nodes if n.name == name and n.kind == "state")
        line = next(ln for ln in src.splitlines() if ln.strip().startswith(f"n{leaf.id} ["))
        assert "#dbe9f6" not in line  # not the parameter fill
    # reverse rows: the state enters at the last step, so its box comes after the cells
    rev = rows[1].split("}")[0]
    assert rev.index("init1 [") > rev.index("label=")


def test_default_zero_states_give_every_row_its_own_box():
    m = tr.nn.GRU(3, 4, num_layers=2, dtype=np.float64)
    out, _ = m(tr.Tensor(np.random.default_rng(1).standard_normal((4, 1, 3))))
    loss = out.sum()
    loss.backward(retain_grads=True)
    g = tr.trace(loss)
    zeros = [n for n in g.nodes if n.kind == "input" and n.meta.get("role") == "h0"]
    assert len(zeros) == 2
    src = viz.draw(g).source
    assert "init0 [" in src and "init1 [" in src


# -- seq2seq: C, memory and the decoder's s^(0) --------------------------------------------------

def test_seq2seq_records_context_memory_and_the_decoders_initial_state():
    g = viz.zoo.build("seq2seq_attention")
    roles = {}
    for n in g.nodes:
        roles.setdefault(n.meta.get("role"), []).append(n)
    assert roles["context"] and roles["memory"]
    assert {n.op for n in roles["h0"] if n.kind == "op"} >= {"linear", "tanh"}
    src = viz.draw(g).source
    assert "memory (attended)" in src
    assert any(ln.strip().startswith("init") and "h0" in ln for ln in src.splitlines())
    c = next(ln for ln in src.splitlines() if "‖∂L/∂C‖" in ln)
    assert "label=" in c


# -- graphs saved before the records -------------------------------------------------------------

def test_graphs_saved_before_the_records_still_load_and_draw():
    g, _, _ = lstm_with_states()
    d = json.loads(g.to_json())
    for n in d["nodes"]:  # what a graph saved before looked like
        if n["kind"] == "state":
            n["kind"] = "param"
        if n["meta"].get("role") in ("h0", "c0"):
            del n["meta"]["role"]
    old = tr.Graph.from_dict(d)
    for view in ("unrolled", "folded", "backward"):
        assert viz.draw(old, view=view).source
    assert viz.draw(old).source.count("subgraph row") == 2


# -- cells ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", [tr.nn.RNN, tr.nn.LSTM, tr.nn.GRU])
def test_cells_are_recorded_and_agree_with_what_the_graph_implies(layer):
    from viz.graph_index import GraphIndex
    from viz.views._cells import build_grid

    m = layer(3, 4, num_layers=2, bidirectional=True, dtype=np.float64)
    out, _ = m(tr.Tensor(np.random.default_rng(2).standard_normal((4, 2, 3))), lengths=[4, 2])
    loss = out.sum()
    loss.backward(retain_grads=True)
    d = tr.trace(loss).to_dict()
    kind = layer.__name__.lower()
    gates = [n for n in d["nodes"] if n["meta"].get("role") not in (None, "mask", "h0")
             and n["meta"].get("step") is not None]
    assert gates and all(n["meta"]["cell"] == kind for n in gates)
    recorded = build_grid(GraphIndex(d))
    for n in d["nodes"]:
        n["meta"].pop("cell", None)
    inferred = build_grid(GraphIndex(d))
    assert len(recorded.cells) == 2 * 2 * 4
    assert {k: (c.members, c.h, c.c) for k, c in recorded.cells.items()} == \
        {k: (c.members, c.h, c.c) for k, c in inferred.cells.items()}


# -- Tree-LSTM gates -------------------------------------------------------------------------------

def test_tree_lstm_nodes_record_their_gates_and_the_tree_view_names_them():
    g = viz.zoo.build("tree_lstm")
    node = 5
    roles = {n.meta.get("role") for n in g.nodes if n.meta.get("tree_node") == node}
    assert {"gates", "gate_i", "gate_f", "gate_o", "gate_u", "c", "h"} <= roles
    src = viz.draw(g, view="tree", expand=[node]).source
    for name in ("f_gate · sigmoid", "i_gate · sigmoid", "u_gate · tanh", "o_gate · sigmoid"):
        assert name in src, name
