"""`make bench` for the scorer: the commands an organizer and a member wait for, against floors.

Builds a throwaway cohort with a 2,624-row regression week (the LANL test size) and a
7,390-row, 37-class classification week, with every submission stored as intake stores
it (the raw CSV and its parsed array), then times real processes:

  (a) `cohort score --rescore` over every submission (nothing changes: idempotent), and
  (a') `cohort score` after a solution fix of week 1 (a solution file never scored before:
       every one of its scores is rewritten and the rank changes are reported),
  against (c), the floor of that work: a fresh Python process that lists the stored files
  from the database (one query a week: the scorer cannot know what to read without it),
  reads every parsed array the scorer reads (16 MB batches, one reused buffer) and does the
  metric arithmetic.
  (f) first-time parse of never-parsed CSVs: the scorer's own re-parse (`parsed._rebuilt`:
      read the stored file, validate, align to the solution, write the parsed copy) on
      every core, against `pyarrow.csv.read_csv` alone on the same files on the same number
      of threads, both in this (warm) process: like with like, since process start-up is
      its own figure below. The same work end to end (`cohort score --rescore` with no
      parsed copies, start-up and database included) is printed beside a fresh process
      running the reader on the same files and threads.
  (b) the naive pandas loop (read_csv + a scikit-learn metric per file) and (p) the
      per-submission process that Codabench-style platforms run (a fresh Python per file
      reading solution and submission), each timed on a sample and extrapolated.
  (m) the worst input of each kind under the size limit, each through `cohort validate`
      in its own process: peak memory and time.
  (s) start-up (its own suite, `python -m cohort.bench startup`, bench/startup.py): the
      real `cohort` console script, wall time from process start to exit, of `--help`,
      `validate` and `submit` of a 2,624-row file, and `leaderboard`, on a small cohort
      with an open week; the median of several rounds (order rotated).

Timed pairs run in alternating order (a c c a a c ...); medians and the spread are printed.
Targets: a <= 1.5 c, a' <= 2 c', f <= 1.5 reader floor, p/a >= 100, b/a >= 20, worst input
peak < 300 MB and < 2 s, scorer peak RSS < 2 GiB, scores agree with scikit-learn, and
start-up medians --help < 0.3 s, validate and submit < 0.5 s, leaderboard < 0.7 s.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from cohort.config import SUBMISSIONS_ENV

REG_ROWS, CLS_ROWS, CLASSES, MEMBERS = 2624, 7390, 37, 40
WEEKS = {
    "01-quake": ("mae", "seg_id", "time_to_failure"),
    "02-pets": ("accuracy", "image_id", "label"),
}
WEEK_TOML = """title = "{title}"
opens = 0
closes = 7
[competition]
metric = "{metric}"
id_column = "{id_col}"
target_columns = ["{target}"]
daily_limit = 100000
"""
REPEAT = 5
NAIVE_SAMPLE = {False: 200, True: 100}  # files the pandas loop times (quick or not)
# Files the per-process baseline times: each is ~1-2 s of start-up, and p/a is ~10,000
# (target 100), so the median of 3 decides the target as surely as that of 8 did.
PER_PROCESS_SAMPLE = 3
MEMORY_BUDGET = 300 * 1024 * 1024
WORST_SECONDS = 2.0
# The real command line, reporting its own peak memory (VmHWM: RSS high-water mark since exec;
# the rusage of a child would count the bench's own memory it was forked with).
PEAK = (
    "import atexit, os; atexit.register(lambda: open(os.environ['COHORT_BENCH_PEAK'], 'w')"
    ".write(open('/proc/self/status').read()))\n"
)
CLI = PEAK + "import sys; from cohort.cli import main; sys.argv[0] = 'cohort'; main()"
WORST = """
import sys, time
from cohort import config
from cohort.errors import CohortError
from cohort.scoring.validation import check_file
cfg = config.load(config.find_root(None))
start = time.perf_counter()
try:
    message = f"valid: {check_file(cfg, '1', sys.argv[1]).rows} rows"
except CohortError as exc:
    message = f"Error: {exc}"
