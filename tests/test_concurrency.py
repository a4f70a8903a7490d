"""Intake under real concurrency, on SQLite and on PostgreSQL: real processes, released at once.

Nothing here uses threads: each member is a forked process with its own connection, as
members submitting from the app or the CLI are. Each test runs on both stores
(`any_store_url`); the Postgres case skips, naming why, without a reachable server.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cohort.errors import IntakeRefused
from cohort.scoring import boards, intake, integrity, parsed, runs
from cohort.sheets.roster import import_roster
from cohort.store import submissions as store_subs
from cohort.workspace import Cohort
from tests.conftest import write_roster

N_IDS = 200
IDS = [f"r{i:03d}" for i in range(N_IDS)]
AT = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
WEEK = "01-reg"
FORK = mp.get_context("fork")


def _season(make_cohort: Any, url: str, members: int, limit: int) -> Path:
    root = make_cohort({WEEK: {"metric": "mae", "targets": ("target",), "daily_limit": limit}})
    (root / "data" / WEEK).mkdir(parents=True)
    usage = ["Public"] * 60 + ["Private"] * (N_IDS - 60)
    pd.DataFrame({"id": IDS, "target": np.arange(N_IDS, dtype=float), "Usage": usage}).to_csv(
        root / "data" / WEEK / "solution.csv", index=False
    )
    write_roster(
        root, [(f"m{i:02d}", f"Member {i}", f"m{i}@example.org", "") for i in range(members)]
    )
    cohort = Cohort.open(root, url)
    import_roster(cohort.store, root / "members.csv")
    cohort.store.dispose()  # children open their own connections
    return root


def _csv(offset: float) -> bytes:
    values = np.arange(N_IDS, dtype=float) + offset
    return pd.DataFrame({"id": IDS, "target": values}).to_csv(index=False).encode()


def _submitter(
    root: str, url: str, handle: str, payloads: list[bytes], at: datetime, barrier: Any, out: Any
) -> None:
    """One member's process: wait for everyone, then submit each payload; report outcomes."""
    outcomes: list[tuple[str, Any]] = []
    try:
        cohort = Cohort.open(Path(root), url)
        barrier.wait(timeout=60)
        for data in payloads:
            try:
                result = intake.submit_bytes(cohort, handle, WEEK, data, "sub.csv", at=at)
                outcomes.append(("accepted", result.submission_id))
            except IntakeRefused:
                outcomes.append(("refused", None))
    except BaseException:  # noqa: BLE001 - report every failure to the parent
        outcomes.append(("crash", traceback.format_exc()))
    out.put((handle, outcomes))


def _rescorer(root: str, url: str, stop: Any, out: Any) -> None:
    """Rescore the whole season again and again until told to stop."""
    runs_done, failure = 0, ""
    try:
        cohort = Cohort.open(Path(root), url)
        while not stop.is_set():
            runs.score_pending(cohort, rescore=True, progress=False)
            runs_done += 1
    except BaseException:  # noqa: BLE001
        failure = traceback.format_exc()
    out.put(("rescore", runs_done, failure))


def _reader(root: str, url: str, stop: Any, out: Any) -> None:
    """Read the public board the way the app's Leaderboard page does, again and again."""
    reads, failure = 0, ""
    try:
        cohort = Cohort.open(Path(root), url)
        while not stop.is_set():
            boards.leaderboard(cohort, WEEK, private=False)
            reads += 1
    except BaseException:  # noqa: BLE001
        failure = traceback.format_exc()
    out.put(("reader", reads, failure))


def _files_of_accepted(cohort: Cohort) -> list[str]:
    """The stored-file problems of accepted submissions (empty when every file is there)."""
    week = cohort.config.week(WEEK)
    with cohort.store.transaction() as tx:
        rows = store_subs.stored_files(tx, WEEK)
    return [
        f"submission {sid}: no file {sha[:12]}"
        for sid, sha, _ in rows
        if parsed.raw_path(cohort, week, sha) is None
    ]


