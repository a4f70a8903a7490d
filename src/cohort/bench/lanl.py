"""`make bench` for the LANL prepare: peak memory at full size, extrapolated from 1/100 and 1/50.

Kaggle's train.csv has 629,145,480 rows (9 GB). The bench writes LANL-shaped files of
1/100 and 1/50 of that (sawtooth cycles of 1.5 million rows, one 150,000-row test
segment to give the segment length), runs `prepare` on each in a fresh process, reads
that process's peak RSS, and extrapolates linearly to the full row count.
Target: under 1 GiB at full size (a 16 GB laptop runs it beside everything else).

The measured process runs with one malloc arena and one BLAS/OpenMP thread: thread
pools' arenas move the peak by a few MB from run to run, and the extrapolation
multiplies any difference between the two sizes by about 100.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FULL_ROWS = 629_145_480  # Kaggle's train.csv
TARGET_BYTES = 2**30
SEGMENT = 150_000
STEADY = {"MALLOC_ARENA_MAX": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
_MEASURE = """
import sys
from pathlib import Path
from cohort.weeks.prepare import prepare
from cohort.workspace import Cohort
report = prepare(Cohort.open(Path(sys.argv[1])), "final", raw_dir=Path(sys.argv[2]))
# VmHWM is this process's own peak. ru_maxrss is not: Linux carries the spawning parent's
# peak across fork and exec, so a child of a 7 GB pytest process reported 7 GB.
peak = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM:"))
print(report.test_rows, int(peak.split()[1]) * 1024)
"""


def write_lanl(raw: Path, rows: int, cycle: int = 1_500_000) -> None:
    """A LANL-shaped train.csv of `rows` rows and one Kaggle-length test segment, under `raw`."""
    import numpy as np
    import pandas as pd

    (raw / "test").mkdir(parents=True)
    rng = np.random.default_rng(0)
    block = pd.DataFrame(
        {
            "acoustic_data": rng.integers(-20, 30, size=cycle, dtype=np.int16),
            "time_to_failure": np.linspace(11.5, 0.0001, cycle),
        }
    ).to_csv(index=False, header=False, float_format="%.10f")
    lines = block.splitlines(keepends=True)
    with (raw / "train.csv").open("w") as fh:
        fh.write("acoustic_data,time_to_failure\n")
        for _ in range(rows // len(lines)):
            fh.write(block)
        fh.write("".join(lines[: rows % len(lines)]))
    pd.DataFrame({"acoustic_data": np.zeros(SEGMENT, dtype=np.int16)}).to_csv(
        raw / "test" / "seg_00030f.csv", index=False
    )


def peak_rss_of_prepare(work: Path, rows: int) -> tuple[int, int]:
    """(test segments, peak RSS in bytes) of the final week's prepare on `rows` rows, in a fresh process."""
    from cohort.template import init_cohort

    init_cohort(work / "cohort", "LANL bench")
    write_lanl(work / "raw", rows)
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(work / "cohort"), str(work / "raw")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **STEADY},
    )
    segments, peak = done.stdout.split()
    return int(segments), int(peak)


def extrapolate(points: list[tuple[int, int]], rows: int = FULL_ROWS) -> float:
    """The peak at `rows`, on the line through two (rows, peak) measurements (never below either)."""
    (x1, y1), (x2, y2) = points
    slope = (y2 - y1) / (x2 - x1)
    return max(y1 + slope * (rows - x1), y1, y2)


def run(quick: bool = False) -> bool:
    """Run the LANL memory benchmark; True when the extrapolated full-size peak is under 1 GiB."""
    scales = (1000, 500) if quick else (100, 50)
    print(f"lanl bench: prepare on 1/{scales[0]} and 1/{scales[1]} of Kaggle's train.csv")
    points = []
    for scale in scales:
        rows = FULL_ROWS // scale
        with tempfile.TemporaryDirectory(prefix="cohort-bench-lanl-") as tmp:
            start = time.perf_counter()
            segments, peak = peak_rss_of_prepare(Path(tmp), rows)
            took = time.perf_counter() - start
        points.append((rows, peak))
        print(
            f"  1/{scale}: {rows:,} rows, {segments} test segments, peak RSS {peak / 2**20:.0f} MiB "
            f"({took:.0f} s with writing the file)"
        )
    full = extrapolate(points)
    met = full < TARGET_BYTES
    print(
        f"  full size ({FULL_ROWS:,} rows), extrapolated: peak RSS {full / 2**20:.0f} MiB "
        f"(target < 1024 MiB: {'met' if met else 'NOT met'})"
    )
    return met
