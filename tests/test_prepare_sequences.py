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
    assert list(test.columns) == [
        "id",
        "date",
        *[f"lag_{k}" for k in range(14, 0, -1)],
    ]
    raw = pd.read_csv(RAW / "daily-minimum-temperatures-in-me.csv")
    values = pd.to_numeric(raw.iloc[:, 1].astype(str).str.lstrip("?")).to_numpy()
    dates = raw["Date"].tolist()
    assert train["date"].tolist() == dates[:45]
    for row, answer in zip(
        test.itertuples(index=False), solution.itertuples(index=False), strict=True
    ):
        k = dates.index(row.id)
        assert np.allclose(list(row)[2:], values[k - 14 : k]) and np.isclose(
            answer.temperature, values[k]
        )
    # No test row's window holds another test row's answer.
    positions = [dates.index(i) for i in solution["id"]]
    assert all(b - a > 14 for a, b in zip(positions, positions[1:], strict=False))