def _collect(queue: Any, n: int) -> list[Any]:
    return [queue.get(timeout=240) for _ in range(n)]


def test_same_bytes_at_one_instant_never_lose_the_accepted_file(
    make_cohort, any_store_url: str
) -> None:
    # A double click with one submission left: several processes submit the same bytes at
    # the same instant. One is accepted; the refused ones must not take its file with them.
    root = _season(make_cohort, any_store_url, members=1, limit=1)
    for day in range(5):  # repeated: each round is a new day with one submission left
        at, data = AT + timedelta(days=day), _csv(0.5 + day)
        barrier, out = FORK.Barrier(4), FORK.Queue()
        procs = [
            FORK.Process(
                target=_submitter, args=(str(root), any_store_url, "m00", [data], at, barrier, out)
            )
            for _ in range(4)
        ]
        for p in procs:
            p.start()
        results = [o for _, outs in _collect(out, 4) for o in outs]
        for p in procs:
            p.join(60)
        crashes = [o[1] for o in results if o[0] == "crash"]
        assert not crashes, crashes[0]
        assert sorted(o[0] for o in results) == ["accepted", "refused", "refused", "refused"]
        cohort = Cohort.open(root, any_store_url)
        assert _files_of_accepted(cohort) == []
        cohort.store.dispose()
    cohort = Cohort.open(root, any_store_url)
    report = integrity.check(cohort)
    assert report.consistent, [f.message for f in report.findings]
    # The accepted submissions still score from their files.
    runs.score_pending(cohort, rescore=True, progress=False)
    with cohort.store.transaction() as tx:
        rows = store_subs.scoring_rows(tx, WEEK, "", "x", None)
    assert set(rows["status"]) == {"scored"}


def test_first_intakes_of_a_week_by_many_members_at_once_all_land(
    make_cohort, any_store_url: str
) -> None:
    # Nobody has scored the week yet: each intake records the week's scoring state, and
    # on PostgreSQL they run at once; none may fail on the other's row.
    root = _season(make_cohort, any_store_url, members=6, limit=5)
    barrier, out = FORK.Barrier(6), FORK.Queue()
    procs = [
        FORK.Process(
            target=_submitter,
            args=(str(root), any_store_url, f"m{i:02d}", [_csv(i)], AT, barrier, out),
        )
        for i in range(6)
    ]
    for p in procs:
        p.start()
    results = [o for _, outs in _collect(out, 6) for o in outs]
    for p in procs:
        p.join(60)
    assert [o[0] for o in results] == ["accepted"] * 6, [o[1] for o in results if o[0] == "crash"]


def test_twenty_members_at_once_hold_the_limit_while_rescoring_and_reading(
    make_cohort, any_store_url: str
) -> None:
    members, limit, tries = 20, 5, 7
    root = _season(make_cohort, any_store_url, members=members, limit=limit)
    cohort = Cohort.open(root, any_store_url)
    for i in range(members):  # yesterday's files, so the rescore has work to read
        intake.submit_bytes(
            cohort, f"m{i:02d}", WEEK, _csv(i), "old.csv", at=AT - timedelta(days=1)
        )
    cohort.store.dispose()
    barrier, out, stop = FORK.Barrier(members), FORK.Queue(), FORK.Event()
    background = [
        FORK.Process(target=_rescorer, args=(str(root), any_store_url, stop, out)),
        FORK.Process(target=_reader, args=(str(root), any_store_url, stop, out)),
    ]
    for p in background:
        p.start()
    # Every member tries 7 files; two of each member's are the bytes of another member's.
    payloads = {
        f"m{i:02d}": [
            _csv(100 * i + k if k < tries - 2 else 100 * ((i + 1) % members) + k - (tries - 2))
            for k in range(tries)
        ]
        for i in range(members)
    }
    procs = [
        FORK.Process(target=_submitter, args=(str(root), any_store_url, h, p, AT, barrier, out))
        for h, p in payloads.items()
    ]
    for p in procs:
        p.start()
    results = dict(_collect(out, members))
    stop.set()
    done = _collect(out, 2)
    for p in procs + background:
        p.join(60)
    crashes = [o[1] for outs in results.values() for o in outs if o[0] == "crash"]
    assert not crashes, crashes[0]
    assert all(failure == "" for _, _, failure in done), [f for _, _, f in done if f][0]
    assert {h: sum(o[0] == "accepted" for o in outs) for h, outs in results.items()} == {
        h: limit for h in payloads
    }
    cohort = Cohort.open(root, any_store_url)
    with cohort.store.transaction() as tx:
        rows = store_subs.scoring_rows(tx, WEEK, "", "x", None)
    assert len(rows) == members * (limit + 1)  # no row lost, none extra
    assert _files_of_accepted(cohort) == []
    assert integrity.check(cohort, repair=True).consistent
    runs.score_pending(cohort, rescore=True, progress=False)
    board = boards.leaderboard(cohort, WEEK, private=False)
    assert len(board.rows) == members