print(time.perf_counter() - start, message)
"""


def _write_cohort(root: Path) -> None:
    # The season is over, so both weeks are revealed and every board is computed.
    (root / "cohort.toml").write_text(
        f'name = "bench"\ntimezone = "UTC"\nstart = 2025-01-06\nweeks = {list(WEEKS)!r}\n'.replace(
            "'", '"'
        )
    )
    rng = np.random.default_rng(0)
    for week, (metric, id_col, target) in WEEKS.items():
        (root / "weeks" / week).mkdir(parents=True)
        (root / "weeks" / week / "week.toml").write_text(
            WEEK_TOML.format(title=week, metric=metric, id_col=id_col, target=target)
        )
        n = REG_ROWS if metric == "mae" else CLS_ROWS
        ids = (
            [f"seg_{i:06x}" for i in range(n)]
            if metric == "mae"
            else [f"img_{i:05d}" for i in range(n)]
        )
        truth = (
            [f"{v:.4f}" for v in rng.integers(0, 160000, n) / 10000.0]
            if metric == "mae"
            else [f"breed_{k:02d}" for k in rng.integers(0, CLASSES, n)]
        )
        usage = np.where(rng.random(n) < 0.3, "Public", "Private")
        (root / "data" / week).mkdir(parents=True)
        lines = [f"{id_col},{target},Usage"] + [
            f"{a},{b},{u}" for a, b, u in zip(ids, truth, usage, strict=True)
        ]
        (root / "data" / week / "solution.csv").write_text("\n".join(lines) + "\n")
    lines = ["handle,name,email,kaggle_username"] + [
        f"m{i:02d},Member {i},m{i}@example.org," for i in range(MEMBERS)
    ]
    (root / "members.csv").write_text("\n".join(lines) + "\n")


def _generate(
    cohort: Any, week: str, count: int, seed: int, parsed: bool = True, raw_files: int = 10**9
) -> int:
    """Write `count` submissions of a week (raw CSV, and its parsed array) and insert their
    rows; past the first `raw_files`, the parsed array only (the CSVs are what makes
    generating a season slow, and only the naive loops, which sample the first files of
    each week, and first-time parsing, which has its own cohort, read them).

    Predictions are drawn for a block of files at a time and each parsed copy is written
    as `parsed.write_npy` writes it (the layout's header, then the row's bytes)."""
    from cohort.scoring import solution
    from cohort.scoring.parsed import _npy_header, parsed_path, values_layout
    from cohort.sheets.roster import list_members
    from cohort.store import bulk

    sol = solution.load_solution(cohort, week)
    wk = cohort.config.week(week)
    ids = sol.ids.tolist()
    n = len(ids)
    members = [m.id for m in list_members(cohort.store)]
    rng = np.random.default_rng(seed)
    rows = []
    head = f"{sol.id_column},{sol.target_columns[0]}\n"
    starts = [f"{a}," for a in ids]
    # Each value's text looked up, not formatted per cell: the same bytes, ~4x faster.
    label = sol.kind == "label"
    texts = np.asarray(list(sol.classes) if label else _fixed4(sol.truth), object)
    dtype, shape = values_layout(sol)
    header = _npy_header(dtype, shape)
    folder = parsed_path(cohort, wk, "x", sol.key).parent
    folder.mkdir(parents=True, exist_ok=True)
    suffix = parsed_path(cohort, wk, "x", sol.key).name[1:]
    raw_dir = cohort.config.submissions_dir / week
    raw_dir.mkdir(parents=True, exist_ok=True)
    opens = wk.opens_at.astimezone(UTC)
    block = max(1, (4 << 20) // (8 * n))  # files drawn at once: ~4 MB of draws
    for first in range(0, count, block):
        b = min(block, count - first)
        codes: np.ndarray
        if label:
            keep = rng.random((b, n)) < rng.uniform(0.3, 0.9, b)[:, None]
            codes = np.where(keep, sol.truth, rng.integers(0, CLASSES, (b, n)))
            values = codes.astype(dtype)
        else:
            noise = rng.normal(0, 1, (b, n)) * rng.uniform(1e4, 4e4, b)[:, None]
            k = np.clip(np.round(sol.truth * 10000 + noise), 0, len(texts) - 1)
            values, codes = k / 10000.0, k.astype(np.int64)
        for j in range(b):
            i = first + j
            row = values[j].tobytes()
            if i < raw_files:
                cells = texts[codes[j]].tolist()
                data = (head + "\n".join(map(str.__add__, starts, cells)) + "\n").encode()
                sha = hashlib.sha256(data).hexdigest()
                (raw_dir / f"{sha}.csv").write_bytes(data)
            else:  # a parsed copy only: rescoring never reads the CSV behind it
                sha = hashlib.sha256(row + i.to_bytes(8, "little")).hexdigest()
            if parsed:
                fd = os.open(f"{folder}/{sha}{suffix}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                try:
                    os.write(fd, header + row)
                finally:
                    os.close(fd)
            rows.append(
                {
                    "member_id": members[i % len(members)],
                    "week": week,
                    "source": "bench",
                    "notebook_url": "",
                    "submitted_at": opens + timedelta(seconds=20 * i),
                    "file_sha256": sha,
                    "file_name": "submission.csv",
                    "status": "pending",
                    "error": "",
                    "selected": False,
                    "import_key": None,
                }
            )
    with cohort.store.transaction() as tx:
        bulk.insert_rows(tx, "submissions", rows)
    return count


def _fixed4(truth: np.ndarray) -> list[str]:
    """f"{k / 10000:.4f}" for every k a generated prediction takes (clipped 6 sd above)."""
    top = int(truth.max() * 10000 + 6 * 4e4) + 1
    return [f"{k / 10000:.4f}" for k in range(top)]


# --- processes -------------------------------------------------------------------------------


def _proc(args: list[str], cwd: Path) -> tuple[float, int, str, int]:
    """Run a fresh Python process: wall seconds, peak RSS in bytes (when it reports it,
    see PEAK), output, exit code."""
    with tempfile.NamedTemporaryFile(prefix="peak-", delete=False) as fh:
        peak_file = Path(fh.name)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COHORT_ROOT": str(cwd), "COHORT_BENCH_PEAK": str(peak_file)},
    )
    seconds = time.perf_counter() - start
    status = peak_file.read_text()
    peak_file.unlink()
    hwm = [line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")]
    return seconds, int(hwm[0]) * 1024 if hwm else 0, proc.stdout + proc.stderr, proc.returncode


def _cli(root: Path, *args: str) -> tuple[float, int, str]:
    seconds, peak, out, code = _proc(["-c", CLI, *args], root)
    if code != 0:
        raise RuntimeError(f"cohort {' '.join(args)} failed ({code}): {out[-2000:]}")
    return seconds, peak, out


FLOOR = """
import json, os, sqlite3, sys
import numpy as np
from cohort.scoring import metrics
plan = json.load(open(sys.argv[1]))
total = 0.0
for week in plan:
    # The week's stored files, listed from the store as the scorer must (one query).
    db = sqlite3.connect(week["db"])
    shas = db.execute(
        "SELECT file_sha256 FROM submissions WHERE week = ? AND file_sha256 != ''", [week["week"]]
    ).fetchall()
    db.close()
    folder, suffix = week["folder"], week["suffix"]
    paths, skip = [f"{folder}/{sha}{suffix}" for (sha,) in shas], week["header"]
    truth, public = np.load(week["truth"]), np.load(week["public"])
    row = np.empty(week["shape"], week["dtype"])
    # Batches of 16 MB in one reused buffer, as the scorer reads (one stack of every file
    # page-faulted 0.5 GB of fresh memory: 0.4 s of system time no scorer needs to spend).
    per = max(1, (16 << 20) // row.nbytes)
    stack = np.empty((min(per, len(paths)), *week["shape"]), week["dtype"])
    view = memoryview(stack.reshape(-1).view(np.uint8))
    head, size = bytearray(skip), row.nbytes
    metric = metrics.get(week["metric"])
    for start in range(0, len(paths), per):
        chunk = paths[start:start + per]
        for i, p in enumerate(chunk):
            fd = os.open(p, os.O_RDONLY)
            os.readv(fd, [head, view[i * size:(i + 1) * size]])
            os.close(fd)
        pub, priv = metrics.split_scores(metric, truth, stack[:len(chunk)], [public, ~public])
        total += float(np.nansum(pub) + np.nansum(priv))
print(total)
"""

READER = """
import os, sys
from concurrent.futures import ThreadPoolExecutor
import pyarrow.csv as pc
paths = open(sys.argv[1]).read().split()
# The scorer re-parses on every core (one file per thread); the floor reads the same way.
with ThreadPoolExecutor(max_workers=min(len(paths), os.cpu_count() or 2)) as pool:
    print(sum(pool.map(lambda p: pc.read_csv(p).num_rows, paths)))
"""


def _floor_plan(cohort: Any, tmp: Path, weeks: list[str]) -> Path:
    """What the floor process reads: every parsed array of these weeks, truth and split."""
    from cohort.scoring.parsed import _npy_header, parsed_path, values_layout
    from cohort.scoring.solution import load_solution
    from cohort.store import submissions as store_subs

    plan = []
    for week in weeks:
        sol = load_solution(cohort, week)
        with cohort.store.transaction() as tx:
            shas = [sha for _, sha, _ in store_subs.stored_files(tx, week)]
        dtype, shape = values_layout(sol)
        wk = cohort.config.week(week)
        np.save(tmp / f"{week}-truth.npy", sol.truth)
        np.save(tmp / f"{week}-public.npy", sol.public)
        example = parsed_path(cohort, wk, shas[0], sol.key)
        plan.append(
            {
                "db": cohort.store.url.removeprefix("sqlite:///"),  # the bench's own SQLite file
                "week": week,
                "folder": str(example.parent),
                "suffix": example.name[len(shas[0]) :],
                "header": len(_npy_header(dtype, shape)),
                "dtype": np.dtype(dtype).str,
                "shape": list(shape),
                "truth": str(tmp / f"{week}-truth.npy"),
                "public": str(tmp / f"{week}-public.npy"),
                "metric": sol.metric,
            }
        )
    path = tmp / f"floor-{'-'.join(weeks)}.json"
    path.write_text(json.dumps(plan))
    return path


def _alternate(
    first: Callable[[], float], second: Callable[[], float], repeat: int
) -> tuple[list[float], list[float]]:
    """Run the pair `repeat` times in the order a b, b a, a b, ... so drifting load hits both."""
    a, b = [], []
    for i in range(repeat):
        if i % 2 == 0:
            a.append(first())
            b.append(second())
        else:
            b.append(second())
            a.append(first())
    return a, b


def _stat(times: list[float]) -> str:
    return f"median {statistics.median(times):6.2f} s (spread {min(times):.2f}-{max(times):.2f}, n={len(times)})"


def _line(name: str, value: float, target: str, ok: bool) -> bool:
    print(f"  {name:<58} {value:8.2f}  target {target:<10} {'ok' if ok else 'NOT MET'}")
    return ok


# --- the figures -----------------------------------------------------------------------------


def _rescore_figures(cohort: Any, root: Path, tmp: Path, repeat: int) -> tuple[bool, float, int]:
    both = _floor_plan(cohort, tmp, list(WEEKS))
    floor = lambda: _proc(["-c", FLOOR, str(both)], root)[0]  # noqa: E731
    peak = 0

    def rescore() -> float:
        nonlocal peak
        seconds, rss, _ = _cli(root, "score", "--rescore")
        peak = max(peak, rss)
        return seconds

    a, c = _alternate(rescore, floor, repeat)
    print(f"  (a) cohort score --rescore (every file, nothing changes)   {_stat(a)}")
    print(
        f"  (c) floor: list the files, read every parsed array + the metric, fresh process {_stat(c)}"
    )
    week1 = _floor_plan(cohort, tmp, ["01-quake"])
    solution_csv = root / "data" / "01-quake" / "solution.csv"
    original = solution_csv.read_bytes()
    fixes = iter(range(1, 2 * repeat + 2))

    def solution_fix() -> float:
        # A solution file never scored before (one more blank line at its end changes its
        # stamp, not its rows or ids, so the parsed arrays stay valid): every score of the
        # week is rewritten and the rank changes reported, as after a real solution or
        # metric fix. Writing the file is not timed.
        solution_csv.write_bytes(original + b"\n" * next(fixes))
        seconds, rss, _ = _cli(root, "score")
        nonlocal peak
        peak = max(peak, rss)
        return seconds

    fix, c1 = _alternate(solution_fix, lambda: _proc(["-c", FLOOR, str(week1)], root)[0], repeat)
    solution_csv.write_bytes(original)
    _cli(root, "score")  # back to the original solution (its scores are still stored)
    print(
        f"  (a') cohort score after a solution fix ({_n_week(cohort, '01-quake'):,} scores rewritten) {_stat(fix)}"
    )
    print(f"  (c') floor for that week                                  {_stat(c1)}")
    ok = _line(
        "a / c (rescore CLI over its floor)",
        statistics.median(a) / statistics.median(c),
        "<= 1.5",
        statistics.median(a) <= 1.5 * statistics.median(c),
    )
    ok &= _line(
        "a' / c' (solution-fix rescore over its floor)",
        statistics.median(fix) / statistics.median(c1),
        "<= 2",
        statistics.median(fix) <= 2 * statistics.median(c1),
    )
    return ok, statistics.median(a), peak


def _n_week(cohort: Any, week: str) -> int:
    from cohort.store import submissions as store_subs

    with cohort.store.transaction() as tx:
        return len(store_subs.stored_files(tx, week))


def _first_time(tmp: Path, n_reg: int, n_cls: int, repeat: int) -> bool:
    """First-time parse of never-parsed CSVs (a cohort of its own) against read_csv alone.

    Its stored files are in memory (/dev/shm) like the season's: on this machine's disk,
    creating files shortly after many were deleted (the previous suite's clean-up, another
    bench's) scans past the freed inodes, and f / floor read 1.51 and 3.96 on two runs a
    minute apart while the end-to-end ratio beside it stayed at 1.67-1.70."""
    with _season_files() as place:
        os.environ[SUBMISSIONS_ENV] = str(place / "submissions")
        return _first_time_in(tmp, place, n_reg, n_cls, repeat)


def _first_time_in(tmp: Path, place: Path, n_reg: int, n_cls: int, repeat: int) -> bool:
    from cohort.sheets.roster import import_roster
    from cohort.store import submissions as store_subs
    from cohort.workspace import Cohort

    root = tmp / "first"
    root.mkdir()
    _write_cohort(root)
    cohort = Cohort.open(root)
    import_roster(cohort.store, root / "members.csv")
    for week, n, seed in (("01-quake", n_reg, 3), ("02-pets", n_cls, 4)):
        _generate(cohort, week, n, seed, parsed=False)
    stored = cohort.config.submissions_dir
    files = sorted(str(p) for p in stored.glob("*/*.csv"))
    listing = tmp / "first-files.txt"
    listing.write_text("\n".join(files))
    with cohort.store.transaction() as tx:
        shas = {w: [sha for _, sha, _ in store_subs.stored_files(tx, w)] for w in WEEKS}

    aside = iter(range(10**6))

    def forget() -> None:
        # Each week's parsed copies are moved aside, not deleted (see above: deletes make the
        # next files slower to create); the temporary directory goes at the end.
        for folder in stored.glob("*/parsed"):
            folder.rename(place / f"parsed-aside-{next(aside)}")

    def reparse() -> float:
        forget()
        return _reparse(cohort, shas)

    f, r = _alternate(reparse, lambda: _read_all(files), repeat)
    threads = min(len(files), os.cpu_count() or 2)
    print(
        f"  (f) first-time parse of {len(files):,} never-parsed CSVs (read, validate, align, "
        f"cache), {threads} threads, in-process {_stat(f)}"
    )
    print(f"      floor: pyarrow.csv.read_csv alone, same files and threads {_stat(r)}")
    per_row = statistics.median(f) / (n_reg * REG_ROWS + n_cls * CLS_ROWS) * 1e6
    print(f"      {per_row:.3f} us of wall per row, parsed, checked and cached")
    ratio = statistics.median(f) / statistics.median(r)
    ok = _line("f / reader floor (first-time parse)", ratio, "<= 1.5", ratio <= 1.5)

    def first() -> float:
        forget()
        return _cli(root, "score", "--rescore")[0]

    cohort.store.dispose()
    e, re_ = _alternate(first, lambda: _proc(["-c", READER, str(listing)], root)[0], 3)
    print(f"      the same end to end: cohort score --rescore, no parsed copies {_stat(e)}")
    print(f"      floor: a fresh process running the reader, same threads  {_stat(re_)}")
    print(
        f"      ratio {statistics.median(e) / statistics.median(re_):.2f} "
        "(start-up and the database included; no target: start-up is timed below)"
    )
    return ok


def _reparse(cohort: Any, shas: dict[str, list[str]]) -> float:
    """Seconds of the scorer's own re-parse of every file whose parsed copy is missing."""
    from cohort.scoring import parsed
    from cohort.scoring.solution import load_solution

    solutions = {week: load_solution(cohort, week) for week in shas}
    start = time.perf_counter()
    for week, week_shas in shas.items():
        for _, got in parsed._rebuilt(
            cohort, solutions[week], week_shas, list(range(len(week_shas)))
        ):
            if isinstance(got, str):
                raise RuntimeError(f"bench file refused: {got}")
    return time.perf_counter() - start


def _read_all(paths: list[str]) -> float:
    """Seconds of pyarrow.csv.read_csv alone on the files, one per thread on every core."""
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.csv as pa_csv

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(len(paths), os.cpu_count() or 2)) as pool:
        rows = sum(pool.map(lambda p: pa_csv.read_csv(p).num_rows, paths))
    assert rows > 0
    return time.perf_counter() - start


def _with_csv(cohort: Any, week: str, files: list[tuple[int, str, str]]) -> list[Any]:
    """The submissions whose CSV was written (see `_generate`)."""
    folder = cohort.config.submissions_dir / week
    return [f for f in files if (folder / f"{f[1]}.csv").exists()]


def _naive(cohort: Any, sample: int) -> tuple[float, np.ndarray, list[int]]:
    """The pandas loop on a sample: seconds per file, its scores, and which submissions."""
    import pandas as pd
    from sklearn.metrics import accuracy_score, mean_absolute_error

    from cohort.scoring import solution
    from cohort.store import submissions as store_subs

    scores, picked, seconds = [], [], 0.0
    for week in WEEKS:
        sol = solution.load_solution(cohort, week)
        metric = mean_absolute_error if sol.kind == "regression" else accuracy_score
        truth = sol.frame.set_index(sol.id_column)[sol.target_columns[0]]
        truth = truth.astype(float) if sol.kind == "regression" else truth
        public = sol.public
        with cohort.store.transaction() as tx:
            files = _with_csv(cohort, week, store_subs.stored_files(tx, week))
        for sid, sha, _ in files[: sample // len(WEEKS)]:
            start = time.perf_counter()
            path = cohort.config.submissions_dir / week / f"{sha}.csv"
            sub = pd.read_csv(path, dtype={sol.id_column: str}).set_index(sol.id_column)
            pred = sub[sol.target_columns[0]].reindex(truth.index)
            scores.append(
                (metric(truth[public], pred[public]), metric(truth[~public], pred[~public]))
            )
            seconds += time.perf_counter() - start
            picked.append(sid)
    return seconds / len(picked), np.array(scores), picked


PER_PROCESS = """
import sys
import pandas as pd
from sklearn.metrics import mean_absolute_error
solution = pd.read_csv(sys.argv[1], dtype=str).set_index(sys.argv[3])
sub = pd.read_csv(sys.argv[2], dtype={sys.argv[3]: str}).set_index(sys.argv[3])
truth = solution[sys.argv[4]].astype(float)
public = (solution["Usage"] == "Public").to_numpy()
pred = sub[sys.argv[4]].reindex(truth.index)
print(mean_absolute_error(truth[public], pred[public]), mean_absolute_error(truth[~public], pred[~public]))
"""


def _per_process(cohort: Any, root: Path, sample: int) -> float:
    """Seconds per submission of the one-process-per-file scorer, on a sample."""
    from cohort.store import submissions as store_subs

    week, (_, id_col, target) = "01-quake", WEEKS["01-quake"]
    with cohort.store.transaction() as tx:
        files = _with_csv(cohort, week, store_subs.stored_files(tx, week))[:sample]
    solution = str(root / "data" / week / "solution.csv")
    times = [
        _proc(
            [
                "-c",
                PER_PROCESS,
                solution,
                str(cohort.config.submissions_dir / week / f"{sha}.csv"),
                id_col,
                target,
            ],
            root,
        )[0]
        for _, sha, _ in files
    ]
    return statistics.median(times)


def _check_agreement(cohort: Any, naive: np.ndarray, picked: list[int]) -> float:
    from cohort.scoring import runs, solution
    from cohort.store import submissions as store_subs

    with cohort.store.transaction() as tx:
        frame: Any = store_subs.scored_frame(
            tx, {w: solution.load_solution(cohort, w).sha256 for w in WEEKS}, runs.SCORER_VERSION
        )
    frame = frame.set_index("submission_id").loc[picked]
    fast = frame[["scored_public", "scored_private"]].to_numpy()
    return float(np.nanmax(np.abs(fast - naive)))


# --- worst inputs ----------------------------------------------------------------------------


def _worst_inputs(tmp: Path, limit: int) -> dict[str, Path]:
    """The worst input of each kind a member can submit under the size limit."""
    folder = tmp / "worst"
    folder.mkdir()
    head = b"seg_id,time_to_failure\n"
    size = limit - 1024
    out: dict[str, Path] = {}

    def put(name: str, file: str, data: bytes) -> None:
        out[name] = folder / file
        out[name].write_bytes(data)

    put(
        "wide row, at the size limit",
        "wide.csv",
        head + b"seg_000000" + b",1" * ((size - 40) // 2) + b"\n",
    )
    put(
        "wide row, within the unpacked bound",
        "wide-small.csv",
        head + b"seg_000000" + b",1" * 500_000 + b"\n",
    )
    put(
        "huge single field, at the size limit",
        "field.csv",
        head + b"seg_000000," + b"9" * (size - 40) + b"\n",
    )
    put(
        "huge quoted field with newlines",
        "quoted.csv",
        head + b'seg_000000,"' + b"9\n" * 400_000 + b'"\n',
    )
    put("many empty lines, at the size limit", "lines.csv", head + b"\n" * (size - 40))
    put("many short rows", "rows.csv", head + b"a,1\n" * ((size - 40) // 4))
    member = gzip.compress(b"0" * (32 * 1024 * 1024), 9)
    put(
        "gzip bomb (multi-member, ~20 GB unpacked)",
        "bomb.csv.gz",
        member * max(1, size // len(member)),
    )
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"0" * (1024 * 1024)
    body = b"".join(deflate.compress(chunk) for _ in range(256)) + deflate.flush()
    put("zip bomb (256 MB unpacked)", "bomb.zip", _zip_raw(body, 256 * chunk.__len__(), 0))
    put("zip bomb, header claiming 100 bytes", "liar.zip", _zip_raw(body, 100, 0))
    out["/dev/zero"] = Path("/dev/zero")
    fifo = folder / "pipe.csv"
    os.mkfifo(fifo)
    out["a FIFO"] = fifo
    return out


def _zip_raw(deflated: bytes, size: int, crc: int) -> bytes:
    """A one-entry .zip around an already deflated stream (its CRC need not match)."""
    name = b"sub.csv"
    local = (
        b"PK\x03\x04"
        + (20).to_bytes(2, "little")
        + b"\0\0"
        + (8).to_bytes(2, "little")
        + b"\0\0\0\0"
        + crc.to_bytes(4, "little")
        + len(deflated).to_bytes(4, "little")
        + size.to_bytes(4, "little")
        + len(name).to_bytes(2, "little")
        + b"\0\0"
        + name
    )
    central = (
        b"PK\x01\x02"
        + (20).to_bytes(2, "little") * 2
        + b"\0\0"
        + (8).to_bytes(2, "little")
        + b"\0\0\0\0"
        + crc.to_bytes(4, "little")
        + len(deflated).to_bytes(4, "little")
        + size.to_bytes(4, "little")
        + len(name).to_bytes(2, "little")
        + b"\0" * 12
        + (0).to_bytes(4, "little")
        + name
    )
    offset = len(local) + len(deflated)
    end = (
        b"PK\x05\x06"
        + b"\0" * 4
        + (1).to_bytes(2, "little") * 2
        + len(central).to_bytes(4, "little")
        + offset.to_bytes(4, "little")
        + b"\0\0"
    )
    return local + deflated + central + end


def _worst_figures(root: Path, tmp: Path, good: Path) -> bool:
    from cohort.scoring.solution import load_solution
    from cohort.scoring.validation import limit_bytes
    from cohort.workspace import Cohort

    limit = limit_bytes(load_solution(Cohort.open(root), "01-quake"))
    inputs = {"a valid 2,624-row file (for scale)": good, **_worst_inputs(tmp, limit)}
    ok = True
    print(
        f"  (m) worst inputs, each validated as `cohort validate` does, in its own process (size limit {limit / 2**20:.0f} MB):"
    )
    for name, path in inputs.items():
        _, peak, out, code = _proc(["-c", PEAK + WORST, str(path)], root)
        seconds_text, _, message = out.strip().partition(" ")
        seconds = float(seconds_text) if code == 0 else float("inf")
        fine = code == 0 and peak < MEMORY_BUDGET and seconds < WORST_SECONDS
        fine &= "\n" not in message and (
            message.startswith("Error: ") or name.startswith("a valid")
        )
        ok &= fine
        print(
            f"      {name:<44} {peak / 2**20:6.0f} MB {seconds:6.3f} s  "
            f"{'ok' if fine else 'NOT MET'}  {message[:60]}"
        )
    print(
        f"      targets: peak RSS of the process < {MEMORY_BUDGET / 2**20:.0f} MB, read and checked "
        f"in < {WORST_SECONDS:g} s, one Error line"
    )
    return ok


STARTUP = {  # command -> its target, seconds of wall from process start to exit
    "--help": 0.3,
    "validate": 0.5,
    "submit": 0.5,
    "leaderboard": 0.7,
}


def _startup_cohort(tmp: Path, season: Path, files: int) -> tuple[Path, list[Path]]:
    """A cohort with week 1 (the season's 2,624-row solution) open today, one member, and
    distinct valid prediction files to submit."""
    from datetime import date

    from cohort.sheets.roster import import_roster
    from cohort.workspace import Cohort

    root = tmp / "startup"
    (root / "weeks" / "01-quake").mkdir(parents=True)
    start = (date.today() - timedelta(days=1)).isoformat()
    (root / "cohort.toml").write_text(
        f'name = "startup"\ntimezone = "UTC"\nstart = {start}\nweeks = ["01-quake"]\n'
    )
    (root / "weeks" / "01-quake" / "week.toml").write_text(
        WEEK_TOML.format(title="quake", metric="mae", id_col="seg_id", target="time_to_failure")
    )
    (root / "data" / "01-quake").mkdir(parents=True)
    solution = (season / "data" / "01-quake" / "solution.csv").read_text()
    (root / "data" / "01-quake" / "solution.csv").write_text(solution)
    (root / "members.csv").write_text(
        "handle,name,email,kaggle_username\nann,Ann,ann@example.org,\n"
    )
    cohort = Cohort.open(root)
    import_roster(cohort.store, root / "members.csv")
    cohort.store.dispose()
    ids = [line.split(",")[0] for line in solution.splitlines()[1:]]
    rng = np.random.default_rng(5)
    paths = []
    for i in range(files):
        values = rng.uniform(0, 16, len(ids))
        path = root / f"predictions-{i}.csv"
        path.write_text(
            "seg_id,time_to_failure\n"
            + "".join(f"{a},{v:.4f}\n" for a, v in zip(ids, values, strict=True))
        )
        paths.append(path)
    return root, paths


def _startup_figures(tmp: Path, season: Path, rounds: int) -> bool:
    """Wall time of the real `cohort` console script, process start to exit, per command."""
    script = Path(sys.executable).parent / "cohort"
    root, files = _startup_cohort(tmp, season, rounds + 2)
    pending = iter(files)
    env = {k: v for k, v in os.environ.items() if k not in ("COHORT_ROOT", "COHORT_DATABASE_URL")}
    commands: dict[str, Callable[[], list[str]]] = {
        "--help": lambda: ["--help"],
        "validate": lambda: ["validate", "-w", "1", str(files[0])],
        "submit": lambda: ["submit", "-m", "ann", "-w", "1", str(next(pending))],
        "leaderboard": lambda: ["leaderboard", "1"],
    }

    cpu: dict[str, list[float]] = {name: [] for name in commands}

    def once(name: str) -> float:
        import resource

        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(
            [str(script), *commands[name]()], cwd=root, capture_output=True, text=True, env=env
        )
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU seconds beside the wall: on a loaded machine they show what an idle core needs.
        cpu[name].append(after.ru_utime - used.ru_utime + after.ru_stime - used.ru_stime)
        if proc.returncode != 0:
            raise RuntimeError(f"cohort {name} failed: {(proc.stdout + proc.stderr)[-2000:]}")
        return seconds

    for name in commands:  # once untimed each: the first submit, warm file caches
        once(name)
        cpu[name].clear()
    times: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for i in range(rounds):  # the order rotates, so drifting load hits every command
        for name in names[i % len(names) :] + names[: i % len(names)]:
            times[name].append(once(name))
    print(
        f"  (s) start-up: the real `cohort` script ({script.name}), process start to exit, "
        f"median of {rounds} (order rotated), load average {os.getloadavg()[0]:.1f}:"
    )
    ok = True
    for name, target in STARTUP.items():
        median = statistics.median(times[name])
        label = "cohort " + (
            name
            if name == "--help"
            else f"{name} (2,624-row file)"
            if name in ("validate", "submit")
            else f"{name} 1"
        )
        print(
            f"      {label:<40} {_stat(times[name])}; CPU median {statistics.median(cpu[name]):.2f} s"
        )
        ok &= _line(f"{label} (s, median)", median, f"< {target:g}", median < target)
    return ok


@contextmanager
def _season_files() -> Iterator[Path]:
    """Where the season's stored files live: in memory (/dev/shm) where there is one.

    Every figure on the season reads files just written, from the page cache, on any file
    system; on disk, the 0.5 GB of them were written back during the bench (disk traffic
    beside the timed runs) and removing them afterwards took 10-40 s of waiting on the
    disk. The database, whose commits the scoring runs wait for, stays on disk."""
    saved = os.environ.get(SUBMISSIONS_ENV)
    shm = Path("/dev/shm")
    where = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    try:
        with tempfile.TemporaryDirectory(prefix="cohort-bench-files-", dir=where) as name:
            yield Path(name)
    finally:
        if saved is None:
            os.environ.pop(SUBMISSIONS_ENV, None)
        else:
            os.environ[SUBMISSIONS_ENV] = saved


def run(quick: bool = False) -> bool:
    """Run the scoring benchmark; True when every target is met."""
    from cohort.sheets.roster import import_roster
    from cohort.workspace import Cohort

    n_reg, n_cls = (2000, 200) if quick else (20000, 2000)
    repeat = 3 if quick else REPEAT
    print(
        f"scoring bench: {n_reg:,} submissions x {REG_ROWS:,} rows (mae) + {n_cls:,} x {CLS_ROWS:,} rows "
        f"({CLASSES}-class accuracy), {MEMBERS} members; real `cohort` processes"
    )
    took: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:  # where the bench's own time goes, printed at the end
        nonlocal clock
        now = time.perf_counter()
        took[name] = took.get(name, 0.0) + now - clock
        clock = now

    with (
        tempfile.TemporaryDirectory(prefix="cohort-bench-") as name,
        _season_files() as files,
    ):
        tmp = Path(name)
        root = tmp / "season"
        root.mkdir()
        _write_cohort(root)
        os.environ[SUBMISSIONS_ENV] = str(files)
        cohort = Cohort.open(root)
        import_roster(cohort.store, root / "members.csv")
        start = time.perf_counter()
        for week, n, seed in (("01-quake", n_reg, 1), ("02-pets", n_cls, 2)):
            _generate(cohort, week, n, seed, raw_files=NAIVE_SAMPLE[quick] // len(WEEKS))
        first, _, _ = _cli(root, "score")
        print(
            f"  generated the load in {time.perf_counter() - start:.1f} s; first scoring {first:.2f} s"
        )
        lap("season")
        ok, a, peak = _rescore_figures(cohort, root, tmp, repeat)
        lap("rescore pairs")
        per_file, naive, picked = _naive(cohort, NAIVE_SAMPLE[quick])
        b = per_file * (n_reg + n_cls)
        ok &= _line(
            f"b / a (pandas loop, {len(picked)} files timed, x{n_reg + n_cls:,})",
            b / a,
            ">= 20",
            b / a >= 20,
        )
        lap("pandas loop")
        p = _per_process(cohort, root, PER_PROCESS_SAMPLE) * (n_reg + n_cls)
        ok &= _line(
            f"p / a (a fresh Python per file, sampled, ~{p / 3600:.1f} h)",
            p / a,
            ">= 100",
            p / a >= 100,
        )
        lap("per-process")
        diff = _check_agreement(cohort, naive, picked)
        ok &= _line(
            "max |score - scikit-learn| on the sample (x1e-12)", diff * 1e12, "< 1000", diff < 1e-9
        )
        ok &= _line(
            "peak RSS of the scoring processes (GiB)", peak / 2**30, "< 2", peak < 2 * 2**30
        )
        good = next((cohort.config.submissions_dir / "01-quake").glob("*.csv"))
        del os.environ[SUBMISSIONS_ENV]  # the other cohorts keep their files on disk
        lap("agreement")
        ok &= _first_time(tmp, n_reg // 10, n_cls // 10, repeat)
        lap("first-time parse")
        ok &= _worst_figures(root, tmp, good)
        lap("worst inputs")
        lap("start-up")
        cohort.store.dispose()
        lap("dispose")
    lap("clean-up")
    print(
        f"  scoring bench took {sum(took.values()):.0f} s: "
        + ", ".join(f"{k} {v:.0f}" for k, v in took.items())
    )
    print(f"  scoring targets {'met' if ok else 'NOT met'}")
    return ok


if __name__ == "__main__":
    sys.exit(0 if run("--quick" in sys.argv) else 1)
