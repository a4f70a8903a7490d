"""The validator: every refusal's exact message, and the accepted variants (BOM, CRLF, gz, zip)."""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_labels_with_spaces_and_rows_in_any_order_give_the_same_codes(cls) -> None:
    labels = ["cat", "dog", "bird", "cat", "dog", "bird", "cat", "dog", "bird", "cat"]
    exact = validation.parse(_csv(list(zip(IDS, labels, strict=True)), "id,label"), "s.csv", cls)
    padded = [(i, f" {label} ") for i, label in zip(IDS, labels, strict=True)]
    shuffled = validation.parse(_csv(padded[::-1], "id,label"), "s.csv", cls)
    assert exact.values.tolist() == shuffled.values.tolist()
    assert cls.decode_labels(exact.values).tolist() == labels
    assert exact.values.flags.writeable and exact.values is not cls.positions


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


# --- bounded cost and hostile inputs (issue 18) ------------------------------------------------


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(ValidationError) as info:
            validation.read_limited(path, 10_000_000)  # must not block or read forever
        assert str(info.value) == (
            f"Submission file {path} is not a regular file (a pipe, socket or device); "
            "save the predictions to a CSV file and pass that."
        )


def test_rows_holding_only_the_id(reg) -> None:
    data = ("id,target\n" + "".join(f"{i}\n" for i in IDS)).encode()
    assert _refused(data, reg) == (
        "Line 2 has 1 value but the header has 2 columns; write one value per column."
    )


def test_a_row_without_the_trailing_comma_the_others_have(reg) -> None:
    rows = [(a, f"{b}," if a != "s4" else b) for a, b in GOOD]
    assert _refused(_csv(rows), reg) == (
        "Line 6 has 2 values but the first row has 3; write the same number of values "
        "(and trailing commas) on every line."
    )


def test_wide_header_and_wide_rows_are_refused_cheaply(reg) -> None:
    assert _refused(("id,target" + ",x" * 190 + "\n").encode(), reg) == (
        "The first line is longer than 384 bytes; it must be the header 'id,target'."
    )
    assert _refused(("id,target" + ",x" * 50 + "\n").encode(), reg) == (
        "The header has 52 columns; the header must be 'id,target'."
    )
    wide = _csv(GOOD).replace(b"s3,3\n", b"s3,3" + b",1" * 1000 + b"\n")
    assert _refused(wide, reg) == (
        "Line 5 has 1,002 values but the header has 2 columns; write one value per column."
    )


def test_more_rows_than_a_file_can_need_are_refused_unread(reg) -> None:
    many = _csv([(f"x{i}", "1") for i in range(111)])
    assert _refused(many, reg) == (
        "Submission has more than 110 rows; the test set has 10 ids: write one row per id."
    )
    assert _refused(_csv([(f"x{i}", "1") for i in range(110)]), reg).startswith("Unknown ids")
    huge_field = _csv([*GOOD[:9], ("s9", "1" * 60_000)])
    assert _refused(huge_field, reg) == (
        "Submission file is 58.7 KB, more than 110 rows of up to 384 bytes need; "
        "write one row per test id with plain values."
    )


def test_values_in_messages_are_clipped(reg) -> None:
    rows = [(a, "y" * 300 if a == "s0" else b) for a, b in GOOD]
    message = _refused(_csv(rows), reg)
    assert message == (
        f"Column 'target' has a non-numeric value '{'y' * 37}...' at line 2; "
        "every prediction must be a finite number."
    )


