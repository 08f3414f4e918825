"""The tour: every concept of the seeds' RNN course trained on generated data, checked against the
tape and drawn, written as one static page (``<out>/index.html`` with pictures in ``img/``).

    python -m tinygrad_rnn tour --out tour/
"""

from viz.tour.runner import CHAPTERS, KEYS, main, run_tour

__all__ = ["run_tour", "main", "CHAPTERS", "KEYS"]
