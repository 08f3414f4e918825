"""``tr.blas_threads(n)``: limit the BLAS thread pool for a block of code.

Recurrent nets multiply small matrices (e.g. (32, 256) @ (256, 1024)) thousands of times. A
multi-threaded BLAS splits each one across cores and synchronises the threads every time; when
the cores are also busy with anything else, that synchronisation dominates (benchmarks/README.md,
"threads.py"). The limit is scoped (restored on exit) and set through ``threadpoolctl``, never by
environment variables.
"""

from __future__ import annotations

from contextlib import contextmanager

from tinygrad_rnn.errors import ArgumentError


@contextmanager
def blas_threads(n: int):
    """Run the block with at most ``n`` BLAS threads (``with tr.blas_threads(1): train()``)."""
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise ArgumentError(f"blas_threads: argument 'n' must be a positive int; got {n!r}")
    from threadpoolctl import threadpool_limits  # deferred: keeps `import tinygrad_rnn` light

    with threadpool_limits(limits=n, user_api="blas"):
        yield
