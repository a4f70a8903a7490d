"""Run every benchmark: `python -m cohort.bench [scoring|startup|standings|app|lanl] [--quick]`.

Each suite's wall time is printed, and with every suite (what `make bench` runs) the
total is a target of its own: under TOTAL_SECONDS."""

from __future__ import annotations

import importlib
import os
import sys
import time

SUITES = ("scoring", "startup", "standings", "app", "lanl")
TOTAL_SECONDS = 300.0


def main(argv: list[str]) -> int:
    chosen = [a for a in argv if not a.startswith("-")] or list(SUITES)
    failed = 0
    took: dict[str, float] = {}
    for name in chosen:
        start = time.perf_counter()
        module = importlib.import_module(f"cohort.bench.{name}")
        failed += 0 if module.run(quick="--quick" in argv) else 1
        took[name] = time.perf_counter() - start
        print(f"  ({name} suite: {took[name]:.0f} s)", flush=True)
    total = sum(took.values())
    load = os.getloadavg()[0]
    print(
        "bench: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in took.items())
        + f"; total {total:.0f} s (load average {load:.1f})"
    )
    if set(chosen) == set(SUITES) and "--quick" not in argv:
        met = total < TOTAL_SECONDS
        print(
            f"  every suite, wall (s) {total:8.0f}  target < {TOTAL_SECONDS:.0f}  "
            f"{'ok' if met else 'NOT MET'}"
        )
        failed += 0 if met else 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
