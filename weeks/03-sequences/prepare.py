"""Week 3 data: forecast the next temperature from the ones before it.

Real data (data/raw/03-sequences/, any daily temperature CSV as Kaggle datasets ship
them, e.g. "Daily minimum temperatures in Melbourne": a date column first, then one
temperature column; stray characters such as "?0.2" are tolerated). Embedded default:
statsmodels' El Nino monthly sea-surface temperatures, 1950-2010 (real measurements).

The series is split in time. train.csv holds the first part (date, temperature), to
cut into training windows freely. test.csv holds windows from the later part: each
row gives the WINDOW values before a date (lag_WINDOW ... lag_1) and asks for that
date's temperature. Test windows never overlap, so no row's inputs reveal another
row's answer.

Fair-competition rule: the series is public, so test.csv holds no dates, its rows are
shuffled under fresh random ids, and each lag is moved by 0.2-0.8 of the series' resolution
(never onto a value the source can hold), so neither a join on any column nor a search for
the exact window finds its place in the public file. A nearest-window search still can:
the week's README states that as an honour rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cohort.errors import CohortError
from cohort.weeks.contract import Built, csv_frame, fresh_ids

ID, TARGET = "id", "temperature"
TEST_SHARE = 0.5
WINDOW = {"monthly": 12, "daily": 14}  # a year of months; two weeks of days
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def load_real(raw: Path) -> tuple[pd.Series, int, str]:
    """The first CSV below raw/: its first column as dates, its next column as temperatures."""
    files = sorted(raw.rglob("*.csv"))
    if not files:
        raise CohortError(f"{raw} holds no CSV file; put the daily temperature CSV there.")
    frame = csv_frame(files[0], "Temperature CSV")
    if frame.shape[1] < 2:
        raise CohortError(
            f"{files[0]} has {frame.shape[1]} column; it needs a date column and a temperature column."
        )
    dates = pd.to_datetime(frame.iloc[:, 0], errors="coerce")
    values = pd.to_numeric(
        frame.iloc[:, 1].astype(str).str.replace(r"[^0-9.\-]", "", regex=True), errors="coerce"
    )
    series = pd.Series(values.to_numpy(), index=dates).dropna()
    series = series[series.index.notna()].sort_index()
    if len(series) < 40:
        raise CohortError(
            f"{files[0]} has {len(series)} dated temperatures; the week needs at least 40."
        )
    return series, WINDOW["daily"], f"real: {files[0]}"


def load_embedded(seed: int) -> tuple[pd.Series, int, str]:
    """statsmodels' El Nino table (a row per year, a column per month) as one monthly series."""
    import statsmodels.api as sm

    table = sm.datasets.elnino.load_pandas().data
    long = table.melt(id_vars="YEAR", value_vars=MONTHS, var_name="month", value_name=TARGET)
    long["date"] = pd.to_datetime(
        {"year": long["YEAR"].astype(int), "month": long["month"].map(MONTHS.index) + 1, "day": 1}
    )
    long = long.sort_values("date")
    series = pd.Series(long[TARGET].to_numpy(dtype=float), index=pd.DatetimeIndex(long["date"]))
    return series, WINDOW["monthly"], "embedded: statsmodels El Nino sea temperatures"


def jitter_step(values: np.ndarray) -> float:
    """The series' resolution (0.1 for temperatures given to a tenth), at least 0.001."""
    steps = np.diff(np.unique(np.round(values, 4)))
    return max(float(steps.min()) if len(steps) else 0.0, 0.001)


def jitter_values(values: np.ndarray, step: float, rng: np.random.Generator) -> np.ndarray:
    """Move each value by 0.2-0.8 of a resolution step: never onto a value the source can hold."""
    sign = rng.choice([-1.0, 1.0], size=len(values))
    decimals = int(np.ceil(-np.log10(step))) + 2
    return np.round(values + sign * rng.uniform(0.2, 0.8, size=len(values)) * step, decimals)


def build(raw: Path | None, out: Path, seed: int) -> Built:
    """Split in time: the head is train.csv, the tail becomes non-overlapping test windows."""
    series, window, source = load_real(raw) if raw is not None else load_embedded(seed)
    cut = int(len(series) * (1 - TEST_SHARE))
    dates = series.index.strftime("%Y-%m-%d")
    train = pd.DataFrame({"date": dates[:cut], TARGET: series.to_numpy()[:cut]})
    train.to_csv(out / "train.csv", index=False)
    values = series.to_numpy()
    rng = np.random.default_rng([seed, 3])
    # Shuffled, so a row's position does not give its date away either.
    targets = rng.permutation(np.arange(cut + window, len(series), window + 1))
    ids = fresh_ids(len(targets), rng, prefix="t")
    jitter = jitter_step(values)
    lags = {
        f"lag_{k}": jitter_values(values[targets - k], jitter, rng) for k in range(window, 0, -1)
    }
    test = pd.DataFrame({ID: ids, **lags})
    test.to_csv(out / "test.csv", index=False)
    solution = pd.DataFrame({ID: ids, TARGET: values[targets]})
    return Built(
        solution=solution,
        train_targets=train[[TARGET]],
        source=source,
        files=("train.csv", "test.csv"),
    )


def baseline(directory: Path) -> pd.DataFrame:
    """Ridge regression on the lags, trained on every window of train.csv."""
    from sklearn.linear_model import Ridge

    series = pd.read_csv(directory / "train.csv")[TARGET].to_numpy(dtype=float)
    test = pd.read_csv(directory / "test.csv")
    lag_columns = [c for c in test.columns if c.startswith("lag_")]
    window = len(lag_columns)
    x = np.stack([series[i - window : i] for i in range(window, len(series))])
    model = Ridge(alpha=1.0).fit(x, series[window:])
    # Columns run lag_W ... lag_1: oldest first, as the training windows do.
    return pd.DataFrame(
        {ID: test[ID], TARGET: model.predict(test[lag_columns].to_numpy(dtype=float))}
    )
