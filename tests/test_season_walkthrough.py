"""The organizer's walkthrough, through commands only: init, a season, backup, restore elsewhere, rescore.

After `cohort init` only members.csv is written by hand; everything else is a command
from the README. The season is restored into a new directory (as on a new machine) and
`cohort score --rescore` there reproduces every score exactly.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.workspace import Cohort, utcnow

runner = CliRunner()
pytestmark = [pytest.mark.slow, pytest.mark.sqlite_only]

ROSTER = """handle,name,email,kaggle_username
ann,Ann Lee,ann@example.org,annlee
bob,Bob Ray,bob@example.org,
cy,Cy Young,cy@example.org,cyy
"""


def run(root: Path, *args: str) -> str:
    result = runner.invoke(app, ["--root", str(root), *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def as_json(root: Path, *args: str):  # noqa: ANN201
    return json.loads(run(root, *args, "--json"))


def predictions(root: Path, week: str, noise: float, seed: int, out: Path) -> Path:
    """A member's file: the hidden answers made worse by `noise` (the test plays the member)."""
    solution = pd.read_csv(root / "data" / week / "solution.csv").drop(columns=["Usage"])
    sample = pd.read_csv(root / "data" / week / "sample_submission.csv")
    target = [c for c in sample.columns if c != "id"][0]
    flip = pd.Series(range(len(solution))).sample(frac=noise, random_state=seed).index
    wrong = solution[target].iloc[::-1].to_numpy()
    solution.loc[flip, target] = wrong[flip]
    solution[list(sample.columns)].to_csv(out, index=False)
    return out


def test_a_season_through_commands_only_survives_backup_and_restore(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("COHORT_DATABASE_URL", raising=False)
    monkeypatch.setenv("COHORT_ACTOR", "lead")
    root = tmp_path / "club"
    start = (utcnow() - timedelta(days=10)).date().isoformat()  # week 1 closed, week 2 open
    result = runner.invoke(app, ["init", str(root), "--name", "Study Club", "--start", start])
    assert result.exit_code == 0, result.output
    assert (root / "Makefile").is_file()
    (root / "members.csv").write_text(ROSTER)  # the one file written by hand
    run(root, "members", "import", str(root / "members.csv"))
    run(root, "prepare", "1")
    run(root, "prepare", "2")
    later = (utcnow() + timedelta(days=1)).astimezone().strftime("%Y-%m-%d %H:%M%z")
    # Granted before week 1 closed: a revealed week takes no extensions.
    closes = Cohort.open(root).config.week("1").closes_at
    with monkeypatch.context() as m:
        m.setattr("cohort.scoring.deadlines.utcnow", lambda: closes - timedelta(hours=1))
        run(root, "extend", "1", "--member", "ann", "--until", later, "--reason", "ill")
    run(
        root,
        "submit",
        "-m",
        "ann",
        "-w",
        "1",
        str(predictions(root, "01-pets", 0.1, 1, tmp_path / "a1.csv")),
    )
    for handle, noise in (("ann", 0.05), ("bob", 0.2), ("cy", 0.3)):
        path = predictions(
            root, "02-regularization", noise, len(handle), tmp_path / f"{handle}.csv"
        )
        run(
            root,
            "submit",
            "-m",
            handle,
            "-w",
            "2",
            str(path),
            "--notebook",
            f"https://www.kaggle.com/code/{handle}/w2",
        )
    run(root, "contrib", "add", "--member", "bob", "--kind", "presented", "--week", "2")
    run(root, "members", "edit", "cy", "--email", "cy@new.example")
    run(root, "members", "deactivate", "cy")
    run(root, "score")
    run(root, "reveal", "2", "--close-now")
    assert "cy" not in [r["handle"] for r in as_json(root, "leaderboard", "2", "--private")["rows"]]
    status = as_json(root, "status", "2")
    assert [m["handle"] for m in status["members"]] == ["ann", "bob"]
    run(root, "backup", str(tmp_path / "season.tar.gz"))

    # A new machine: only the archive travels.
    elsewhere = tmp_path / "new-machine" / "club"
    run(root, "restore", str(tmp_path / "season.tar.gz"), "--into", str(elsewhere))
    rescore = run(elsewhere, "score", "--rescore")
    assert "error" not in rescore.lower() or "0 error" in rescore.lower()
    for args in (("leaderboard", "1"), ("leaderboard", "2", "--private"), ("standings",)):
        assert as_json(elsewhere, *args) == as_json(root, *args), args
    assert as_json(elsewhere, "members", "list", "--all") == as_json(
        root, "members", "list", "--all"
    )

    # The backup is logged in the live store after its snapshot, the restore in the restored
    # one; every other entry comes back as it was.
    def season_log(log: list[dict]) -> list[dict]:
        return [e for e in log if not e["action"].startswith(("rescore", "backup", "restore"))]

    restored_log = season_log(as_json(elsewhere, "audit"))
    assert restored_log == season_log(as_json(root, "audit"))
    assert "restore" in [e["action"] for e in as_json(elsewhere, "audit")]
