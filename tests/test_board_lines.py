"""The store-ranked board (`board_lines`, a few rows per member) against the week frame's rule
(`best_per_member` / `counted_ids` on every submission), on random seasons with every quirk:
ties, unscored and failed files, link-only entries, selections, overrides, extensions, late
entries, a reveal, a deactivated member, a stale scorer version."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from cohort.scoring import boards
from cohort.scoring.solution import SCORER_VERSION
from cohort.sheets.roster import import_roster, set_active
from cohort.store import bulk
from cohort.store import scores as store_scores
from cohort.workspace import Cohort
from tests.conftest import write_roster

WEEKS = {"01-max": {"metric": "accuracy"}, "02-min": {"metric": "mae", "targets": ("target",)}}
HANDLES = [f"m{i:02d}" for i in range(14)]


def _season(make_cohort, seed: int, reveal: bool) -> Cohort:
    root = make_cohort({w: {**kw, "final_selections": 2} for w, kw in WEEKS.items()})
    write_roster(root, [(h, f"Name {h}", "", "") for h in HANDLES])
    c = Cohort.open(root)
    import_roster(c.store, root / "members.csv")
    rng = np.random.default_rng(seed)
    with c.store.transaction() as tx:
        ids = dict(zip(HANDLES, bulk.member_ids(tx), strict=True))
        sid = bulk.max_id(tx, "submissions")
        for week_id in WEEKS:
            week = c.config.week(week_id)
            store_scores.set_scored_sha(tx, week.id, "sha-now")
            subs, scores, overrides, picked = [], [], [], set()
            for _ in range(160):
                sid += 1
                handle = HANDLES[int(rng.integers(len(HANDLES)))]
                # Some before, most during, some after the close (late unless extended).
                at = week.closes_at + timedelta(hours=float(rng.uniform(-150, 30)))
                link_only = rng.random() < 0.05
                select = rng.random() < 0.08 and (ids[handle], week.id) not in picked
                subs.append(
                    {
                        "id": sid,
                        "member_id": ids[handle],
                        "week": week.id,
                        "submitted_at": at.replace(microsecond=0) if rng.random() < 0.2 else at,
                        "source": "test",
                        "notebook_url": "",
                        "file_sha256": "" if link_only else f"f{sid}",
                        "file_name": "p.csv",
                        "status": "failed" if rng.random() < 0.05 else "scored",
                        "error": "",
                        "selected": bool(select),
                    }
                )
                if rng.random() < 0.9:  # some never scored, some scored by an old solution
                    scores.append(
                        {
                            "submission_id": sid,
                            "solution_sha256": "sha-old" if rng.random() < 0.05 else "sha-now",
                            "scorer_version": SCORER_VERSION,
                            "public_score": float(rng.integers(0, 6)) / 5,  # many ties
                            "private_score": None
                            if rng.random() < 0.05
                            else float(rng.integers(0, 6)) / 5,
                            "scored_at": week.closes_at,
                        }
                    )
                if rng.random() < 0.05:
                    for _ in range(int(rng.integers(1, 3))):  # the latest override wins
                        overrides.append(
                            {
                                "submission_id": sid,
                                "public_score": None if rng.random() < 0.3 else 0.9,
                                "private_score": float(rng.integers(0, 6)) / 5,
                                "reason": "test",
                                "created_by": "org",
                                "created_at": week.closes_at,
                            }
                        )
            bulk.insert_rows(tx, "submissions", subs)
            bulk.insert_rows(tx, "scores", scores)
            bulk.insert_rows(tx, "score_overrides", overrides)
            bulk.insert_rows(
                tx,
                "extensions",
                [
                    {
                        "member_id": ids[h],
                        "week": week.id,
                        "until": week.closes_at + timedelta(hours=float(rng.uniform(-5, 20))),
                        "reason": "",
                        "actor": "org",
                        "created_at": week.closes_at,
                    }
                    for h in rng.choice(HANDLES, 4, replace=False)
                ],
            )
            if reveal:
                store_scores.set_revealed(tx, week.id, week.closes_at - timedelta(hours=10), "org")
    set_active(c.store, HANDLES[3], False, "org")
    return c


def _by_frame(c: Cohort, week_id: str, private: bool) -> list[tuple]:
    week = c.config.week(week_id)
    frame = boards.week_frame(c, week)
    files = frame[frame["file_sha256"] != ""]
    board = boards._board_frame(files, week.competition, private)
    col = "private_score" if private else "public_score"
    stats = files.groupby("handle").agg(n=("submission_id", "size"), last=("submitted_at", "max"))
    return [
        (int(r["rank"]), r["handle"], float(r[col]), int(r["submission_id"]))
        + (int(stats.at[r["handle"], "n"]), stats.at[r["handle"], "last"].to_pydatetime())
        for r in board.to_dict("records")
    ]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("reveal", [False, True])
def test_the_store_ranked_board_is_the_week_frames_board(make_cohort, seed: int, reveal: bool):
    c = _season(make_cohort, seed, reveal)
    for week_id in WEEKS:
        for private in (False, True):
            got = [
                (r.rank, r.handle, r.score, r.submission_id, r.entries, r.last_submitted_at)
                for r in boards.leaderboard(
                    c,
                    week_id,
                    private=private,
                    now=c.config.weeks[-1].closes_at + timedelta(days=1),
                ).rows
            ]
            want = _by_frame(c, week_id, private)
            assert got == want, (week_id, private)
            assert HANDLES[3] not in {row[1] for row in got}  # deactivated
            assert len(got) >= 8  # the quirks leave a real board to compare


def _stamps(c: Cohort) -> dict[str, tuple[int, int]]:
    from cohort.store import revision

    with c.store.transaction() as tx:
        return {w: revision.week_stamp(tx, w) for w in WEEKS}


def test_every_kind_of_write_moves_its_weeks_revision_and_no_other(make_cohort) -> None:
    """The board-lines cache keys on per-week revisions that database triggers keep; each
    write a board depends on moves its own week's (members: every week's), never another's."""
    from cohort.store import members as store_members
    from cohort.store import submissions as store_subs

    c = _season(make_cohort, 0, reveal=False)
    one, two = WEEKS
    week = c.config.week(one)

    def moved(write) -> set[str]:
        before = _stamps(c)
        with c.store.transaction() as tx:
            write(tx)
        after = _stamps(c)
        return {w for w in WEEKS if after[w] != before[w]}

    with c.store.transaction() as tx:
        ids = bulk.member_ids(tx)
        sid = bulk.max_id(tx, "submissions") + 1
    row = {
        "id": sid,
        "member_id": ids[0],
        "week": one,
        "submitted_at": week.opens_at,
        "source": "test",
        "notebook_url": "",
        "file_sha256": "new",
        "file_name": "p.csv",
        "status": "scored",
        "error": "",
        "selected": False,
    }
    score = {
        "submission_id": sid,
        "solution_sha256": "sha-now",
        "scorer_version": SCORER_VERSION,
        "public_score": 1.0,
        "private_score": 1.0,
        "scored_at": week.closes_at,
    }
    override = {
        "submission_id": sid,
        "public_score": 0.1,
        "private_score": 0.1,
        "reason": "t",
        "created_by": "org",
        "created_at": week.closes_at,
    }
    extension = {
        "member_id": ids[1],
        "week": one,
        "until": week.closes_at + timedelta(days=9),
        "reason": "",
        "actor": "org",
        "created_at": week.closes_at,
    }
    assert moved(lambda tx: bulk.insert_rows(tx, "submissions", [row])) == {one}
    assert moved(lambda tx: bulk.insert_rows(tx, "scores", [score])) == {one}
    assert moved(lambda tx: bulk.insert_rows(tx, "score_overrides", [override])) == {one}
    assert moved(lambda tx: bulk.insert_rows(tx, "extensions", [extension])) == {one}
    assert moved(lambda tx: store_subs.set_selected(tx, ids[0], one, [sid])) == {one}
    assert moved(lambda tx: store_scores.set_revealed(tx, two, week.closes_at, "org")) == {two}
    assert moved(lambda tx: store_scores.set_scored_sha(tx, two, "sha-next")) == {two}
    assert moved(lambda tx: store_members.set_active(tx, HANDLES[5], False)) == set(WEEKS)
    assert moved(lambda tx: bulk.insert_rows(tx, "contributions", [])) == set()


