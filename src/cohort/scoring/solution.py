"""A week's hidden solution: read once, checked, and its truth encoded for the metric.

The validator takes a Solution as its input and the scorer scores against one, so it
lives below both (no import cycle between intake, validation and scoring).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cohort.config import Competition
from cohort.errors import ConfigError, NotFound
from cohort.scoring import metrics
from cohort.workspace import Cohort

SCORER_VERSION = "1"

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class Solution:
    """A week's hidden solution, with its truth encoded for the metric."""

    week: str
    frame: pd.DataFrame
    sha256: str  # the stamp on its scores: file bytes + the scoring settings (see _load_solution)
    classes: tuple[str, ...]
    competition: Competition = field(repr=False, default=None)  # type: ignore[assignment,arg-type]
    ids: pd.Index = field(repr=False, default=None)  # type: ignore[assignment,arg-type]
    truth: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment,arg-type]
    public: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment,arg-type]
    key: str = ""

    @property
    def id_column(self) -> str:
        return self.competition.id_column

    @property
    def target_columns(self) -> tuple[str, ...]:
        return self.competition.target_columns

    @property
    def metric(self) -> str:
        return self.competition.metric

    @property
    def kind(self) -> str:
        return metrics.get(self.competition.metric).kind

    def decode_labels(self, codes: np.ndarray) -> np.ndarray:
        """Class codes back to their labels."""
        return np.asarray(self.classes, dtype=object)[codes]


def load_solution(cohort: Cohort, week_ref: str) -> Solution:
    """The week's solution.csv, checked and encoded; NotFound before `cohort prepare`."""
    week = cohort.config.week(week_ref)
    path = cohort.config.solution_path(week)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise NotFound(
            f"Week '{week.id}' has no solution file {path}; run `cohort prepare {week.id}` first."
        ) from None
    return _load_solution(str(path), st.st_mtime_ns, st.st_size, week.id, week.competition)


@lru_cache(maxsize=16)
def _load_solution(path: str, _mtime: int, _size: int, week: str, comp: Competition) -> Solution:
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        frame = pd.read_csv(
            io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(
            f"{path} cannot be read as CSV ({exc}); rebuild it with `cohort prepare {week} --force`."
        ) from None
    fix = f"rebuild it with `cohort prepare {week} --force`"
    for col in (comp.id_column, *comp.target_columns, "Usage"):
        if col not in frame.columns:
            raise ConfigError(f"{path} has no column '{col}'; {fix}.")
    ids = pd.Index(frame[comp.id_column].str.strip())
    if ids.has_duplicates:
        raise ConfigError(f"{path} repeats id '{ids[ids.duplicated()][0]}'; {fix}.")
    usage = frame["Usage"].str.strip().str.capitalize()
    if not usage.isin(["Public", "Private"]).all():
        raise ConfigError(f"{path} has a Usage other than Public/Private; {fix}.")
    kind = metrics.get(comp.metric).kind
    classes, truth = _encode_truth(frame, comp, kind, path)
    key_src = "\n".join([kind, ",".join(comp.target_columns), "|".join(classes), *ids])
    # Scores are stamped with this hash: the file's bytes plus the settings it is scored under,
    # so fixing a week's metric or direction makes every old score stale, as a new file does.
    settings = "\n".join(
        [comp.metric, comp.direction, ",".join(comp.target_columns), "|".join(classes)]
    )
    stamp = hashlib.sha256(data + b"\0" + settings.encode()).hexdigest()
    return Solution(
        week,
        frame,
        stamp,
        classes,
        comp,
        ids,
        truth,
        usage.to_numpy() == "Public",
        hashlib.sha256(key_src.encode()).hexdigest(),
    )


def _encode_truth(
    frame: pd.DataFrame, comp: Competition, kind: str, path: str
) -> tuple[tuple[str, ...], np.ndarray]:
    cols = list(comp.target_columns)
    if kind == "label":
        values = frame[cols].apply(lambda c: c.str.strip())
        classes = comp.classes or tuple(sorted(set(values.to_numpy().ravel().tolist())))
        codes = np.column_stack([pd.Index(classes).get_indexer(values[c]) for c in cols])
        if (codes < 0).any():
            raise ConfigError(
                f"{path} has labels outside the week's classes; fix [competition] classes or the file."
            )
        return tuple(classes), codes[:, 0] if len(cols) == 1 else codes
    try:
        numbers = frame[cols].apply(pd.to_numeric).to_numpy(dtype=np.float64)
    except (ValueError, TypeError):
        raise ConfigError(
            f"{path} has non-numeric values in {cols}; rebuild it with `cohort prepare`."
        ) from None
    if kind == "proba":  # one-hot columns, one per class
        return tuple(cols), numbers.argmax(axis=1)
    return (), numbers[:, 0] if len(cols) == 1 else numbers
