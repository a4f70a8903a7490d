"""App benchmark: the standings page on 1,000 members and 50,000 submissions vs 50 submissions.

Both cohorts are real: four weeks with a solution.csv each. The small one gets
its 50 submissions through `intake.submit_bytes` and `runs.score_pending`.
The big one gets one real scored submission per week (which records the
week's solution hash and scorer version), then 1,000 members, 50,000
submissions with their scores and 5,000 contribution events through the bulk
loaders. The page is timed with Streamlit's AppTest, order-neutral (see
`_time_standings`): cold (a write to the store just invalidated the cache) and warm
(what every viewer after the first gets). Target: both time(50k) / time(50) <= 2.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cohort.store import bulk, revision
from cohort.workspace import Cohort

TARGET = 2.0
WEEKS = ("01-w", "02-w", "03-w", "04-w")
ROWS = 2624  # the size of a realistic week (the LANL-style regression weeks)
APP = Path(__file__).resolve().parents[3] / "leaderboard_app" / "app.py"

WEEK_TOML = """title = "Bench week {n}"
opens = {opens}
closes = {closes}

[competition]
metric = "accuracy"
target_columns = ["label"]
daily_limit = 1000
"""


def _write_cohort(root: Path, members: int) -> Cohort:
    """A cohort with four closed weeks and `members` members (bulk), solution files included."""
    from cohort.sheets.roster import import_roster

    root.mkdir(parents=True)
    for n, week in enumerate(WEEKS):
        (root / "weeks" / week).mkdir(parents=True)
        (root / "weeks" / week / "week.toml").write_text(
            WEEK_TOML.format(n=n + 1, opens=7 * n, closes=7 * n + 7)
        )
    weeks = ", ".join(f'"{w}"' for w in WEEKS)
    (root / "cohort.toml").write_text(
        f'name = "bench"\ntimezone = "UTC"\nstart = 2025-01-06\nweeks = [{weeks}]\n'
    )
    (root / "submissions").mkdir()
    handles = [f"b{i:04d}" for i in range(members)]
    (root / "members.csv").write_text(
        "handle,name,email,kaggle_username\n" + "".join(f"{h},Bench {h},,\n" for h in handles)
    )
    cohort = Cohort.open(root)
    import_roster(cohort.store, root / "members.csv")
    rng = np.random.default_rng(0)
    for week in WEEKS:
        path = cohort.config.solution_path(cohort.config.week(week))
        path.parent.mkdir(parents=True)
        pd.DataFrame(
            {
                "id": [f"r{i}" for i in range(ROWS)],
                "label": rng.choice(["a", "b"], ROWS),
                "Usage": rng.choice(["Public", "Private"], ROWS, p=[0.3, 0.7]),
            }
        ).to_csv(path, index=False)
    return cohort


def _submit_real(cohort: Cohort, count: int, seed: int) -> None:
    """`count` real submissions spread over members and weeks, then scored."""
    from cohort.scoring import intake, runs
    from cohort.sheets.roster import list_members

    rng = np.random.default_rng(seed)
    handles = [m.handle for m in list_members(cohort.store)]
    for i in range(count):
        week = cohort.config.week(WEEKS[i % len(WEEKS)])
        solution = pd.read_csv(cohort.config.solution_path(week))
        labels = np.where(rng.random(ROWS) < 0.7, solution["label"], rng.choice(["a", "b"], ROWS))
        data = pd.DataFrame({"id": solution["id"], "label": labels}).to_csv(index=False).encode()
        intake.submit_bytes(
            cohort,
            handles[i % len(handles)],
            week.id,
            data,
            "p.csv",
            at=week.opens_at + timedelta(hours=1 + i),
            score=False,
        )
    runs.score_pending(cohort, progress=False)


def _bulk_fill(cohort: Cohort, submissions: int, events: int) -> None:
    """Copy the real score stamps onto `submissions` bulk rows with random scores."""
    rng = np.random.default_rng(1)
    with cohort.store.transaction() as tx:
        member_ids = bulk.member_ids(tx)
        stamps = {w: revision.score_stamp(tx, w) for w in WEEKS}
        if None in stamps.values():
            raise RuntimeError(
                "A bench week has no scored submission to copy; the scorer did not score it."
            )
        first = bulk.max_id(tx, "submissions") + 1
        subs, scores = [], []
        for k in range(submissions):
            week = cohort.config.week(WEEKS[k % len(WEEKS)])
            sha, version, file_sha = stamps[week.id]  # type: ignore[misc]
            sid = first + k
            subs.append(
                {
                    "id": sid,
                    # Every member in every week (k % 4 picks the week, k // 4 the member).
                    "member_id": member_ids[(k // len(WEEKS)) % len(member_ids)],
                    "week": week.id,
                    "submitted_at": week.opens_at + timedelta(minutes=int(rng.integers(60, 9000))),
                    "source": "bench",
                    "notebook_url": "",
                    "file_sha256": file_sha,
                    "file_name": "p.csv",
                    "status": "scored",
                    "error": "",
                    "selected": False,
                }
            )
            scores.append(
                {
                    "submission_id": sid,
                    "solution_sha256": sha,
                    "scorer_version": version,
                    "public_score": float(rng.uniform(0.5, 0.95)),
                    "private_score": float(rng.uniform(0.5, 0.95)),
                    "scored_at": week.closes_at,
                }
            )
        bulk.insert_rows(tx, "submissions", subs)
        bulk.insert_rows(tx, "scores", scores)
        kinds = ("attended", "helped")
        bulk.insert_rows(
            tx,
            "contributions",
            [
                {
                    "member_id": member_ids[(k // len(WEEKS)) % len(member_ids)],
                    "week": WEEKS[k % len(WEEKS)],
                    "kind": kinds[k % 2],
                    "value": 1.0,
                    "note": "",
                    "evidence": {},
                    "source": "manual",
                    "recorded_by": "bench",
                    "recorded_at": cohort.config.weeks[0].closes_at,
                }
                for k in range(events)
            ],
        )


def _touch(root: Path) -> None:
    """One write to the store (an audit entry): the page's caches miss, the standings are the same."""
    from cohort.store import audit
    from cohort.workspace import utcnow

    cohort = Cohort.open(root)
    with cohort.store.transaction() as tx:
        audit.record(tx, utcnow(), "bench", "bench_touch", "cache")
    cohort.store.dispose()


