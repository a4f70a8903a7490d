"""Start-up bench: `python -m cohort.bench startup [--quick]`.

The real `cohort` console script, wall time from process start to exit, of `--help`,
`validate` and `submit` of a 2,624-row file (the scoring bench's regression week) and
`leaderboard`, on a small cohort with that week open; the median of 7 rounds (3 with
--quick) in rotating order, each command's CPU seconds (user + sys) beside its wall and
the load average printed, since on a busy machine the wall seconds are not an idle core's.
Targets (bench.scoring.STARTUP): --help < 0.3 s, validate and submit < 0.5 s, leaderboard
< 0.7 s. It runs in about half a minute, apart from the scoring suite's minutes.

What each command imports is what it uses (tests/test_startup.py): submit and leaderboard on
a store at head run on the database driver (cohort.rawstore), without SQLAlchemy; --help
renders typer's listing without the rich modules it never uses. The interpreter's bytecode
setting is printed: with PYTHONDONTWRITEBYTECODE set and no cached bytecode, every command
also compiles cohort's own modules (0.03-0.05 s), which an installed cohort does not.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def run(quick: bool = False) -> bool:
    """Run the start-up bench; True when every command meets its target."""
    from cohort.bench.scoring import _startup_figures, _write_cohort

    cached = not os.environ.get("PYTHONDONTWRITEBYTECODE") or _has_bytecode()
    print(
        "start-up bench: the real `cohort` script on a cohort with an open 2,624-row week; "
        f"cohort's bytecode {'cached' if cached else 'compiled on every run'}"
    )
    with tempfile.TemporaryDirectory(prefix="cohort-bench-startup-") as name:
        tmp = Path(name)
        season = tmp / "season"
        season.mkdir()
        _write_cohort(season)  # the scoring bench's weeks: its 2,624-row solution
        ok = _startup_figures(tmp, season, 3 if quick else 7)
    print(f"  start-up targets {'met' if ok else 'NOT met'}")
    return ok


def _has_bytecode() -> bool:
    """True when cohort's command-line package has bytecode the interpreter can read."""
    import importlib.util

    spec = importlib.util.find_spec("cohort.cli")
    origin = spec.origin if spec is not None else None
    return origin is not None and Path(importlib.util.cache_from_source(origin)).exists()


if __name__ == "__main__":
    sys.exit(0 if run("--quick" in sys.argv) else 1)
