"""cohort weeks report: the harness, the scores, and each starter within its README's claim."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.errors import ConfigError
from cohort.weeks.kernels import to_notebook
from cohort.weeks.report import report, score, with_harness
from cohort.workspace import Cohort

REPO = Path(__file__).resolve().parents[1]
WEEKS = ["01-pets", "02-regularization", "03-sequences", "04-optimizers", "05-lanl-final"]
runner = CliRunner()


def _claim(readme: Path, week_id: str) -> tuple[float, float]:
    """The starter's `mean +- sd` in the table `cohort weeks report --markdown` printed."""
    found = re.search(
        rf"^\| {re.escape(week_id)} \| \w+ \| (\d+\.\d+) \+- (\d+\.\d+) \|",
        readme.read_text(),
        re.M,
    )
    assert found, f"{readme} has no baseline row for {week_id}"
    return float(found.group(1)), float(found.group(2))


@pytest.mark.parametrize("week_id", WEEKS)
def test_every_starter_has_a_parameters_cell_and_no_test_plumbing(week_id: str) -> None:
    week = Cohort.open(REPO).config.week(week_id)
    notebook = with_harness(to_notebook(week.path / "kernel.py"), seed=7)
    sources = [c.source for c in notebook.cells]
    where = sources.index("SEED = 7  # cohort harness")
    assert "SEED = " in sources[where - 1] and "ProgressCallback" in sources[0]
    text = (week.path / "kernel.py").read_text()
    assert "COHORT_QUIET" not in text and "num_workers" not in text  # no test plumbing


def test_a_kernel_without_parameters_cell_is_one_error_line() -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("SEED = 1")])
    with pytest.raises(ConfigError, match=r"no cell tagged 'parameters'; mark the cell"):
        with_harness(notebook, seed=0)


def test_score_uses_the_week_metric_on_every_row() -> None:
    cohort = Cohort.open(REPO)
    week = cohort.config.week("02-regularization")
    truth = pd.DataFrame({"id": ["a", "b", "c", "d"], "diagnosis": ["M", "B", "B", "B"]})
    guess = pd.DataFrame({"id": ["d", "c", "b", "a"], "diagnosis": ["B", "B", "M", "M"]})
    # F1(M) = 2/3, F1(B) = 0.8: macro 0.7333 (scikit-learn gives the same).
    assert score(week, truth, guess) == pytest.approx(0.7333333)
    lanl = cohort.config.week("final")
    truth = pd.DataFrame({"seg_id": ["s1", "s2"], "time_to_failure": ["1.0", "3.0"]})
    guess = pd.DataFrame({"seg_id": ["s2", "s1"], "time_to_failure": ["2.0", "1.5"]})
    assert score(lanl, truth, guess) == pytest.approx(0.75)


def test_report_refuses_bad_seeds_in_one_line() -> None:
    result = runner.invoke(app, ["--root", str(REPO), "weeks", "report", "2", "--seeds", "a,b"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: --seeds 'a,b' is not a comma-separated list of whole numbers; use e.g. 0,1,2."
    ]


@pytest.mark.slow
@pytest.mark.parametrize("week_id", WEEKS)
def test_starter_reproduces_its_readme_figure(week_id: str) -> None:
    """Seed 0 (one of the report's seeds) lands within 3 sd (at least 2%) of the README's mean."""
    cohort = Cohort.open(REPO)
    week = cohort.config.week(week_id)
    mean, sd = _claim(week.path / "README.md", week_id)
    assert (mean, sd) == _claim(REPO / "README.md", week_id)
    measured = report(cohort, week_id, seeds=(0,))
    print(f"{week_id}: starter {measured.starter[0]:.4f}, README {mean} +- {sd}")
    assert abs(measured.starter[0] - mean) <= max(3 * sd, 0.02 * abs(mean))
    better = (
        measured.starter[0] > measured.trivial
        if week.competition.direction == "max"
        else measured.starter[0] < measured.trivial
    )
    assert better