# ---------------------------------------------------------------- kill -9


def _rescore_until_killed(root: str, url: str, path: str, ready: Any) -> None:
    """Rescore in small batches, telling the parent after the first batch is committed: on
    cohort.store, or on the driver (`cohort score`'s way on a store at head)."""
    from cohort import rawstore
    from cohort.store import scores as store_scores

    runs.BATCH = 5
    cohort = Cohort.open(Path(root), url)
    calls = {"n": 0}

    def slowed(real: Any) -> Any:
        def slow_upsert(*args: Any) -> None:
            real(*args)
            calls["n"] += 1
            if calls["n"] == 2:
                ready.set()  # one batch committed, the second one in its open transaction
                time.sleep(60)

        return slow_upsert

    if path == "store":
        store_scores.upsert_many = slowed(store_scores.upsert_many)
        runs.score_pending(cohort, rescore=True, progress=False)
    else:
        rawstore.RawStore.upsert_scores = slowed(rawstore.RawStore.upsert_scores)  # type: ignore[method-assign]
        runs.score_at(cohort.config, url, lambda: cohort, rescore=True, progress=False)


def _submit_until_killed(root: str, url: str, data: bytes, where: str, ready: Any) -> None:
    """Submit one file and stop dead midway: in the temp file write, or before the commit."""
    cohort = Cohort.open(Path(root), url)
    if where == "write":
        real_write = parsed._write_once

        def half_write(path: Path, write: Any) -> bool:
            def partial(fh: Any) -> None:
                fh.write(data[: len(data) // 2])
                fh.flush()
                ready.set()
                time.sleep(60)

            return real_write(path, partial)

        parsed._write_once = half_write  # type: ignore[assignment]
    else:
        real_score = runs.score_new

        def stuck(*args: Any) -> Any:
            value = real_score(*args)
            ready.set()  # row inserted and scored, not committed
            time.sleep(60)
            return value

        runs.score_new = stuck  # type: ignore[assignment]
    intake.submit_bytes(cohort, "m00", WEEK, data, "sub.csv", at=AT)


def _kill_when(target: Any, args: tuple[Any, ...]) -> None:
    ready = FORK.Event()
    proc = FORK.Process(target=target, args=(*args, ready))
    proc.start()
    assert ready.wait(60), "the child never reached the point where it is killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    assert proc.exitcode == -signal.SIGKILL


@pytest.mark.parametrize("path", ["store", "driver"])
def test_kill_9_of_a_rescore_midway_resumes_to_the_same_board(
    make_cohort, any_store_url: str, path: str
) -> None:
    root = _season(make_cohort, any_store_url, members=6, limit=5)
    cohort = Cohort.open(root, any_store_url)
    for i in range(6):
        for k in range(4):
            intake.submit_bytes(cohort, f"m{i:02d}", WEEK, _csv(i + k / 10), "s.csv", at=AT)
    expected = [(r.handle, r.score) for r in boards.leaderboard(cohort, WEEK, private=False).rows]
    # A new solution (same ids, new targets): every score must be rewritten.
    sol = root / "data" / WEEK / "solution.csv"
    frame = pd.read_csv(sol)
    frame["target"] = frame["target"] * 2
    frame.to_csv(sol, index=False)
    cohort.store.dispose()
    _kill_when(_rescore_until_killed, (str(root), any_store_url, path))
    cohort = Cohort.open(root, any_store_url)
    # Members still see the old solution's board in full: never a mix of the two.
    assert [
        (r.handle, r.score) for r in boards.leaderboard(cohort, WEEK, private=False).rows
    ] == expected
    if path == "store":
        report = runs.score_pending(cohort, rescore=True, progress=False)
    else:
        cohort.store.dispose()  # the driver's run opens its own connection

        def refused() -> Cohort:
            raise AssertionError("a store at head is scored on the driver")

        report = runs.score_at(cohort.config, any_store_url, refused, rescore=True, progress=False)
    assert report.resumed
    resumed = boards.leaderboard(cohort, WEEK, private=False).rows
    fresh = runs.score_pending(cohort, rescore=True, progress=False)
    assert fresh.scored == 24 and not fresh.rank_changes and not fresh.resumed
    again = boards.leaderboard(cohort, WEEK, private=False).rows
    # The same board as one uninterrupted rescore (scores to rounding: the killed run scored
    # in batches of 5, and a batch's shape can change a mean in its last bit).
    assert [r.handle for r in resumed] == [r.handle for r in again]
    assert [r.score for r in resumed] == pytest.approx([r.score for r in again], rel=1e-12)
    assert [r.score for r in resumed] != pytest.approx([s for _, s in expected], rel=1e-6)
    assert integrity.check(cohort).consistent


@pytest.mark.parametrize("where", ["write", "commit"])
def test_kill_9_of_a_submit_midway_leaves_nothing_counted_and_check_repairs(
    make_cohort, any_store_url: str, where: str
) -> None:
    root = _season(make_cohort, any_store_url, members=1, limit=2)
    data = _csv(0.25)
    _kill_when(_submit_until_killed, (str(root), any_store_url, data, where))
    cohort = Cohort.open(root, any_store_url)
    week_dir = cohort.config.submissions_dir / WEEK
    left_behind = sorted(p.name for p in week_dir.rglob("*") if p.is_file())
    assert left_behind, "the kill left nothing behind; the test did not kill midway"
    before = integrity.check(cohort)
    assert not before.consistent and all(f.repairable for f in before.findings)
    # The killed intake's row never committed: the member still has both submissions.
    assert intake.remaining_today(cohort, "m00", WEEK, at=AT) == 2
    repaired = integrity.check(cohort, repair=True)
    assert {f.kind for f in repaired.repaired} <= {"temp_file", "orphan_file", "orphan_parsed"}
    assert integrity.check(cohort).consistent
    assert not [p for p in week_dir.rglob("*") if p.is_file()]
    # The same file submits cleanly afterwards.
    result = intake.submit_bytes(cohort, "m00", WEEK, data, "sub.csv", at=AT)
    assert result.remaining_today == 1
    assert integrity.check(cohort).consistent


def test_the_next_intake_sweeps_a_killed_writers_temp_file(make_cohort, any_store_url: str) -> None:
    root = _season(make_cohort, any_store_url, members=1, limit=5)
    _kill_when(_submit_until_killed, (str(root), any_store_url, _csv(0.75), "write"))
    cohort = Cohort.open(root, any_store_url)
    temps = lambda: sorted(cohort.config.submissions_dir.rglob(f"{parsed.TEMP_PREFIX}*"))  # noqa: E731
    assert temps()
    intake.submit_bytes(cohort, "m00", WEEK, _csv(1.5), "other.csv", at=AT)
    assert temps() == []
    assert integrity.check(cohort).consistent