def _submit_one(root: Path, round_: int, weeks: Sequence[str] = WEEKS) -> None:
    """A member's new scored entry in one week (a different week each round): the write a
    workshop makes most. That week's lines are read again; the other weeks' stay cached."""
    from cohort.scoring.solution import SCORER_VERSION

    cohort = Cohort.open(root)
    week = cohort.config.week(weeks[round_ % len(weeks)])
    with cohort.store.transaction() as tx:
        stamp = revision.score_stamp(tx, week.id)
        assert stamp is not None, "the bench week has a scored submission to copy"
        sid = bulk.max_id(tx, "submissions") + 1
        bulk.insert_rows(
            tx,
            "submissions",
            [
                {
                    "id": sid,
                    "member_id": bulk.member_ids(tx)[round_],
                    "week": week.id,
                    "submitted_at": week.closes_at - timedelta(minutes=1 + round_),
                    "source": "bench",
                    "notebook_url": "",
                    "file_sha256": stamp[2],
                    "file_name": "p.csv",
                    "status": "scored",
                    "error": "",
                    "selected": False,
                }
            ],
        )
        bulk.insert_rows(
            tx,
            "scores",
            [
                {
                    "submission_id": sid,
                    "solution_sha256": stamp[0],
                    "scorer_version": SCORER_VERSION,
                    "public_score": 0.97,
                    "private_score": 0.97,
                    "scored_at": week.closes_at,
                }
            ],
        )
    cohort.store.dispose()


