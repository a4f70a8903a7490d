"""Final project data: LANL Earthquake Prediction, from Kaggle's files or the lab-quake simulator.

Real data (data/raw/05-lanl-final/, as Kaggle ships the competition): train.csv
(acoustic_data int16, time_to_failure float64; 629 million rows, 9 GB), test/seg_*.csv
and sample_submission.csv. Kaggle's own test segments have no labels, so the cohort's
hidden test set is carved from the end of train.csv: the cycles after a failure
boundary, cut into segments as long as Kaggle's test segments (150,000 samples).
Embedded default: cohort.weeks.labquake's simulator, 4,096-sample blocks, 150,000-sample segments.

train.csv is streamed, never loaded: pass 1 reads time_to_failure in chunks to find
the failures and the cut; pass 2 copies the bytes before the cut as the members'
train.csv and writes the rows after it as test segments, one chunk at a time. Peak
memory stays flat in the file's size (`make bench`, lanl suite).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from cohort.errors import CohortError
from cohort.weeks import labquake
from cohort.weeks.contract import Built, csv_frame

ID, TARGET = "seg_id", "time_to_failure"
TEST_SHARE = 0.2  # at least this share of the signal, starting at a failure, becomes test segments
EMBEDDED_SEGMENT = labquake.SEGMENT  # Kaggle's 150,000 samples
CHUNK_ROWS = 500_000  # rows per chunk read: about 10 MB of parsed columns
COLUMNS = ["acoustic_data", "time_to_failure"]
DTYPES = {"acoustic_data": "int16", "time_to_failure": "float64"}


def _chunks(
    path: Path, offset: int | None = None, rows: int = CHUNK_ROWS, **kwargs
) -> Iterator[pd.DataFrame]:
    """train.csv's data rows (from byte `offset`, else after the header) in chunks; errors in one line."""
    try:
        with path.open("rb") as handle:
            if offset is None:
                handle.readline()
            else:
                handle.seek(offset)
            yield from pd.read_csv(
                handle, header=None, names=COLUMNS, chunksize=rows, dtype=DTYPES, **kwargs
            )
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CohortError(
            f"LANL train.csv: cannot read {path} ({str(exc).splitlines()[0]}); check the file."
        ) from None


def _check_header(path: Path) -> None:
    if not path.is_file():
        raise CohortError(
            f"LANL train.csv: {path} is missing; download the week's data again or remove {path.parent}."
        )
    with path.open("rb") as handle:
        header = handle.readline().decode("utf-8", "replace").strip().split(",")
    missing = [c for c in COLUMNS if c not in header]
    if missing or header[:2] != COLUMNS:
        raise CohortError(
            f"{path} has no column '{missing[0] if missing else header[0]}' in place; it should be "
            "laid out as the Kaggle file is (acoustic_data,time_to_failure)."
        )


def scan(path: Path, length: int) -> tuple[int, np.ndarray, np.ndarray]:
    """Pass 1, over time_to_failure in chunks: the row count, the failure starts, and the
    target at the end of every `length` rows (the training segments' targets)."""
    _check_header(path)
    n, previous, starts, ends = 0, None, [], []
    for chunk in _chunks(path, usecols=[1]):
        ttf = chunk[TARGET].to_numpy()
        if previous is not None and len(ttf) and ttf[0] > previous:
            starts.append(n)
        starts.extend((labquake.failure_starts(ttf) + n).tolist())
        ends.append(ttf[(length - 1 - n) % length :: length].copy())  # a view would keep the chunk
        if len(ttf):
            previous = ttf[-1]
        n += len(ttf)
    return n, np.asarray(starts, dtype=np.int64), np.concatenate(ends) if ends else np.empty(0)


def load_real(raw: Path) -> tuple[Path, int, str]:
    """Kaggle's train.csv, and the segment length of Kaggle's test segments."""
    segments = sorted((raw / "test").glob("seg_*.csv"))
    if not segments:
        raise CohortError(
            f"{raw / 'test'} has no seg_*.csv files; download the whole LANL competition."
        )
    length = len(csv_frame(segments[0], "LANL test segment"))
    return raw / "train.csv", length, f"real: {raw}"


