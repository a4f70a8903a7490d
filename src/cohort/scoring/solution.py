"""A week's hidden solution: read once, checked, and its truth encoded for the metric.

The validator takes a Solution as its input and the scorer scores against one, so it
lives below both (no import cycle between intake, validation and scoring). It is read
with pyarrow's CSV reader; pandas is only imported when a caller asks for `frame`.
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
    table: Any = field(repr=False)  # a pyarrow Table of the file's columns, as strings
    sha256: str  # the stamp on its scores: file bytes + the scoring settings (see _load_solution)
    classes: tuple[str, ...]
    competition: Competition = field(repr=False, default=None)  # type: ignore[assignment,arg-type]
    ids: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment,arg-type]
    truth: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment,arg-type]
    public: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment,arg-type]
    key: str = ""
    id_array: Any = field(repr=False, default=None)  # the ids as a pyarrow array (for lookups)

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


def _read_strings(data: bytes, path: str, week: str) -> Any:
    """The CSV's columns as pyarrow strings, exactly as written (no NA guessing)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

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
        return pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
            convert_options=pa_csv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException, ValueError) as exc:
        detail = " ".join(str(exc).split())[:200]
        raise ConfigError(f"{path} cannot be read as CSV ({detail}); {fix}.") from None


@lru_cache(maxsize=16)
def _load_solution(path: str, _mtime: int, _size: int, week: str, comp: Competition) -> Solution:
    from cohort.scoring import arrow as pc

    with open(path, "rb") as fh:
        data = fh.read()
    table = _read_strings(data, path, week)
    fix = f"rebuild it with `cohort prepare {week} --force`"
    for col in (comp.id_column, *comp.target_columns, "Usage"):
        if col not in table.column_names:
            raise ConfigError(f"{path} has no column '{col}'; {fix}.")
    id_array = pc.utf8_trim_whitespace(table.column(comp.id_column)).combine_chunks()
    ids = np.asarray(id_array.to_pylist(), dtype=object)
    if pc.count_distinct(id_array).as_py() != len(id_array):
        seen: set[str] = set()
        dup = next(i for i in ids if i in seen or seen.add(i))  # type: ignore[func-returns-value]
        raise ConfigError(f"{path} repeats id '{dup}'; {fix}.")
    usage = np.asarray(
        [u.strip().capitalize() for u in table.column("Usage").to_pylist()], dtype=object
    )
    if not np.isin(usage, ["Public", "Private"]).all():
        raise ConfigError(f"{path} has a Usage other than Public/Private; {fix}.")
    kind = metrics.get(comp.metric).kind
    classes, truth = _encode_truth(table, comp, kind, path)
    key_src = "\n".join([kind, ",".join(comp.target_columns), "|".join(classes), *ids])
    # Scores are stamped with this hash: the file's bytes plus the settings it is scored under,
    # so fixing a week's metric or direction makes every old score stale, as a new file does.
    settings = "\n".join(
        [comp.metric, comp.direction, ",".join(comp.target_columns), "|".join(classes)]
    )
    stamp = hashlib.sha256(data + b"\0" + settings.encode()).hexdigest()
    return Solution(
        week,
        table,
        stamp,
        classes,
        comp,
        ids,
        truth,
        usage == "Public",
        hashlib.sha256(key_src.encode()).hexdigest(),
        id_array,
    )


def _encode_truth(
    table: Any, comp: Competition, kind: str, path: str
) -> tuple[tuple[str, ...], np.ndarray]:
    import pyarrow as pa

    from cohort.scoring import arrow as pc

    cols = list(comp.target_columns)
    values = [pc.utf8_trim_whitespace(table.column(c)).combine_chunks() for c in cols]
    if kind == "label":
        found = sorted({v for col in values for v in col.to_pylist()})
        classes = comp.classes or tuple(found)
        code_of = {c: n for n, c in enumerate(classes)}
        if not set(found) <= set(code_of):
            raise ConfigError(
                f"{path} has labels outside the week's classes; fix [competition] classes or the file."
            )
        # Each distinct label mapped once (pa.array / index_in would import pandas, ~0.3 s).
        codes = np.column_stack([_codes(v, code_of) for v in values])
        return tuple(classes), codes[:, 0] if len(cols) == 1 else codes
    try:
        numbers = np.column_stack([numpy_of(pc.cast(v, pa.float64()), np.float64) for v in values])
    except (pa.ArrowInvalid, ValueError, TypeError):
        raise ConfigError(
            f"{path} has non-numeric values in {cols}; rebuild it with `cohort prepare`."
        ) from None
    if kind == "proba":  # one-hot columns, one per class
        return tuple(cols), numbers.argmax(axis=1)
    return (), numbers[:, 0] if len(cols) == 1 else numbers


def _codes(column: Any, code_of: dict[str, int]) -> np.ndarray:
    """A column of labels as their class codes (int64)."""
    from cohort.scoring import arrow as pc

    encoded = pc.dictionary_encode(column)
    known = np.asarray([code_of[t] for t in encoded.dictionary.to_pylist()], dtype=np.int64)
    return known[numpy_of(encoded.indices, np.int32)]
