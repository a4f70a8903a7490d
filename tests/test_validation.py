"""The validator: every refusal's exact message, and the accepted variants (BOM, CRLF, gz, zip)."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohort.errors import ValidationError
from cohort.scoring import validation
from cohort.scoring.solution import Solution, load_solution
from cohort.workspace import Cohort

IDS = [f"s{i}" for i in range(10)]


def _solution(
    make_cohort,
    metric: str = "mae",
    targets: tuple[str, ...] = ("target",),
    frame: pd.DataFrame | None = None,
    extra: str = "",
) -> Solution:
    root = make_cohort({"01-w": {"metric": metric, "targets": targets}})
    if extra:
        with open(root / "weeks/01-w/week.toml", "a") as fh:
            fh.write(extra)
    if frame is None:
        frame = pd.DataFrame({"id": IDS, "target": np.arange(10) / 2})
    frame = frame.assign(Usage=["Public" if i % 3 == 0 else "Private" for i in range(len(frame))])
    (root / "data/01-w").mkdir(parents=True)
    frame.to_csv(root / "data/01-w/solution.csv", index=False)
    return load_solution(Cohort.open(root), "01-w")


@pytest.fixture
def reg(make_cohort) -> Solution:
    return _solution(make_cohort)


@pytest.fixture
def cls(make_cohort) -> Solution:
    labels = ["cat", "dog", "cat", "bird", "dog", "cat", "cat", "dog", "bird", "cat"]
    return _solution(
        make_cohort, "accuracy", ("label",), pd.DataFrame({"id": IDS, "label": labels})
    )


def _csv(rows: list[tuple[str, str]], header: str = "id,target") -> bytes:
    return ("\n".join([header, *[f"{a},{b}" for a, b in rows]]) + "\n").encode()


GOOD = [(i, str(n)) for n, i in enumerate(IDS)]


def _refused(data: bytes, solution: Solution, name: str = "sub.csv") -> str:
    with pytest.raises(ValidationError) as info:
        validation.parse(data, name, solution)
    return str(info.value)


def test_valid_file_is_aligned_to_solution_order(reg) -> None:
    parsed = validation.parse(_csv(list(reversed(GOOD))), "sub.csv", reg)
    assert list(parsed.frame.index) == IDS
    assert parsed.values.tolist() == [float(n) for n in range(10)]


def test_empty_file(reg) -> None:
    assert (
        _refused(b"", reg) == "Submission file is empty; write the header and one row per test id."
    )
    assert (
        _refused(b"\n  \n", reg)
        == "Submission file is empty; write the header and one row per test id."
    )


def test_binary_file_is_not_a_csv(reg) -> None:
    assert _refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", reg, "sub.png") == (
        "Submission is not a CSV file (it looks like a binary file); save it as CSV (UTF-8), optionally .csv.gz or .zip."
    )


def test_non_utf8_text_is_not_a_csv(reg) -> None:
    assert _refused("id,target\ns0,caf\xe9\n".encode("latin-1"), reg) == (
        "Submission is not a CSV file (it is not UTF-8 text); save it as CSV (UTF-8), optionally .csv.gz or .zip."
    )


def test_missing_required_column(reg) -> None:
    assert _refused(_csv(GOOD, "ID,target"), reg) == (
        "Required column 'id' could not be found; the header must be 'id,target'."
    )
    assert _refused(_csv(GOOD, "id,prediction"), reg) == (
        "Required column 'target' could not be found; the header must be 'id,target'."
    )


def test_missing_header_row(reg) -> None:
    data = "\n".join(f"{a},{b}" for a, b in GOOD).encode()
    assert (
        _refused(data, reg)
        == "The file has no header row; add the line 'id,target' as its first line."
    )


def test_extra_column(reg) -> None:
    data = _csv([(a, f"{b},x") for a, b in GOOD], "id,target,extra")
    assert _refused(data, reg) == (
        "Unexpected column 'extra'; the header must be exactly 'id,target' (remove the extra column)."
    )


def test_repeated_column(reg) -> None:
    data = _csv([(a, f"{b},{b}") for a, b in GOOD], "id,target,target")
    assert (
        _refused(data, reg)
        == "Column 'target' appears 2 times in the header; the header must be 'id,target'."
    )


def test_wrong_row_count_names_the_missing_id(reg) -> None:
    assert (
        _refused(_csv(GOOD[:9]), reg) == "Submission must have 10 rows, found 9; missing ids: 's9'."
    )


def test_missing_ids_show_at_most_five(reg) -> None:
    assert _refused(_csv(GOOD[:3]), reg) == (
        "Submission must have 10 rows, found 3; missing ids: 's3', 's4', 's5', 's6', 's7' (and 2 more)."
    )


def test_duplicate_ids(reg) -> None:
    assert (
        _refused(_csv([*GOOD, GOOD[1]]), reg)
        == "Duplicate ids: 's1'; each id must appear exactly once."
    )


def test_unknown_ids(reg) -> None:
    rows = [*GOOD[:8], ("x1", "1"), ("x2", "2")]
    assert _refused(_csv(rows), reg) == (
        "Unknown ids not in the test set: 'x1', 'x2'; use the ids of sample_submission.csv."
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "an empty or NaN value at line 4"),
        ("NaN", "an empty or NaN value at line 4"),
        ("inf", "an infinite value 'inf' at line 4"),
        ("-Infinity", "an infinite value '-Infinity' at line 4"),
        ("abc", "a non-numeric value 'abc' at line 4"),
    ],
)
def test_bad_numbers(reg, value: str, problem: str) -> None:
    rows = [(a, value if a == "s2" else b) for a, b in GOOD]
    assert (
        _refused(_csv(rows), reg)
        == f"Column 'target' has {problem}; every prediction must be a finite number."
    )


def test_bad_number_counts_other_bad_rows(reg) -> None:
    rows = [(a, "x" if a in ("s2", "s5") else b) for a, b in GOOD]
    assert _refused(_csv(rows), reg) == (
        "Column 'target' has a non-numeric value 'x' at line 4 (and 1 more rows); every prediction must be a finite number."
    )


def test_line_numbers_refer_to_the_file_not_the_solution_order(reg) -> None:
    rows = list(reversed(GOOD))
    rows[0] = ("s9", "oops")
    assert _refused(_csv(rows), reg) == (
        "Column 'target' has a non-numeric value 'oops' at line 2; every prediction must be a finite number."
    )


def test_labels_outside_the_class_set(cls) -> None:
    rows = [(i, "cat") for i in IDS]
    rows[4] = ("s4", "Cat")
    assert _refused(_csv(rows, "id,label"), cls) == (
        "Column 'label' has label 'Cat' at line 6, not one of the 3 classes ('bird', 'cat', 'dog'); "
        "use the training labels exactly."
    )


def test_labels_are_compared_as_strings(make_cohort) -> None:
    sol = _solution(
        make_cohort, "accuracy", ("label",), pd.DataFrame({"id": IDS, "label": ["1", "2"] * 5})
    )
    rows = [(i, "1.0") for i in IDS]
    assert "has label '1.0' at line 2" in _refused(_csv(rows, "id,label"), sol)
    ok = validation.parse(_csv([(i, "2") for i in IDS], "id,label"), "s.csv", sol)
    assert set(ok.values.tolist()) == {1}


def test_bom_and_crlf_are_accepted(reg) -> None:
    data = b"\xef\xbb\xbf" + _csv(GOOD).replace(b"\n", b"\r\n")
    assert validation.parse(data, "sub.csv", reg).values.tolist() == [float(n) for n in range(10)]


def test_gzip_and_zip_with_one_csv_are_accepted(reg) -> None:
    expected = [float(n) for n in range(10)]
    assert (
        validation.parse(gzip.compress(_csv(GOOD)), "sub.csv.gz", reg).values.tolist() == expected
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("predictions.csv", _csv(GOOD))
    assert validation.parse(buf.getvalue(), "sub.zip", reg).values.tolist() == expected


def test_zip_with_two_files_is_refused(reg) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.csv", _csv(GOOD))
        zf.writestr("b.csv", _csv(GOOD))
    assert _refused(buf.getvalue(), reg, "sub.zip") == (
        "The .zip holds 2 CSV files and 0 other files; put exactly one CSV file in it."
    )


def test_damaged_gzip(reg) -> None:
    assert _refused(gzip.compress(_csv(GOOD))[:30], reg, "sub.csv.gz") == (
        "Submission is not a CSV file (the .gz archive is damaged); save it as CSV (UTF-8), optionally .csv.gz or .zip."
    )


def test_size_limit_refuses_before_reading(make_cohort, tmp_path: Path, monkeypatch) -> None:
    sol = _solution(make_cohort, extra="max_file_mb = 0.001\n")
    big = tmp_path / "big.csv"
    big.write_bytes(_csv(GOOD) + b"#" * 2000)

    def no_read(*_a: object) -> bytes:
        raise AssertionError("the file was read")

    monkeypatch.setattr(validation, "_read_fd", no_read)
    with pytest.raises(ValidationError) as info:
        validation.read_limited(big, validation.limit_bytes(sol))
    assert str(info.value) == (
        "Submission file is 2.0 KB, over the 1.0 KB limit; round predictions to fewer digits or compress it as .csv.gz."
    )


def test_a_directory_is_not_a_submission_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        validation.read_limited(tmp_path, 10_000_000)
    assert (
        str(info.value)
        == f"Submission file {tmp_path} is a directory; pass the predictions CSV file."
    )


def test_an_unreadable_submission_file_names_the_fix(tmp_path: Path, monkeypatch) -> None:
    file = tmp_path / "sub.csv"
    file.write_bytes(_csv(GOOD))

    def denied(*_a: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(validation, "_open", denied)
    with pytest.raises(ValidationError) as info:
        validation.read_limited(file, 10_000_000)
    assert (
        str(info.value)
        == f"Submission file {file} cannot be read (permission denied); check its permissions."
    )


def test_compressed_bomb_is_refused(make_cohort) -> None:
    sol = _solution(make_cohort, extra="max_file_mb = 0.001\n")
    bomb = gzip.compress(_csv(GOOD) + b"0" * 200_000)
    assert len(bomb) < 1048
    assert _refused(bomb, sol, "sub.csv.gz") == (
        "Submission unpacks to more than 10.2 KB (10x the size limit); submit a smaller file with one row per test id."
    )


def test_rmsle_refuses_negative_predictions(make_cohort) -> None:
    sol = _solution(make_cohort, "rmsle")
    rows = [(a, "-1.5" if a == "s0" else b) for a, b in GOOD]
    assert (
        _refused(_csv(rows), sol)
        == "Column 'target' has a negative value -1.5 at line 2; RMSLE predictions must be >= 0."
    )


def _proba_solution(make_cohort) -> Solution:
    truth = ["a", "b", "c", "a", "b", "c", "a", "a", "b", "c"]
    onehot = pd.DataFrame({c: [int(t == c) for t in truth] for c in "abc"})
    return _solution(
        make_cohort,
        "log_loss",
        ("a", "b", "c"),
        pd.concat([pd.DataFrame({"id": IDS}), onehot], axis=1),
    )


def test_log_loss_takes_one_probability_column_per_class(make_cohort) -> None:
    sol = _proba_solution(make_cohort)
    assert sol.classes == ("a", "b", "c")
    parsed = validation.parse(_csv([(i, "0.5,0.25,0.25") for i in IDS], "id,a,b,c"), "p.csv", sol)
    assert parsed.values.shape == (10, 3)
    assert _refused(_csv([(i, "0.5,0.5") for i in IDS], "id,a,b"), sol) == (
        "Required column 'c' could not be found; the header must be 'id,a,b,c'."
    )


def test_log_loss_refuses_negative_and_all_zero_rows(make_cohort) -> None:
    sol = _proba_solution(make_cohort)
    rows = [(i, "0.5,-0.1,0.6" if i == "s1" else "0.2,0.3,0.5") for i in IDS]
    assert _refused(_csv(rows, "id,a,b,c"), sol) == (
        "Column 'b' has a negative value -0.1 at line 3; probabilities must be >= 0."
    )
    rows = [(i, "0,0,0" if i == "s1" else "0.2,0.3,0.5") for i in IDS]
    assert _refused(_csv(rows, "id,a,b,c"), sol) == (
        "Row for id 's1' at line 3 has probabilities summing to 0; give each row some probability mass."
    )


def test_row_with_too_many_values(reg) -> None:
    rows = [(a, f"{b},9" if a == "s3" else b) for a, b in GOOD]
    assert (
        _refused(_csv(rows), reg)
        == "Line 5 has 3 values but the header has 2 columns; write one value per column."
    )
    rows = [(a, f"{b},9" if a == "s0" else b) for a, b in GOOD]
    assert (
        _refused(_csv(rows), reg)
        == "Line 2 has 3 values but the header has 2 columns; write one value per column."
    )


def test_trailing_commas_are_harmless(reg) -> None:
    rows = [(a, f"{b},") for a, b in GOOD]
    assert validation.parse(_csv(rows, "id,target,"), "sub.csv", reg).values.tolist() == [
        float(n) for n in range(10)
    ]
    assert validation.parse(_csv(rows), "sub.csv", reg).values.tolist() == [
        float(n) for n in range(10)
    ]


def test_header_only_file(reg) -> None:
    assert _refused(b"id,target\n", reg) == (
        "Submission must have 10 rows, found 0; missing ids: 's0', 's1', 's2', 's3', 's4' (and 5 more)."
    )