def load_embedded(seed: int, out: Path) -> tuple[Path, int, str]:
    """The lab-quake simulator's signal, written as Kaggle's train.csv would be (a scratch file)."""
    signal = labquake.simulate(seed)
    path = out / ".labquake-train.csv"
    write_signal_csv(path, signal.acoustic_data, signal.time_to_failure)
    return path, EMBEDDED_SEGMENT, "embedded: lab-quake simulator"


WRITE_ROWS = 1_000_000  # rows formatted at once: about 20 MB of text


def write_signal_csv(path: Path, acoustic: np.ndarray, ttf: np.ndarray) -> None:
    """The bytes `DataFrame.to_csv(index=False, float_format="%.9f")` writes for the two columns,
    formatted by array arithmetic: pandas formats each float in Python, which made writing the
    simulator's 24 million rows (seed 42) most of every embedded prepare (and of every demo)."""
    with path.open("wb") as fh:
        fh.write(b"acoustic_data,time_to_failure\n")
        for start in range(0, len(acoustic), WRITE_ROWS):
            stop = start + WRITE_ROWS
            fh.write(_signal_lines(acoustic[start:stop], ttf[start:stop]))


def _digits(values: np.ndarray, width: int, pad: bool = True) -> np.ndarray:
    """(rows, width) ASCII digits of non-negative integers below 10**width, right-aligned;
    leading zeros become b' ' (removed later) unless `pad` is False."""
    left = values.astype(np.int32 if width <= 9 else np.int64)
    out = np.empty((len(values), width), dtype=np.uint8)
    for column in range(width - 1, -1, -1):  # one pass per digit, over all rows at once
        left, digit = np.divmod(left, 10)
        out[:, column] = digit + ord("0")
        if pad and column < width - 1:
            out[(left == 0) & (digit == 0), column] = ord(" ")
    return out


def _signed(values: np.ndarray) -> np.ndarray:
    """(rows, 7) ASCII of integers of up to 6 digits with their minus sign, blanks as b' '."""
    value = np.asarray(values, dtype=np.int64)
    sign = np.where(value < 0, ord("-"), ord(" ")).astype(np.uint8)
    magnitude = _digits(np.abs(value), 6)
    # The minus sign sits just before the first digit: shift it into the last leading blank.
    first = np.argmax(magnitude != ord(" "), axis=1)
    left = np.concatenate([np.full((len(value), 1), ord(" "), dtype=np.uint8), magnitude], axis=1)
    left[np.arange(len(value)), first] = sign
    return left


def _int_lines(values: np.ndarray) -> bytes:
    """One integer per line, as pandas' to_csv writes an integer column (a test segment)."""
    lines = np.concatenate(
        [_signed(values), np.full((len(values), 1), ord("\n"), dtype=np.uint8)], axis=1
    ).ravel()
    return lines[lines != ord(" ")].tobytes()


def _signal_lines(acoustic: np.ndarray, ttf: np.ndarray) -> bytes:
    ttf = np.asarray(ttf, dtype=np.float64)
    if len(ttf) == 0:
        return b""
    if not (np.isfinite(ttf).all() and ttf.min() >= 0 and ttf.max() < 1e6):
        lines = (f"{a},{t:.9f}\n" for a, t in zip(acoustic.tolist(), ttf.tolist(), strict=True))
        return "".join(lines).encode()
    # "%.9f" rounds the exact binary value; x * 1e9 is within half an ulp of it, so only a
    # product within 1e-4 of a half can round the other way: those few are formatted exactly.
    scaled = ttf * 1e9
    nano = np.rint(scaled).astype(np.int64)
    near_half = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-4)
    for i in near_half:
        seconds, _, decimals = f"{ttf[i]:.9f}".partition(".")
        nano[i] = int(seconds) * 10**9 + int(decimals)
    whole, frac = np.divmod(nano, 10**9)
    if _fits_tables(acoustic, whole):
        return _table_lines(np.asarray(acoustic), whole, frac)
    left = _signed(acoustic)
    rows = len(left)
    parts = [
        left,
        np.full((rows, 1), ord(","), dtype=np.uint8),
        _digits(whole, 7),
        np.full((rows, 1), ord("."), dtype=np.uint8),
        _digits(frac, 9, pad=False),
        np.full((rows, 1), ord("\n"), dtype=np.uint8),
    ]
    text = np.concatenate(parts, axis=1).ravel()
    return text[text != ord(" ")].tobytes()


