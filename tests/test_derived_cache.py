"""Derived values kept in the database (migration 0012): a fresh process (every CLI command)
reads them instead of rebuilding, a write rebuilds what it touched and nothing else, and what
it reads is always what an uncached run computes.

`revision._KEPT.clear()` stands for a new process: it forgets the values kept in memory, so
whatever is not rebuilt comes from the derived_cache table."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from cohort.scoring import boards, intake
from cohort.season import selection, standings
from cohort.store import Store, revision
from cohort.workspace import Cohort
from tests.test_standings import IDS, PREDICTIONS, START, build_season


@pytest.fixture
def season(make_cohort, tmp_path: Path) -> Cohort:
    return build_season(make_cohort, tmp_path)


@pytest.fixture(autouse=True)
def _storing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Values stored as a CLI command stores them (an app test earlier in the session turns
    storing off for the process, as the app does), unless a test says otherwise."""
    monkeypatch.setattr(revision, "_storing", True)


def test_the_app_reads_stored_values_and_stores_none(
    season: Cohort, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = selection.select(season, top=2).as_dict()  # as a command: stored
    monkeypatch.setattr(revision, "_storing", False)  # as the app
    built = _count_builds(monkeypatch)
    revision._KEPT.clear()
    assert selection.select(season, top=2).as_dict() == first and built == []
    with season.store.transaction() as tx:
        before = tx.execute(text("SELECT key, payload FROM derived_cache")).all()
    path = tmp_path / "dee-2.csv"
    pd.DataFrame({"id": IDS, "label": PREDICTIONS["ann"]}).to_csv(path, index=False)
    intake.submit(season, "dee", "2", path, at=START + timedelta(days=8, hours=10))
    assert selection.select(season, top=2).as_dict() == _uncached(season, monkeypatch)
    with season.store.transaction() as tx:
        assert tx.execute(text("SELECT key, payload FROM derived_cache")).all() == before


def _uncached(cohort: Cohort, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The selection computed with nothing kept, in memory or in the database."""
    with monkeypatch.context() as m:
        m.setattr(revision, "_load", lambda tx, key: None)
        m.setattr(revision, "_save", lambda tx, key, stamp, value: None)
        revision._KEPT.clear()
        result = selection.select(cohort, top=2).as_dict()
    revision._KEPT.clear()
    return result


def _count_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One entry per week whose board rows or members' resampled bests were built, not read."""
    built: list[str] = []
    board_rows, week_best = boards._board_rows, selection._week_best

    def counted_rows(cohort, week, private):
        built.append(f"board {week.id}")
        return board_rows(cohort, week, private)

    def counted_best(cohort, week, revealed, draws, only):
        built.append(f"bootstrap {week} {'all' if only is None else len(only)}")
        return week_best(cohort, week, revealed, draws, only)

    monkeypatch.setattr(boards, "_board_rows", counted_rows)
    monkeypatch.setattr(selection, "_week_best", counted_best)
    return built


def _rows(cohort: Cohort) -> int:
    with cohort.store.transaction() as tx:
        return int(tx.execute(text("SELECT count(*) FROM derived_cache")).scalar_one())


def test_a_fresh_process_reads_the_stored_values_and_a_new_entry_rebuilds_its_week_only(
    season: Cohort, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = selection.select(season, top=2).as_dict()
    assert first == _uncached(season, monkeypatch) and _rows(season) > 0
    built = _count_builds(monkeypatch)
    revision._KEPT.clear()
    assert selection.select(season, top=2).as_dict() == first
    assert built == []  # every board and resample came from the database
    # A new entry in week 2 moves week 2's counters: its board and dee's resampled bests are
    # built again, week 1's are read; the result is what an uncached run gives.
    path = tmp_path / "dee-2.csv"
    pd.DataFrame({"id": IDS, "label": PREDICTIONS["ann"]}).to_csv(path, index=False)
    intake.submit(season, "dee", "2", path, at=START + timedelta(days=8, hours=10))
    revision._KEPT.clear()
    after = selection.select(season, top=2).as_dict()
    # Of week 2's resamples, only dee's bests are scored again: one member.
    assert sorted(set(built)) == ["board 02-b", "bootstrap 02-b 1"]
    assert after != first and after == _uncached(season, monkeypatch)


def test_after_each_of_a_series_of_writes_a_fresh_process_selects_as_an_uncached_run(
    season: Cohort, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """New entries better and worse than a member's best, in either week, a contribution, a
    member deactivated and back: after each, the kept path gives the uncached selection."""
    from cohort.season import contributions
    from cohort.sheets.roster import set_active

    def entry(handle: str, week: str, like: str, hours: int) -> None:
        path = tmp_path / f"{handle}-{week}-{hours}.csv"
        pd.DataFrame({"id": IDS, "label": PREDICTIONS[like]}).to_csv(path, index=False)
        days = 1 if week == "1" else 8
        intake.submit(season, handle, week, path, at=START + timedelta(days=days, hours=hours))

    writes = [
        lambda: entry("dee", "2", "ann", 10),  # dee's first entry in week 2: a new board line
        lambda: entry("bob", "1", "dee", 13),  # worse than bob's best: his line stands
        lambda: entry("cy", "1", "ann", 14),  # better: cy passes bob
        lambda: contributions.add(season, "bob", "presented", week_ref="2"),
        lambda: set_active(season.store, "dee", False, "test"),
        lambda: set_active(season.store, "dee", True, "test"),
    ]
    selection.select(season, top=2)  # everything kept
    for step, write in enumerate(writes):
        write()
        revision._KEPT.clear()
        kept = selection.select(season, top=2).as_dict()
        assert kept == _uncached(season, monkeypatch), step


def test_a_value_stored_by_other_code_is_built_again(
    season: Cohort, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = standings.standings(season).as_dicts()
    built = _count_builds(monkeypatch)
    monkeypatch.setattr(revision, "_CODE", "another version of cohort")
    revision._KEPT.clear()
    assert standings.standings(season).as_dicts() == first
    assert sorted(set(built)) == ["board 01-a", "board 02-b"]


def test_a_read_that_stores_values_stays_a_read(season: Cohort) -> None:
    revision._KEPT.clear()
    with season.store.transaction() as tx:
        tx.execute(text("DELETE FROM derived_cache"))
    with season.store.transaction() as tx:
        before = revision.current(tx)
    selection.select(season, top=2)
    with season.store.transaction() as tx:
        # The values were stored, yet the store's revision (the app's cache key) did not move.
        assert revision.current(tx) == before
    assert _rows(season) > 0


def _lock_the_cache(season: Cohort):
    """Another connection holding the lock a cache write needs (until it is closed)."""
    if season.store.engine.dialect.name == "sqlite":
        conn = sqlite3.connect(season.store.engine.url.database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        return conn
    raw = season.store.engine.raw_connection()
    raw.cursor().execute("LOCK TABLE derived_cache IN EXCLUSIVE MODE")
    return raw


def test_a_busy_database_skips_the_cache_write_and_still_answers(season: Cohort) -> None:
    expected = standings.standings(season).as_dicts()
    with season.store.transaction() as tx:
        tx.execute(text("DELETE FROM derived_cache"))
    revision._KEPT.clear()
    lock = _lock_the_cache(season)
    try:
        # The write waits a quarter of a second, not the store's minute, then gives up.
        assert standings.standings(season).as_dicts() == expected
    finally:
        lock.rollback() if not isinstance(lock, sqlite3.Connection) else lock.execute("ROLLBACK")
        lock.close()
    assert _rows(season) == 0
    revision._KEPT.clear()
    revision._paused_until = 0.0  # saving pauses a moment after a busy store
    assert standings.standings(season).as_dicts() == expected and _rows(season) > 0


@pytest.mark.sqlite_only
def test_an_in_memory_store_keeps_nothing_in_its_tables() -> None:
    # Its one shared connection would commit the caller's transaction with "our own" write.
    store = Store("sqlite://")
    with store.transaction() as tx:
        tx.execute(text("INSERT INTO week_revisions (week, value) VALUES ('x', 1)"))
        assert revision.by_weeks(tx, "t", ["x"], None, lambda: [1, 2]) == [1, 2]
    with store.transaction() as tx:
        assert revision.by_weeks(tx, "t", ["x"], None, lambda: [3]) == [3]
        assert tx.execute(text("SELECT count(*) FROM derived_cache")).scalar_one() == 0


def test_the_tie_check_on_the_rows_as_they_are_gives_each_members_board_points(
    season: Cohort,
) -> None:
    """One "resample" drawing every row once is the board itself: each member's points from
    the tie check's own scoring of their files equal the standings' (files and scores agree)."""
    import numpy as np

    from cohort.scoring.solution import load_solution

    table = standings.standings(season)
    shown = table.table.set_index("handle")
    for week in table.weeks:
        revealed, solution = table.revealed[week], load_solution(season, week)
        rows = int((~solution.public if revealed else solution.public).sum())
        direction = season.config.week(week).competition.direction
        key = (revealed, solution.sha256, solution.metric, direction, (rows,), 1, -1)
        with season.store.transaction() as tx:
            handles, points = selection._week_points(
                tx, season, week, key, [np.arange(rows)], table.formula.performance_weight
            )
        assert handles and len(handles) == points.shape[1]
        for handle, value in zip(handles, points[0], strict=True):
            assert value == pytest.approx(shown.loc[handle, week]), (week, handle)


def _edit_week(cohort: Cohort, week: str, old: str, new: str) -> Cohort:
    """The week's week.toml with one setting changed, and the cohort opened again (a new
    process reading the edited config)."""
    path = cohort.root / "weeks" / week / "week.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    cohort.store.dispose()
    revision._KEPT.clear()
    return Cohort.open(cohort.root)


def test_week_toml_edits_between_processes_are_never_answered_from_the_store(
    season: Cohort, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A close moved later (a late file starts to count) or fewer final selections (another
    file counts) change no row, so no counter: the kept values name them in their keys."""
    path = tmp_path / "bob-second.csv"
    pd.DataFrame({"id": IDS, "label": PREDICTIONS["ann"]}).to_csv(path, index=False)
    intake.submit(season, "bob", "1", path, at=START + timedelta(days=2))
    path = tmp_path / "dee-late.csv"
    pd.DataFrame({"id": IDS, "label": PREDICTIONS["ann"]}).to_csv(path, index=False)
    intake.submit(season, "dee", "1", path, at=START + timedelta(days=7, hours=5))
    before = selection.select(season, top=2).as_dict()
    c = _edit_week(season, "01-a", "final_selections = 2", "final_selections = 1")
    after = selection.select(c, top=2).as_dict()
    assert after == _uncached(c, monkeypatch)
    c = _edit_week(c, "01-a", "closes = 7", "closes = 8")
    later = selection.select(c, top=2).as_dict()
    assert later == _uncached(c, monkeypatch) and later != before


def test_a_row_written_without_the_key_is_never_unpickled(
    season: Cohort, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Unpickling runs code: a payload not signed with this machine's key is rebuilt instead."""
    import pickle

    expected = standings.standings(season).as_dicts()
    ran = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (ran,))

    body = revision._CODE.encode() + pickle.dumps((None, Payload()))
    forged = [b"\0" * revision._MAC + body, revision._mac(body)[:-1] + b"x" + body]
    for payload in forged:
        with season.store.transaction() as tx:
            tx.execute(text("UPDATE derived_cache SET payload = :p"), {"p": payload})
        revision._KEPT.clear()
        assert standings.standings(season).as_dicts() == expected
        assert not ran.exists()
    # Signed with the key, the same payload does run: the signature is what stopped it.
    with season.store.transaction() as tx:
        tx.execute(text("UPDATE derived_cache SET payload = :p"), {"p": revision._mac(body) + body})
    revision._KEPT.clear()
    assert standings.standings(season).as_dicts() == expected and ran.exists()


def test_counter_rows_deleted_by_hand_forget_every_stored_value(
    season: Cohort, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Counters that start over could count back up to a stored stamp with other rows behind
    it (a member's new entry bringing their counter back to the value it had)."""
    selection.select(season, top=2)
    assert _rows(season) > 0
    with season.store.transaction() as tx:
        tx.execute(text("DELETE FROM member_week_revisions WHERE member_id != 0"))
    assert _rows(season) == 0
    path = tmp_path / "cy-better.csv"
    pd.DataFrame({"id": IDS, "label": PREDICTIONS["ann"]}).to_csv(path, index=False)
    intake.submit(season, "cy", "1", path, at=START + timedelta(days=2))
    revision._KEPT.clear()
    assert selection.select(season, top=2).as_dict() == _uncached(season, monkeypatch)


def test_a_truncated_table_moves_every_counter(
    season: Cohort, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL's TRUNCATE fires no row trigger (SQLite has none: its DELETE fires them)."""
    selection.select(season, top=2)
    with season.store.transaction() as tx:
        before = dict(tx.execute(text("SELECT week, value FROM week_revisions")).all())
        if season.store.engine.dialect.name == "sqlite":
            tx.execute(text("DELETE FROM contributions"))
        else:
            tx.execute(text("TRUNCATE contributions"))
    with season.store.transaction() as tx:
        after = dict(tx.execute(text("SELECT week, value FROM week_revisions")).all())
    assert after[revision.CONTRIBUTIONS] > before[revision.CONTRIBUTIONS]
    revision._KEPT.clear()
    assert selection.select(season, top=2).as_dict() == _uncached(season, monkeypatch)
