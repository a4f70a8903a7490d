"""The Kaggle wrapper, through the real `kaggle` client, against the fake Kaggle API on localhost:7777."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cohort.errors import KaggleError
from cohort.kaggle.client import CREDENTIALS_HELP, KaggleClient, parse_leaderboard
from tests.fake_kaggle.server import (
    LEGACY_KEY,
    USERNAME,
    FakeKaggle,
    FakeKaggleServer,
    FakeKernel,
    zip_bytes,
)

# The fake Kaggle server and a credential-free home: fake_kaggle, kaggle_home, kaggle_server.
pytest_plugins = ["tests.fake_kaggle.fixtures"]
NOTEBOOK = json.dumps(
    {
        "cells": [
            {
                "cell_type": "code",
                "source": "import torch",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
)


def error_of(call, *args) -> str:
    with pytest.raises(KaggleError) as info:
        call(*args)
    return str(info.value)


# --- credentials ---------------------------------------------------------------


def test_access_token_signs_in_through_introspection(fake_kaggle: FakeKaggle) -> None:
    assert KaggleClient().username == USERNAME
    assert fake_kaggle.methods_called() == ["IntrospectToken"]


def test_access_token_file_in_home_is_used(
    fake_kaggle: FakeKaggle, kaggle_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAGGLE_API_TOKEN")
    (kaggle_home / ".kaggle" / "access_token").write_text("fake-kaggle-token\n")
    assert KaggleClient().username == USERNAME


def test_no_credentials_says_where_to_put_them_and_prints_nothing(
    kaggle_server, kaggle_home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert error_of(lambda: KaggleClient().api) == CREDENTIALS_HELP
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_invalid_token_is_named(fake_kaggle: FakeKaggle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGGLE_API_TOKEN", "expired-token")
    assert error_of(lambda: KaggleClient().api) == (
        "The Kaggle API token in KAGGLE_API_TOKEN is invalid or expired; "
        "create a new one at https://www.kaggle.com/settings/api."
    )


def test_legacy_username_and_key_from_environment(
    fake_kaggle: FakeKaggle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KAGGLE_API_TOKEN")
    monkeypatch.setenv("KAGGLE_USERNAME", USERNAME)
    monkeypatch.setenv("KAGGLE_KEY", LEGACY_KEY)
    fake_kaggle.kernels["alice/first-kernel"] = FakeKernel(status="RUNNING")
    assert KaggleClient().kernel_status("alice/first-kernel").status == "running"


def test_legacy_kaggle_json_in_config_dir(
    fake_kaggle: FakeKaggle, kaggle_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAGGLE_API_TOKEN")
    config = kaggle_home / ".kaggle" / "kaggle.json"
    config.write_text(json.dumps({"username": USERNAME, "key": LEGACY_KEY}))
    config.chmod(0o600)
    fake_kaggle.kernels["alice/first-kernel"] = FakeKernel(status="COMPLETE")
    assert KaggleClient().kernel_status("alice/first-kernel").status == "complete"


def test_wrong_legacy_key_is_a_401_with_the_fix(
    fake_kaggle: FakeKaggle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KAGGLE_API_TOKEN")
    monkeypatch.setenv("KAGGLE_USERNAME", USERNAME)
    monkeypatch.setenv("KAGGLE_KEY", "wrong")
    fake_kaggle.competitions["pets"] = {"train.csv": b"a\n1\n"}
    assert error_of(KaggleClient().download_competition, "pets", tmp_path) == (
        "Kaggle rejected the credentials (401) for competition 'pets'; create a new API token at "
        "https://www.kaggle.com/settings/api and update KAGGLE_API_TOKEN or ~/.kaggle/access_token."
    )


def test_401_on_a_kernel_call_is_still_about_credentials(
    fake_kaggle: FakeKaggle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAGGLE_API_TOKEN")
    monkeypatch.setenv("KAGGLE_USERNAME", USERNAME)
    monkeypatch.setenv("KAGGLE_KEY", "wrong")
    assert error_of(KaggleClient().kernel_status, "alice/first-kernel").startswith(
        "Kaggle rejected the credentials (401) for kernel 'alice/first-kernel'"
    )


# --- downloads -----------------------------------------------------------------


def test_competition_files_are_downloaded_and_unzipped(
    fake_kaggle: FakeKaggle, tmp_path: Path
) -> None:
    fake_kaggle.competitions["pets"] = {"train.csv": b"id,label\n1,cat\n", "test/a.csv": b"id\n2\n"}
    fake_kaggle.rules_accepted.add("pets")
    files = KaggleClient().download_competition("pets", tmp_path / "raw")
    assert files == [tmp_path / "raw" / "test" / "a.csv", tmp_path / "raw" / "train.csv"]
    assert (tmp_path / "raw" / "train.csv").read_bytes() == b"id,label\n1,cat\n"
    assert not list((tmp_path / "raw").glob("*.zip"))


def test_zips_inside_the_competition_archive_are_extracted(
    fake_kaggle: FakeKaggle, tmp_path: Path
) -> None:
    fake_kaggle.competitions["quakes"] = {
        "train.csv.zip": zip_bytes({"train.csv": b"acoustic_data,time_to_failure\n12,1.5\n"}),
        "test.zip": zip_bytes({"seg_1.csv": b"acoustic_data\n3\n"}),
        "sample_submission.csv": b"seg_id,time_to_failure\nseg_1,0\n",
    }
    fake_kaggle.rules_accepted.add("quakes")
    files = KaggleClient().download_competition("quakes", tmp_path)
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "sample_submission.csv",
        "test/seg_1.csv",
        "train.csv",
    ]


def test_rules_not_accepted_is_one_line_with_the_rules_page(
    fake_kaggle: FakeKaggle, tmp_path: Path
) -> None:
    fake_kaggle.competitions["pets"] = {"train.csv": b"x\n"}
    assert error_of(KaggleClient().download_competition, "pets", tmp_path) == (
        "You have not accepted the competition rules of 'pets' (403); accept them at "
        "https://www.kaggle.com/competitions/pets/rules and retry."
    )


def test_unknown_dataset_is_a_404_naming_week_toml(fake_kaggle: FakeKaggle, tmp_path: Path) -> None:
    assert error_of(KaggleClient().download_dataset, "alice/nothing", tmp_path) == (
        "Kaggle has no dataset 'alice/nothing' (404); check the name in week.toml."
    )


def test_dataset_is_downloaded_and_unzipped(fake_kaggle: FakeKaggle, tmp_path: Path) -> None:
    fake_kaggle.datasets["alice/pets"] = {"images.csv": b"id\n1\n"}
    assert KaggleClient().download_dataset("alice/pets", tmp_path) == [tmp_path / "images.csv"]


# --- retries and limits --------------------------------------------------------


def test_429_is_retried_then_succeeds(fake_kaggle: FakeKaggle) -> None:
    fake_kaggle.kernels["alice/first-kernel"] = FakeKernel(status="COMPLETE")
    fake_kaggle.fail("GetKernelSessionStatus", 429, "Too many requests")
    waits: list[float] = []
    client = KaggleClient(backoff_s=0.5, sleep=waits.append)
    assert client.kernel_status("alice/first-kernel").status == "complete"
    assert fake_kaggle.methods_called().count("GetKernelSessionStatus") == 2
    assert waits == [0.0]  # the fake's Retry-After: 0 wins over the backoff


def test_5xx_backs_off_exponentially_and_gives_up(fake_kaggle: FakeKaggle) -> None:
    fake_kaggle.fail("GetKernelSessionStatus", 503, "Service unavailable", times=5)
    waits: list[float] = []
    client = KaggleClient(attempts=3, backoff_s=0.5, sleep=waits.append)
    assert error_of(client.kernel_status, "alice/first-kernel") == (
        "Kaggle had a server error (503) on kernel 'alice/first-kernel' after 3 tries; retry later."
    )
    assert waits == [0.5, 1.0]


def test_persistent_429_says_wait(fake_kaggle: FakeKaggle) -> None:
    fake_kaggle.fail("GetKernelSessionStatus", 429, "Too many requests", times=10)
    assert error_of(KaggleClient(attempts=2).kernel_status, "alice/first-kernel") == (
        "Kaggle is rate-limiting requests (429) for kernel 'alice/first-kernel' after 2 tries; "
        "wait a few minutes and retry."
    )


def test_daily_limit_message_is_recognised(fake_kaggle: FakeKaggle) -> None:
    fake_kaggle.fail("GetKernelSessionStatus", 400, "Daily limit exceeded for this account")
    assert error_of(KaggleClient().kernel_status, "alice/first-kernel") == (
        "Kaggle's daily limit reached for kernel 'alice/first-kernel'; try again tomorrow."
    )


# --- kernels -------------------------------------------------------------------


def test_kernel_status_running_and_errored(fake_kaggle: FakeKaggle) -> None:
    fake_kaggle.kernels["alice/runner-kernel"] = FakeKernel(status="RUNNING")
    fake_kaggle.kernels["alice/broken-kernel"] = FakeKernel(
        status="ERROR", failure_message="CUDA out of memory"
    )
    client = KaggleClient()
    assert client.kernel_status("alice/runner-kernel").status == "running"
    broken = client.kernel_status("alice/broken-kernel")
    assert (broken.status, broken.failure_message) == ("error", "CUDA out of memory")


def test_private_kernel_is_not_found_or_private(fake_kaggle: FakeKaggle) -> None:
    fake_kaggle.kernels["alice/secret-kernel"] = FakeKernel(private=True)
    assert error_of(KaggleClient().kernel_status, "alice/secret-kernel") == (
        "Kaggle kernel 'alice/secret-kernel' not found or private; check the link, or ask its owner to share it with you."
    )
    assert error_of(KaggleClient().pull_kernel, "alice/secret-kernel", Path("unused")) == (
        "Kaggle kernel 'alice/secret-kernel' not found or private (403); check the link, or ask its owner to share it with you."
    )


def test_kernel_output_and_source_are_downloaded(fake_kaggle: FakeKaggle, tmp_path: Path) -> None:
    fake_kaggle.kernels["alice/first-kernel"] = FakeKernel(
        outputs={"submission.csv": b"id,label\n1,cat\n"}, source=NOTEBOOK, log="done"
    )
    client = KaggleClient()
    files = client.kernel_output("alice/first-kernel", tmp_path / "out")
    assert sorted(f.name for f in files) == ["first-kernel.log", "submission.csv"]
    assert (tmp_path / "out" / "submission.csv").read_bytes() == b"id,label\n1,cat\n"
    source = client.pull_kernel("alice/first-kernel", tmp_path / "src")
    assert source.name == "first-kernel.ipynb"
    assert source.read_text() == NOTEBOOK


def test_push_sends_the_notebook_and_flags(fake_kaggle: FakeKaggle, tmp_path: Path) -> None:
    (tmp_path / "kernel.ipynb").write_text(NOTEBOOK)
    (tmp_path / "kernel-metadata.json").write_text(
        json.dumps(
            {
                "id": "organizer/cohort-01-pets",
                "title": "Cohort 01 pets",
                "code_file": "kernel.ipynb",
                "language": "python",
                "kernel_type": "notebook",
                "enable_gpu": True,
                "enable_internet": False,
            }
        )
    )
    result = KaggleClient().push_kernel(tmp_path)
    assert (result.url, result.version) == (
        "https://www.kaggle.com/code/organizer/cohort-01-pets",
        1,
    )
    sent = fake_kaggle.pushed[0]
    assert (sent["slug"], sent["enableGpu"], sent["enableInternet"]) == (
        "organizer/cohort-01-pets",
        True,
        False,
    )
    assert json.loads(sent["text"])["cells"][0]["source"] == "import torch"


def test_push_with_bad_metadata_is_one_line(fake_kaggle: FakeKaggle, tmp_path: Path) -> None:
    (tmp_path / "kernel-metadata.json").write_text(json.dumps({"id": "organizer/cohort-01-pets"}))
    assert error_of(KaggleClient().push_kernel, tmp_path) == (
        f"The kaggle client refused kernel in {tmp_path}: A source file must be specified in the metadata; "
        "check the name and retry."
    )


# --- the final competition -----------------------------------------------------

LEADERBOARD = (
    "Rank,TeamId,TeamName,LastSubmissionDate,Score,SubmissionCount,TeamMemberUserNames\n"
    '1,101,The Quakers,2019-06-03 12:00:00,2.2650,40,"alice-kg,bob-kg"\n'
    "2,102,solo,2019-06-02 08:30:00,2.3001,12,carol-kg\n"
)


def test_leaderboard_and_team_submissions(fake_kaggle: FakeKaggle) -> None:
    fake_kaggle.leaderboards["LANL-Earthquake-Prediction"] = LEADERBOARD
    fake_kaggle.team_submissions[101] = [
        {"id": 9, "dateSubmitted": "2019-06-03T12:00:00Z", "publicScore": "1.4"}
    ]
    client = KaggleClient()
    rows = client.leaderboard("LANL-Earthquake-Prediction")
    assert [(r.rank, r.team_id, r.team_name, r.score, r.members) for r in rows] == [
        (1, 101, "The Quakers", 2.265, ("alice-kg", "bob-kg")),
        (2, 102, "solo", 2.3001, ("carol-kg",)),
    ]
    assert (
        rows[0].submitted_at is not None
        and rows[0].submitted_at.isoformat() == "2019-06-03T12:00:00+00:00"
    )
    subs = client.team_submissions(101)
    assert [(s.id, s.public_score, s.submitted_at.year) for s in subs] == [(9, 1.4, 2019)]


def test_old_leaderboard_format_without_rank() -> None:
    rows = parse_leaderboard(
        "TeamId,TeamName,SubmissionDate,Score\n5,a,2019-01-01 00:00:00,1.5\n6,b,,\n"
    )
    assert [(r.rank, r.team_name, r.score, r.submitted_at is None) for r in rows] == [
        (1, "a", 1.5, False),
        (2, "b", None, True),
    ]


def test_a_taken_port_fails_with_a_clear_message(kaggle_server) -> None:
    with pytest.raises(RuntimeError, match="^Port 7777 is taken by another process"):
        FakeKaggleServer()


# --- nothing else imports kaggle ------------------------------------------------


@pytest.mark.parametrize(
    "args", [["--help"], ["members", "--help"], ["kaggle", "--help"], ["members", "list"]]
)
def test_other_commands_never_import_kaggle(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "cohort.toml").write_text('name = "x"\nstart = 2027-01-11\nweeks = ["01-a"]\n')
    (tmp_path / "weeks" / "01-a").mkdir(parents=True)
    (tmp_path / "weeks" / "01-a" / "week.toml").write_text(
        'title = "A"\n[competition]\nmetric = "accuracy"\n'
    )
    code = (
        "import sys; from cohort.cli import app\n"
        f"try:\n    app({args!r}, prog_name='cohort')\nexcept SystemExit:\n    pass\n"
        "print('KAGGLE-LOADED' if 'kaggle' in sys.modules or 'kagglesdk' in sys.modules else 'KAGGLE-ABSENT')"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAGGLE_")}
    env["HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert "KAGGLE-ABSENT" in output
    for word in ("credential", "KAGGLE_API_TOKEN", "Authentication", "access_token"):
        assert word not in output
