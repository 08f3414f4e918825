"""The local derivative rule of every registered op, in the seeds' notation, for the inspector.

One entry per op in ``tinygrad_rnn.ops.REGISTRY`` (a test checks that none is missing): the
forward equation, then one line per input saying what backward hands it, given the upstream
gradient of the op's output. Notation: ∂L/∂h for the gradient of the loss with respect to h,
⊙ for the elementwise product, ᵀ for a transpose, x⁽ᵗ⁾ for the value at step t, and
∇_{W⁽ᵗ⁾} L for the contribution of one use of a shared weight W (seeds' eqs. 6-7: the weight's
gradient is the sum of these over t). Variadic ops (concat, stack, tree_gather) give one line
with ``k`` standing for the input's position.
"""

from __future__ import annotations

from tinygrad_rnn.ops import REGISTRY

REGISTRY_ARITY = {name: op.arity for name, op in REGISTRY.items()}  # None: variadic

# op -> (forward, [rule for input 0, rule for input 1, ...])
RULES: dict[str, tuple[str, list[str]]] = {
    # ---- elementwise ---------------------------------------------------------------------
    "add": ("y = a + b", ["∂L/∂a = ∂L/∂y", "∂L/∂b = ∂L/∂y"]),
    "sub": ("y = a − b", ["∂L/∂a = ∂L/∂y", "∂L/∂b = −∂L/∂y"]),
    "mul": ("y = a ⊙ b", ["∂L/∂a = ∂L/∂y ⊙ b", "∂L/∂b = ∂L/∂y ⊙ a"]),
    "div": ("y = a / b", ["∂L/∂a = ∂L/∂y / b", "∂L/∂b = −∂L/∂y ⊙ a / b²"]),
    "pow": ("y = aᵇ", ["∂L/∂a = ∂L/∂y ⊙ b aᵇ⁻¹", "∂L/∂b = ∂L/∂y ⊙ y log a"]),
    "where": ("y = a where cond, else b",
              ["∂L/∂a = ∂L/∂y where cond, else 0", "∂L/∂b = ∂L/∂y where not cond, else 0"]),
    "neg": ("y = −a", ["∂L/∂a = −∂L/∂y"]),
    "exp": ("y = exp(a)", ["∂L/∂a = ∂L/∂y ⊙ y"]),
    "log": ("y = log a", ["∂L/∂a = ∂L/∂y / a"]),
    "tanh": ("h = tanh(a)", ["∂L/∂a = ∂L/∂h ⊙ (1 − h²)"]),
    "sigmoid": ("s = σ(a)", ["∂L/∂a = ∂L/∂s ⊙ s ⊙ (1 − s)"]),
    "relu": ("h = max(a, 0)", ["∂L/∂a = ∂L/∂h ⊙ 1[a > 0]"]),
    "dropout": ("y = x ⊙ m / (1 − p), m a fixed 0/1 mask", ["∂L/∂x = ∂L/∂y ⊙ m / (1 − p)"]),
    # ---- reductions and shapes -----------------------------------------------------------
    "sum": ("y = Σ x over the axes", ["∂L/∂x = ∂L/∂y, copied to every summed entry"]),
    "mean": ("y = (1/N) Σ x over N entries", ["∂L/∂x = ∂L/∂y / N, copied to every entry"]),
    "max": ("y = max x over the axes",
            ["∂L/∂x = ∂L/∂y at the largest entry, 0 elsewhere"]),
    "reshape": ("y = x, reshaped", ["∂L/∂x = ∂L/∂y, reshaped back to x's shape"]),
    "transpose": ("y = x with permuted axes", ["∂L/∂x = ∂L/∂y with the axes permuted back"]),
    "getitem": ("y = x[index]", ["∂L/∂x = ∂L/∂y in the selected entries, 0 elsewhere"]),
    "split": ("y = one piece of x", ["∂L/∂x = ∂L/∂y in this piece's slice, 0 elsewhere"]),
    "concat": ("y = [x₀; x₁; …]", ["∂L/∂x_k = the slice of ∂L/∂y that x_k filled"]),
    "stack": ("y = stack(x₀, x₁, …)", ["∂L/∂x_k = ∂L/∂y[k]"]),
    # ---- linear algebra --------------------------------------------------------------------
    "matmul": ("C = A B", ["∂L/∂A = ∂L/∂C Bᵀ", "∂L/∂B = Aᵀ ∂L/∂C"]),
    "linear": ("y = x Wᵀ + b",
               ["∂L/∂x = ∂L/∂y W", "∇_W L = (∂L/∂y)ᵀ x", "∇_b L = Σ over rows of ∂L/∂y"]),
    "affine": ("a⁽ᵗ⁾ = b + W h⁽ᵗ⁻¹⁾ + U x⁽ᵗ⁾  (x W_ihᵀ + b_ih + h W_hhᵀ + b_hh, seeds' eq. 1)",
               ["∂L/∂x⁽ᵗ⁾ = ∂L/∂a⁽ᵗ⁾ W_ih", "∂L/∂h⁽ᵗ⁻¹⁾ = ∂L/∂a⁽ᵗ⁾ W_hh",
                "∇_{W_ih⁽ᵗ⁾} L = (∂L/∂a⁽ᵗ⁾)ᵀ x⁽ᵗ⁾", "∇_{W_hh⁽ᵗ⁾} L = (∂L/∂a⁽ᵗ⁾)ᵀ h⁽ᵗ⁻¹⁾",
                "∇_{b_ih⁽ᵗ⁾} L = Σ over rows of ∂L/∂a⁽ᵗ⁾",
                "∇_{b_hh⁽ᵗ⁾} L = Σ over rows of ∂L/∂a⁽ᵗ⁾"]),
    # ---- losses and lookups -----------------------------------------------------------------
    "softmax": ("ŷ = softmax(z)", ["∂L/∂z = ŷ ⊙ (∂L/∂ŷ − Σⱼ ∂L/∂ŷⱼ ŷⱼ)"]),
    "log_softmax": ("y = log softmax(z)", ["∂L/∂z = ∂L/∂y − softmax(z) Σⱼ ∂L/∂yⱼ"]),
    "cross_entropy": ("L⁽ᵗ⁾ = −log softmax(o⁽ᵗ⁾)[y⁽ᵗ⁾]",
                      ["∂L/∂o⁽ᵗ⁾ = ∂L/∂L⁽ᵗ⁾ (ŷ⁽ᵗ⁾ − 1_{y⁽ᵗ⁾})  (seeds' eq. 4; / N for the mean)"]),
    "embedding": ("y = E[ids]", ["∇_E L[i] += the row of ∂L/∂y, for each looked-up id i"]),
}

