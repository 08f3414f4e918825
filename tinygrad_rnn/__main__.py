"""Command line: ``python -m tinygrad_rnn tour [--out DIR] [--tiny] [--only a,b]``.

The tour needs the drawing package ``viz``; it is imported only here, so ``import tinygrad_rnn``
never pulls it in.
"""

from __future__ import annotations

import sys

USAGE = """usage: python -m tinygrad_rnn <command> [options]

commands:
  tour    train, check and draw every concept of the RNN course into tour/index.html
          (python -m tinygrad_rnn tour --help for its options)
"""


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if args[0] == "tour":
        from viz.tour import main as tour_main

        return tour_main(args[1:])
    print(f"error: unknown command {args[0]!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
