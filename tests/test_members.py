"""The roster: bad rows by line number, idempotent re-import, tokens stored as hashes."""

from __future__ import annotations

import pytest

from cohort.errors import ConfigError
from cohort.sheets import roster as members
from cohort.store import Store

from .conftest import write_roster


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'cohort.db'}")


def test_reimporting_the_same_roster_changes_nothing(tmp_path, store: Store) -> None:
    path = write_roster(
        tmp_path, [("ann", "Ann A", "ann@example.org", "anna"), ("bo", "Bo B", "", "")]
    )
    assert members.import_roster(store, path) == members.ImportReport(
        added=2, updated=0, unchanged=0
    )
    assert members.import_roster(store, path) == members.ImportReport(
        added=0, updated=0, unchanged=2
    )
    assert [m.handle for m in members.list_members(store)] == ["ann", "bo"]


def test_an_edited_row_updates_the_member(tmp_path, store: Store) -> None:
    members.import_roster(store, write_roster(tmp_path, [("ann", "Ann A", "", "")]))
    report = members.import_roster(
        store, write_roster(tmp_path, [("ann", "Ann Andersen", "", "anna")])
    )
    assert report.updated == 1
    assert members.list_members(store)[0].name == "Ann Andersen"


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(tmp_path, store: Store) -> None:
    path = write_roster(
        tmp_path,
        [
            ("ann", "Ann", "", ""),
            ("ann", "Ann again", "", ""),
            ("cy", "", "", ""),
            ("dee", "Dee", "not-an-email", ""),
        ],
    )
    with pytest.raises(ConfigError) as err:
        members.import_roster(store, path)
    assert str(err.value) == (
        f"{path}: line 3: handle 'ann' repeats line 2; line 4: member 'cy' has no name; "
        "line 5: email 'not-an-email' of 'dee' is not an email address. "
        "Fix these rows and import again; nothing was imported."
    )
    assert members.list_members(store) == []


def test_a_roster_without_a_handle_column_is_refused(tmp_path, store: Store) -> None:
    path = tmp_path / "m.csv"
    path.write_text("name,email\nAnn,a@b.c\n")
    with pytest.raises(ConfigError, match="required column 'handle' could not be found"):
        members.import_roster(store, path)


def test_tokens_are_stored_only_as_hashes(tmp_path, store: Store) -> None:
    members.import_roster(
        store, write_roster(tmp_path, [("ann", "Ann", "", ""), ("bo", "Bo", "", "")])
    )
    tokens = members.issue_tokens(store, ["ann"])
    assert members.member_for_token(store, tokens["ann"]).handle == "ann"
    assert members.member_for_token(store, "wrong") is None
    assert members.member_for_token(store, "") is None
    token = tokens["ann"]
    # Read through SQLite, not the main file alone: a fresh write sits in the WAL file.
    assert token not in every_stored_value(store)
    assert members.hash_token(token) in every_stored_value(store)
    for path in tmp_path.glob("cohort.db*"):  # the database, its WAL and shared memory
        assert token.encode() not in path.read_bytes(), path.name


def every_stored_value(store: Store) -> str:
    """Every row of every table, as text, read through the database."""
    from sqlalchemy import MetaData, select

    meta = MetaData()
    meta.reflect(store.engine)
    with store.engine.connect() as conn:
        rows = [repr(tuple(r)) for t in meta.sorted_tables for r in conn.execute(select(t))]
    return "\n".join(rows)


def test_a_handle_differing_only_in_case_is_refused_and_nothing_imported(
    tmp_path, store: Store
) -> None:
    members.import_roster(store, write_roster(tmp_path, [("ada", "Ada", "", "")]))
    path = write_roster(tmp_path, [("bo", "Bo", "", ""), ("ADA", "Ada again", "", "")])
    with pytest.raises(
        ConfigError, match=r"^Handle 'ADA' differs only in case from member 'ada'; use 'ada'\.$"
    ):
        members.import_roster(store, path)
    assert [m.handle for m in members.list_members(store)] == ["ada"]