def _zip_bytes(payload: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        zf.writestr("sub.csv", payload)
    return buf.getvalue()


def _patch_zip(data: bytes, flag: int | None = None, method: int | None = None) -> bytes:
    """Rewrite the flag bits / method in the local and central headers (what other tools write)."""
    out = bytearray(data)
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = out.find(sig)
        if flag is not None:
            out[at + flag_at : at + flag_at + 2] = flag.to_bytes(2, "little")
        if method is not None:
            out[at + flag_at + 2 : at + flag_at + 4] = method.to_bytes(2, "little")
    return bytes(out)


def test_encrypted_and_unsupported_zips(reg) -> None:
    plain = _zip_bytes(_csv(GOOD))
    assert _refused(_patch_zip(plain, flag=1), reg, "sub.zip") == (
        "The .zip is password-protected; zip the CSV without a password, or submit it as .csv.gz."
    )
    assert _refused(_patch_zip(plain, method=99), reg, "sub.zip") == (
        "The .zip uses compression method 99, which cohort cannot read; zip it with the "
        "standard (deflate) method, or submit it as .csv.gz."
    )
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        parsed = validation.parse(_zip_bytes(_csv(GOOD), method), "sub.zip", reg)
        assert parsed.values.tolist() == [float(n) for n in range(10)]


def test_zip_bombs_stop_at_the_cap(make_cohort) -> None:
    sol = _solution(make_cohort, extra="max_file_mb = 0.05\n")
    bomb = _zip_bytes(_csv(GOOD) + b"0" * 5_000_000)
    expected = (
        "Submission unpacks to more than 41.2 KB (what 110 rows of up to 384 bytes need); "
        "submit a smaller file with one row per test id."
    )
    assert _refused(bomb, sol, "sub.zip") == expected
    lying = bytearray(bomb)  # a header that claims a small size
    central = lying.find(b"PK\x01\x02")
    lying[central + 24 : central + 28] = (100).to_bytes(4, "little")
    assert _refused(bytes(lying), sol, "sub.zip").startswith("Submission ")
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(40):
            zf.writestr(f"f{i}.csv", b"")
    assert _refused(many.getvalue(), sol, "sub.zip") == (
        "The .zip holds 40 files; put exactly one CSV file in it."
    )


def test_multi_member_gzip_is_one_file(reg) -> None:
    data = _csv(GOOD)
    two = gzip.compress(data[:20]) + gzip.compress(data[20:])
    assert validation.parse(two, "sub.csv.gz", reg).values.tolist() == [float(n) for n in range(10)]


# --- every error is ours: a fuzz test from the week's sample submission ------------------------

SAMPLE = _csv(GOOD)
CONTAINERS = (
    "plain",
    "gzip",
    "gzip-cut",
    "zip",
    "zip-stored",
    "zip-bzip2",
    "zip-lzma",
    "zip-encrypted",
    "zip-method",
    "zip-two",
    "zip-cut",
)


@st.composite
def hostile(draw: st.DrawFn) -> tuple[bytes, str]:
    """The sample submission, mutated, re-encoded and packed in some archive."""
    data = bytearray(SAMPLE)
    for op, at, payload in draw(
        st.lists(
            st.tuples(
                st.sampled_from(["cut", "set", "insert", "delete", "repeat"]),
                st.integers(0, len(SAMPLE)),
                st.binary(min_size=1, max_size=6)
                | st.sampled_from([b",", b"\n", b"\r", b'"', b"\x00", b",,", b"nan", b"1e999"]),
            ),
            max_size=5,
        )
    ):
        at = min(at, len(data))
        if op == "cut":
            del data[at:]
        elif op == "set" and at < len(data):
            data[at] = payload[0]
        elif op == "insert":
            data[at:at] = payload
        elif op == "delete":
            del data[at : at + len(payload)]
        elif op == "repeat":
            data[at:at] = data[at : at + 40] * draw(st.integers(1, 30))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1252"]))
    raw = bytes(data)
    if encoding != "utf-8":
        raw = raw.decode("utf-8", "replace").encode(encoding, "replace")
    return _pack(raw, draw(st.sampled_from(CONTAINERS)))


def _pack(raw: bytes, how: str) -> tuple[bytes, str]:
    if how == "plain":
        return raw, "sub.csv"
    if how.startswith("gzip"):
        packed = gzip.compress(raw)
        return (packed[: len(packed) // 2] if how == "gzip-cut" else packed), "sub.csv.gz"
    method = {"zip-stored": zipfile.ZIP_STORED, "zip-bzip2": zipfile.ZIP_BZIP2}.get(
        how, zipfile.ZIP_LZMA if how == "zip-lzma" else zipfile.ZIP_DEFLATED
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        zf.writestr("sub.csv", raw)
        if how == "zip-two":
            zf.writestr("notes.txt", b"hi")
    packed = buf.getvalue()
    if how == "zip-encrypted":
        packed = _patch_zip(packed, flag=1)
    elif how == "zip-method":
        packed = _patch_zip(packed, method=95)
    elif how == "zip-cut":
        packed = packed[: len(packed) * 2 // 3]
    return packed, "sub.zip"


@pytest.mark.parametrize("kind", ["reg", "cls"])
def test_fuzz_every_refusal_is_one_validation_error(request, kind: str) -> None:
    solution = request.getfixturevalue(kind)
    labels = kind == "cls"

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(case=hostile())
    def check(case: tuple[bytes, str]) -> None:
        data, name = case
        if labels:
            data = data.replace(b"id,target", b"id,label")
        try:
            parsed = validation.parse(data, name, solution)
        except ValidationError as exc:
            message = str(exc)
            assert "\n" not in message and "\r" not in message and len(message) < 600, message
            return
        assert parsed.values.shape == (len(IDS),)
        if not labels:
            assert np.isfinite(parsed.values).all()

    check()


def _stored_state(root: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """Every row of the database and every stored file (name and sha256)."""
    import hashlib
    import sqlite3

    with sqlite3.connect(root / "cohort.db") as conn:
        rows = list(conn.iterdump())
    files = sorted(
        (str(p.relative_to(root)), hashlib.sha256(p.read_bytes()).hexdigest())
        for p in (root / "submissions").rglob("*")
        if p.is_file() and p.name != ".lock"
    )
    return rows, files


@pytest.mark.sqlite_only
def test_fuzz_cli_submit_refusals_are_one_error_line_and_store_nothing(
    make_cohort, tmp_path: Path
) -> None:
    from datetime import date, timedelta

    from typer.testing import CliRunner

    from cohort.cli import app
    from tests.conftest import write_roster

    start = (date.today() - timedelta(days=1)).isoformat()
    root = make_cohort({"01-w": {"metric": "mae", "daily_limit": 100_000}}, start=start)
    (root / "data/01-w").mkdir(parents=True)
    frame = pd.DataFrame({"id": IDS, "target": np.arange(10) / 2})
    frame.assign(Usage=["Public" if i % 3 == 0 else "Private" for i in range(10)]).to_csv(
        root / "data/01-w/solution.csv", index=False
    )
    write_roster(root, [("ann", "Ann", "ann@example.org", "")])
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["--root", str(root), "members", "import", str(root / "members.csv")]
        ).exit_code
        == 0
    )

    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @given(case=hostile())
    def check(case: tuple[bytes, str]) -> None:
        data, name = case
        data = data.replace(b"id,target", b"id,label")  # this week's column is 'label'
        path = tmp_path / name
        path.write_bytes(data)
        before = _stored_state(root)
        result = runner.invoke(
            app, ["--root", str(root), "submit", "--member", "ann", "--week", "1", str(path)]
        )
        if result.exit_code == 0:
            return
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert result.exit_code == 1, result.output
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
        assert "unexpected" not in lines[0] and "Traceback" not in result.output, lines[0]
        assert _stored_state(root) == before

    check()
