"""`cohort check [--repair]`, text guards, full disks, infinite scores and finite JSON."""

from __future__ import annotations

import errno
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.errors import StorageError, ValidationError
from cohort.scoring import intake, integrity, parsed, runs
from cohort.sheets.roster import import_roster
from cohort.store import submissions as store_subs
from cohort.workspace import Cohort
from tests.conftest import write_roster

IDS = [f"s{i}" for i in range(10)]
AT = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
WEEK = "01-reg"
runner = CliRunner()


@pytest.fixture
def cohort(make_cohort, any_store_url: str) -> Cohort:
    root = make_cohort({WEEK: {"metric": "rmse", "targets": ("target",), "daily_limit": 9}})
    (root / "data" / WEEK).mkdir(parents=True)
    pd.DataFrame(
        {"id": IDS, "target": np.arange(10.0), "Usage": ["Public"] * 4 + ["Private"] * 6}
    ).to_csv(root / "data" / WEEK / "solution.csv", index=False)
    write_roster(root, [("ann", "Ann Lee", "ann@example.org", "")])
    c = Cohort.open(root, any_store_url)
    import_roster(c.store, root / "members.csv")
    return c


def _data(offset: float) -> bytes:
    return (
        pd.DataFrame({"id": IDS, "target": np.arange(10.0) + offset}).to_csv(index=False).encode()
    )


def _check(c: Cohort, *args: str):
    return runner.invoke(app, ["--root", str(c.root), "--db", c.store.url, "check", *args])


def _stored(c: Cohort) -> list[str]:
    return sorted(
        str(p.relative_to(c.config.submissions_dir))
        for p in c.config.submissions_dir.rglob("*")
        if p.is_file() and p.name != parsed.LOCK_FILE
    )


def test_a_consistent_store_says_so(cohort: Cohort) -> None:
    intake.submit_bytes(cohort, "ann", WEEK, _data(1), "a.csv", at=AT)
    result = _check(cohort)
    assert (result.exit_code, result.output) == (
        0,
        "Consistent: 1 stored file(s) match their rows and sha256.\n",
    )


def test_orphans_and_temp_files_are_reported_then_repaired(cohort: Cohort) -> None:
    intake.submit_bytes(cohort, "ann", WEEK, _data(1), "a.csv", at=AT)
    kept = _stored(cohort)
    folder = cohort.config.submissions_dir / WEEK
    (folder / ("f" * 64 + ".csv")).write_bytes(b"id,target\n")
    (folder / "parsed" / ("f" * 64 + "-0123456789abcdef.npy")).write_bytes(b"x")
    (folder / f"{parsed.TEMP_PREFIX}{os.uname().nodename[:40]}-999999-abc").write_bytes(b"half")
    result = _check(cohort)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[-1] == "Error: 3 problem(s) in the store; run `cohort check --repair`."
    assert sum(line.startswith("Problem: ") for line in lines) == 3
    assert _stored(cohort) != kept  # a check alone removes nothing
    result = _check(cohort, "--repair")
    assert result.exit_code == 0, result.output
    assert result.output.count("Repaired: removed ") == 3
    assert _stored(cohort) == kept
    assert _check(cohort).exit_code == 0


def test_a_missing_or_damaged_stored_file_is_never_repaired(cohort: Cohort) -> None:
    intake.submit_bytes(cohort, "ann", WEEK, _data(1), "a.csv", at=AT)
    intake.submit_bytes(cohort, "ann", WEEK, _data(2), "b.csv", at=AT)
    with cohort.store.transaction() as tx:
        (_, sha_a, _), (_, sha_b, _) = store_subs.stored_files(tx, WEEK)
    folder = cohort.config.submissions_dir / WEEK
    (folder / f"{sha_a}.csv").unlink()
    (folder / f"{sha_b}.csv").write_bytes(_data(3))
    result = _check(cohort, "--repair")
    assert result.exit_code == 1
    assert (
        f"Problem: Stored file {sha_a[:12]} of week '{WEEK}' is missing from {folder}; "
        in result.output
    )
    assert (
        f"Problem: Stored file {folder / (sha_b + '.csv')} does not match its sha256"
        in result.output
    )
    assert (
        result.output.splitlines()[-1]
        == "Error: 2 problem(s) in the store; see the problems above."
    )
    report = json.loads(_check(cohort, "--json").output.split("\nError:")[0])
    assert report["consistent"] is False
    assert sorted(f["kind"] for f in report["findings"]) == ["corrupt_file", "missing_file"]


