"""Week 4's real-data path on a tiny copy of Kaggle's digit-recognizer files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cohort.template import init_cohort
from cohort.weeks.prepare import prepare
from cohort.workspace import Cohort

RAW = Path(__file__).parent / "data" / "weeks" / "04-optimizers"


def test_digit_recognizer_train_csv_is_split_into_the_same_layout(tmp_path: Path) -> None:
    init_cohort(tmp_path / "c", "Digits")
    cohort = Cohort.open(tmp_path / "c")
    prepare(cohort, "4", raw_dir=RAW, seed=2)
    data = cohort.config.data_dir / "04-optimizers"
    raw = pd.read_csv(RAW / "train.csv")
    train, test = pd.read_csv(data / "train.csv"), pd.read_csv(data / "test.csv")
    solution = pd.read_csv(data / "solution.csv")
    sample = pd.read_csv(data / "sample_submission.csv")
    assert list(train.columns) == list(raw.columns)  # label, pixel0 ... pixel783
    assert list(test.columns) == list(pd.read_csv(RAW / "test.csv").columns)
    assert list(sample.columns) == list(pd.read_csv(RAW / "sample_submission.csv").columns)
    assert (
        solution["ImageId"].tolist() == list(range(1, len(test) + 1)) == sample["ImageId"].tolist()
    )
    assert len(train) + len(test) == 30 and train.dtypes.eq("int64").all()
    # No test row is a row of Kaggle's train.csv; each is one with its ink moved 1-2 grey
    # levels (the same ink pixels), and keeps that row's label.
    source = raw.drop(columns="label").to_numpy()
    for row, label in zip(test.to_numpy(), solution["Label"], strict=True):
        assert not (source == row).all(axis=1).any()
        same_ink = ((source > 0) == (row > 0)).all(axis=1)
        close = (np.abs(source - row) <= 2).all(axis=1)
        assert ((row - source)[:, row > 0] != 0)[same_ink & close].all()
        assert {int(raw["label"][i]) for i in np.flatnonzero(same_ink & close)} == {int(label)}
