"""``python -m datadsn.cli``: the command line in a fresh interpreter (benchmarks use it)."""

from datadsn.cli import main

main()
