"""Board lines kept per member (`store.revision.by_members`, migration 0011's counters): after
any sequence of writes the kept, partly re-read lines equal a fresh read of the whole week.

Each write is one a season makes (a new entry, its score, a rescore of one file, an override,
a final selection, an extension, a deleted entry, a reveal, a switch of solution, a member
deactivated and back), on a random member; after each, every week's lines, first
submissions and on-time kernels are compared with the store read without any cache."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from cohort import rawstore
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

    def rescore_batch(tx) -> None:  # a scoring run's batch (migration 0013's path on SQLite)
        wk = week()
        found = [
            r[0]
            for r in tx.execute(
                text("SELECT id FROM submissions WHERE week = :w AND file_sha256 != ''"),
                {"w": wk.id},
            )
        ]
        if found:
            chosen = rng.choice(found, size=min(len(found), int(rng.integers(1, 6))), replace=False)
            sha = store_scores.scored_sha(tx, wk.id)
            store_scores.upsert_many(
                tx,
                [
                    {
                        "submission_id": int(sid),
                        "solution_sha256": sha,
                        "scorer_version": SCORER_VERSION,
                        "public_score": float(rng.integers(0, 8)) / 4,
                        "private_score": float(rng.integers(0, 8)) / 4,
                        "scored_at": wk.closes_at,
                    }
                    for sid in chosen
                ],
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

    weighted = [new_entry] * 8 + [
        rescore_one,
        rescore_batch,
        override,
        select,
        extend,
        delete,
        move,
    ] * 2
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


def _counters(c: Cohort) -> tuple[dict[tuple[str, int], int], dict[str, int]]:
    with c.store.transaction() as tx:
        members = {
            (w, m): v
            for w, m, v in tx.execute(
                text("SELECT week, member_id, value FROM member_week_revisions")
            )
        }
        weeks = dict(tx.execute(text("SELECT week, value FROM week_revisions")).all())
    return members, weeks


def _moved(before: dict, after: dict) -> set:  # type: ignore[type-arg]
    return {k for k in after if after[k] != before.get(k)}


@pytest.mark.sqlite_only
def test_a_scoring_batch_moves_the_counters_of_what_it_wrote_and_leaves_the_triggers_on(
    make_cohort,
) -> None:
    """Migration 0013: a batch written by a scoring run on SQLite bumps the counters itself
    (the row triggers stand aside), exactly those of the members and week it wrote; the
    triggers are on again for every other writer, also after a batch that failed part-way."""
    c = _season(make_cohort, 0, reveal=False)
    one, two = WEEKS
    with c.store.transaction() as tx:
        sha = store_scores.scored_sha(tx, one)
        picked = tx.execute(
            text(
                "SELECT id, member_id FROM submissions WHERE week = :w AND file_sha256 != '' "
                "ORDER BY id LIMIT 200"
            ),
            {"w": one},
        ).all()
    owners = sorted({m for _, m in picked})[:2]
    chosen = [sid for sid, m in picked if m in owners]
    owner = dict(picked)
    assert len(owners) == 2 and len(chosen) > 2
    rows = [
        {
            "submission_id": sid,
            "solution_sha256": sha,
            "scorer_version": SCORER_VERSION,
            "public_score": 9.5,
            "private_score": 9.5,
            "scored_at": c.config.week(one).closes_at,
        }
        for sid in chosen
    ]
    before = _counters(c)
    raw = rawstore.open_current(c.store.url)
    assert raw is not None
    with raw, raw.writing() as db:
        db.upsert_scores(rows)  # the driver's path: one statement for the batch
    after = _counters(c)
    assert _moved(before[0], after[0]) == {(one, m) for m in owners}
    assert _moved(before[1], after[1]) == {one}
    assert after[1][one] == before[1][one] + 1  # once for the batch, not once a row
    with c.store.transaction() as tx:
        assert tx.execute(text("SELECT count(*) FROM bulk_score_writes")).scalar() == 0
        store_scores.upsert_many(tx, rows[:1])  # the store's path, the same statements
    again = _counters(c)
    assert _moved(after[0], again[0]) == {(one, owner[chosen[0]])}
    # Any other writer of scores still moves its member's counter (the triggers are on).
    with c.store.transaction() as tx:
        tx.execute(
            text("UPDATE scores SET public_score = 1.5 WHERE submission_id = :s"),
            {"s": chosen[-1]},
        )
    last = _counters(c)
    assert _moved(again[0], last[0]) == {(one, owner[chosen[-1]])}

    # A batch whose last row fails (no such submission), its error caught and the rest
    # committed anyway: the rows written before it still moved their counters, and the
    # triggers are on again.
    conn = sqlite3.connect(c.root / "cohort.db")
    rawstore.sqlite_pragmas(conn)
    bad = [(chosen[0], "other-sha", SCORER_VERSION, 1.0, 1.0, "2027-01-20 00:00:00.000000")]
    bad.append((10**9, "other-sha", SCORER_VERSION, 1.0, 1.0, "2027-01-20 00:00:00.000000"))
    cur = conn.cursor()
    with pytest.raises(sqlite3.IntegrityError):
        rawstore.write_scores_sqlite(cur, bad)
    conn.commit()
    conn.close()
    # On a connection that commits each statement the marker would be committed: refused
    # before any write.
    auto = sqlite3.connect(c.root / "cohort.db", isolation_level=None)
    rawstore.sqlite_pragmas(auto)
    with pytest.raises(RuntimeError, match="inside a transaction"):
        rawstore.write_scores_sqlite(auto.cursor(), bad[:1])
    assert auto.execute("SELECT count(*) FROM bulk_score_writes").fetchone() == (0,)
    auto.close()
    # A row without an id fails before the marker goes in (nothing to leave behind).
    conn = sqlite3.connect(c.root / "cohort.db")
    with pytest.raises(TypeError):
        rawstore.write_scores_sqlite(conn.cursor(), [(None, *bad[0][1:])])
    conn.commit()
    assert conn.execute("SELECT count(*) FROM bulk_score_writes").fetchone() == (0,)
    conn.close()
    failed = _counters(c)
    assert _moved(last[0], failed[0]) == {(one, owner[chosen[0]])}
    with c.store.transaction() as tx:
        assert tx.execute(text("SELECT count(*) FROM bulk_score_writes")).scalar() == 0
        tx.execute(
            text("UPDATE scores SET public_score = 2.5 WHERE submission_id = :s"),
            {"s": chosen[0]},
        )
    assert _moved(failed[0], _counters(c)[0]) == {(one, owner[chosen[0]])}
    assert two in after[1] and after[1][two] == before[1][two]
    c.store.dispose()


@pytest.mark.sqlite_only
def test_migration_0013_keeps_the_triggers_bodies_and_takes_them_back(make_cohort) -> None:
    from alembic import command
    from alembic.config import Config

    c = _season(make_cohort, 0, reveal=False)
    db = c.root / "cohort.db"

    def triggers() -> dict[str, str]:
        conn = sqlite3.connect(db)
        try:
            return dict(
                conn.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name = 'scores'"
                ).fetchall()
            )
        finally:
            conn.close()

    at_head = triggers()
    assert len(at_head) == 6
    assert all(
        "WHEN NOT EXISTS (SELECT 1 FROM bulk_score_writes)" in sql for sql in at_head.values()
    )

    def alembic(step: Any, target: str) -> None:
        config = Config()
        config.set_main_option("script_location", str(rawstore.MIGRATIONS))
        with c.store.engine.begin() as conn:
            config.attributes["connection"] = conn
            step(config, target)

    alembic(command.downgrade, "0012")
    back = triggers()
    assert back == {
        name: sql.replace(" WHEN NOT EXISTS (SELECT 1 FROM bulk_score_writes)", "")
        for name, sql in at_head.items()
    }
    assert "bulk_score_writes" not in c.store.table_names()
    alembic(command.upgrade, "heads")
    assert triggers() == at_head

    # A store whose trigger was dropped by hand is refused before anything changes.
    alembic(command.downgrade, "0012")
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER week_rev_m_scores_update")
    conn.close()
    with pytest.raises(RuntimeError, match="week_rev_m_scores_update is not as migrations"):
        alembic(command.upgrade, "heads")
    assert "bulk_score_writes" not in c.store.table_names()
    assert len(triggers()) == 5
    c.store.dispose()