def test_a_cached_board_follows_a_write_to_its_week_and_keeps_the_others(make_cohort) -> None:
    c = _season(make_cohort, 1, reveal=False)
    one, two = WEEKS
    later = c.config.weeks[-1].closes_at + timedelta(days=1)
    first = {w: boards.board_lines(c, c.config.week(w)) for w in WEEKS}
    top = boards.leaderboard(c, one, now=later).rows[0]
    # A better-than-anyone override on the first week's worst line moves that board at once.
    last = boards.leaderboard(c, one, now=later).rows[-1]
    with c.store.transaction() as tx:
        bulk.insert_rows(
            tx,
            "score_overrides",
            [
                {
                    "submission_id": last.submission_id,
                    "public_score": 2.0,
                    "private_score": 2.0,
                    "reason": "t",
                    "created_by": "org",
                    "created_at": later,
                }
            ],
        )
    assert boards.leaderboard(c, one, now=later).rows[0].handle == last.handle != top.handle
    again = boards.board_lines(c, c.config.week(two))
    assert again == first[two] and all(a is b for a, b in zip(again, first[two], strict=True))


def test_postgres_week_counters_never_deadlock_a_selection_against_a_scoring_run() -> None:
    """Two transactions that write the same week's rows in opposite orders: a scoring chunk
    (scores, then a submission's status) and a member's final selection (one UPDATE of their
    rows). Counters bumped at each write deadlocked them; bumped at commit, both finish."""
    import threading
    import time as clock

    import psycopg

    from tests.store_lanes import fresh_database

    with fresh_database() as url:
        from cohort.store import Store

        Store(url).dispose()  # migrated
        raw = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(raw, autocommit=True) as c:
            member = c.execute(
                "INSERT INTO members (handle, name, email, kaggle_username, created_at, active) "
                "VALUES ('m', 'M', '', '', now(), true) RETURNING id"
            ).fetchone()[0]
            ids = [
                c.execute(
                    "INSERT INTO submissions (member_id, week, submitted_at, source, notebook_url,"
                    " file_sha256, file_name, status, error, selected) VALUES"
                    " (%s, 'W', now(), 'cli', '', 'f', 'x', 'pending', '', false) RETURNING id",
                    (member,),
                ).fetchone()[0]
                for _ in range(3)
            ]
        results: dict[str, str] = {}

        def scoring() -> None:
            try:
                with psycopg.connect(raw) as c:
                    c.execute(
                        "INSERT INTO scores (submission_id, solution_sha256, scorer_version,"
                        " public_score, private_score, scored_at) VALUES (%s, 'S', 'v', 1, 1, now())",
                        (ids[2],),
                    )
                    clock.sleep(0.5)
                    c.execute("UPDATE submissions SET status = 'scored' WHERE id = %s", (ids[0],))
                results["scoring"] = "ok"
            except psycopg.Error as exc:
                results["scoring"] = type(exc).__name__

        def selecting() -> None:
            clock.sleep(0.2)
            try:
                with psycopg.connect(raw) as c:
                    c.execute(
                        "UPDATE submissions SET selected = (id = %s) WHERE member_id = %s",
                        (ids[0], member),
                    )
                results["select"] = "ok"
            except psycopg.Error as exc:
                results["select"] = type(exc).__name__

        threads = [threading.Thread(target=scoring), threading.Thread(target=selecting)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == {"scoring": "ok", "select": "ok"}
        with psycopg.connect(raw) as c:
            # Three inserts before, then two writing transactions: each bumps the week once.
            value = c.execute("SELECT value FROM week_revisions WHERE week = 'W'").fetchone()[0]
        assert value == 3 + 2
