"""`cohort kaggle ...` as an organizer meets it, through the real client and the fake Kaggle API."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.kaggle.client import CREDENTIALS_HELP
from cohort.scoring import intake
from cohort.sheets import roster as members
from cohort.workspace import Cohort
from tests.conftest import write_roster
from tests.fake_kaggle.server import FakeKaggle, FakeKernel

pytest_plugins = ["tests.fake_kaggle.fixtures"]
runner = CliRunner()

PREPARE = """\
import pandas as pd
from cohort.weeks.contract import Built


def build(raw, out, seed):
    frame = pd.read_csv(raw / "labels.csv", dtype=str)
    test, train = frame.iloc[::2], frame.iloc[1::2]
    train.to_csv(out / "train.csv", index=False)
    test[["id"]].to_csv(out / "test.csv", index=False)
    return Built(solution=test[["id", "label"]].reset_index(drop=True), train_targets=train[["label"]],
                 source=f"real: {raw}", files=("train.csv", "test.csv"))


def baseline(directory):
    return pd.read_csv(directory / "sample_submission.csv", dtype=str)
"""
LABELS = b"id,label\n1,cat\n2,dog\n3,cat\n4,dog\n5,cat\n6,dog\n"
KERNEL = '# %% [markdown]\n# Week 1 starter\n\n# %%\nprint("hello")\n'
LEADERBOARD = (
    "Rank,TeamId,TeamName,LastSubmissionDate,Score,SubmissionCount,TeamMemberUserNames\n"
    '1,101,Quake Hunters,2019-06-03 12:00:00,2.2650,40,"someone-else"\n'
    "2,102,ann-team,2019-06-02 08:30:00,2.3001,12,anna\n"
    "3,103,Bo,2019-06-01 08:30:00,2.5001,3,\n"
)


def invoke(root: Path, *args: str):
    return runner.invoke(app, ["--root", str(root), "kaggle", *args])


@pytest.fixture
def root(make_cohort) -> Path:
    """A cohort with kaggle_owner, one week with Kaggle data, a prepare.py and a starter kernel."""
    root = make_cohort({"01-test": {}})
    with (root / "cohort.toml").open("a") as fh:
        fh.write('kaggle_owner = "organizer"\n')
    week = root / "weeks" / "01-test"
    with (week / "week.toml").open("a") as fh:
        fh.write(
            '\n[data]\nkaggle_dataset = "organizer/pets-labels"\n\n[kernel]\nenable_gpu = true\n'
            'slug = "cohort-01-test"\ntitle = "Cohort 01 Test"\n'
        )
    (week / "prepare.py").write_text(PREPARE)
    (week / "kernel.py").write_text(KERNEL)
    write_roster(
        root, [("ann", "Ann", "", "anna"), ("bo", "Bo", "", ""), ("cy", "Cy", "", "cy-kg")]
    )
    members.import_roster(Cohort.open(root).store, root / "members.csv")
    return root


def test_download_fetches_unzips_and_prepares(root: Path, fake_kaggle: FakeKaggle) -> None:
    fake_kaggle.datasets["organizer/pets-labels"] = {"labels.csv": LABELS}
    result = invoke(root, "download", "1")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"Downloaded dataset organizer/pets-labels: 1 file into {root / 'data' / 'raw' / '01-test'}.",
        f"Prepared 01-test: 3 train rows, 3 test rows (1 public) in {root / 'data' / '01-test'}.",
    ]
    assert (root / "data" / "raw" / "01-test" / "labels.csv").read_bytes() == LABELS
    assert (root / "data" / "01-test" / "solution.csv").is_file()
    assert [p.name for p in (root / "data" / "raw").iterdir()] == [
        "01-test"
    ]  # no scratch folder left


def test_download_of_a_competition_without_accepted_rules_changes_nothing(
    root: Path, fake_kaggle: FakeKaggle
) -> None:
    toml = root / "weeks" / "01-test" / "week.toml"
    toml.write_text(
        toml.read_text().replace(
            'kaggle_dataset = "organizer/pets-labels"', 'kaggle_competition = "pets-challenge"'
        )
    )
    fake_kaggle.competitions["pets-challenge"] = {"labels.csv": LABELS}
    result = invoke(root, "download", "01-test")
    assert result.exit_code == 1
    assert result.output == (
        "Error: You have not accepted the competition rules of 'pets-challenge' (403); accept them at "
        "https://www.kaggle.com/competitions/pets-challenge/rules and retry.\n"
    )
    assert not (root / "data" / "raw" / "01-test").exists()
    assert not (root / "data" / "01-test").exists()


def test_download_without_kaggle_data_names_the_setting(make_cohort, kaggle_home: Path) -> None:
    root = make_cohort()
    result = invoke(root, "download", "1")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: Week '01-test' has no Kaggle data; add kaggle_competition or kaggle_dataset under [data] in "
        f"{root / 'weeks' / '01-test' / 'week.toml'}, or run `cohort prepare 01-test` for the embedded data.\n"
    )


def test_download_without_credentials_says_where_to_put_them(
    root: Path, kaggle_server, kaggle_home: Path
) -> None:
    result = invoke(root, "download", "1")
    assert (result.exit_code, result.output) == (1, f"Error: {CREDENTIALS_HELP}\n")


DATA_REF = "organizer/test-cohort-01-test-data"  # from the cohort's name and the week


def test_push_uploads_the_built_kernel_with_the_week_settings(
    root: Path, fake_kaggle: FakeKaggle
) -> None:
    fake_kaggle.datasets[DATA_REF] = {"cohort-week.json": b"{}"}
    result = invoke(root, "push", "1")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Pushed kernel version 1: https://www.kaggle.com/code/organizer/cohort-01-test; "
        "Kaggle runs it now (see `cohort kaggle status 1`).\n"
    )
    sent = fake_kaggle.pushed[0]
    # Public, so members can fork it; no GPU: this kernel's code cannot use one.
    assert (sent["slug"], sent["isPrivate"], sent["enableGpu"], sent["enableInternet"]) == (
        "organizer/cohort-01-test",
        False,
        False,
        False,
    )
    # The cohort's data dataset, not the raw Kaggle dataset prepare reads.
    assert sent["datasetDataSources"] == [DATA_REF]
    cells = json.loads(sent["text"])["cells"]
    assert [c["cell_type"] for c in cells] == ["markdown", "code"]


def test_push_asks_for_a_gpu_only_when_the_code_uses_one(
    root: Path, fake_kaggle: FakeKaggle
) -> None:
    fake_kaggle.datasets[DATA_REF] = {}
    fake_kaggle.run_pushed = False
    (root / "weeks" / "01-test" / "kernel.py").write_text(
        KERNEL + "import torch\ntorch.cuda.is_available()\n"
    )
    assert invoke(root, "push", "1").exit_code == 0
    assert fake_kaggle.pushed[0]["enableGpu"] is True


def test_push_with_the_placeholder_owner_is_refused_before_signing_in(
    root: Path, fake_kaggle: FakeKaggle
) -> None:
    toml = root / "cohort.toml"
    toml.write_text(toml.read_text().replace('"organizer"', '"your-kaggle-username"'))
    result = invoke(root, "push", "1")
    assert (result.exit_code, result.output) == (
        1,
        'Error: cohort.toml has kaggle_owner = "your-kaggle-username"; set it to the Kaggle account '
        "that publishes the cohort's data and starter kernels.\n",
    )
    assert fake_kaggle.calls == []
    assert not (root / "weeks" / "01-test" / "build").exists()


def test_push_with_an_unpublished_dataset_is_one_error_line(
    root: Path, fake_kaggle: FakeKaggle
) -> None:
    result = invoke(root, "push", "1")
    assert (result.exit_code, result.output) == (
        1,
        f"Error: Kaggle did not attach dataset source '{DATA_REF}' to /code/organizer/cohort-01-test: "
        "it does not exist or this account cannot see it; publish it (`cohort kaggle publish-data`) "
        "and push again.\n",
    )


def test_each_invalid_source_is_its_own_error_line(root: Path, fake_kaggle: FakeKaggle) -> None:
    toml = root / "weeks" / "01-test" / "week.toml"
    toml.write_text(
        toml.read_text().replace("[kernel]", 'kaggle_competition = "pets-challenge"\n\n[kernel]', 1)
    )
    fake_kaggle.competitions["pets-challenge"] = {"labels.csv": LABELS}  # rules not accepted
    result = invoke(root, "push", "1")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert [line[:60] for line in lines] == [
        f"Error: Kaggle did not attach dataset source '{DATA_REF}'"[:60],
        "Error: Kaggle did not attach competition source 'pets-challenge' to"[:60],
    ]
    assert lines[1].endswith(
        "accept its rules at https://www.kaggle.com/competitions/pets-challenge/rules and push again."
    )


def test_a_title_that_does_not_give_the_slug_is_refused(
    root: Path, fake_kaggle: FakeKaggle
) -> None:
    toml = root / "weeks" / "01-test" / "week.toml"
    toml.write_text(toml.read_text().replace('title = "Cohort 01 Test"', 'title = "Pets starter"'))
    result = invoke(root, "push", "1")
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: Week '01-test': [kernel] title 'Pets starter' gives the Kaggle slug 'pets-starter', "
        "not slug 'cohort-01-test';"
    )
    assert fake_kaggle.pushed == []


def test_bundle_then_publish_creates_then_versions_a_private_dataset(
    root: Path, fake_kaggle: FakeKaggle
) -> None:
    fake_kaggle.datasets["organizer/pets-labels"] = {"labels.csv": LABELS}
    assert invoke(root, "download", "1").exit_code == 0
    made = runner.invoke(app, ["--root", str(root), "bundle", "1", str(root / "out")])
    assert made.exit_code == 0, made.output
    assert sorted(p.name for p in (root / "out").iterdir()) == [
        "cohort-week.json",
        "sample_submission.csv",
        "test.csv",
        "train.csv",
    ]
    first = invoke(root, "publish-data", "1")
    assert first.exit_code == 0, first.output
    assert first.output.startswith(
        f"Created dataset {DATA_REF} (private: share it with the members on Kaggle): 4 files,"
    )
    assert DATA_REF in fake_kaggle.private_datasets
    files = fake_kaggle.datasets[DATA_REF]
    assert sorted(files) == ["cohort-week.json", "sample_submission.csv", "test.csv", "train.csv"]
    assert b"label" not in files["test.csv"]
    assert json.loads(files["cohort-week.json"])["week"] == "01-test"
    second = invoke(root, "publish-data", "1")
    assert second.output.startswith(f"New version of dataset {DATA_REF} (private")
    assert fake_kaggle.dataset_versions[DATA_REF] == 2


def test_publish_data_public_when_week_toml_says_so(root: Path, fake_kaggle: FakeKaggle) -> None:
    toml = root / "weeks" / "01-test" / "week.toml"
    toml.write_text(toml.read_text().replace("[kernel]", "publish_public = true\n\n[kernel]", 1))
    fake_kaggle.datasets["organizer/pets-labels"] = {"labels.csv": LABELS}
    assert invoke(root, "download", "1").exit_code == 0
    result = invoke(root, "publish-data", "1")
    assert result.output.startswith(f"Created dataset {DATA_REF} (public)")
    assert DATA_REF not in fake_kaggle.private_datasets


def test_publish_data_before_prepare_is_one_line(root: Path, fake_kaggle: FakeKaggle) -> None:
    result = invoke(root, "publish-data", "1")
    assert (result.exit_code, result.output) == (
        1,
        f"Error: Week '01-test' has no prepared data in {root / 'data' / '01-test'}; "
        "run `cohort prepare 01-test` first.\n",
    )


def test_push_without_credentials_builds_nothing(
    root: Path, kaggle_server, kaggle_home: Path
) -> None:
    result = invoke(root, "push", "1")
    assert result.exit_code == 1
    assert result.output.startswith("Error: No Kaggle credentials found;")
    assert not (root / "weeks" / "01-test" / "build").exists()


def test_status_reports_queued_and_failed_runs(root: Path, fake_kaggle: FakeKaggle) -> None:
    fake_kaggle.kernels["organizer/cohort-01-test"] = FakeKernel(status="QUEUED")
    assert invoke(root, "status", "1").output == "Kernel organizer/cohort-01-test is queued.\n"
    fake_kaggle.kernels["organizer/cohort-01-test"] = FakeKernel(
        status="ERROR", failure_message="Timeout"
    )
    result = invoke(root, "status", "1", "--json")
    assert json.loads(result.output) == {
        "ref": "organizer/cohort-01-test",
        "status": "error",
        "failure_message": "Timeout",
    }


def test_status_of_a_kernel_never_pushed(root: Path, fake_kaggle: FakeKaggle) -> None:
    result = invoke(root, "status", "1")
    assert result.output == (
        "Error: Kaggle kernel 'organizer/cohort-01-test' not found or private (404); "
        "check the link, or ask its owner to share it with you.\n"
    )


def test_collect_prints_the_outcome_of_every_link(root: Path, fake_kaggle: FakeKaggle) -> None:
    cohort = Cohort.open(root)
    at = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
    intake.submit(
        cohort, "ann", "01-test", None, "https://www.kaggle.com/code/anna/pets-run", at=at
    )
    intake.submit(
        cohort, "bo", "01-test", None, "https://github.com/bo/pets/blob/main/pets.ipynb", at=at
    )
    fake_kaggle.kernels["anna/pets-run"] = FakeKernel(status="RUNNING")
    result = invoke(root, "collect", "--week", "1")
    assert result.exit_code == 0, result.output
    assert (
        "Kaggle kernels: 0 collected, 0 unchanged, 1 running, 0 failed, 1 not fetched."
        in result.output
    )
    assert "Links that are not Kaggle kernels (1) are recorded, not fetched." in result.output
    data = json.loads(invoke(root, "collect", "--json").output)
    assert [(i["handle"], i["outcome"], i["status"]) for i in data["items"]] == [
        ("ann", "running", "running"),
        ("bo", "not_fetched", "github"),
    ]


def test_final_imports_the_leaderboard_and_member_teams(
    root: Path, fake_kaggle: FakeKaggle
) -> None:
    fake_kaggle.leaderboards["LANL-Earthquake-Prediction"] = LEADERBOARD
    fake_kaggle.team_submissions[102] = [
        {"id": 7, "dateSubmitted": "2019-06-02T08:30:00Z", "publicScore": "1.9"},
        {"id": 8, "dateSubmitted": "2019-06-01T08:30:00Z", "publicScore": "2.1"},
    ]
    fake_kaggle.team_submissions[103] = []
    result = invoke(root, "final")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Imported 3 teams of LANL-Earthquake-Prediction; 2 matched to members, 2 team submissions.",
        "  ann: team 'ann-team'",
        "  bo: team 'Bo'",
        "No team found for members: cy (set their kaggle_username in members.csv, or name the team after it).",
    ]
    assert invoke(root, "final").exit_code == 0  # a re-import replaces the snapshot
    with sqlite3.connect(root / "cohort.db") as db:
        rows = db.execute(
            "select f.kind, f.team_name, m.handle, f.rank, f.score from final_entries f "
            "left join members m on m.id = f.member_id order by f.kind, f.id"
        ).fetchall()
    assert rows == [
        ("leaderboard", "Quake Hunters", None, 1, 2.265),
        ("leaderboard", "ann-team", "ann", 2, 2.3001),
        ("leaderboard", "Bo", "bo", 3, 2.5001),
        ("submission", "ann-team", "ann", None, 1.9),
        ("submission", "ann-team", "ann", None, 2.1),
    ]


def test_final_follows_the_frozen_selection(root: Path, fake_kaggle: FakeKaggle) -> None:
    from cohort.store import selections

    cohort = Cohort.open(root)
    with cohort.store.transaction() as tx:
        selections.add_freeze(
            tx,
            datetime(2027, 2, 15, tzinfo=UTC),
            "organizer",
            2,
            {},
            "0" * 64,
            {},
            {"selected": [{"handle": "bo"}, {"handle": "cy"}]},
        )
    fake_kaggle.leaderboards["LANL-Earthquake-Prediction"] = LEADERBOARD
    fake_kaggle.team_submissions[103] = [
        {"id": 5, "dateSubmitted": "2019-06-01T08:30:00Z", "publicScore": "2.5"}
    ]
    result = invoke(root, "final", "--json")
    assert json.loads(result.output) == {
        "competition": "LANL-Earthquake-Prediction",
        "teams": 3,
        "matched": {"bo": "Bo"},
        "unmatched_members": ["cy"],
        "submissions": 1,
        "from_selection": True,
    }
    assert ("ListTeamPublicSubmissions", {"teamId": 102}) not in fake_kaggle.calls


def test_a_leaderboard_import_keeps_the_finalists_late_submissions(
    root: Path, fake_kaggle: FakeKaggle, tmp_path: Path
) -> None:
    from cohort.kaggle.final import import_late_csv

    export = tmp_path / "ann.csv"
    export.write_text(
        "ref,fileName,date,description,status,publicScore,privateScore\n"
        "41,sub.csv,2027-03-01 10:00:00,late,SubmissionStatus.COMPLETE,2.41,2.52\n"
    )
    done = import_late_csv(Cohort.open(root), "ann", export)
    assert (done.submissions, done.best_private) == (1, 2.52)
    fake_kaggle.leaderboards["LANL-Earthquake-Prediction"] = LEADERBOARD
    fake_kaggle.team_submissions[102] = []
    fake_kaggle.team_submissions[103] = []
    assert invoke(root, "final").exit_code == 0
    with sqlite3.connect(root / "cohort.db") as db:
        late = db.execute(
            "select f.score, m.handle from final_entries f join members m on m.id = f.member_id "
            "where f.kind = 'late_submission'"
        ).fetchall()
    assert late == [(2.52, "ann")]