def test_text_the_database_cannot_hold_is_refused_alike_on_both_stores(cohort: Cohort) -> None:
    from cohort.season import contributions

    with pytest.raises(ValidationError) as caught:
        contributions.add(cohort, "ann", "presented", week_ref=WEEK, actor="o" * 150)
    assert str(caught.value) == (
        "The text for contributions.recorded_by is 150 characters long; at most 100 fit. "
        "Shorten it and try again."
    )
    with pytest.raises(ValidationError, match=r"contains a NUL character; remove it"):
        contributions.add(cohort, "ann", "presented", week_ref=WEEK, note="a\x00b")
    with pytest.raises(ValidationError, match=r"^Notebook link contains control characters"):
        intake.submit_bytes(
            cohort, "ann", WEEK, None, "", notebook_url="https://kaggle.com/code/a/b\x00"
        )
    assert integrity.check(cohort).consistent


def test_a_full_disk_names_the_path_and_the_fix_and_stores_nothing(
    cohort: Cohort, monkeypatch
) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(parsed.os, "replace", full)
    with pytest.raises(StorageError) as caught:
        intake.submit_bytes(cohort, "ann", WEEK, _data(1), "a.csv", at=AT)
    message = str(caught.value)
    assert message.startswith(f"Cannot write {cohort.config.submissions_dir / WEEK}/")
    assert message.endswith(
        ": the disk is full; free space there (or move submissions_dir) and submit again. "
        "Nothing was stored."
    )
    assert _stored(cohort) == []  # its temp file is gone too
    with cohort.store.transaction() as tx:
        assert store_subs.stored_files(tx, WEEK) == []


def test_a_folder_that_cannot_be_written_names_the_fix(cohort: Cohort, monkeypatch) -> None:
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(parsed.tempfile, "mkstemp", denied)
    with pytest.raises(
        StorageError, match=r": permission denied; let the user running cohort write there\."
    ):
        intake.submit_bytes(cohort, "ann", WEEK, _data(1), "a.csv", at=AT)


def test_an_infinite_score_is_refused_at_scoring_and_json_stays_json(cohort: Cohort) -> None:
    huge = pd.DataFrame({"id": IDS, "target": [1e200] * 10}).to_csv(index=False).encode()
    with pytest.raises(ValidationError) as caught:
        intake.submit_bytes(cohort, "ann", WEEK, huge, "huge.csv", at=AT)
    assert str(caught.value) == runs.INFINITE
    # A file stored before scores were checked becomes an error at the next rescore.
    intake.submit_bytes(cohort, "ann", WEEK, huge, "huge.csv", at=AT, score=False)
    runs.score_pending(cohort, progress=False)
    with cohort.store.transaction() as tx:
        rows = store_subs.scoring_rows(tx, WEEK, "", "x", None)
    assert rows["status"].tolist() == ["error"] and rows["error"].tolist() == [runs.INFINITE]
    out = runner.invoke(
        app, ["--root", str(cohort.root), "--db", cohort.store.url, "leaderboard", WEEK, "--json"]
    )
    assert out.exit_code == 0, out.output
    json.loads(out.output, parse_constant=lambda c: pytest.fail(f"{c} in JSON output"))


def test_json_output_turns_non_finite_numbers_into_null(capsys) -> None:
    from cohort.cli import print_json

    print_json({"a": float("inf"), "b": [float("nan"), 1.5], "c": np.float64("-inf")})
    assert json.loads(capsys.readouterr().out) == {"a": None, "b": [None, 1.5], "c": None}


def test_member_names_are_never_rich_markup(cohort: Cohort, tmp_path: Path) -> None:
    write_roster(cohort.root, [("ann", "[/]", "", ""), ("bo", "[bold red]Bo[/] [link=x]", "", "")])
    import_roster(cohort.store, cohort.root / "members.csv")
    result = runner.invoke(
        app, ["--root", str(cohort.root), "--db", cohort.store.url, "members", "list"]
    )
    assert result.exit_code == 0, result.output
    assert "[/]" in result.output and "[bold red]Bo[/] [link=x]" in result.output
