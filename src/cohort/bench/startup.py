"""Start-up bench: `python -m cohort.bench startup [--quick]`.

The real `cohort` console script, wall time from process start to exit, of `--help`,
`validate` and `submit` of a 2,624-row file (the scoring bench's regression week) and
`leaderboard`, on a small cohort with that week open; the median of 7 rounds (3 with
--quick) in rotating order, each command's CPU seconds (user + sys) beside its wall and
the load average printed, since on a busy machine the wall seconds are not an idle core's.
Targets (bench.scoring.STARTUP): --help < 0.3 s, validate and submit < 0.5 s, leaderboard
< 0.7 s. It runs in about half a minute, apart from the scoring suite's minutes.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path


def run(quick: bool = False) -> bool:
    """Run the start-up bench; True when every command meets its target."""
    from cohort.bench.scoring import _startup_figures, _write_cohort

    print("start-up bench: the real `cohort` script on a cohort with an open 2,624-row week")
    with tempfile.TemporaryDirectory(prefix="cohort-bench-startup-") as name:
        tmp = Path(name)
        season = tmp / "season"
        season.mkdir()
        _write_cohort(season)  # the scoring bench's weeks: its 2,624-row solution
        ok = _startup_figures(tmp, season, 3 if quick else 7)
    print(f"  start-up targets {'met' if ok else 'NOT met'}")
    return ok


if __name__ == "__main__":
    sys.exit(0 if run("--quick" in sys.argv) else 1)
