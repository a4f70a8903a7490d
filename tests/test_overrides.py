"""override-score: the metric's range, old -> new, --clear, and every change in the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.sheets.roster import import_roster
from cohort.workspace import Cohort
from tests.conftest import write_roster

IDS = [f"i{k}" for k in range(10)]
TRUTH = ["cat", "dog"] * 5
USAGE = ["Public"] * 4 + ["Private"] * 6


@pytest.fixture
def root(make_cohort, tmp_path: Path) -> Path:
    """An accuracy week open now; ann scores 1.0 / 1.0, bob 0.5 / 0.5 (submission 2)."""
    start = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    path = make_cohort({"01-pets": {"closes": 3650}}, start=start)
    write_roster(
        path, [("ann", "Ann", "ann@example.org", ""), ("bob", "Bob", "bob@example.org", "")]
    )
    import_roster(Cohort.open(path).store, path / "members.csv")
    (path / "data/01-pets").mkdir(parents=True)
    pd.DataFrame({"id": IDS, "label": TRUTH, "Usage": USAGE}).to_csv(
        path / "data/01-pets/solution.csv", index=False
    )
    for handle, labels in (("ann", TRUTH), ("bob", ["cat"] * 10)):
        file = tmp_path / f"{handle}.csv"
        pd.DataFrame({"id": IDS, "label": labels}).to_csv(file, index=False)
        assert run(path, "submit", "-m", handle, "-w", "1", str(file)).exit_code == 0
    return path


def run(root: Path, *args: str):
    return CliRunner().invoke(app, ["--root", str(root), *args])


def board(root: Path) -> list[tuple[str, float]]:
    rows = json.loads(run(root, "leaderboard", "1", "--json").stdout)["rows"]
    return [(r["handle"], r["score"]) for r in rows]


def audit_actions(root: Path) -> list[str]:
    return [e["action"] for e in json.loads(run(root, "audit", "--json").stdout)]


def test_a_score_outside_the_metric_range_is_refused_and_changes_nothing(root: Path) -> None:
    # The example: --public 5.0 on an accuracy week put the member first with 5.
    before, logged = board(root), audit_actions(root)
    result = run(root, "override-score", "2", "--public", "5.0", "--reason", "typo")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: Override of submission 2: --public 5 is not a possible accuracy score (0 to 1); "
        "pass the corrected score on the metric's scale.\n"
    )
    negative = run(root, "override-score", "2", "--private", "-0.1", "--reason", "typo")
    assert (
        negative.exit_code == 1 and "--private -0.1 is not a possible accuracy" in negative.stderr
    )
    assert board(root) == before and audit_actions(root) == logged


def test_an_override_prints_old_and_new_and_clear_removes_it(root: Path) -> None:
    done = run(root, "override-score", "2", "--public", "0.75", "--reason", "regraded")
    assert done.exit_code == 0, done.output
    assert done.stdout == (
        "Submission 2: score overridden, public 0.5 -> 0.75, private 0.5 -> 0.5 (regraded).\n"
    )
    # A later override of the other side keeps this one.
    other = run(root, "override-score", "2", "--private", "0.6", "--reason", "regraded too")
    assert "public 0.75 -> 0.75, private 0.5 -> 0.6" in other.stdout
    assert board(root) == [("ann", 1.0), ("bob", 0.75)]
    cleared = run(root, "override-score", "2", "--clear", "--reason", "mistake")
    assert cleared.exit_code == 0, cleared.output
    assert cleared.stdout == (
        "Submission 2: override cleared, public 0.75 -> 0.5, private 0.6 -> 0.5 (mistake).\n"
    )
    assert board(root) == [("ann", 1.0), ("bob", 0.5)]
    entries = json.loads(run(root, "audit", "--json").stdout)
    last = [e for e in entries if e["action"] in {"override_score", "clear_override"}]
    assert sorted(e["action"] for e in last) == [
        "clear_override",
        "override_score",
        "override_score",
    ]
    clear = next(e for e in last if e["action"] == "clear_override")
    assert clear["target"] == "2"
    assert "0.75" in json.dumps(clear["detail"]) and "mistake" in json.dumps(clear["detail"])


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--clear"],
            "Submission 2 has no override to clear; nothing was changed.",
        ),
        (
            ["--clear", "--public", "0.5"],
            "Override of submission 2: --clear removes the override; pass it without --public "
            "or --private.",
        ),
    ],
)
def test_clear_refusals_are_one_line(root: Path, args: list[str], error: str) -> None:
    logged = audit_actions(root)
    result = run(root, "override-score", "2", *args, "--reason", "x")
    assert result.exit_code == 1 and result.stderr == f"Error: {error}\n"
    assert audit_actions(root) == logged