def _fits_tables(acoustic: np.ndarray, whole: np.ndarray) -> bool:
    """True when `_table_lines` can write the rows: int16-range samples, whole seconds < 1000."""
    values = np.asarray(acoustic)
    return (
        values.dtype.kind in "iu"
        and len(values) > 0
        and int(values.min()) >= -32768
        and int(values.max()) <= 32767
        and int(whole.max()) < 1000
    )


@cache
def _tables() -> tuple[np.ndarray, ...]:
    """The text of every sample value and every three-digit group, built once from `_signed`
    and `_digits` (so the bytes are theirs): each int16 as 7 right-aligned characters and a
    comma (8 bytes, one uint64); each whole part below 1000 as 3 and a point, each group of
    three decimals, and the last group with its line end (4 bytes, one uint32 each)."""
    n = np.arange(1000)

    def joined(text: np.ndarray, tail: str, dtype: type) -> np.ndarray:
        end = np.full((len(text), 1), ord(tail), dtype=np.uint8)
        return np.ascontiguousarray(np.concatenate([text, end], axis=1)).view(dtype).ravel()

    return (
        joined(_signed(np.arange(-32768, 32768)), ",", np.uint64),
        joined(_digits(n, 3), ".", np.uint32),
        joined(_digits(n, 3, pad=False), " ", np.uint32),
        joined(_digits(n, 3, pad=False), "\n", np.uint32),
    )


def _table_lines(acoustic: np.ndarray, whole: np.ndarray, frac: np.ndarray) -> bytes:
    """`_signal_lines`' bytes by table lookups: each row is 24 bytes of looked-up text (five
    gathers, where `_digits` makes a pass per digit), blanks then removed. 4x faster on the
    simulator's 24 million rows, which every embedded prepare and demo writes."""
    samples, wholes, groups, last = _tables()
    rows = len(acoustic)
    text = np.empty(rows * 24, dtype=np.uint8)
    wide, narrow = text.view(np.uint64).reshape(rows, 3), text.view(np.uint32).reshape(rows, 6)
    wide[:, 0] = samples[acoustic.astype(np.int32) + 32768]
    narrow[:, 2] = wholes[whole]
    high, low = np.divmod(frac, 1000)
    high, middle = np.divmod(high, 1000)
    narrow[:, 3] = groups[high]
    narrow[:, 4] = groups[middle]
    narrow[:, 5] = last[low]
    return text[text != ord(" ")].tobytes()


