"""Benchmark suite: same-run ratios of tinygrad_rnn against hand NumPy and PyTorch references.

Run ``python -m benchmarks.run --quick`` (a couple of minutes) or ``python -m benchmarks.run``
(the full run); ``--only NAME`` runs one group. See ``benchmarks/README.md``: the groups, the
single-purpose scripts, and the measurements behind the library's fast paths.
"""
