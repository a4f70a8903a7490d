"""`cohort weeks report`: each week's baselines measured on its embedded data, over seeds.

A week's README table is this module's output: the starter kernel executed as the
notebook `cohort kaggle push` uploads (over several training seeds), the week's
scikit-learn baseline and the trivial `sample_submission.csv`, all scored on the
hidden test rows of the embedded default. Nothing is written to the cohort's data/:
the data are built in a scratch folder.

The harness drives a kernel from outside, so its text stays free of test plumbing:
it inserts one cell after the kernel's `parameters` cell (papermill's convention)
that sets `SEED`, and one cell at the top that turns fastai's progress bars off and
makes its data loaders work in the kernel's own process.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cohort.errors import ConfigError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from cohort.config import Week
    from cohort.workspace import Cohort

DEFAULT_SEEDS = (0, 1, 2)
KERNEL_TIMEOUT_S = 1800  # per cell; a CPU shared with other jobs is slow, not broken

# Run before the kernel's own cells: quiet fastai and keep its loaders in-process.
HARNESS_CELL = """\
# cohort harness (not part of the starter): no progress bars, loaders in-process.
try:
    from fastai.callback.progress import ProgressCallback
    from fastai.learner import defaults as _defaults

    _defaults.callbacks = [c for c in _defaults.callbacks if c is not ProgressCallback]
    _defaults.cpus = 0
except ImportError:
    pass
"""


@dataclass(frozen=True)
class WeekReport:
    """One week's measured figures on its embedded data."""

    week: str
    metric: str
    seeds: tuple[int, ...]
    starter: tuple[float, ...]  # one score per seed
    baseline: float
    trivial: float
    test_rows: int
    seconds: float  # the starter's mean run time, kernel start included
    parameters: tuple[tuple[str, object], ...] = ()  # parameters-cell names set, e.g. AUGMENT

    @property
    def label(self) -> str:
        """The week's id, with the parameters it ran with: `01-pets AUGMENT=False`."""
        return " ".join([self.week, *(f"{name}={value!r}" for name, value in self.parameters)])

    @property
    def mean(self) -> float:
        """The starter's mean score over the seeds."""
        return statistics.fmean(self.starter)

    @property
    def sd(self) -> float:
        """The starter's sample standard deviation over the seeds (0 for one seed)."""
        return statistics.stdev(self.starter) if len(self.starter) > 1 else 0.0


def score(week: Week, solution: pd.DataFrame, predictions: pd.DataFrame) -> float:
    """The week's metric on every hidden test row (public and private together)."""
    import numpy as np

    from cohort.scoring import metrics

    key, target = week.competition.id_column, week.competition.target_columns[0]
    metric = metrics.get(week.competition.metric)
    truth = solution.astype({key: str}).set_index(key)[target]
    given = predictions.astype({key: str}).set_index(key)[target]
    missing = truth.index.difference(given.index)
    if len(missing):
        raise ValidationError(
            f"Week '{week.id}' starter's submission has no row for id '{missing[0]}'; "
            "it must predict every test row."
        )
    given = given.loc[truth.index]
    if metric.kind == "regression":
        return metric.fn(truth.astype(float).to_numpy(), given.astype(float).to_numpy())
    classes = sorted(set(truth.astype(str)) | set(given.astype(str)))
    codes = {c: i for i, c in enumerate(classes)}
    encode = np.vectorize(codes.__getitem__)
    return metric.fn(encode(truth.astype(str).to_numpy()), encode(given.astype(str).to_numpy()))


def prepare_embedded(week: Week, out: Path) -> None:
    """Build the week's embedded default into `out` (train/test files and the answers)."""
    from cohort.weeks.contract import load_module
    from cohort.weeks.prepare import check_built, write_answers

    out.mkdir(parents=True, exist_ok=True)
    built = load_module(week).build(None, out, week.data.seed)
    check_built(week, built)
    write_answers(week, built, out, week.data.seed)


