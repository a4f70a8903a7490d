"""The roster stays unambiguous: a repeated email, handle or Kaggle username is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohort.errors import ConfigError
from cohort.sheets import roster
from cohort.store import Store
from tests.conftest import write_roster


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'cohort.db'}")


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        # The example: two members with one email (any case) made their rows ambiguous.
        (
            [("ann", "Ann", "ann@example.org", ""), ("bo", "Bo", "ANN@example.org", "")],
            "line 3: email 'ANN@example.org' repeats line 2",
        ),
        (
            [("ann", "Ann", "", "ann-kg"), ("bo", "Bo", "", ""), ("cy", "Cy", "", "Ann-KG")],
            "line 4: Kaggle username 'Ann-KG' repeats line 2",
        ),
        (
            [("ann", "Ann", "", ""), ("Ann", "Ann again", "", "")],
            "line 3: handle 'Ann' repeats line 2",
        ),
    ],
)
def test_a_repeated_identity_names_both_lines_and_imports_nothing(
    tmp_path: Path, store: Store, rows: list[tuple[str, str, str, str]], problem: str
) -> None:
    path = write_roster(tmp_path, rows)
    with pytest.raises(ConfigError) as err:
        roster.import_roster(store, path)
    assert str(err.value) == (
        f"{path}: {problem}. Fix these rows and import again; nothing was imported."
    )
    assert roster.list_members(store) == []


def test_blank_emails_and_usernames_are_not_duplicates(tmp_path: Path, store: Store) -> None:
    path = write_roster(tmp_path, [("ann", "Ann", "", ""), ("bo", "Bo", "", "")])
    assert roster.import_roster(store, path).added == 2
