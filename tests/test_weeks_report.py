"""cohort weeks report: the harness, the scores, and each starter within its README's claim."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.errors import ConfigError
from cohort.weeks.kernels import to_notebook
from cohort.weeks.report import WeekReport, report, score, with_harness
from cohort.workspace import Cohort

REPO = Path(__file__).resolve().parents[1]
WEEKS = ["01-pets", "02-regularization", "03-sequences", "04-optimizers", "05-lanl-final"]
# The README rows this module's claim test reruns: week 1 as shipped, and without its
# augmentation (`cohort weeks report 1 --set AUGMENT=False`), the figure that measures it.
# Weeks 2-5's rows are checked on the one run of their starter in the suite, the Kaggle
# simulator's in tests/test_kaggle_loop.py (their default SEED is the report's seed 0, and
# that season's data are the embedded default's). Week 1's fastai run differs there: as
# pushed, its data loaders run in worker processes, which the report's harness turns off.
RUNS = [("01-pets", {}), ("01-pets", {"AUGMENT": False})]
ON_THE_SIMULATOR = ("02-regularization", "03-sequences", "04-optimizers", "05-lanl-final")
# Kernels whose seed-0 run is the same on any machine (scikit-learn's single-threaded
# boosting, no torch): their README also states the seed-0 score, checked to 0.001.
EXACT = {"05-lanl-final"}
runner = CliRunner()


@pytest.fixture(autouse=True)
def _own_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The repository's weeks, with a store of the test's own (never the checkout's cohort.db)."""
    monkeypatch.setenv("COHORT_DATABASE_URL", f"sqlite:///{tmp_path / 'cohort.db'}")


def _claim(readme: Path, week_id: str) -> dict[str, str]:
    """The row `cohort weeks report --markdown` printed for the week, by column."""
    lines = [line for line in readme.read_text().splitlines() if line.startswith("| ")]
    header = next(line for line in lines if line.startswith("| week | metric |"))
    row = next((line for line in lines if line.startswith(f"| {week_id} |")), None)
    assert row, f"{readme} has no baseline row for {week_id}"
    names = [cell.strip() for cell in header.strip("|").split("|")]
    return dict(zip(names, (cell.strip() for cell in row.strip("|").split("|")), strict=True))


def _tolerance(mean: float, sd: float) -> float:
    """How far one seed may land from the 3-seed mean it was part of, on any machine.

    On the machine that measured the claim, seed 0 is one of the three runs behind the
    mean, so it lies within (n-1)/sqrt(n) = 1.15 sd of it by construction; the claims are
    measured with the suite's own thread settings (none set), so 2 sd leaves 0.85 sd for
    another machine's floats, and for the Kaggle simulator's one thread (OMP_NUM_THREADS=1,
    weeks 2-4's torch runs in tests/test_kaggle_loop.py; week 5's boosting is one thread
    either way and checked exactly). The 1% floor covers weeks whose three seeds agreed to the
    printed digit (sd 0.000). Where a README's mean beats its baseline by more than this
    (weeks 2, 3 and 4), the run must beat the baseline too.
    """
    return max(2 * sd, 0.01 * abs(mean))


def _label(week_id: str, parameters: dict[str, object]) -> str:
    """The week column `cohort weeks report --set` prints: `01-pets AUGMENT=False`."""
    return " ".join([week_id, *(f"{name}={value!r}" for name, value in parameters.items())])


def _seed0(readme: Path, label: str) -> float:
    """The seed-0 score a README states for a row: "seed 0 scores 1.234" after the label."""
    import re

    found = re.search(
        rf"`{re.escape(label)}`: seed 0 scores ([0-9]+(?:\.[0-9]+)?)", readme.read_text()
    )
    assert found, f"{readme} states no seed-0 score for {label}"
    return float(found.group(1))


