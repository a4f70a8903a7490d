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


def _uncached(cohort: Cohort, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The selection computed with nothing kept, in memory or in the database."""
    with monkeypatch.context() as m:
        m.setattr(revision, "_load", lambda tx, key: None)
        m.setattr(revision, "_save", lambda engine, key, stamp, value: None)
        revision._KEPT.clear()
        result = selection.select(cohort, top=2).as_dict()
    revision._KEPT.clear()
    return result


def _count_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Week ids, one per week whose board rows or resampled points were built, not read."""
    built: list[str] = []
    board_rows, week_points = boards._board_rows, selection._week_points

    def counted_rows(cohort, week, private):
        built.append(f"board {week.id}")
        return board_rows(cohort, week, private)

    def counted_points(cohort, week, *args):
        built.append(f"bootstrap {week}")
        return week_points(cohort, week, *args)

    monkeypatch.setattr(boards, "_board_rows", counted_rows)
    monkeypatch.setattr(selection, "_week_points", counted_points)
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
    # A new entry in week 2 moves week 2's counters: its board and resamples are built again,
    # week 1's are read; the result is what an uncached run gives.
    path = tmp_path / "dee-2.csv"
    pd.DataFrame({"id": IDS, "label": PREDICTIONS["ann"]}).to_csv(path, index=False)
    intake.submit(season, "dee", "2", path, at=START + timedelta(days=8, hours=10))
    revision._KEPT.clear()
    after = selection.select(season, top=2).as_dict()
    assert sorted(set(built)) == ["board 02-b", "bootstrap 02-b"]
    assert after != first and after == _uncached(season, monkeypatch)


def test_a_value_stored_by_other_code_is_built_again(
    season: Cohort, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = standings.standings(season).as_dicts()
    built = _count_builds(monkeypatch)
    monkeypatch.setattr(revision, "_code_stamp", lambda: "another version of cohort")
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
