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


def _compile_cohort() -> None:
    """Byte-compile cohort's own modules, as an installed cohort has them: the commands timed
    are fresh processes, and where PYTHONDONTWRITEBYTECODE is set (this development machine)
    the interpreter never caches them, so every process would compile ~110 modules again
    (0.1-0.5 s a command). Said in the output either way."""
    import compileall
    from pathlib import Path

    import cohort

    package = Path(cohort.__file__).resolve().parent
    compileall.compile_dir(package, quiet=1)
    setting = os.environ.get("PYTHONDONTWRITEBYTECODE")
    print(
        f"bench: cohort's bytecode compiled once in {package}"
        + (" (PYTHONDONTWRITEBYTECODE is set here: Python would not cache it)" if setting else "")
    )


def main(argv: list[str]) -> int:
    chosen = [a for a in argv if not a.startswith("-")] or list(SUITES)
    _compile_cohort()
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
