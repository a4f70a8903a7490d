"""Week 2's real-data path on a tiny data.csv laid out as Kaggle's uciml/breast-cancer-wisconsin-data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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
    # Fresh ids (none of Kaggle's), and every feature moved by 0.2-1%: no join finds a patient.
    assert not (set(solution["id"]) | set(train["id"])) & set(raw["id"])
    features = [c for c in test.columns if c != "id"]
    source = raw[features].to_numpy(dtype=float)
    for row, answer in zip(test[features].to_numpy(), solution["diagnosis"], strict=True):
        near = np.isclose(row, source, rtol=0.0101, atol=1e-12).all(axis=1)
        assert near.sum() == 1 and raw["diagnosis"][near].item() == answer
        assert not (row == source).all(axis=1).any()