def with_harness(notebook: Any, seed: int, parameters: Mapping[str, object] | None = None) -> Any:
    """The notebook with the harness cell on top and `SEED = seed` after its parameters cell.

    `parameters` sets more of the parameters cell's names (papermill-style), e.g.
    `{"PHOTOS": True}` runs week 1's Kaggle recipe off Kaggle.
    """
    import nbformat

    cells = list(notebook.cells)
    where = next(
        (i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])),
        None,
    )
    if where is None:
        raise ConfigError(
            "The starter kernel has no cell tagged 'parameters'; "
            'mark the cell that sets SEED with `# %% tags=["parameters"]`.'
        )
    lines = [f"SEED = {int(seed)}  # cohort harness"]
    lines += [f"{name} = {value!r}" for name, value in (parameters or {}).items()]
    cells.insert(where + 1, nbformat.v4.new_code_cell("\n".join(lines)))
    cells.insert(0, nbformat.v4.new_code_cell(HARNESS_CELL))
    notebook.cells = cells
    return notebook


def run_starter(
    source: Path,
    data: Path,
    work: Path,
    seed: int,
    timeout: int = KERNEL_TIMEOUT_S,
    parameters: Mapping[str, object] | None = None,
) -> Path:
    """Execute a starter kernel (jupytext script `source`) on `data` in `work`; its submission."""
    from cohort.weeks.kernels import to_notebook

    notebook = with_harness(to_notebook(source), seed, parameters)
    return run_notebook(notebook, data, work, f"{source} with seed {seed}", timeout)


def run_notebook(
    notebook: Any, data: Path, work: Path, label: str, timeout: int = KERNEL_TIMEOUT_S
) -> Path:
    """Execute a harnessed starter notebook on `data` in `work`; the submission.csv it wrote."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "COHORT_DATA_DIR": str(data)}
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(work)}},
    )
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        last = f"{exc.ename}: {exc.evalue}" if exc.ename else type(exc).__name__
        raise ConfigError(f"{label} failed ({last}); run it by hand to see why.") from None
    submission = work / "submission.csv"
    if not submission.is_file():
        raise ConfigError(f"{label} ran but wrote no submission.csv; its last cell must write it.")
    return submission


def report(
    cohort: Cohort,
    week_ref: str,
    seeds: tuple[int, ...] = DEFAULT_SEEDS,
    progress: Callable[[str], None] | None = None,
    parameters: Mapping[str, object] | None = None,
) -> WeekReport:
    """Measure one week: the starter over `seeds`, the baseline and the trivial submission.

    `parameters` sets names of the kernel's parameters cell for every seed (e.g.
    `{"AUGMENT": False}`: week 1 without augmentation); the report carries them."""
    import pandas as pd

    from cohort.weeks.contract import load_module

    week = cohort.config.week(week_ref)
    if not seeds:
        raise ValidationError("Give at least one seed, e.g. --seeds 0,1,2.")
    scratch = Path(tempfile.mkdtemp(prefix=f"cohort-report-{week.id}-"))
    try:
        data = scratch / "data"
        prepare_embedded(week, data)
        solution = pd.read_csv(data / "solution.csv", dtype=str, keep_default_na=False)
        trivial = score(week, solution, pd.read_csv(data / "sample_submission.csv", dtype=str))
        base = score(week, solution, load_module(week).baseline(data))
        scores, seconds = [], []
        for seed in seeds:
            start = time.perf_counter()
            path = run_starter(
                week.path / "kernel.py",
                data,
                scratch / f"work-{seed}",
                seed,
                parameters=parameters,
            )
            seconds.append(time.perf_counter() - start)
            scores.append(score(week, solution, pd.read_csv(path, dtype=str)))
            if progress is not None:
                progress(f"{week.id} seed {seed}: {scores[-1]:.4f} ({seconds[-1]:.0f} s)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return WeekReport(
        week=week.id,
        metric=week.competition.metric,
        seeds=tuple(seeds),
        starter=tuple(scores),
        baseline=base,
        trivial=trivial,
        test_rows=len(solution),
        seconds=statistics.fmean(seconds),
        parameters=tuple((parameters or {}).items()),
    )


def table_rows(reports: list[WeekReport]) -> list[dict[str, str]]:
    """The README's baseline table: one row per week, starter as mean +- sd (run times: --json)."""
    return [
        {
            "week": r.label,
            "metric": r.metric,
            "starter kernel": f"{r.mean:.3f} +- {r.sd:.3f}",
            "seeds": ",".join(map(str, r.seeds)),
            "scikit-learn baseline": f"{r.baseline:.3f}",
            "trivial": f"{r.trivial:.3f}",
            "test rows": str(r.test_rows),
        }
        for r in reports
    ]
