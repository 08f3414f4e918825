"""Run the benchmark suite and write ``benchmarks/RESULTS.md`` and ``benchmarks/results.json``.

    python -m benchmarks.run            # full run (about 5 minutes on 2 cores)
    python -m benchmarks.run --quick    # a couple of minutes
    python -m benchmarks.run --only small      # one group (comma-separated for several);
                                               # prints the table, writes files with --write

Groups: small, batched (training-step speed against hand NumPy BPTT and PyTorch), trees,
startup, memory, render. Every ratio is ours / reference from the same process, interleaved
rounds (A B C C B A ...: the order alternates), median over rounds of the per-round ratio:
< 1 means we are faster.
The speed groups run twice: in this process with the default thread settings, and in a child
process with one thread (BLAS variables set in the child's environment only, and
``torch.set_num_threads(1)``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.report import Row, from_dicts, markdown, to_json

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ("small", "batched", "trees", "startup", "memory", "render")
SPEED = ("small", "batched")
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Config:
    small: tuple = (65, 100, 25, 1)  # V, H, T, B: min-char-rnn
    batched: tuple = (65, 256, 50, 32)
    rounds: int = 21
    number_small: int = 10  # training steps per workload per round
    number_batched: int = 3
    mem_steps: int = 5000
    mem_window: int = 1000
    import_runs: int = 7
    warm_runs: int = 3
    render_T: int = 200
    render_repeat: int = 5  # trace + draw rounds: ~0.4 s each, and the collector makes them noisy
    trees: int = 96
    tree_rounds: int = 11
    tree_dim: int = 100
    tree_block: float = 0.2  # seconds per timed block (calls repeated to last that long)


PRESETS = {
    "full": Config(),
    "quick": Config(rounds=7, number_small=4, number_batched=1, mem_steps=1000, mem_window=200,
                    import_runs=3, warm_runs=1, render_repeat=1, trees=32, tree_rounds=3),
    "tiny": Config(small=(11, 8, 5, 1), batched=(11, 16, 6, 4), rounds=1, number_small=1,
                   mem_steps=30, mem_window=10, import_runs=1, warm_runs=1, render_T=12,
                   render_repeat=1, trees=4, tree_rounds=1, tree_dim=8, tree_block=0.01),
}


def _group(name: str, cfg: Config, threads: str) -> list[Row]:
    from benchmarks import memory, render, speed, startup, trees

    if name in SPEED:
        sizes = speed.Sizes(*(cfg.small if name == "small" else cfg.batched))
        fn = speed.small_rows if name == "small" else speed.batched_rows
        number = cfg.number_small if name == "small" else cfg.number_batched
        return fn(sizes, cfg.rounds, number, threads)
    V, H, T, _ = cfg.small
    if name == "trees":
        return trees.tree_rows(cfg.trees, cfg.tree_rounds, cfg.tree_dim, cfg.tree_block)
    if name == "startup":
        return startup.startup_rows(V, H, T, cfg.import_runs, cfg.warm_runs)
    if name == "memory":
        return memory.memory_rows(V, H, T, cfg.mem_steps, cfg.mem_window)
    return render.render_rows(V, H, cfg.render_T, cfg.render_repeat)


def _in_one_thread_env() -> bool:
    return all(os.environ.get(k) == v for k, v in ONE_THREAD.items())


def _one_thread_child(preset: str, groups: list[str], rounds: int | None) -> list[Row]:
    """The speed groups again in a child process with one thread everywhere."""
    cmd = [sys.executable, "-m", "benchmarks.run", "--preset", preset, "--only",
           ",".join(groups), "--threads", "1", "--json-stdout"]
    if rounds is not None:
        cmd += ["--rounds", str(rounds)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, **ONE_THREAD))
    if proc.returncode != 0:
        raise RuntimeError(f"1-thread child failed:\n{proc.stderr[-2000:]}")
    return from_dicts(json.loads(proc.stdout.strip().splitlines()[-1])["rows"])


def run(quick: bool = True, rounds: int | None = None, only=None, preset: str | None = None,
        threads: tuple = ("default", "1"), log=None) -> list[Row]:
    """Run the groups in ``only`` (default: all) and return the table's rows (no files written).

    preset: 'full', 'quick' or 'tiny' (the smallest sizes, for the smoke test); by default
    'quick' if ``quick`` else 'full'. threads: the speed groups run with 'default' threads in
    this process and with '1' thread in a child process (in this one if it already is that).
    """
    preset = preset or ("quick" if quick else "full")
    cfg = PRESETS[preset] if rounds is None else replace(PRESETS[preset], rounds=rounds)
    groups = list(GROUPS) if only is None else [only] if isinstance(only, str) else list(only)
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        raise ValueError(f"run: unknown group(s) {unknown}; expected some of {GROUPS}")
    say = log or (lambda m: None)
    one_here = "1" in threads and _in_one_thread_env()
    rows = []
    for g in groups:
        if g not in SPEED:
            say(f"running {g} ...")
            rows += _group(g, cfg, "default")
            continue
        for th in ("default", "1") if one_here else ("default",):
            if th in threads:
                say(f"running {g} ({th} threads) ...")
                rows += _group(g, cfg, th)
    speed_groups = [g for g in groups if g in SPEED]
    if "1" in threads and not one_here and speed_groups:
        say(f"running {', '.join(speed_groups)} with 1 thread (child process) ...")
        rows += _one_thread_child(preset, speed_groups, rounds)
    first = {g: i for i, g in reversed(list(enumerate(r.group for r in rows)))}
    return sorted(rows, key=lambda r: first[r.group])  # 1-thread rows after their group's


def _versions() -> str:
    names = ["numpy", "numba", "torch"]
    found = []
    for n in names:
        try:
            found.append(f"{n} {importlib.metadata.version(n)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{n} not installed")
    return f"Python {platform.python_version()}, " + ", ".join(found)


def _torch_threads() -> str:
    torch = sys.modules.get("torch")  # only if a group imported it
    return f"; PyTorch's default here: {torch.get_num_threads()} threads" if torch else ""


def header(preset: str, command: str, load_before: tuple, load_after: tuple) -> list[str]:
    fmt = ", ".join(f"{x:.2f}" for x in load_before)
    fmt2 = ", ".join(f"{x:.2f}" for x in load_after)
    return [
        f"Command: `{command}` (preset {preset}). {os.cpu_count()} cores; {_versions()}.",
        f"Load average (1, 5, 15 min) before: {fmt}; after: {fmt2}. The machine is shared, "
        "so absolute times drift; ratios come from the same process and interleaved rounds.",
        "ratio = ours / reference (time per training step; memory: last / first window); "
        "< 1 means we are faster. Threads 'default': library defaults in one process; "
        f"'1': one BLAS and PyTorch thread, in a child process{_torch_threads()}.",
        "Training step = forward over T steps + softmax cross-entropy at every step + backward "
        "+ clip gradients to [-5, 5] + Adagrad. Gradients are checked equal on one step first "
        "(note column). Per-function profiles: `python -m benchmarks.profile_steps`.",
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="tinygrad_rnn benchmark suite")
    ap.add_argument("--quick", action="store_true", help="a couple of minutes")
    ap.add_argument("--only", help=f"comma-separated groups of {', '.join(GROUPS)}")
    ap.add_argument("--preset", choices=sorted(PRESETS), help=argparse.SUPPRESS)
    ap.add_argument("--rounds", type=int, help="interleaved rounds (default per preset)")
    ap.add_argument("--threads", choices=["default", "1", "both"], default="both")
    ap.add_argument("--write", action="store_true",
                    help="with --only: still (over)write RESULTS.md and results.json")
    ap.add_argument("--json-stdout", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    preset = args.preset or ("quick" if args.quick else "full")
    only = args.only.split(",") if args.only else None
    threads = {"both": ("default", "1"), "default": ("default",), "1": ("1",)}[args.threads]
    log = None if args.json_stdout else (lambda m: print(m, file=sys.stderr, flush=True))
    load0 = os.getloadavg()
    rows = run(rounds=args.rounds, only=only, preset=preset, threads=threads, log=log)
    if args.json_stdout:
        print(to_json(rows, {}).replace("\n", ""))
        return 0
    command = "python -m benchmarks.run" + (" --quick" if args.quick else "") + (
        f" --only {args.only}" if args.only else "")
    head = header(preset, command, load0, os.getloadavg())
    text = markdown(rows, head)
    print(text)
    if only is None or args.write:  # a partial run does not replace the whole table
        here = Path(__file__).resolve().parent
        (here / "RESULTS.md").write_text(text, encoding="utf-8")
        meta = {"command": command, "preset": preset, "header": head}
        (here / "results.json").write_text(to_json(rows, meta) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