def _time_standings(
    roots: dict[str, Path], repeats: int, write: Any = None
) -> dict[str, tuple[float, float]]:
    """Per cohort: (cold, warm) median seconds of one AppTest run of the standings page.

    Order-neutral: in each round both stores are written first (so both views are cold),
    then the cohorts run cold one after the other, the first alternating between rounds
    (whichever runs first absorbs first-render costs, so each does half the time); then
    each runs warm, again alternating. A first, untimed round warms the Python imports.
    """
    from streamlit.testing.v1 import AppTest

    before = os.environ.get("COHORT_ROOT")
    cold: dict[str, list[float]] = {name: [] for name in roots}
    warm: dict[str, list[float]] = {name: [] for name in roots}
    tests: dict[str, AppTest] = {}

    def timed(name: str) -> float:
        os.environ["COHORT_ROOT"] = str(roots[name])
        start = time.perf_counter()
        tests[name].run()
        return time.perf_counter() - start

    try:
        for name, root in roots.items():
            os.environ["COHORT_ROOT"] = str(root)
            tests[name] = AppTest.from_file(str(APP), default_timeout=600).run()
            tests[name].switch_page("views/standings.py")
        names = list(roots)
        for round_ in range(repeats + 1):
            order = names if round_ % 2 == 0 else names[::-1]
            for name in names:
                if write is None:
                    _touch(roots[name])
                else:
                    write(roots[name], round_)
            for name in order:
                took = timed(name)
                if round_:
                    cold[name].append(took)
            for name in order:
                took = timed(name)
                if round_:
                    warm[name].append(took)
    finally:
        if before is None:
            os.environ.pop("COHORT_ROOT", None)
        else:
            os.environ["COHORT_ROOT"] = before
    for name, at in tests.items():
        if at.exception:
            raise RuntimeError(
                f"The standings page failed on the {name} cohort: {at.exception[0].value}"
            )
    return {name: (statistics.median(cold[name]), statistics.median(warm[name])) for name in roots}


def run(quick: bool = False) -> bool:
    """Build both cohorts, time the standings page on each, print the ratios; True if both met."""
    members, subs = (200, 5_000) if quick else (1_000, 50_000)
    with tempfile.TemporaryDirectory() as tmp:
        small = _write_cohort(Path(tmp) / "small", 10)
        _submit_real(small, 50, seed=2)
        big = _write_cohort(Path(tmp) / "big", members)
        start = time.perf_counter()
        _submit_real(big, len(WEEKS), seed=3)
        _bulk_fill(big, subs - len(WEEKS), events=members * 5)
        load = time.perf_counter() - start
        small.store.dispose()
        big.store.dispose()
        roots = {"small": small.root, "big": big.root}
        timed = _time_standings(roots, repeats=4 if quick else 6)
        entry = _time_standings(roots, repeats=4 if quick else 6, write=_submit_one)
    (small_cold, small_warm), (big_cold, big_warm) = timed["small"], timed["big"]
    cold_ratio, warm_ratio = big_cold / small_cold, big_warm / small_warm
    entry_ratio = entry["big"][0] / entry["small"][0]
    print(
        f"app: loaded {members} members and {subs} submissions ({ROWS}-row weeks) in {load:.1f} s"
    )
    print(f"app: standings page, 50 submissions: cold {small_cold:.3f} s, warm {small_warm:.3f} s")
    print(f"app: standings page, {subs} submissions: cold {big_cold:.3f} s, warm {big_warm:.3f} s")
    print(
        f"app: after a new entry in one week: cold {entry['small'][0]:.3f} s (50), "
        f"{entry['big'][0]:.3f} s ({subs})"
    )
    met = cold_ratio <= TARGET and warm_ratio <= TARGET and entry_ratio <= TARGET
    print(
        f"app: time({subs}) / time(50), order-neutral medians: cold {cold_ratio:.2f} (after any "
        f"write), {entry_ratio:.2f} (after a new entry), warm {warm_ratio:.2f}; "
        f"target <= {TARGET} for all: {'met' if met else 'NOT met'}"
    )
    return met
