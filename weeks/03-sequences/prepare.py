"""Week 3 data: forecast the next temperature from the ones before it.

Real data (data/raw/03-sequences/, any daily temperature CSV as Kaggle datasets ship
them, e.g. "Daily minimum temperatures in Melbourne": a date column first, then one
temperature column). The file is the first CSV whose first rows read as a date and a
temperature, so a stray CSV beside it is passed over. A reading flagged doubtful with a
leading "?" ("?0.2") keeps its number (prepare's source line counts them); a trailing
footer or blank lines are dropped; any other line that is not a date and a number is
refused with its line number. Values keep the source's precision. Embedded default: a
simulated daily minimum temperature (20 years), laid out as the Melbourne file.

The series is split in time. train.csv holds the first part (date, temperature), to
cut into training windows freely. test.csv holds windows from the later part: each
row gives the WINDOW values before a date (lag_WINDOW ... lag_1) and asks for that
date's temperature. Test windows never overlap, so no row's inputs reveal another
row's answer. WINDOW is 14 days, or 7 when 14 would leave fewer than 200 test rows
(a ten-year file such as Melbourne's: 228 rows of 7 days instead of 121 of 14).

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
SHORT_WINDOW = 7  # a week of days, when two weeks leave too few test rows
MIN_TEST_ROWS = 200  # enough to rank a cohort of a few dozen on a 30% public board
EMBEDDED_DAYS = 20 * 365  # 243 test windows of 14 days + 1


def test_rows(days: int, window: int) -> int:
    """How many non-overlapping test windows (window values + the answer) `days` days hold."""
    return max(0, -(-(days - window) // (window + 1)))


def fitted_window(window: int, test_days: int) -> int:
    """The week's window, or a week of days when it would leave under MIN_TEST_ROWS test rows.

    Each test row takes window + 1 days, so a shorter window ranks a cohort on more rows:
    Melbourne's ten years (1,825 test days) hold 121 rows of 14 + 1 days but 228 of 7 + 1;
    the embedded 20 years keep two weeks (243 rows)."""
    if window > SHORT_WINDOW and test_rows(test_days, window) < MIN_TEST_ROWS:
        return SHORT_WINDOW
    return window


def load_real(raw: Path) -> tuple[pd.Series, int, str]:
    """The temperature CSV below raw/ (chosen by its header, not its name), as a dated series."""
    files = sorted(raw.rglob("*.csv"))
    if not files:
        raise CohortError(f"{raw} holds no CSV file; put the daily temperature CSV there.")
    path = _temperature_file(files)
    frame = csv_frame(path, "Temperature CSV", dtype=str, keep_default_na=False)
    if frame.shape[1] < 2:
        raise CohortError(
            f"{path} has {frame.shape[1]} column; it needs a date column and a temperature column."
        )
    frame = _drop_footer(frame.iloc[:, :2].fillna(""))
    dates = pd.to_datetime(frame.iloc[:, 0].str.strip(), errors="coerce")
    bad = frame.index[dates.isna()]
    if len(bad):
        raise CohortError(
            f"{path} line {int(bad[0]) + 2} has no date ({frame.iloc[bad[0], 0]!r}); fix or remove it."
        )
    values, flagged = _temperatures(frame.iloc[:, 1], path)
    series = pd.Series(values, index=pd.DatetimeIndex(dates)).sort_index()
    if len(series) < 40:
        raise CohortError(
            f"{path} has {len(series)} dated temperatures; the week needs at least 40."
        )
    note = f" ({flagged} values marked '?' kept as read)" if flagged else ""
    return series, WINDOW["daily"], f"real: {path}{note}"


# A reading: a number, optionally flagged doubtful by a leading '?' as some copies of the
# Melbourne file have ("?0.2"). The rule: the flag is dropped and the number kept as read.
READING = r"^\s*(\?)?\s*(-?\d+(?:\.\d+)?)\s*$"


def _temperature_file(files: list[Path]) -> Path:
    """The first CSV whose first rows read as (date, reading); a stray CSV is passed over."""
    for path in files:
        try:
            head = pd.read_csv(path, dtype=str, nrows=5, keep_default_na=False).fillna("")
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError):
            continue
        if head.shape[1] >= 2 and len(head):
            dated = pd.to_datetime(head.iloc[:, 0].str.strip(), errors="coerce").notna().all()
            if dated and head.iloc[:, 1].str.match(READING).all():
                return path
    names = ", ".join(p.name for p in files[:5])
    raise CohortError(
        f"No CSV below {files[0].parent} starts with a date column and a temperature column "
        f"(found {names}); put the daily temperature CSV there."
    )


def _drop_footer(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop trailing lines without a reading (the source's footer, blank lines)."""
    has_value = frame.iloc[:, 1].str.strip().ne("")
    last = int(np.flatnonzero(has_value.to_numpy())[-1]) if has_value.any() else -1
    return frame.iloc[: last + 1]


def _temperatures(column: pd.Series, path: Path) -> tuple[np.ndarray, int]:
    """The readings as floats, and how many carried the '?' flag; a line that is no reading fails."""
    parts = column.str.extract(READING)
    bad = parts[1].isna().to_numpy().nonzero()[0]
    if len(bad):
        raise CohortError(
            f"{path} line {int(bad[0]) + 2} has temperature {column.iloc[bad[0]]!r}, not a number; "
            "fix or remove that line."
        )
    return parts[1].astype(float).to_numpy(), int(parts[0].notna().sum())


def load_embedded(seed: int) -> tuple[pd.Series, int, str]:
    """A simulated daily minimum temperature, 20 years, laid out as the Melbourne file.

    No real temperature series long enough for 200 non-overlapping test windows ships
    with the installed packages, so the embedded default is a weather generator fitted
    by eye to Melbourne: a seasonal mean (6.5 C in July to 15.5 C in January), day-to-day
    anomalies that persist (AR(1), 0.7) and are skewed warm, read to a tenth of a degree."""
    rng = np.random.default_rng([seed, 33])
    days = pd.date_range("1991-01-01", periods=EMBEDDED_DAYS, freq="D")
    season = 11.0 + 4.5 * np.cos(2 * np.pi * (days.day_of_year.to_numpy() - 15) / 365.25)
    shocks = rng.gamma(4.0, 1.0, size=len(days)) - 4.0  # mean 0, a longer warm tail
    anomaly = np.zeros(len(days))
    for t in range(1, len(days)):
        anomaly[t] = 0.7 * anomaly[t - 1] + shocks[t]
    values = np.round(season + anomaly, 1)
    return (
        pd.Series(values, index=days),
        WINDOW["daily"],
        "embedded: simulated daily minimum temperatures",
    )


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
    window = fitted_window(window, len(series) - cut)
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
