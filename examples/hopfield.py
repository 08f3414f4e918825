# %% [markdown]
# # A Hopfield network: a dynamical system unfolded over time (seeds 000 and 002)
# Seed 000 starts from the classical dynamical system s^(t) = f(s^(t-1); theta); seed 002 writes
# the Hopfield network in that form, X_{t+1} = phi(W X_t + Theta). We
#
# 1. store a few random +-1 patterns with the Hebbian rule W = (1/N) sum_p p p^T (zero diagonal),
# 2. corrupt one and recall it by iterating s^(t) = sign(W s^(t-1)), printing the Hamming
#    distance to the stored pattern and the energy E(s) = -1/2 s^T W s, which falls each step,
# 3. unfold the smooth version s^(t) = tanh(beta W s^(t-1)) on the tape (one scope per step, W
#    shared by all steps) and save the graph, with the gradient of the final overlap with the
#    stored pattern w.r.t. the initial state,
# 4. store more and more patterns to see recall break down near P = 0.14 N (the capacity).
#
#     python examples/hopfield.py [--tiny] [--out DIR] [--draw DIR]

# %%
from __future__ import annotations

import argparse
import json
import os

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn.nn import HopfieldNetwork
from tinygrad_rnn.nn.models.hopfield import ascii_states, flip_signs, hamming


# %% 1-2: store, corrupt, recall
def recall_demo(net, target, noisy, mode, rng):
    traj = net.recall(noisy, steps=20, mode=mode, rng=rng)
    print(f"{mode} recall:")
    rows = []
    for t, s in enumerate(traj):
        d, e = hamming(s, target), net.energy(s)
        rows.append({"step": t, "hamming": d, "energy": e})
        print(f"  step {t}: hamming {d:3d}  energy {e:9.3f}")
    return traj, rows


# %% 3: the unfolded, differentiable version
def unfolded_demo(net, target, noisy, steps, beta, out_dir):
    s0 = tr.Tensor(noisy, requires_grad=True, name="s0")
    states = net(s0, steps=steps, beta=beta)  # (steps, N), each step in scope "hopfield"
    overlap = (states[steps - 1] * tr.Tensor(target)).sum() * (1.0 / len(target))
    overlap.backward(retain_grads=True)
    for t in range(steps):
        d = hamming(np.sign(states.data[t]), target)
        print(f"  unfolded tanh(beta W s), beta={beta}: step {t + 1}: hamming {d}")
    wrong = np.sign(noisy) != target
    # the gradient of the final overlap w.r.t. s^(0) points from the corrupted units to the target
    agree = np.mean(np.sign(s0.grad[wrong]) == target[wrong])
    print(f"  d(overlap)/d s^(0) has the target's sign on {agree:.0%} of the flipped units; "
          f"||d overlap / dW|| = {np.linalg.norm(net.weight.grad):.4f} (sum over the "
          f"{steps} steps)")
    path = os.path.join(out_dir, "hopfield_unfolded.graph.json")
    with open(path, "w") as f:
        f.write(tr.trace(overlap).to_json())
    print(f"  wrote {path}")
    return agree


# %% 4: capacity
def capacity_demo(n_units, loads, flips, trials, rng):
    print(f"capacity: N = {n_units}, {flips} flipped units, {trials} trials per load")
    result = {}
    for load in loads:
        P = max(1, int(round(load * n_units)))
        ok = 0
        for _ in range(trials):
            patterns = np.sign(rng.standard_normal((P, n_units)))
            net = HopfieldNetwork(n_units).store(patterns)
            final = net.recall(flip_signs(patterns[0], flips, rng), steps=30)[-1]
            ok += hamming(final, patterns[0]) == 0
        result[P] = ok / trials
        print(f"  P = {P:3d} (P/N = {P / n_units:.2f}): perfect recall in {ok / trials:.0%}")
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description="Hopfield network: store, corrupt, recall")
    ap.add_argument("--side", type=int, default=10, help="patterns are side x side pictures")
    ap.add_argument("--patterns", type=int, default=10)
    ap.add_argument("--flips", type=int, default=30, help="units flipped in the probe")
    ap.add_argument("--beta", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tiny", action="store_true", help="seconds-long run for the test suite")
    ap.add_argument("--out", default="out/hopfield", help="folder for the results and graph")
    ap.add_argument("--draw", default=None, help="folder for pictures of the unfolded network")
    args = ap.parse_args(argv)
    trials = 20
    if args.tiny:
        args.side, args.patterns, args.flips, trials = 8, 6, 16, 5
    rng = np.random.default_rng(args.seed)
    N = args.side * args.side
    patterns = np.sign(rng.standard_normal((args.patterns, N)))
    net = HopfieldNetwork(N).store(patterns)
    target = patterns[0]
    noisy = flip_signs(target, args.flips, rng)
    print(f"stored {args.patterns} patterns of N = {N} units; probe = pattern 0 with "
          f"{args.flips} units flipped")
    results = {}
    for mode in ("synchronous", "asynchronous"):
        traj, results[mode] = recall_demo(net, target, noisy, mode, np.random.default_rng(1))
    print("stored, corrupted, recalled:\n" + ascii_states([target, noisy, traj[-1]], args.side))
    os.makedirs(args.out, exist_ok=True)
    results["unfolded_sign_agreement"] = unfolded_demo(net, target, noisy, 3, args.beta,
                                                       args.out)
    if args.draw:
        draw(os.path.join(args.out, "hopfield_unfolded.graph.json"), args.draw)
    loads = (0.05, 0.1, 0.15, 0.2, 0.3)
    results["capacity"] = capacity_demo(N, loads, max(1, N // 10), trials, rng)
    with open(os.path.join(args.out, "hopfield_recall.json"), "w") as f:
        json.dump(results, f, indent=2, default=float)
    return results


# %% Pictures of the unfolded network
def draw(graph_json, folder):
    """The graph saved in part 3, drawn twice: unrolled (s^(0) -> s^(1) -> s^(2) -> s^(3), one
    cluster per step, W^(t) the copy of the shared W used at step t, with its gradient) and
    folded (the seeds' circuit: one tanh(beta (W s + theta)) and a delay marker on s)."""
    import viz  # the drawing package; the core never imports it

    for path in viz.save_views(graph_json, folder, "hopfield", views=("unrolled", "folded")):
        print(f"drew {path}")


# %% Run: as a script with its command-line flags; as a notebook cell (no __file__) with
# the defaults, since a kernel's own argv is not ours to parse.
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])
