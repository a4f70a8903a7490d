"""The scoring commands through the real CLI; private scores in no member-facing output before reveal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.sheets.roster import import_roster
from cohort.workspace import Cohort
from tests.conftest import write_roster

IDS = [f"s{i}" for i in range(8)]
PRIVATE_SCORE = 7.25  # a distinctive private MAE, to search every output for


@pytest.fixture
def root(make_cohort) -> Path:
    # The week is open now whatever the date, so plain `cohort submit` (wall clock) is accepted.
    start = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    path = make_cohort(
        {"01-reg": {"metric": "mae", "targets": ("target",), "closes": 3650}}, start=start
    )
    write_roster(
        path, [("ann", "Ann Lee", "ann@example.org", ""), ("bob", "Bob Ray", "bob@example.org", "")]
    )
    import_roster(Cohort.open(path).store, path / "members.csv")
    (path / "data/01-reg").mkdir(parents=True)
    pd.DataFrame(
        {"id": IDS, "target": np.zeros(8), "Usage": ["Public"] * 4 + ["Private"] * 4}
    ).to_csv(path / "data/01-reg/solution.csv", index=False)
    return path


def _run(root: Path, *args: str):
    return CliRunner().invoke(app, ["--root", str(root), *args])


def _predictions(tmp_path: Path, public: float, private: float, name: str = "p.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame({"id": IDS, "target": [public] * 4 + [private] * 4}).to_csv(path, index=False)
    return path


def _submit_two(root: Path, tmp_path: Path) -> None:
    assert (
        _run(
            root, "submit", "-m", "ann", "-w", "1", str(_predictions(tmp_path, 1.5, PRIVATE_SCORE))
        ).exit_code
        == 0
    )
    assert (
        _run(
            root, "submit", "-m", "bob", "-w", "1", str(_predictions(tmp_path, 2.5, 0.5, "q.csv"))
        ).exit_code
        == 0
    )


def test_submit_prints_public_score_and_remaining(root: Path, tmp_path: Path) -> None:
    result = _run(
        root,
        "submit",
        "--member",
        "ann",
        "--week",
        "1",
        str(_predictions(tmp_path, 1.5, PRIVATE_SCORE)),
    )
    assert result.exit_code == 0, result.output
    assert (
        result.output
        == "Submission 1 for week 01-reg by ann: public score 1.5. 4 submission(s) left today.\n"
    )
    assert "7.25" not in result.output


def test_submit_invalid_file_is_one_error_line(root: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,prediction\ns0,1\n")
    result = _run(root, "submit", "-m", "ann", "-w", "1", str(bad))
    assert result.exit_code == 1
    assert (
        result.output
        == "Error: Required column 'target' could not be found; the header must be 'id,target'.\n"
    )
    assert not list((root / "submissions").rglob("*.*"))


def test_submit_notebook_link_only_warns_on_unknown_host(root: Path) -> None:
    result = _run(
        root,
        "submit",
        "-m",
        "bob",
        "-w",
        "1",
        "--notebook",
        "http://localhost:8888/notebooks/x.ipynb",
    )
    assert result.exit_code == 0
    assert result.output == (
        "Warning: Link host 'localhost' is on your own machine or network; share a public link instead.\n"
        "Submission 1 for week 01-reg by bob: notebook link recorded. 5 submission(s) left today.\n"
    )


def test_validate_reports_valid_file(root: Path, tmp_path: Path) -> None:
    result = _run(root, "validate", "--week", "01-reg", str(_predictions(tmp_path, 1, 1)))
    assert (result.exit_code, result.output) == (0, "p.csv is valid: 8 rows, columns id,target.\n")


def test_validate_refuses_with_the_validator_message(root: Path, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("id,target\n" + "\n".join(f"{i},1" for i in IDS[:7]) + "\n")
    result = _run(root, "validate", "--week", "1", str(path))
    assert (result.exit_code, result.output) == (
        1,
        "Error: Submission must have 8 rows, found 7; missing ids: 's7'.\n",
    )


def test_no_private_score_in_member_outputs_before_reveal(root: Path, tmp_path: Path) -> None:
    _submit_two(root, tmp_path)
    outputs = [
        _run(root, "leaderboard", "1"),
        _run(root, "leaderboard", "1", "--json"),
        _run(root, "history", "-m", "ann"),
        _run(root, "history", "-m", "ann", "--json"),
    ]
    for out in outputs:
        assert out.exit_code == 0, out.output
        assert "7.25" not in out.output
    assert json.loads(outputs[3].output)[0]["private_score"] is None
    assert json.loads(outputs[1].output)["rows"][0] == {
        "rank": 1,
        "handle": "ann",
        "name": "Ann Lee",
        "score": 1.5,
        "entries": 1,
        "last_submitted_at": json.loads(outputs[1].output)["rows"][0]["last_submitted_at"],
        "submission_id": 1,
    }
    hidden = _run(root, "leaderboard", "1", "--private", "--json")
    assert hidden.exit_code == 1 and "7.25" not in hidden.output
    assert hidden.output.startswith(
        "Error: Week '01-reg' private leaderboard is hidden until the week is revealed"
    )


def test_after_reveal_private_board_shows_shake_up(root: Path, tmp_path: Path) -> None:
    _submit_two(root, tmp_path)
    # The week is open until 2036: revealing it now closes it now (fair-competition rule).
    assert _run(root, "reveal", "1", "--close-now").output.startswith(
        "Week 01-reg revealed: private scores are now visible; it closed at "
    )
    board = json.loads(_run(root, "leaderboard", "1", "--private", "--json").output)
    assert [
        (r["rank"], r["handle"], r["score"], r["public_rank"], r["rank_change"])
        for r in board["rows"]
    ] == [(1, "bob", 0.5, 2, 1), (2, "ann", PRIVATE_SCORE, 1, -1)]
    table = _run(root, "leaderboard", "1", "--private").output
    assert "shake-up" in table and "+1" in table and "7.25" in table
    assert (
        json.loads(_run(root, "history", "-m", "ann", "--json").output)[0]["private_score"]
        == PRIVATE_SCORE
    )


def test_score_json_is_quiet_and_reports(root: Path, tmp_path: Path) -> None:
    _submit_two(root, tmp_path)
    result = _run(root, "score", "--rescore", "--json")
    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "scored": 2,
        "errors": 0,
        "weeks": {"01-reg": 2},
        "skipped": {},
        "resumed": False,
        "rank_changes": [],
    }
    assert _run(root, "score").output == "Scored 0 submission(s), 0 error(s).\n"


def test_select_final_and_its_errors(root: Path, tmp_path: Path) -> None:
    _submit_two(root, tmp_path)
    assert (
        _run(root, "select-final", "-m", "ann", "-w", "1", "1").output
        == "Final selection for ann: 1.\n"
    )
    result = _run(root, "select-final", "-m", "ann", "-w", "1", "2")
    assert (result.exit_code, result.output) == (
        1,
        "Error: Submission 2 is not a file submission of 'ann' for "
        "week '01-reg'; pick ids from the member's history.\n",
    )


def test_override_score(root: Path, tmp_path: Path) -> None:
    _submit_two(root, tmp_path)
    result = _run(root, "override-score", "2", "--public", "0.1", "--reason", "typo in solution")
    assert result.output == (
        "Submission 2: score overridden, public 2.5 -> 0.1, private 0.5 -> 0.5 (typo in solution).\n"
    )
    board = json.loads(_run(root, "leaderboard", "1", "--json").output)
    assert [(r["handle"], r["score"]) for r in board["rows"]] == [("bob", 0.1), ("ann", 1.5)]


def test_import_form_maps_respondents_and_skips_reimports(root: Path, tmp_path: Path) -> None:
    day = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y/%m/%d")
    form = tmp_path / "responses.csv"
    form.write_text(
        "Timestamp,Email Address,Your name,Notebook link\n"
        f"{day} 10:31:05 AM GMT+1,ANN@example.org,Ann,https://www.kaggle.com/code/ann/pets\n"
        f"{day} 11:00:00 AM GMT+1,other@example.org,bob,https://www.kaggle.com/code/bob/pets\n"
        f"{day} 11:05:00 AM GMT+1,zed@example.org,Zed,https://www.kaggle.com/code/zed/pets\n"
        f"yesterday,ann@example.org,Ann,https://www.kaggle.com/code/ann/pets2\n"
        f"{day} 12:00:00 PM GMT+1,ann@example.org,Ann,not a link\n"
    )
    result = _run(root, "import-form", str(form), "--week", "1")
    assert result.exit_code == 0
    assert result.output == (
        "Imported 2 response(s); 0 already imported; 3 skipped.\n"
        "line 4: respondent 'zed@example.org' matches no member by email, handle or name\n"
        "line 5: timestamp 'yesterday' is not a date and time\n"
        "line 6: Notebook link 'not a link' is not a web address; paste the full link starting with https://.\n"
    )
    again = _run(root, "import-form", str(form), "--week", "1")
    assert again.output.startswith("Imported 0 response(s); 2 already imported; 3 skipped.\n")
    history = json.loads(_run(root, "history", "-m", "ann", "--json").output)
    assert [(h["status"], h["notebook_url"]) for h in history] == [
        ("notebook", "https://www.kaggle.com/code/ann/pets")
    ]
    assert history[0]["submitted_at"].endswith("T09:31:05+00:00")  # ISO 8601


def test_history_marks_late_submissions_and_its_json_times_are_iso(
    root: Path, tmp_path: Path
) -> None:
    from cohort.scoring import intake

    _submit_two(root, tmp_path)
    cohort = Cohort.open(root)
    after = cohort.config.week("1").closes_at + timedelta(hours=1)
    late = intake.submit(cohort, "ann", "1", _predictions(tmp_path, 3.0, 3.0, "l.csv"), at=after)
    assert late.late
    table = _run(root, "history", "-m", "ann").output
    header = [line for line in table.splitlines() if line.startswith("┃")]
    rows = [line for line in table.splitlines() if line.startswith("│")]
    assert "┃ late ┃" in header[0]
    assert [" late " in line for line in rows] == [True, False]  # newest first
    assert "late: sent after the deadline; scored, but on no board." in table
    records = json.loads(_run(root, "history", "-m", "ann", "--json").output)
    assert [r["late"] for r in records] == [True, False]
    assert datetime.fromisoformat(records[0]["submitted_at"]) == after
    assert "T" in records[0]["submitted_at"]


def test_late_submissions_have_their_own_daily_allowance(root: Path, tmp_path: Path) -> None:
    _submit_two(root, tmp_path)  # ann has 4 on-time files left today
    assert _run(root, "reveal", "1", "--close-now").exit_code == 0  # closes the week now
    outputs = [
        _run(root, "submit", "-m", "ann", "-w", "1", str(_predictions(tmp_path, k, k, f"{k}.csv")))
        for k in range(6)
    ]
    assert "late files have their own daily allowance, apart from on-time files." in (
        outputs[0].stderr
    )
    assert outputs[0].stdout.endswith(
        ": public score 0. late submission: 4 late submission(s) left today; "
        "late files never count on a board.\n"
    )
    assert outputs[4].stdout.endswith(
        " 0 late submission(s) left today; late files never count on a board.\n"
    )
    assert outputs[5].exit_code == 1
    assert outputs[5].stderr.startswith(
        "Error: Member 'ann' has used all 5 late submissions (late files have their own daily "
        "allowance) for week '01-reg' on "
    )


def test_every_scoring_command_has_help(root: Path) -> None:
    for command in (
        "submit",
        "validate",
        "score",
        "leaderboard",
        "reveal",
        "select-final",
        "history",
        "override-score",
        "import-form",
    ):
        result = _run(root, command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def _week_points(root: Path, tmp_path: Path, name: str) -> dict[str, float]:
    out = tmp_path / name
    assert _run(root, "export", str(out)).exit_code == 0
    assert "7.25" not in out.read_text()
    frame = pd.read_csv(out)
    return dict(zip(frame["handle"], frame["01-reg"], strict=True))


def test_exports_rank_on_public_scores_until_reveal(root: Path, tmp_path: Path) -> None:
    # Ann leads the public rows and Bob the private ones: the export's week points show which was used.
    _submit_two(root, tmp_path)
    assert _week_points(root, tmp_path, "before.csv") == {"ann": 10.0, "bob": 5.0}
    standings = json.loads(_run(root, "standings", "--json").output)
    assert "7.25" not in json.dumps(standings)
    assert _run(root, "reveal", "1", "--close-now").exit_code == 0
    assert _week_points(root, tmp_path, "after.csv") == {"ann": 5.0, "bob": 10.0}
