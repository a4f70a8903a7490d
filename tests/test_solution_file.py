"""Reading a week's solution.csv (Python's csv module, no pyarrow): what it accepts, and a
broken file as one line naming the fix."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cohort.errors import ConfigError
from cohort.scoring.solution import load_solution
from cohort.workspace import Cohort


def _week(make_cohort, body: bytes, metric: str = "mae", target: str = "target") -> Cohort:
    root = make_cohort({"01-w": {"metric": metric, "targets": (target,)}})
    (root / "data/01-w").mkdir(parents=True)
    (root / "data/01-w/solution.csv").write_bytes(body)
    return Cohort.open(root)


def test_bom_crlf_blank_lines_quotes_and_spaces_read_as_written(make_cohort) -> None:
    body = b'\xef\xbb\xbfid,target,Usage\r\n a ,1.5,Public\r\n\r\n"b,2",-2e-1, private \r\nc,nan,Public\r\n'
    sol = load_solution(_week(make_cohort, body), "01-w")
    assert sol.ids.tolist() == ["a", "b,2", "c"]
    assert sol.truth[:2].tolist() == [1.5, -0.2] and np.isnan(sol.truth[2])
    assert sol.public.tolist() == [True, False, True]
    # The validator's lookups and the frame, built on demand, hold the same ids.
    assert sol.id_array.to_pylist() == ["a", "b,2", "c"]
    assert sol.frame["id"].tolist() == [" a ", "b,2", "c"]


def test_labels_are_coded_in_sorted_order(make_cohort) -> None:
    body = b"id,label,Usage\nx,dog,Public\ny, cat ,Private\nz,dog,Private\n"
    sol = load_solution(_week(make_cohort, body, "accuracy", "label"), "01-w")
    assert sol.classes == ("cat", "dog") and sol.truth.tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"id,target,Usage\na,1,Public\nb,2\n",
            "cannot be read as CSV (row 3 has 2 values, the header 3)",
        ),
        (b"id,target,Usage\na,1_000,Public\n", "has non-numeric values in ['target']"),
        (b"id,target,Usage\na,,Public\n", "has non-numeric values in ['target']"),
        (b"id,target,Usage\na,1,Public\na,2,Private\n", "repeats id 'a'"),
        (b"id,target,Usage\na,1,Hidden\n", "has a Usage other than Public/Private"),
        (b"id,id,Usage\na,1,Public\n", "repeats a column name in its header"),
        (b"id,target\na,1\n", "has no column 'Usage'"),
        (b"\xff\xfe,\n", "has no readable CSV header"),
        (b"id,target,Usage\na,\xff,Public\n", "cannot be read as CSV ("),
    ],
)
def test_a_broken_solution_is_one_line_naming_the_fix(
    make_cohort, body: bytes, message: str
) -> None:
    cohort = _week(make_cohort, body)
    with pytest.raises(ConfigError) as err:
        load_solution(cohort, "01-w")
    text = str(err.value)
    assert message in text and "\n" not in text
    assert "cohort prepare" in text


def test_scoring_reads_the_solution_without_pyarrow(make_cohort) -> None:
    """A rescore loads every week's solution: pyarrow's import (~0.04 s) stays off that path."""
    cohort = _week(make_cohort, b"id,target,Usage\na,1,Public\nb,2,Private\n")
    code = (
        "import sys; from pathlib import Path; from cohort import config;"
        "from cohort.scoring.solution import load_solution;"
        f"load_solution(config.load(Path({str(cohort.root)!r})), '01-w');"
        "print('pyarrow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_the_stamp_is_the_file_and_its_settings(make_cohort) -> None:
    """Read by the csv module or pyarrow, a solution's stamp is sha256(bytes + settings): the
    stored scores of every season stay current."""
    import hashlib

    body = b"id,target,Usage\na,1,Public\nb,2,Private\n"
    sol = load_solution(_week(make_cohort, body), "01-w")
    settings = "\n".join(["mae", "min", "target", ""])
    assert sol.sha256 == hashlib.sha256(body + b"\0" + settings.encode()).hexdigest()
