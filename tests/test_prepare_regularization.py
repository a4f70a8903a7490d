"""Week 2's real-data path on a tiny data.csv laid out as Kaggle's uciml/breast-cancer-wisconsin-data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cohort.template import init_cohort
from cohort.weeks.prepare import prepare
from cohort.workspace import Cohort

RAW = Path(__file__).parent / "data" / "weeks" / "02-regularization"


def test_breast_cancer_from_kaggle_data_csv(tmp_path: Path) -> None:
    init_cohort(tmp_path / "c", "Cancer")
    cohort = Cohort.open(tmp_path / "c")
    report = prepare(cohort, "2", raw_dir=RAW, seed=1)
    assert report.source == f"real: {RAW / 'data.csv'}"
    data = cohort.config.data_dir / "02-regularization"
    raw = pd.read_csv(RAW / "data.csv")
    train, test = pd.read_csv(data / "train.csv"), pd.read_csv(data / "test.csv")
    solution = pd.read_csv(data / "solution.csv")
    # The empty trailing column of Kaggle's file is dropped; the rest is kept as Kaggle names it.
    assert "Unnamed: 32" in raw.columns and "Unnamed: 32" not in train.columns
    assert list(train.columns) == [c for c in raw.columns if c != "Unnamed: 32"]
    assert len(train) + len(test) == len(raw) == 20
    assert set(solution["id"]) | set(train["id"]) == set(raw["id"])
    truth = raw.set_index("id").loc[solution["id"], "diagnosis"].tolist()
    assert solution["diagnosis"].tolist() == truth
