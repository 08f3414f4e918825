# %% [markdown]
# # Encoder-decoder on a toy translation task
# Source: a string of digits; target: the same digits reversed with every 0 dropped
# ("30721" -> "127"), so input and output lengths differ. We train two models, one only with
# teacher forcing and one with scheduled sampling, and show the seeds' point: a model trained only
# with teacher forcing does worse when it must consume its own outputs (open loop). Then greedy vs
# beam-search decoding.
#
#     python examples/seq2seq.py            # ~1-2 minutes
#     python examples/seq2seq.py --tiny     # seconds (the test suite)
#     python examples/seq2seq.py --tiny --draw pictures   # plus pictures of one short pair

# %%
from __future__ import annotations

import argparse
import os

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import decode
from tinygrad_rnn.data import toy as P
from tinygrad_rnn.progress import echo, progress

PAD, BOS, EOS, VOCAB = P.PAD, P.BOS, P.EOS, P.REVERSAL_VOCAB  # digits 0-9 are ids 3..12
pair_of = P.reversal_pair  # digits -> (source ids, target ids): reversed, zeros dropped
batch = P.seq2seq_batch  # pairs -> src (S, B), lengths, tgt_in = BOS y, tgt_out = y EOS


def make_pair(rng, max_len):
    return pair_of(rng.integers(0, 10, rng.integers(2, max_len + 1)))


def make_model():
    """GRU encoder (64) -> context C -> GRU decoder (48), fused (the default): tr.trace opens
    its layers into every step and gate for the pictures."""
    return tr.nn.Seq2Seq(VOCAB, VOCAB, embed=16, enc_hidden=64, dec_hidden=48, cell="gru",
                         context="both", rng=1)


def train(model, data, steps, batch_size, tf_schedule, rng, label):
    opt = tr.optim.Adam(model.parameters(), lr=1e-2)
    for i in progress(range(steps), desc=label, unit="step"):
        idx = rng.integers(0, len(data), batch_size)
        src, lens, tin, tout = batch([data[j] for j in idx])
        logits = model(src, tin, src_lengths=lens, teacher_forcing=tf_schedule(i), rng=rng)
        loss = tr.F.cross_entropy(logits, tout, ignore_index=PAD)
        loss.backward()
        tr.optim.clip_grad_norm(model.parameters(), 5.0)
        opt.step()
        opt.zero_grad()
        if (i + 1) % max(steps // 4, 1) == 0:
            echo(f"  [{label}] step {i + 1:5d}  loss {loss.item():.3f}")


# %%
def token_error(model, pairs, teacher_forcing):
    """Per-token error with the decoder fed the truth (1.0) or its own outputs (0.0)."""
    src, lens, tin, tout = batch(pairs)
    with tr.no_grad():
        pred = model(src, tin, src_lengths=lens, teacher_forcing=teacher_forcing).data.argmax(-1)
    mask = tout != PAD
    return float(np.mean(pred[mask] != tout[mask]))


def exact_match(model, pairs, beam_width, max_len):
    hits = 0
    for s, t in pairs:
        step, state = model.decoder_fn(np.array(s))
        if beam_width == 1:
            hyp = decode.greedy(step, state, BOS, max_len, end_id=EOS)
        else:
            hyp = decode.beam_search(step, state, BOS, max_len, beam_width, end_id=EOS,
                                     alpha=0.7)[0]
        hits += hyp.tokens == t + [EOS]
    return hits / len(pairs)


def main(argv=None):
    ap = argparse.ArgumentParser(description="encoder-decoder on reversed digit strings")
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--max-len", type=int, default=9)
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--out", default="out/seq2seq")
    ap.add_argument("--draw", default=None, help="folder for pictures of one short pair")
    args = ap.parse_args(argv)
    steps, n_eval = (60, 20) if args.tiny else (args.steps, 200)
    rng = np.random.default_rng(0)
    data = [make_pair(rng, args.max_len) for _ in range(5000)]
    test_rng = np.random.default_rng(99)
    test = [make_pair(test_rng, args.max_len) for _ in range(n_eval)]
    models = {}
    for label, schedule in [("teacher forcing only", lambda i: 1.0),
                            ("scheduled sampling", lambda i: tr.nn.inverse_sigmoid_schedule(
                                i, k=max(steps / 5, 1)))]:
        print(f"training: {label}")
        model = make_model()
        train(model, data, steps, 32, schedule, np.random.default_rng(2), label)
        models[label] = model
    print(f"\n{'model':24s} {'token err (forced)':>18s} {'token err (open loop)':>22s} "
          f"{'exact greedy':>13s} {'exact beam-4':>13s}")
    for label, model in models.items():
        e_tf, e_ol = token_error(model, test, 1.0), token_error(model, test, 0.0)
        g = exact_match(model, test, 1, args.max_len + 2)
        b = exact_match(model, test, 4, args.max_len + 2)
        print(f"{label:24s} {e_tf:18.3f} {e_ol:22.3f} {g:13.3f} {b:13.3f}")
    os.makedirs(args.out, exist_ok=True)
    models["scheduled sampling"].save(os.path.join(args.out, "seq2seq.npz"))
    if args.draw:
        draw(models["scheduled sampling"], args.draw)


# %% Pictures: the trained model on one short pair, encoder -> context C -> decoder
def draw(model, folder, digits=(3, 0, 7, 2)):
    """Pictures of "3072" -> "273" with gradients: unrolled (each GRU step one node, so the
    encoder steps, the bridge from the context C and the decoder steps fit on a page) and
    folded (the circuit, every gate its own op)."""
    import viz  # the drawing package; the core never imports it

    picture = model  # fused: tr.trace opens its calls into every step and gate
    src, lens, tin, tout = batch([pair_of(list(digits))])
    logits = picture(src, tin, src_lengths=lens)
    loss = tr.F.cross_entropy(logits, tout, ignore_index=PAD)
    loss.backward(retain_grads=True)
    graph = tr.trace(loss)
    paths = viz.save_views(graph, folder, "seq2seq", views=("unrolled",), keep_ends=2,
                           collapse="cell")
    paths += viz.save_views(graph, folder, "seq2seq", views=("folded",))
    for path in paths:
        print(f"drew {path}")


# %% Run: as a script with its command-line flags; as a notebook cell (no __file__) with
# the defaults, since a kernel's own argv is not ours to parse.
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])
