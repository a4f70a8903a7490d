"""A week's hidden solution: read once, checked, and its truth encoded for the metric.

The validator takes a Solution as its input and the scorer scores against one, so it
lives below both (no import cycle between intake, validation and scoring). It is read
with Python's csv module (a few thousand rows: pyarrow's import alone, ~0.04 s, was a tenth
of a solution-fix rescore); pyarrow is imported when the validator asks for `id_array` or
`table`, pandas when a caller asks for `frame`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from cohort.config import CohortConfig, Competition
from cohort.errors import ConfigError, NotFound
from cohort.scoring import SCORER_VERSION, metrics  # noqa: F401 - SCORER_VERSION: re-exported

if TYPE_CHECKING:
    import pandas as pd

    from cohort.workspace import Cohort


@dataclass(frozen=True)
class Solution:
    """A week's hidden solution, with its truth encoded for the metric."""

    week: str
    columns: dict[str, list[str]] = field(repr=False)  # the file's columns, as written
    sha256: str  # the stamp on its scores: file bytes + the scoring settings (see _load_solution)
    classes: tuple[str, ...]
    competition: Competition = field(repr=False, default=None)  # type: ignore[assignment,arg-type]
    ids: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment,arg-type]
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

    @cached_property
    def kind(self) -> str:
        """The metric's kind (label, proba or value): asked ~6 times per file parsed."""
        return metrics.get(self.competition.metric).kind

    @cached_property
    def table(self) -> Any:
        """The file's columns as a pyarrow Table of strings (imports pyarrow)."""
        import pyarrow as pa

        return pa.table({name: string_array(values) for name, values in self.columns.items()})

    @cached_property
    def id_array(self) -> Any:
        """The ids as a pyarrow array, for the validator's lookups (imports pyarrow)."""
        return string_array(self.ids.tolist())

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The solution file as a DataFrame of strings (imports pandas; not on the intake path)."""
        return self.table.to_pandas()

    @cached_property
    def id_positions(self) -> dict[str, int]:
        """Each id's position (built once, for files that list ids in another order)."""
        return {i: n for n, i in enumerate(self.ids.tolist())}

    @cached_property
    def positions(self) -> np.ndarray:
        """0..n-1, read-only: the positions of a file that lists the ids in this order."""
        out = np.arange(len(self.ids), dtype=np.intp)
        out.flags.writeable = False
        return out

    @cached_property
    def first_ids(self) -> frozenset[str]:
        """The first 1,000 ids (a header line that is one of them means a missing header)."""
        return frozenset(self.ids[:1000].tolist())

    @cached_property
    def class_codes(self) -> dict[str, int]:
        """Each class label's code."""
        return {c: n for n, c in enumerate(self.classes)}

    @cached_property
    def class_lookup(self) -> Any:
        """pyarrow's lookup of the class labels (index_in gives each label's code)."""
        from cohort.scoring import arrow as pc

        return pc.SetLookupOptions(value_set=string_array(list(self.classes)))

    def decode_labels(self, codes: np.ndarray) -> np.ndarray:
        """Class codes back to their labels."""
        return np.asarray(self.classes, dtype=object)[codes]


def numpy_of(arr: Any, dtype: Any) -> np.ndarray:
    """A pyarrow array of numbers without nulls as numpy, zero-copy.

    pyarrow's own to_numpy() imports pandas (~0.3 s), which the intake path must not pay."""
    arr = arr.combine_chunks() if hasattr(arr, "combine_chunks") else arr
    dtype = np.dtype(dtype)
    if arr.null_count:
        raise ValueError("numpy_of: the array has nulls")
    if len(arr) == 0:
        return np.empty(0, dtype)
    return np.frombuffer(
        arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * dtype.itemsize
    )


def string_array(texts: list[str]) -> Any:
    """A pyarrow string array built from its buffers (pa.array imports pandas, ~0.3 s)."""
    import pyarrow as pa

    data = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(d) for d in data], dtype=np.int64)
    return pa.StringArray.from_buffers(
        len(data), pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(data))
    )


def load_solution(cohort: Cohort | CohortConfig, week_ref: str) -> Solution:
    """The week's solution.csv, checked and encoded; NotFound before `cohort prepare`.

    Takes a Cohort or only its config: validating a file needs no database."""
    config = cohort if isinstance(cohort, CohortConfig) else cohort.config
    week = config.week(week_ref)
    path = config.solution_path(week)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise NotFound(
            f"Week '{week.id}' has no solution file {path}; run `cohort prepare {week.id}` first."
        ) from None
    return _load_solution(str(path), st.st_mtime_ns, st.st_size, week.id, week.competition)


