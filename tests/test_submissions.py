"""Intake: the file store, the deadline, the daily limit, notebook links, nothing left behind on failure."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohort.errors import IntakeRefused, NotFound, ValidationError
from cohort.scoring import intake, parsed, runs, solution
from cohort.sheets.roster import import_roster
from cohort.store import submissions as store_subs
from cohort.workspace import Cohort
from tests.conftest import write_roster

IDS = [f"s{i}" for i in range(10)]
AT = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)


@pytest.fixture
def cohort(make_cohort) -> Cohort:
    root = make_cohort({"01-reg": {"metric": "mae", "targets": ("target",), "daily_limit": 2}})
    (root / "data/01-reg").mkdir(parents=True)
    pd.DataFrame(
        {"id": IDS, "target": np.arange(10.0), "Usage": ["Public"] * 4 + ["Private"] * 6}
    ).to_csv(root / "data/01-reg/solution.csv", index=False)
    write_roster(
        root,
        [("ann", "Ann Lee", "ann@example.org", "annk"), ("bob", "Bob Ray", "bob@example.org", "")],
    )
    c = Cohort.open(root)
    import_roster(c.store, root / "members.csv")
    return c


def _file(tmp_path: Path, values: list[float], name: str = "sub.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame({"id": IDS, "target": values}).to_csv(path, index=False)
    return path


def _files(c: Cohort) -> list[str]:
    return sorted(
        str(p.relative_to(c.config.submissions_dir))
        for p in c.config.submissions_dir.rglob("*")
        if p.is_file() and p.name != parsed.LOCK_FILE
    )


def _rows(c: Cohort) -> int:
    with c.store.transaction() as tx:
        return len(store_subs.scoring_rows(tx, "01-reg", "", "x", None))


def test_submit_scores_stores_once_and_reports_remaining(cohort: Cohort, tmp_path: Path) -> None:
    path = _file(tmp_path, [1.0] * 10)
    first = intake.submit(cohort, "ann", "1", path, at=AT)
    assert (first.status, first.remaining_today) == ("scored", 1)
    assert first.public_score == pytest.approx(np.abs(np.arange(4.0) - 1).mean())
    second = intake.submit(cohort, "ann", "1", path, at=AT)
    assert second.submission_id != first.submission_id and second.remaining_today == 0
    sha = parsed.hashlib.sha256(path.read_bytes()).hexdigest()
    key = solution.load_solution(cohort, "1").key[:16]
    assert _files(cohort) == [f"01-reg/{sha}.csv", f"01-reg/parsed/{sha}-{key}.npy"]
    assert (cohort.config.submissions_dir / f"01-reg/{sha}.csv").read_bytes() == path.read_bytes()


def test_daily_limit_counts_per_member_per_local_day(cohort: Cohort, tmp_path: Path) -> None:
    late_evening = datetime(2027, 1, 12, 22, 30, tzinfo=UTC)  # 23:30 in Amsterdam
    after_midnight = datetime(2027, 1, 12, 23, 30, tzinfo=UTC)  # 00:30 on the 13th there
    for i in range(2):
        intake.submit(cohort, "ann", "1", _file(tmp_path, [float(i)] * 10), at=late_evening)
    with pytest.raises(IntakeRefused) as info:
        intake.submit(cohort, "ann", "1", _file(tmp_path, [5.0] * 10), at=late_evening)
    assert str(info.value) == (
        "Member 'ann' has used all 2 submissions for week '01-reg' on 2027-01-12 "
        "(Europe/Amsterdam); submit again after midnight there."
    )
    assert intake.remaining_today(cohort, "bob", "1", at=late_evening) == 2
    assert (
        intake.submit(
            cohort, "ann", "1", _file(tmp_path, [5.0] * 10), at=after_midnight
        ).remaining_today
        == 1
    )


def test_two_intakes_at_once_cannot_both_take_the_last_slot(
    cohort: Cohort, tmp_path: Path, monkeypatch
) -> None:
    intake.submit(cohort, "ann", "1", _file(tmp_path, [0.0] * 10), at=AT)  # one of two left
    both_checked = threading.Barrier(2)
    early_check = intake._files_left  # the early check, on whichever store intake runs

    def racing_check(*args, **kwargs):  # both intakes pass the early check before either inserts
        left = early_check(*args, **kwargs)
        both_checked.wait(timeout=10)
        return left

    monkeypatch.setattr(intake, "_files_left", racing_check)
    outcomes: list[str] = []

    def submit_one(value: float) -> None:
        try:
            intake.submit(cohort, "ann", "1", _file(tmp_path, [value] * 10, f"{value}.csv"), at=AT)
            outcomes.append("accepted")
        except IntakeRefused:
            outcomes.append("refused")

    threads = [threading.Thread(target=submit_one, args=(v,)) for v in (1.0, 2.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["accepted", "refused"]
    assert _rows(cohort) == 2


def test_invalid_file_leaves_nothing_and_does_not_count(cohort: Cohort, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,target\ns0,1\n")
    for _ in range(3):
        with pytest.raises(ValidationError, match=r"^Submission must have 10 rows, found 1; "):
            intake.submit(cohort, "ann", "1", bad, at=AT)
    assert _files(cohort) == []
    assert _rows(cohort) == 0
    assert intake.remaining_today(cohort, "ann", "1", at=AT) == 2


def test_failed_write_stores_no_row_and_check_repair_removes_its_file(
    cohort: Cohort, tmp_path: Path, monkeypatch
) -> None:
    from cohort.scoring import integrity

    def broken(*args: object) -> float:
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "score_new", broken)
    with pytest.raises(RuntimeError):
        intake.submit(cohort, "ann", "1", _file(tmp_path, [1.0] * 10), at=AT)
    assert _rows(cohort) == 0
    # Intake never deletes a stored file (another intake may share it); the orphan is
    # reported by `cohort check` and removed only by `cohort check --repair`.
    assert {f.kind for f in integrity.check(cohort).findings} == {"orphan_file", "orphan_parsed"}
    assert integrity.check(cohort, repair=True).consistent
    assert _files(cohort) == []


def test_a_late_submission_names_the_close_time_in_the_cohort_timezone(
    cohort: Cohort, tmp_path: Path
) -> None:
    result = intake.submit(
        cohort, "ann", "1", _file(tmp_path, [1.0] * 10), at=datetime(2027, 1, 18, tzinfo=UTC)
    )
    assert result.late and result.status == "scored" and result.public_score is not None
    assert result.warnings == [
        "Week '01-reg' closed at 2027-01-18 00:00 CET (Europe/Amsterdam): this is a late "
        "submission. It is scored and shown to you (the private score once revealed), but counts "
        "on no leaderboard and in no standings; late files have their own daily allowance, "
        "apart from on-time files."
    ]


def test_the_close_is_exclusive(cohort: Cohort, tmp_path: Path) -> None:
    # Decided: a week closes *at* closes_at; a file at that instant is late, one just before is not.
    closes = cohort.config.week("1").closes_at
    assert intake.submit(cohort, "ann", "1", _file(tmp_path, [1.0] * 10), at=closes).late
    just_before = closes - timedelta(microseconds=1)
    result = intake.submit(cohort, "ann", "1", _file(tmp_path, [2.0] * 10), at=just_before)
    assert result.status == "scored" and not result.late
    assert _rows(cohort) == 2


def test_before_opening_is_refused(cohort: Cohort, tmp_path: Path) -> None:
    with pytest.raises(IntakeRefused) as info:
        intake.submit(
            cohort, "ann", "1", _file(tmp_path, [1.0] * 10), at=datetime(2027, 1, 10, tzinfo=UTC)
        )
    assert str(info.value) == (
        "Week '01-reg' opens at 2027-01-11 00:00 CET (Europe/Amsterdam); "
        "submit again once it is open."
    )


def test_notebook_only_submission_is_recorded_and_not_counted(cohort: Cohort) -> None:
    result = intake.submit(cohort, "bob", "1", None, "https://www.kaggle.com/code/bob/pets", at=AT)
    assert (result.status, result.public_score, result.remaining_today) == ("notebook", None, 2)
    with cohort.store.transaction() as tx:
        sub = store_subs.get(tx, result.submission_id)
    assert (sub.notebook_url, sub.file_sha256, sub.status) == (
        "https://www.kaggle.com/code/bob/pets",
        "",
        "notebook",
    )


def test_notebook_warnings_are_returned(cohort: Cohort) -> None:
    result = intake.submit(cohort, "bob", "1", None, "https://example.org/nb.ipynb", at=AT)
    assert result.warnings == [
        "Host 'example.org' is not a known notebook host (Kaggle, Colab, GitHub, gist or "
        "Dropbox); make sure others can open the link."
    ]


def test_nothing_to_submit(cohort: Cohort) -> None:
    with pytest.raises(ValidationError) as info:
        intake.submit(cohort, "ann", "1", None, at=AT)
    assert (
        str(info.value) == "Nothing to submit; pass a predictions FILE, a --notebook URL, or both."
    )


def test_unknown_member(cohort: Cohort, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"^No member 'zed'"):
        intake.submit(cohort, "zed", "1", _file(tmp_path, [1.0] * 10), at=AT)


def test_import_key_is_not_imported_twice(cohort: Cohort, tmp_path: Path) -> None:
    intake.submit(cohort, "ann", "1", _file(tmp_path, [1.0] * 10), at=AT, import_key="form:1")
    with pytest.raises(IntakeRefused) as info:
        intake.submit(cohort, "ann", "1", _file(tmp_path, [2.0] * 10), at=AT, import_key="form:1")
    assert (
        str(info.value)
        == "Submission with import key 'form:1' was already imported; nothing to do."
    )


def test_submit_bytes_and_load_predictions(cohort: Cohort) -> None:
    data = (
        "id,target\n" + "\n".join(f"{i},{n * 2}" for n, i in reversed(list(enumerate(IDS))))
    ).encode()
    result = intake.submit_bytes(cohort, "ann", "1", data, "upload.csv", at=AT, source="app")
    with cohort.store.transaction() as tx:
        sha = store_subs.get(tx, result.submission_id).file_sha256
    frame = parsed.load_predictions(cohort, "1", sha)
    assert list(frame.index) == IDS
    assert frame["target"].tolist() == [n * 2.0 for n in range(10)]


def test_parsed_form_is_rebuilt_from_the_stored_file(cohort: Cohort, tmp_path: Path) -> None:
    result = intake.submit(cohort, "ann", "1", _file(tmp_path, [3.0] * 10), at=AT)
    for npy in cohort.config.submissions_dir.rglob("*.npy"):
        npy.unlink()
    with cohort.store.transaction() as tx:
        sha = store_subs.get(tx, result.submission_id).file_sha256
    assert parsed.load_predictions(cohort, "1", sha)["target"].tolist() == [3.0] * 10
    assert len(list(cohort.config.submissions_dir.rglob("*.npy"))) == 1


def test_validate_file_stores_nothing(cohort: Cohort, tmp_path: Path) -> None:
    frame = intake.validate_file(cohort, "1", _file(tmp_path, [1.0] * 10))
    assert len(frame) == 10
    assert _files(cohort) == [] and _rows(cohort) == 0


def test_missing_solution_says_to_prepare(cohort: Cohort, tmp_path: Path) -> None:
    (cohort.root / "data/01-reg/solution.csv").unlink()
    with pytest.raises(NotFound) as info:
        intake.validate_file(cohort, "1", _file(tmp_path, [1.0] * 10))
    assert str(info.value) == (
        f"Week '01-reg' has no solution file {cohort.root / 'data/01-reg/solution.csv'}; "
        "run `cohort prepare 01-reg` first."
    )


def test_compressed_upload_is_stored_as_sent(cohort: Cohort) -> None:
    import gzip

    data = gzip.compress(("id,target\n" + "\n".join(f"{i},1" for i in IDS)).encode())
    result = intake.submit_bytes(cohort, "ann", "1", data, "preds.csv.gz", at=AT)
    sha = parsed.hashlib.sha256(data).hexdigest()
    assert (cohort.config.submissions_dir / f"01-reg/{sha}.csv.gz").read_bytes() == data
    assert result.public_score == pytest.approx(np.abs(np.arange(4.0) - 1).mean())
