"""The final board: finalists ranked on the cohort's LANL board, with their real Kaggle late scores.

On the finished demo (8 finalists played the final), and with a finalist's own submission
list, read through the real client from the fake Kaggle or from the CSV the real
`kaggle competitions submissions --csv` prints.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.errors import AccessDenied, ValidationError
from cohort.kaggle import final
from cohort.kaggle.client import KaggleClient
from cohort.workspace import Cohort
from tests.conftest import FINISHED_DEMO, copy_demo
from tests.fake_kaggle.server import FakeKaggle

pytest_plugins = ["tests.fake_kaggle.fixtures"]
runner = CliRunner()
LANL = "LANL-Earthquake-Prediction"
ANN_TOKEN = "ann-token"


@pytest.fixture(scope="module")
def finished(demo_builds, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The finished demo (built once per session): the season is over, the 8 selected played the final."""
    return copy_demo(demo_builds, tmp_path_factory, FINISHED_DEMO)[0]


def board_json(directory: Path) -> dict:
    result = runner.invoke(app, ["--root", str(directory), "final", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def kaggle_csv_export(fake: FakeKaggle, user: str, token: str) -> str:
    """What `kaggle competitions submissions -c LANL... --csv` prints for `user` (the real client)."""
    client = KaggleClient()
    with contextlib.redirect_stdout(io.StringIO()) as out:
        client.api.competition_submissions_cli(LANL, csv_display=True)
    return out.getvalue()


def submissions(*private: float | None) -> list[dict]:
    return [
        {
            "ref": 900 + i,
            "fileName": f"sub{i}.csv",
            "date": f"2027-03-0{i + 1}T10:00:00Z",
            "description": "late",
            "status": "COMPLETE",
            "publicScore": "" if p is None else str(p + 0.1),
            "privateScore": "" if p is None else str(p),
        }
        for i, p in enumerate(private)
    ]


@pytest.mark.slow
def test_the_final_board_on_the_demo_ranks_the_eight_finalists(finished: Path) -> None:
    board = board_json(finished)
    rows = board["rows"]
    assert (board["week"], board["private"], len(rows)) == ("05-lanl-final", True, 8)
    assert [r["rank"] for r in rows] == list(range(1, 9))
    scores = [r["cohort_score"] for r in rows]
    played = [s for s in scores if s is not None]  # a simulated finalist may skip the final
    assert len(played) >= 4 and played == sorted(played)  # MAE: lower first
    assert scores == played + [None] * (8 - len(played))  # no entry ranks last
    cohort = Cohort.open(finished)
    assert {r["handle"] for r in rows} == set(final.finalists(cohort)[0])
    table = runner.invoke(app, ["--root", str(finished), "final"])
    assert table.exit_code == 0 and "8 finalists" in table.output
    assert rows[0]["name"] in table.output


@pytest.mark.slow
def test_a_finalists_csv_export_adds_their_kaggle_score(
    finished: Path, fake_kaggle: FakeKaggle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cohort = Cohort.open(finished)
    first, second = final.finalists(cohort)[0][:2]
    with cohort.store.transaction() as tx:
        members = {m.handle: m for m in final.member_store.all_members(tx)}
    user = members[second].kaggle_username or second
    fake_kaggle.tokens[ANN_TOKEN] = user
    fake_kaggle.competitions[LANL] = {}
    fake_kaggle.my_submissions[(user, LANL)] = submissions(2.71, None, 2.49)
    monkeypatch.setenv("KAGGLE_API_TOKEN", ANN_TOKEN)
    export = tmp_path / "mine.csv"
    export.write_text(kaggle_csv_export(fake_kaggle, user, ANN_TOKEN))
    assert export.read_text().splitlines()[0] == (
        "ref,fileName,date,description,status,publicScore,privateScore"
    )
    result = runner.invoke(
        app, ["--root", str(finished), "final", "--csv", str(export), "--member", second, "--json"]
    )
    assert result.exit_code == 0, result.output
    imported, board = result.output.split("\n", 1)
    assert imported == (
        f"Imported 3 late submissions of {second} to {LANL} (2 with a private score; best private 2.4900)."
    )
    rows = {r["handle"]: r for r in json.loads(board)["rows"]}
    assert (rows[second]["kaggle_private"], rows[second]["kaggle_rank"]) == (2.49, 1)
    assert rows[second]["kaggle_submissions"] == 3
    assert rows[first]["kaggle_private"] is None
    # A second export replaces the first: one finalist's list, never doubled.
    fake_kaggle.my_submissions[(user, LANL)] = submissions(2.6)
    export.write_text(kaggle_csv_export(fake_kaggle, user, ANN_TOKEN))
    again = runner.invoke(
        app, ["--root", str(finished), "final", "--csv", str(export), "--member", second, "--json"]
    )
    rows = {r["handle"]: r for r in json.loads(again.output.split("\n", 1)[1])["rows"]}
    assert (rows[second]["kaggle_private"], rows[second]["kaggle_submissions"]) == (2.6, 1)


@pytest.mark.slow
def test_own_submissions_through_the_api_need_the_finalists_token(
    finished: Path, fake_kaggle: FakeKaggle, monkeypatch: pytest.MonkeyPatch
) -> None:
    cohort = Cohort.open(finished)
    third = final.finalists(cohort)[0][2]
    with cohort.store.transaction() as tx:
        user = {m.handle: m for m in final.member_store.all_members(tx)}[third].kaggle_username
    fake_kaggle.competitions[LANL] = {}
    fake_kaggle.my_submissions[(user, LANL)] = submissions(2.55)
    # The organizer's own token lists the organizer's submissions: refused, with the way out.
    with pytest.raises(AccessDenied, match=r"^The Kaggle credentials are organizer's, not"):
        final.import_own_submissions(cohort, third)
    fake_kaggle.tokens[ANN_TOKEN] = user
    monkeypatch.setenv("KAGGLE_API_TOKEN", ANN_TOKEN)
    result = runner.invoke(
        app, ["--root", str(finished), "kaggle", "late-submissions", "--member", third]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Imported 1 late submissions of {third} to {LANL}")
    assert {r["handle"]: r for r in board_json(finished)["rows"]}[third]["kaggle_private"] == 2.55


def test_a_csv_that_is_not_a_kaggle_export_is_one_line(make_cohort, tmp_path: Path) -> None:
    root = make_cohort({"01-test": {}})
    from cohort.sheets import roster
    from tests.conftest import write_roster

    cohort = Cohort.open(root)
    roster.import_roster(cohort.store, write_roster(root, [("ann", "Ann", "", "ann")]))
    bad = tmp_path / "scores.csv"
    bad.write_text("name,score\nann,2.5\n")
    with pytest.raises(
        ValidationError, match=r"is not the output of `kaggle competitions submissions"
    ):
        final.import_late_csv(cohort, "ann", bad)


@pytest.mark.slow
def test_the_final_page_shows_the_board(finished: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_app_helpers import app_test, texts

    at = app_test(finished, monkeypatch, page="final")
    assert not at.exception
    assert "8 finalists" in texts(at)
    frame = at.dataframe[0].value
    assert list(frame["Rank"]) == list(range(1, 9))
    expected = [r["name"] for r in board_json(finished)["rows"]]
    assert list(frame["Member"]) == expected
