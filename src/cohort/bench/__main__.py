"""Run every benchmark: `python -m cohort.bench [scoring|standings|app|lanl] [--quick]`."""

from __future__ import annotations

import importlib
import sys

SUITES = ("scoring", "standings", "app", "lanl")


def main(argv: list[str]) -> int:
    chosen = [a for a in argv if not a.startswith("-")] or list(SUITES)
    failed = 0
    for name in chosen:
        module = importlib.import_module(f"cohort.bench.{name}")
        failed += 0 if module.run(quick="--quick" in argv) else 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