def _read_strings(data: bytes, path: str, week: str) -> dict[str, list[str]]:
    """The CSV's columns as strings, exactly as written (no NA guessing); blank lines skipped."""
    fix = f"rebuild it with `cohort prepare {week} --force`"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        first = data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8")
        names = next(csv.reader([first]))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        raise ConfigError(f"{path} has no readable CSV header; {fix}.") from None
    if len(set(names)) != len(names):
        raise ConfigError(f"{path} repeats a column name in its header; {fix}.")
    try:
        rows = [row for row in csv.reader(io.StringIO(data.decode("utf-8"), newline="")) if row]
    except (UnicodeDecodeError, csv.Error) as exc:
        detail = " ".join(str(exc).split())[:200]
        raise ConfigError(f"{path} cannot be read as CSV ({detail}); {fix}.") from None
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(names):
            raise ConfigError(
                f"{path} cannot be read as CSV (row {line} has {len(row)} values, the header "
                f"{len(names)}); {fix}."
            )
    columns = list(zip(*rows[1:], strict=True)) if len(rows) > 1 else [() for _ in names]
    return {name: list(values) for name, values in zip(names, columns, strict=True)}


@lru_cache(maxsize=16)
def _load_solution(path: str, _mtime: int, _size: int, week: str, comp: Competition) -> Solution:
    with open(path, "rb") as fh:
        data = fh.read()
    columns = _read_strings(data, path, week)
    fix = f"rebuild it with `cohort prepare {week} --force`"
    for col in (comp.id_column, *comp.target_columns, "Usage"):
        if col not in columns:
            raise ConfigError(f"{path} has no column '{col}'; {fix}.")
    texts = [i.strip() for i in columns[comp.id_column]]
    ids = np.asarray(texts, dtype=object)
    if len(set(texts)) != len(texts):
        seen: set[str] = set()
        dup = next(i for i in texts if i in seen or seen.add(i))  # type: ignore[func-returns-value]
        raise ConfigError(f"{path} repeats id '{dup}'; {fix}.")
    usage = np.asarray([u.strip().capitalize() for u in columns["Usage"]], dtype=object)
    if not np.isin(usage, ["Public", "Private"]).all():
        raise ConfigError(f"{path} has a Usage other than Public/Private; {fix}.")
    kind = metrics.get(comp.metric).kind
    classes, truth = _encode_truth(columns, comp, kind, path)
    key_src = "\n".join([kind, ",".join(comp.target_columns), "|".join(classes), *ids])
    # Scores are stamped with this hash: the file's bytes plus the settings it is scored under,
    # so fixing a week's metric or direction makes every old score stale, as a new file does.
    settings = "\n".join(
        [comp.metric, comp.direction, ",".join(comp.target_columns), "|".join(classes)]
    )
    stamp = hashlib.sha256(data + b"\0" + settings.encode()).hexdigest()
    return Solution(
        week,
        columns,
        stamp,
        classes,
        comp,
        ids,
        truth,
        usage == "Public",
        hashlib.sha256(key_src.encode()).hexdigest(),
    )


def _encode_truth(
    columns: dict[str, list[str]], comp: Competition, kind: str, path: str
) -> tuple[tuple[str, ...], np.ndarray]:
    cols = list(comp.target_columns)
    values = [[v.strip() for v in columns[c]] for c in cols]
    if kind == "label":
        found = sorted({v for col in values for v in col})
        classes = comp.classes or tuple(found)
        code_of = {c: n for n, c in enumerate(classes)}
        if not set(found) <= set(code_of):
            raise ConfigError(
                f"{path} has labels outside the week's classes; fix [competition] classes or the file."
            )
        codes = np.column_stack(
            [np.fromiter((code_of[v] for v in col), np.int64, len(col)) for col in values]
        )
        return tuple(classes), codes[:, 0] if len(cols) == 1 else codes
    try:
        numbers = np.column_stack([_floats(col) for col in values])
    except ValueError:
        raise ConfigError(
            f"{path} has non-numeric values in {cols}; rebuild it with `cohort prepare`."
        ) from None
    if kind == "proba":  # one-hot columns, one per class
        return tuple(cols), numbers.argmax(axis=1)
    return (), numbers[:, 0] if len(cols) == 1 else numbers


def _floats(texts: list[str]) -> np.ndarray:
    """Numbers as written (ValueError for anything else, `1_000` included: Python's float
    takes digit separators, a CSV reader does not)."""
    if any("_" in t for t in texts):
        raise ValueError("digit separator")
    return np.fromiter(map(float, texts), np.float64, len(texts))