_AFFINE = RULES["affine"][1]
_SEQ = "the cell's rule at every step t = T−1 … 0 (BPTT); "
RULES.update({
    # ---- fused cells: one node per step ------------------------------------------------------
    "rnn_cell": ("h⁽ᵗ⁾ = tanh(a⁽ᵗ⁾),  a⁽ᵗ⁾ = b + W h⁽ᵗ⁻¹⁾ + U x⁽ᵗ⁾",
                 [r.replace("∂L/∂a⁽ᵗ⁾", "δ") + "  with δ = ∂L/∂h⁽ᵗ⁾ ⊙ (1 − h⁽ᵗ⁾²)"
                  for r in _AFFINE]),
    "lstm_cell": ("c⁽ᵗ⁾ = f ⊙ c⁽ᵗ⁻¹⁾ + i ⊙ g,  h⁽ᵗ⁾ = o ⊙ tanh(c⁽ᵗ⁾);  [i f g o] = σσtanhσ(a⁽ᵗ⁾)",
                  ["∂L/∂x⁽ᵗ⁾ = δa W_ih", "∂L/∂h⁽ᵗ⁻¹⁾ = δa W_hh",
                   "∂L/∂c⁽ᵗ⁻¹⁾ = δc ⊙ f  with δc = ∂L/∂c⁽ᵗ⁾ + ∂L/∂h⁽ᵗ⁾ ⊙ o ⊙ (1 − tanh² c⁽ᵗ⁾)",
                   "∇_{W_ih⁽ᵗ⁾} L = δaᵀ x⁽ᵗ⁾", "∇_{W_hh⁽ᵗ⁾} L = δaᵀ h⁽ᵗ⁻¹⁾",
                   "∇_{b_ih⁽ᵗ⁾} L = Σ over rows of δa",
                   "∇_{b_hh⁽ᵗ⁾} L = Σ over rows of δa  with δa = [δc⊙g⊙i(1−i), "
                   "δc⊙c⁽ᵗ⁻¹⁾⊙f(1−f), δc⊙i⊙(1−g²), ∂L/∂h⁽ᵗ⁾⊙tanh c⁽ᵗ⁾⊙o(1−o)]"]),
    "gru_cell": ("h⁽ᵗ⁾ = (1 − z) ⊙ n + z ⊙ h⁽ᵗ⁻¹⁾,  n = tanh(a_n + r ⊙ (W_hn h⁽ᵗ⁻¹⁾ + b_hn))",
                 ["∂L/∂x⁽ᵗ⁾ = δa W_ih", "∂L/∂h⁽ᵗ⁻¹⁾ = δa_h W_hh + ∂L/∂h⁽ᵗ⁾ ⊙ z",
                  "∇_{W_ih⁽ᵗ⁾} L = δaᵀ x⁽ᵗ⁾", "∇_{W_hh⁽ᵗ⁾} L = δa_hᵀ h⁽ᵗ⁻¹⁾",
                  "∇_{b_ih⁽ᵗ⁾} L = Σ over rows of δa",
                  "∇_{b_hh⁽ᵗ⁾} L = Σ over rows of δa_h  with δn = ∂L/∂h⁽ᵗ⁾⊙(1−z)⊙(1−n²), "
                  "δz = ∂L/∂h⁽ᵗ⁾⊙(h⁽ᵗ⁻¹⁾−n)⊙z(1−z), δr from δn through r"]),
})
RULES.update({
    # ---- fused whole sequences: one node per layer and direction --------------------------------
    "rnn_seq": ("h⁽ᵗ⁾ = tanh(b + W h⁽ᵗ⁻¹⁾ + U x⁽ᵗ⁾) for t = 0 … T−1",
                [_SEQ + "∂L/∂x⁽ᵗ⁾ = δ⁽ᵗ⁾ W_ih", _SEQ + "∂L/∂h⁽⁰⁾ = δ⁽⁰⁾ W_hh",
                 "∇_{W_ih} L = Σ_t ∇_{W_ih⁽ᵗ⁾} L = Σ_t δ⁽ᵗ⁾ᵀ x⁽ᵗ⁾",
                 "∇_{W_hh} L = Σ_t δ⁽ᵗ⁾ᵀ h⁽ᵗ⁻¹⁾  (seeds' eq. 7)", "∇_{b_ih} L = Σ_t Σ_rows δ⁽ᵗ⁾",
                 "∇_{b_hh} L = Σ_t Σ_rows δ⁽ᵗ⁾  with δ⁽ᵗ⁾ = ∂L/∂h⁽ᵗ⁾ ⊙ (1 − h⁽ᵗ⁾²)"]),
    "lstm_seq": ("the LSTM cell for t = 0 … T−1",
                 [_SEQ + "∂L/∂x⁽ᵗ⁾ = δa⁽ᵗ⁾ W_ih", _SEQ + "∂L/∂h⁽⁰⁾ = δa⁽⁰⁾ W_hh",
                  _SEQ + "∂L/∂c⁽⁰⁾ = δc⁽⁰⁾ ⊙ f⁽⁰⁾", "∇_{W_ih} L = Σ_t δa⁽ᵗ⁾ᵀ x⁽ᵗ⁾",
                  "∇_{W_hh} L = Σ_t δa⁽ᵗ⁾ᵀ h⁽ᵗ⁻¹⁾", "∇_{b_ih} L = Σ_t Σ_rows δa⁽ᵗ⁾",
                  "∇_{b_hh} L = Σ_t Σ_rows δa⁽ᵗ⁾  (δa as in lstm_cell)"]),
    "gru_seq": ("the GRU cell for t = 0 … T−1",
                [_SEQ + "∂L/∂x⁽ᵗ⁾ = δa⁽ᵗ⁾ W_ih", _SEQ + "∂L/∂h⁽⁰⁾ = δa_h⁽⁰⁾ W_hh + ∂L/∂h⁽⁰⁾ ⊙ z",
                 "∇_{W_ih} L = Σ_t δa⁽ᵗ⁾ᵀ x⁽ᵗ⁾", "∇_{W_hh} L = Σ_t δa_h⁽ᵗ⁾ᵀ h⁽ᵗ⁻¹⁾",
                 "∇_{b_ih} L = Σ_t Σ_rows δa⁽ᵗ⁾",
                 "∇_{b_hh} L = Σ_t Σ_rows δa_h⁽ᵗ⁾  (δa as in gru_cell)"]),
    # ---- trees: backprop through structure -----------------------------------------------------
    "tree_rnn": ("p = tanh(W [c₁; c₂] + b) at every internal node, leaves first",
                 ["∂L/∂c_k += Wᵀ-slice of δ_p, δ_p = ∂L/∂p ⊙ (1 − p²), from the root down",
                  "∇_W L = Σ_nodes ∇_{W⁽ⁿᵒᵈᵉ⁾} L = Σ_nodes δ_p [c₁; c₂]ᵀ",
                  "∇_b L = Σ_nodes δ_p"]),
    "tree_lstm": ("c = σ(i)⊙tanh(u) + Σ_k σ(f_k)⊙c_k,  h = σ(o)⊙tanh(c);  "
                  "[i o u f₁ f₂] = U [h₁; h₂] + b",
                  ["∂L/∂[h_k; c_k] += the child's slice of Uᵀ δa, and δc ⊙ σ(f_k), "
                   "from the root down",
                   "∇_U L = Σ_nodes δaᵀ [h₁; h₂]", "∇_b L = Σ_nodes δa"]),
    "tree_gather": ("y = [s_{c₁}; s_{c₂}; …], the children's states side by side",
                    ["∂L/∂s_k += the slots of ∂L/∂y that rows of s_k filled (scatter-add: a "
                     "child read twice gets both)"]),
})


def rule_of(op: str | None, n_inputs: int) -> dict | None:
    """The rule of ``op`` for the page: ``forward`` (its equation), ``inputs`` (one rule per
    input), and for a variadic op ``each``, the template for input k (written out by the page:
    a stack of 1,000 steps needs no 1,000 lines). An unknown op gets a generic line per input;
    None for a leaf (no op)."""
    if op is None:
        return None
    forward, rules = RULES.get(op, (f"y = {op}(…)", []))
    if len(rules) == 1 and REGISTRY_ARITY.get(op, 1) is None:
        return {"forward": forward, "inputs": [], "each": rules[0]}
    inputs = rules[:n_inputs] + [f"∂L/∂(input {k}) = the VJP of {op} applied to ∂L/∂y"
                                 for k in range(len(rules), n_inputs)]
    return {"forward": forward, "inputs": inputs, "each": None}