@pytest.mark.parametrize("week_id", WEEKS)
def test_every_starter_has_a_parameters_cell_and_no_test_plumbing(week_id: str) -> None:
    week = Cohort.open(REPO).config.week(week_id)
    notebook = with_harness(to_notebook(week.path / "kernel.py"), seed=7)
    sources = [c.source for c in notebook.cells]
    where = sources.index("SEED = 7  # cohort harness")
    assert "SEED = " in sources[where - 1] and "ProgressCallback" in sources[0]
    text = (week.path / "kernel.py").read_text()
    assert "COHORT_QUIET" not in text and "num_workers" not in text  # no test plumbing
    # Nor talk of the tests or the simulator: the harness and the simulator set things from
    # outside (the data finder reads Kaggle's ../input beside the working folder).
    for word in ("KAGGLE_INPUT_ROOT", "simulator", "tests rely", "harness"):
        assert word not in text, word


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


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("AUGMENT", "--set 'AUGMENT' is not NAME=VALUE; use e.g. --set AUGMENT=False."),
        ("AUGMENT=nope", "--set 'AUGMENT=nope': 'nope' is not a Python literal; use e.g."),
    ],
)
def test_report_refuses_a_bad_set_in_one_line(setting: str, message: str) -> None:
    result = runner.invoke(app, ["--root", str(REPO), "weeks", "report", "1", "--set", setting])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {message}")


def test_report_refuses_bad_seeds_in_one_line() -> None:
    result = runner.invoke(app, ["--root", str(REPO), "weeks", "report", "2", "--seeds", "a,b"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: --seeds 'a,b' is not a comma-separated list of whole numbers; use e.g. 0,1,2."
    ]


@pytest.mark.parametrize("week_id", WEEKS)
def test_the_three_copies_of_a_week_row_agree(week_id: str) -> None:
    week = Cohort.open(REPO).config.week(week_id)
    claim = _claim(week.path / "README.md", week_id)
    assert claim == _claim(REPO / "README.md", week_id) == _claim(REPO / "docs/weeks.md", week_id)
    assert claim["seeds"] == "0,1,2" and claim["metric"] == week.competition.metric


def check_readme_figure(
    readme: Path, measured: WeekReport, direction: str, exact: bool = False
) -> None:
    """One starter run (seed 0, one of the report's seeds) lands within the tolerance of the
    README's mean (and, for a machine-independent kernel, on its stated seed-0 score); the
    trivial and test-row columns are exactly what the report prints, the baseline within
    0.5%; a starter the README shows beating its baseline still beats it."""
    from cohort.weeks.report import table_rows

    claim = _claim(readme, measured.label)
    mean, sd = (float(x) for x in claim["starter kernel"].split(" +- "))
    print(f"{measured.label}: starter {measured.starter[0]:.4f}, README {mean} +- {sd}")
    printed = table_rows([measured])[0]
    for column in ("week", "metric", "trivial", "test rows"):
        assert printed[column] == claim[column], (column, printed[column], claim[column])
    # The baseline's BLAS sums follow the thread count: week 1's logistic regression gets
    # one of its 450 test images right with 1 thread and wrong with 2 (0.956 / 0.953).
    baseline = float(claim["scikit-learn baseline"])
    assert abs(measured.baseline - baseline) <= 0.005 * abs(baseline), measured.baseline
    assert abs(measured.starter[0] - mean) <= _tolerance(mean, sd)
    if exact:
        assert abs(measured.starter[0] - _seed0(readme, measured.label)) <= 0.001
    sign = 1 if direction == "max" else -1
    assert sign * (measured.starter[0] - measured.trivial) > 0
    if sign * (mean - baseline) > _tolerance(mean, sd):  # the README says it beats the baseline
        assert sign * (measured.starter[0] - measured.baseline) > 0


def test_the_simulator_weeks_state_seed_0_as_their_default() -> None:
    """What lets tests/test_kaggle_loop.py's run of a starter, as pushed, check its README
    row: the parameters cell's SEED is the report's seed 0."""
    for week_id in ON_THE_SIMULATOR:
        text = (REPO / "weeks" / week_id / "kernel.py").read_text()
        cell = text[text.index('# %% tags=["parameters"]') :].split("# %%", 2)[1]
        assert "\nSEED = 0 " in cell or "\nSEED = 0\n" in cell, week_id


@pytest.mark.slow
@pytest.mark.parametrize(("week_id", "parameters"), RUNS, ids=[_label(*r) for r in RUNS])
def test_starter_reproduces_its_readme_figure(week_id: str, parameters: dict[str, object]) -> None:
    cohort = Cohort.open(REPO)
    week = cohort.config.week(week_id)
    measured = report(cohort, week_id, seeds=(0,), parameters=parameters)
    check_readme_figure(
        week.path / "README.md",
        measured,
        week.competition.direction,
        exact=week_id in EXACT and not parameters,
    )