def build(raw: Path | None, out: Path, seed: int) -> Built:
    """Write train.csv, test/seg_*.csv and return the hidden answers."""
    source_csv, length, source = load_real(raw) if raw is not None else load_embedded(seed, out)
    try:
        n, starts, ends = scan(source_csv, length)
        cut = holdout_start(starts, n, length)
        offset = copy_rows(source_csv, out / "train.csv", cut)
        n_segments = (n - cut) // length
        ids = segment_ids(n_segments, seed)
        order = np.random.default_rng(seed).permutation(n_segments)  # Kaggle lists no time order
        id_of = {int(k): seg_id for seg_id, k in zip(ids, order, strict=True)}
        (out / "test").mkdir()
        answers = dict(write_segments(source_csv, out / "test", offset, length, n_segments, id_of))
        targets = ends[: cut // length]
    finally:
        if raw is None:
            source_csv.unlink(missing_ok=True)
    solution = pd.DataFrame([(i, answers[i]) for i in ids], columns=[ID, TARGET])
    return Built(
        solution=solution,
        train_targets=pd.DataFrame({TARGET: targets}),
        source=source,
        files=("train.csv", "test/"),
    )


def copy_rows(source: Path, target: Path, rows: int) -> int:
    """Pass 2a: copy the header and the first `rows` data lines byte for byte; the byte offset after them."""
    left, copied = rows + 1, 0
    with source.open("rb") as src, target.open("wb") as dst:
        while left > 0:
            block = src.read(1 << 22)
            if not block:
                break
            lines = block.count(b"\n")
            if lines < left:
                dst.write(block)
                left, copied = left - lines, copied + len(block)
                continue
            end = -1
            for _ in range(left):
                end = block.index(b"\n", end + 1)
            dst.write(block[: end + 1])
            copied += end + 1
            left = 0
    return copied


def write_segments(
    source: Path, folder: Path, offset: int, length: int, count: int, id_of: dict[int, str]
) -> Iterator[tuple[str, float]]:
    """Pass 2b: the rows from byte `offset` (the cut) as `count` segment files; yields (seg_id, answer)."""
    carry_a = np.empty(0, dtype=np.int16)
    carry_t = np.empty(0, dtype=np.float64)
    k = 0
    rows = max(CHUNK_ROWS // length, 1) * length
    for chunk in _chunks(source, offset=offset, rows=rows):
        acoustic = np.concatenate([carry_a, chunk["acoustic_data"].to_numpy()])
        ttf = np.concatenate([carry_t, chunk[TARGET].to_numpy()])
        whole = min(len(acoustic) // length, count - k)
        for j in range(whole):
            part = slice(j * length, (j + 1) * length)
            seg_id = id_of[k]
            (folder / f"{seg_id}.csv").write_bytes(b"acoustic_data\n" + _int_lines(acoustic[part]))
            yield seg_id, round(float(ttf[part][-1]), 9)
            k += 1
        carry_a, carry_t = acoustic[whole * length :].copy(), ttf[whole * length :].copy()
        if k == count:
            return


def holdout_start(starts: np.ndarray, n: int, length: int) -> int:
    """The last cycle start that leaves at least TEST_SHARE of the signal (and two segments) after it."""
    need = max(TEST_SHARE * n, 2 * length)
    fitting = [int(s) for s in starts if n - s >= need]
    if not fitting:
        raise CohortError(
            f"The LANL signal ({n} samples) has no failure leaving {int(need)} samples for test "
            "segments; use the full train.csv."
        )
    return fitting[-1]


def segment_ids(n: int, seed: int) -> list[str]:
    """Unique Kaggle-style ids: seg_ and six hex digits."""
    rng = np.random.default_rng([seed, 5])
    values = rng.choice(16**6, size=n, replace=False)
    return [f"seg_{v:06x}" for v in values]


def features(signal: np.ndarray) -> dict[str, float]:
    """Summary statistics of one segment; the classic LANL feature set, shortened."""
    x = signal.astype(np.float64)
    centred = np.abs(x - np.median(x))
    # One partition for the four quantiles (the same order statistics, so the same values
    # as four calls): each call partitioned the whole segment, most of a baseline's time.
    q01, q05, q95, q99 = np.quantile(x, [0.01, 0.05, 0.95, 0.99])
    return {
        "mean": x.mean(),
        "std": x.std(),
        "max": x.max(),
        "min": x.min(),
        "q01": q01,
        "q05": q05,
        "q95": q95,
        "q99": q99,
        "abs_q90": np.quantile(centred, 0.9),
        "spikes": float((centred > 30).mean()),
    }


def segment_features(path: Path, length: int, step: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Features of train.csv's windows of `length` rows every `step` rows, read in chunks."""
    rows, targets = [], []
    carry_a = np.empty(0, dtype=np.int16)
    carry_t = np.empty(0, dtype=np.float64)
    for chunk in _chunks(path):
        acoustic = np.concatenate([carry_a, chunk["acoustic_data"].to_numpy()])
        ttf = np.concatenate([carry_t, chunk[TARGET].to_numpy()])
        start = 0
        while start + length <= len(acoustic):
            rows.append(features(acoustic[start : start + length]))
            targets.append(ttf[start + length - 1])
            start += step
        carry_a, carry_t = acoustic[start:].copy(), ttf[start:].copy()
    return pd.DataFrame(rows), np.asarray(targets)


def baseline(directory: Path) -> pd.DataFrame:
    """Segment statistics and gradient boosting, trained on train.csv cut into test-length segments."""
    from sklearn.ensemble import GradientBoostingRegressor

    sample = pd.read_csv(directory / "sample_submission.csv")
    length = len(pd.read_csv(directory / "test" / f"{sample[ID].iloc[0]}.csv"))
    x_train, y_train = segment_features(directory / "train.csv", length, length // 2)
    model = GradientBoostingRegressor(
        loss="absolute_error", n_estimators=150, max_depth=3, random_state=0
    ).fit(x_train, y_train)
    x_test = pd.DataFrame(
        [
            features(pd.read_csv(directory / "test" / f"{s}.csv")["acoustic_data"].to_numpy())
            for s in sample[ID]
        ]
    )
    return pd.DataFrame({ID: sample[ID], TARGET: model.predict(x_test)})
