"""Week 3's real-data path on a tiny daily temperature CSV (the Melbourne layout, "?" typos included)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cohort.template import init_cohort
from cohort.weeks.prepare import prepare
from cohort.workspace import Cohort

RAW = Path(__file__).parent / "data" / "weeks" / "03-sequences"


def test_daily_temperatures_become_non_overlapping_windows(tmp_path: Path) -> None:
    init_cohort(tmp_path / "c", "Temps")
    cohort = Cohort.open(tmp_path / "c")
    report = prepare(cohort, "3", raw_dir=RAW)
    assert report.source.startswith("real: ") and report.train_rows == 45
    data = cohort.config.data_dir / "03-sequences"
    train, test = pd.read_csv(data / "train.csv"), pd.read_csv(data / "test.csv")
    solution = pd.read_csv(data / "solution.csv")
    # No dates in test.csv, fresh ids (fair-competition rule; tests/test_leaks.py audits it).
    assert list(test.columns) == [
        "id",
        *[f"lag_{k}" for k in range(14, 0, -1)],
    ]
    raw = pd.read_csv(RAW / "daily-minimum-temperatures-in-me.csv")
    values = pd.to_numeric(raw.iloc[:, 1].astype(str).str.lstrip("?")).to_numpy()
    dates = raw["Date"].tolist()
    assert train["date"].tolist() == dates[:45]
    assert solution["id"].tolist() == test["id"].tolist() and not set(test["id"]) & set(dates)
    # Each window is the series' values before its date, each moved 0.02-0.08 (under a tenth of
    # a degree, never onto a value the file can hold), and the answer is that date's value.
    positions = []
    for row, answer in zip(
        test.itertuples(index=False), solution.itertuples(index=False), strict=True
    ):
        lags = np.array(list(row)[1:], dtype=float)
        starts = [
            k for k in range(14, len(values)) if np.allclose(lags, values[k - 14 : k], atol=0.081)
        ]
        assert len(starts) == 1 and np.isclose(answer.temperature, values[starts[0]])
        assert np.abs(lags - values[starts[0] - 14 : starts[0]]).min() >= 0.019
        positions.append(starts[0])
    # No test row's window holds another test row's answer.
    positions.sort()
    assert all(b - a > 14 for a, b in zip(positions, positions[1:], strict=False))
