"""Collecting members' Kaggle kernels: real client, fake Kaggle API, real cohort and SQLite store."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cohort.kaggle import collect
from cohort.scoring import intake
from cohort.sheets import roster as members
from cohort.store import kernel_runs
from cohort.workspace import Cohort
from tests.conftest import write_roster
from tests.fake_kaggle.server import FakeKaggle, FakeKernel

pytest_plugins = ["tests.fake_kaggle.fixtures"]

NOW = datetime(2027, 1, 12, 12, 0, tzinfo=UTC)  # inside week 01-test (opens 2027-01-11)
GOOD = b"id,label\n1,cat\n2,dog\n3,cat\n4,dog\n"
NOTEBOOK = json.dumps(
    {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# My pets model"},
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": "from fastai.vision.all import *",
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
)
LINKS = {
    "alice": "https://www.kaggle.com/code/alice/pets-kernel",
    "bob": "https://www.kaggle.com/bob/pets-running",  # the older link form
    "carol": "https://www.kaggle.com/code/carol/pets-broken",
    "dave": "https://www.kaggle.com/code/dave/pets-empty",
    "erin": "https://colab.research.google.com/drive/1AbCdEfGhIjKlMnOp",
    "frank": "https://www.kaggle.com/code/frank/pets-wrong",
}


@pytest.fixture
def season(make_cohort) -> Cohort:
    """A cohort whose members gave the notebook LINKS for week 01-test."""
    root = make_cohort({"01-test": {"daily_limit": 2}})
    data = root / "data" / "01-test"
    data.mkdir(parents=True)
    (data / "solution.csv").write_text(
        "id,label,Usage\n1,cat,Public\n2,dog,Private\n3,cat,Public\n4,dog,Private\n"
    )
    cohort = Cohort.open(root)
    members.import_roster(
        cohort.store,
        write_roster(root, [(h, h.title(), "", h) for h in LINKS]),  # each owns their kernel
    )
    for handle, url in LINKS.items():
        intake.submit(cohort, handle, "01-test", None, url, at=NOW)
    return cohort


def arrange(fake: FakeKaggle) -> None:
    fake.kernels["alice/pets-kernel"] = FakeKernel(
        outputs={"submission.csv": GOOD}, source=NOTEBOOK
    )
    fake.kernels["bob/pets-running"] = FakeKernel(status="RUNNING")
    fake.kernels["carol/pets-broken"] = FakeKernel(
        status="ERROR", failure_message="CUDA out of memory"
    )
    fake.kernels["dave/pets-empty"] = FakeKernel(outputs={"model.pkl": b"\x00"})
    fake.kernels["frank/pets-wrong"] = FakeKernel(outputs={"submission.csv": b"id,label\n9,cat\n"})


def outcomes(report: collect.CollectReport) -> dict[str, tuple[str, str]]:
    return {i.handle: (i.outcome, i.status) for i in report.items}


def query(cohort: Cohort, sql: str) -> list[tuple]:
    with sqlite3.connect(cohort.root / "cohort.db") as db:
        return db.execute(sql).fetchall()


def test_collect_submits_finished_kernels_and_records_the_rest(
    season: Cohort, fake_kaggle: FakeKaggle
) -> None:
    arrange(fake_kaggle)
    report = collect.collect(season, now=NOW)
    assert outcomes(report) == {
        "alice": ("collected", "collected"),
        "bob": ("running", "running"),
        "carol": ("failed", "error"),
        "dave": ("failed", "no_output"),
        "erin": ("not_fetched", "colab"),
        "frank": ("failed", "invalid"),
    }
    reasons = {i.handle: i.reason for i in report.items}
    assert reasons["carol"] == "kernel run ended with error: CUDA out of memory"
    assert reasons["dave"] == "kernel output has no submission.csv"
    assert reasons["erin"] == "colab link recorded; only Kaggle kernels are fetched"
    assert (
        report.summary()
        == "Kaggle kernels: 1 collected, 0 unchanged, 1 running, 3 failed, 1 not fetched."
    )
    kaggle_rows = query(
        season,
        "select m.handle, s.status, s.source from submissions s "
        "join members m on m.id = s.member_id where s.source = 'kaggle'",
    )
    assert kaggle_rows == [("alice", "scored", "kaggle")]
    assert query(season, "select count(*) from notebooks") == [(1,)]


def test_second_collect_collects_nothing_new(season: Cohort, fake_kaggle: FakeKaggle) -> None:
    arrange(fake_kaggle)
    collect.collect(season, now=NOW)
    runs_before = query(season, "select count(*) from kernel_runs")
    subs_before = query(season, "select count(*) from submissions")
    again = collect.collect(season, now=NOW)
    assert outcomes(again)["alice"] == ("unchanged", "unchanged")
    assert again.count("collected") == 0
    assert query(season, "select count(*) from submissions") == subs_before
    # alice's 'unchanged' check is one new row; repeated identical checks of the others add none
    assert query(season, "select count(*) from kernel_runs") == [(runs_before[0][0] + 1,)]
    collect.collect(season, now=NOW)
    assert query(season, "select count(*) from kernel_runs") == [(runs_before[0][0] + 1,)]


def test_a_finished_kernel_is_collected_on_a_later_run(
    season: Cohort, fake_kaggle: FakeKaggle
) -> None:
    arrange(fake_kaggle)
    collect.collect(season, week_ref="1", now=NOW)
    fake_kaggle.kernels["bob/pets-running"] = FakeKernel(
        outputs={"submission.csv": GOOD}, source=NOTEBOOK
    )
    later = collect.collect(season, now=NOW)
    assert outcomes(later)["bob"] == ("collected", "collected")
    with season.store.transaction() as tx:
        bob = [r.status for r in kernel_runs.runs(tx, "01-test") if r.handle == "bob"]
    assert bob == ["running", "collected"]


def test_daily_limit_defers_the_output_to_a_later_collect(
    season: Cohort, fake_kaggle: FakeKaggle, tmp_path: Path
) -> None:
    arrange(fake_kaggle)
    manual = tmp_path / "manual.csv"
    manual.write_bytes(GOOD)
    for _ in range(2):
        intake.submit(season, "alice", "01-test", manual, at=NOW)
    report = collect.collect(season, now=NOW)
    item = next(i for i in report.items if i.handle == "alice")
    assert (item.outcome, item.status, item.reason) == (
        "failed",
        "deferred",
        "daily limit reached; the next collect retries it",
    )
    tomorrow = datetime(2027, 1, 13, 12, 0, tzinfo=UTC)
    assert outcomes(collect.collect(season, now=tomorrow))["alice"] == ("collected", "collected")


def test_a_rate_limited_status_call_is_retried(season: Cohort, fake_kaggle: FakeKaggle) -> None:
    arrange(fake_kaggle)
    fake_kaggle.fail("GetKernelSessionStatus", 429, "Too many requests")
    assert outcomes(collect.collect(season, now=NOW))["alice"] == ("collected", "collected")


def test_a_private_kernel_is_recorded_as_unreachable(
    season: Cohort, fake_kaggle: FakeKaggle
) -> None:
    arrange(fake_kaggle)
    fake_kaggle.kernels["alice/pets-kernel"].private = True
    item = next(i for i in collect.collect(season, now=NOW).items if i.handle == "alice")
    assert (item.outcome, item.status, item.reason) == (
        "failed",
        "unreachable",
        (
            "Kaggle kernel 'alice/pets-kernel' is private or does not exist; ask alice to share it "
            "with organizer (Share -> add collaborator, can view), not to make it public"
        ),
    )


def test_a_private_kernel_shared_with_the_organizer_is_collected(
    season: Cohort, fake_kaggle: FakeKaggle
) -> None:
    arrange(fake_kaggle)
    fake_kaggle.kernels["alice/pets-kernel"].private = True
    fake_kaggle.kernels["alice/pets-kernel"].shared_with.add("organizer")
    assert outcomes(collect.collect(season, now=NOW))["alice"] == ("collected", "collected")


def test_only_submission_csv_is_downloaded(season: Cohort, fake_kaggle: FakeKaggle) -> None:
    arrange(fake_kaggle)
    fake_kaggle.kernels["alice/pets-kernel"].outputs.update(
        {
            "model.pth": b"\x00" * 1000,
            "features/train.parquet": b"\x01",
            "old/submission.csv.bak": b"",
        }
    )
    collect.collect(season, now=NOW)
    assert "kernels/alice/pets-kernel/output/submission.csv" in fake_kaggle.downloaded
    assert [d for d in fake_kaggle.downloaded if not d.endswith("/submission.csv")] == []


def test_no_kaggle_links_need_no_credentials(make_cohort, kaggle_home: Path) -> None:
    root = make_cohort()
    cohort = Cohort.open(root)
    members.import_roster(cohort.store, write_roster(root, [("erin", "Erin", "", "")]))
    intake.submit(cohort, "erin", "01-test", None, LINKS["erin"], at=NOW)
    assert outcomes(collect.collect(cohort, now=NOW)) == {"erin": ("not_fetched", "colab")}


def test_a_link_pinned_to_a_script_version_is_collected_and_says_which_run(
    make_cohort, fake_kaggle: FakeKaggle
) -> None:
    root = make_cohort({"01-test": {"daily_limit": 2}})
    data = root / "data" / "01-test"
    data.mkdir(parents=True)
    (data / "solution.csv").write_text(
        "id,label,Usage\n1,cat,Public\n2,dog,Private\n3,cat,Public\n4,dog,Private\n"
    )
    cohort = Cohort.open(root)
    members.import_roster(cohort.store, write_roster(root, [("alice", "Alice", "", "alice")]))
    url = "https://www.kaggle.com/code/alice/pets-kernel?scriptVersionId=212345678"
    intake.submit(cohort, "alice", "01-test", None, url, at=NOW)
    arrange(fake_kaggle)
    item = collect.collect(cohort, now=NOW).items[0]
    assert (item.outcome, item.kernel_ref) == ("collected", "alice/pets-kernel")
    assert item.reason == (
        "the link pins scriptVersionId 212345678; Kaggle's API gives the kernel's latest run, "
        "so its output was taken"
    )
