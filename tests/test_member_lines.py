"""Board lines kept per member (`store.revision.by_members`, migration 0011's counters): after
any sequence of writes the kept, partly re-read lines equal a fresh read of the whole week.

Each write is one a season makes (a new entry, its score, a rescore of one file, an override,
a final selection, an extension, a deleted entry, a reveal, a switch of solution, a member
deactivated and back), on a random member; after each, every week's lines, first
submissions and on-time kernels are compared with the store read without any cache."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import text

from cohort.scoring import boards, deadlines
from cohort.scoring.solution import SCORER_VERSION
from cohort.store import bulk, revision
from cohort.store import members as store_members
from cohort.store import scores as store_scores
from cohort.store import selections as store_sel
from cohort.store import submissions as store_subs
from cohort.workspace import Cohort
from tests.test_board_lines import HANDLES, WEEKS, _season


def _fresh_lines(c: Cohort, week_id: str, every: bool) -> list[store_subs.BoardLine]:
    week = c.config.week(week_id)
    comp = week.competition
    with c.store.transaction() as tx:
        lines = store_subs.board_lines(
            tx,
            week.id,
            store_scores.scored_sha(tx, week.id),
            SCORER_VERSION,
            week.closes_at,
            store_scores.revealed_at(tx, week.id),
            comp.direction,
            comp.final_selections,
            every,
        )
    return sorted(lines, key=lambda ln: (ln.member_id, ln.submission_id))


def _kept_lines(c: Cohort, week_id: str, every: bool) -> list[store_subs.BoardLine]:
    lines = boards.board_lines(c, c.config.week(week_id), every_scored=every)
    return sorted(lines, key=lambda ln: (ln.member_id, ln.submission_id))


def _check(c: Cohort, step: str) -> None:
    for week_id in WEEKS:
        for every in (False, True):
            assert _kept_lines(c, week_id, every) == _fresh_lines(c, week_id, every), (
                step,
                week_id,
            )
        week = c.config.week(week_id)
        with c.store.transaction() as tx:
            kept_first = dict(
                (h, at)
                for _, h, at in revision.by_members(
                    tx,
                    "first_scored",
                    week_id,
                    None,
                    lambda m, w=week_id: store_sel.first_scored(tx, [w], m),
                    lambda row: row[0],
                )
            )
            fresh_first = store_sel.first_submissions(tx, [week_id])
            kept_on_time = deadlines.on_time(tx, week, week.closes_at)
            fresh_on_time = {
                h: at for _, h, at in deadlines._on_time(tx, week, week.closes_at, None, None)
            }
        assert kept_first == fresh_first, (step, week_id)
        assert kept_on_time == fresh_on_time, (step, week_id)


def _writes(c: Cohort, rng: np.random.Generator) -> list[tuple[str, object]]:
    with c.store.transaction() as tx:
        ids = dict(zip(HANDLES, bulk.member_ids(tx), strict=True))

    def member() -> tuple[str, int]:
        handle = HANDLES[int(rng.integers(len(HANDLES)))]
        return handle, ids[handle]

    def week():
        return c.config.week(list(WEEKS)[int(rng.integers(len(WEEKS)))])

    def some_submission(tx, week_id: str, member_id: int | None = None) -> int | None:
        query = "SELECT id FROM submissions WHERE week = :w" + (
            " AND member_id = :m" if member_id is not None else ""
        )
        found = [r[0] for r in tx.execute(text(query), {"w": week_id, "m": member_id})]
        return int(rng.choice(found)) if found else None

    def new_entry(tx) -> None:
        wk, (_, mid) = week(), member()
        sid = bulk.max_id(tx, "submissions") + 1
        link = rng.random() < 0.3
        bulk.insert_rows(
            tx,
            "submissions",
            [
                {
                    "id": sid,
                    "member_id": mid,
                    "week": wk.id,
                    "submitted_at": wk.closes_at - timedelta(hours=float(rng.uniform(-3, 40))),
                    "source": "test",
                    "notebook_url": f"https://colab.research.google.com/drive/n{sid}"
                    if link
                    else "",
                    "file_sha256": f"n{sid}",
                    "file_name": "p.csv",
                    "status": "scored",
                    "error": "",
                    "selected": False,
                }
            ],
        )
        if rng.random() < 0.8:
            bulk.insert_rows(
                tx,
                "scores",
                [
                    {
                        "submission_id": sid,
                        "solution_sha256": store_scores.scored_sha(tx, wk.id),
                        "scorer_version": SCORER_VERSION,
                        "public_score": float(rng.integers(0, 8)) / 4,
                        "private_score": float(rng.integers(0, 8)) / 4,
                        "scored_at": wk.closes_at,
                    }
                ],
            )

    def rescore_one(tx) -> None:
        sid = some_submission(tx, week().id)
        if sid is not None:
            tx.execute(
                text("UPDATE scores SET public_score = :p WHERE submission_id = :s"),
                {"p": float(rng.integers(0, 8)) / 4, "s": sid},
            )

    def override(tx) -> None:
        sid = some_submission(tx, week().id)
        if sid is not None:
            bulk.insert_rows(
                tx,
                "score_overrides",
                [
                    {
                        "submission_id": sid,
                        "public_score": 3.0,
                        "private_score": 0.0,
                        "reason": "t",
                        "created_by": "org",
                        "created_at": c.config.weeks[0].closes_at,
                    }
                ],
            )

    def select(tx) -> None:
        wk, (_, mid) = week(), member()
        sid = some_submission(tx, wk.id, mid)
        store_subs.set_selected(tx, mid, wk.id, [] if sid is None else [sid])

    def extend(tx) -> None:
        wk, (_, mid) = week(), member()
        tx.execute(
            text("DELETE FROM extensions WHERE member_id = :m AND week = :w"),
            {"m": mid, "w": wk.id},
        )
        bulk.insert_rows(
            tx,
            "extensions",
            [
                {
                    "member_id": mid,
                    "week": wk.id,
                    "until": wk.closes_at + timedelta(hours=float(rng.uniform(1, 30))),
                    "reason": "",
                    "actor": "org",
                    "created_at": wk.closes_at,
                }
            ],
        )

    def delete(tx) -> None:
        sid = some_submission(tx, week().id)
        if sid is not None:
            for table in ("score_overrides", "scores"):
                tx.execute(text(f"DELETE FROM {table} WHERE submission_id = :s"), {"s": sid})
            tx.execute(text("DELETE FROM submissions WHERE id = :s"), {"s": sid})

    def move(tx) -> None:  # an entry re-assigned to another member (a roster fix)
        sid = some_submission(tx, week().id)
        if sid is not None:
            tx.execute(
                text("UPDATE submissions SET member_id = :m WHERE id = :s"),
                {"m": member()[1], "s": sid},
            )

    def reveal(tx) -> None:
        wk = week()
        store_scores.set_revealed(
            tx, wk.id, wk.closes_at - timedelta(hours=float(rng.uniform(0, 20))), "org"
        )

    def switch_solution(tx) -> None:
        store_scores.set_scored_sha(tx, week().id, "sha-old")

    def deactivate(tx) -> None:
        handle, _ = member()
        store_members.set_active(tx, handle, False)

    def reactivate(tx) -> None:
        for handle in HANDLES:
            store_members.set_active(tx, handle, True)

    weighted = [new_entry] * 8 + [rescore_one, override, select, extend, delete, move] * 2
    rare = [reveal, switch_solution, deactivate, reactivate]
    return [(f.__name__, f) for f in weighted] + [(f.__name__, f) for f in rare]


@pytest.mark.parametrize(("seed", "fresh_process"), [(0, False), (1, False), (2, True), (3, True)])
def test_kept_lines_equal_a_fresh_read_after_every_write(
    make_cohort, seed: int, fresh_process: bool
) -> None:
    """`fresh_process`: the process's own kept values are forgotten before each check, as in a
    new CLI command, so every kept value comes from the database (migration 0012)."""
    c = _season(make_cohort, seed, reveal=False)
    rng = np.random.default_rng(100 + seed)
    writes = _writes(c, rng)
    _check(c, "start")
    for step in range(40):
        name, write = writes[int(rng.integers(len(writes)))]
        with c.store.transaction() as tx:
            write(tx)  # type: ignore[operator]
        if fresh_process:
            revision._KEPT.clear()
        _check(c, f"{step}: {name}")


def test_a_new_entry_moves_one_members_counter_in_one_week(make_cohort) -> None:
    c = _season(make_cohort, 0, reveal=False)
    one, two = WEEKS

    def counters() -> dict[tuple[str, int], int]:
        with c.store.transaction() as tx:
            rows = tx.execute(text("SELECT week, member_id, value FROM member_week_revisions"))
            return {(w, m): v for w, m, v in rows}

    with c.store.transaction() as tx:
        ids = bulk.member_ids(tx)
        sid = bulk.max_id(tx, "submissions") + 1
    before = counters()
    week = c.config.week(one)
    with c.store.transaction() as tx:
        bulk.insert_rows(
            tx,
            "submissions",
            [
                {
                    "id": sid,
                    "member_id": ids[2],
                    "week": one,
                    "submitted_at": week.opens_at,
                    "source": "test",
                    "notebook_url": "",
                    "file_sha256": "x",
                    "file_name": "p.csv",
                    "status": "scored",
                    "error": "",
                    "selected": False,
                }
            ],
        )
    after = counters()
    assert {k for k in after if after[k] != before.get(k)} == {(one, ids[2])}
    with c.store.transaction() as tx:
        store_scores.set_revealed(tx, two, week.closes_at, "org")
    again = counters()
    assert {k for k in again if again[k] != after.get(k)} == {(two, 0)}
    with c.store.transaction() as tx:
        bulk.insert_rows(
            tx,
            "contributions",
            [
                {
                    "member_id": ids[0],
                    "week": one,
                    "kind": "attended",
                    "value": 1.0,
                    "note": "",
                    "evidence": {},
                    "source": "manual",
                    "recorded_by": "t",
                    "recorded_at": week.closes_at,
                }
            ],
        )
        # Contribution events have a counter of their own, and touch no board's.
    assert counters() == again
    with c.store.transaction() as tx:
        (value,), _ = revision.weeks_stamp(tx, [revision.CONTRIBUTIONS])
    assert value >= 1
