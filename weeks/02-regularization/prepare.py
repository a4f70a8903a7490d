"""Week 2 data: UCI Breast Cancer Wisconsin (Diagnostic), from Kaggle's data.csv or scikit-learn.

Real data (data/raw/02-regularization/data.csv, as the Kaggle dataset
uciml/breast-cancer-wisconsin-data ships it): id, diagnosis (M/B), 30 features named
radius_mean ... fractal_dimension_worst, and an empty trailing column ("Unnamed: 32").
Embedded default: the same 569 patients as scikit-learn ships them, renamed to Kaggle's columns.

Output: train.csv (id, diagnosis, features), test.csv (id, features).

Fair-competition rule: the public data.csv must not give the test answers away by lookup.
Every row gets a fresh random id (never one of Kaggle's patient ids), and every feature
is moved by a random 0.2-1% (never zero), written to 6 significant digits, so no column of
test.csv joins to data.csv and no row matches one exactly. A nearest-neighbour search in
the public data can still find a patient; the week's README states that as an honour rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cohort.errors import CohortError
from cohort.weeks.contract import Built, csv_frame, fresh_ids, require_columns, split_indices

ID, TARGET = "id", "diagnosis"
TEST_SHARE = 0.3
MEASURES = [
    "radius",
    "texture",
    "perimeter",
    "area",
    "smoothness",
    "compactness",
    "concavity",
    "concave points",
    "symmetry",
    "fractal_dimension",
]
FEATURES = [f"{m}_{kind}" for kind in ("mean", "se", "worst") for m in MEASURES]
JITTER = (0.002, 0.01)  # relative size of the move of every feature value
FLOAT_FORMAT = "%.6g"


def load_real(raw: Path) -> tuple[pd.DataFrame, str]:
    """Kaggle's data.csv, without its empty trailing column."""
    path = raw / "data.csv"
    frame = csv_frame(path, "Breast cancer data.csv")
    require_columns(frame, [ID, TARGET, *FEATURES], path)
    bad = sorted(set(frame[TARGET].astype(str)) - {"M", "B"})
    if bad:
        raise CohortError(f"{path} has diagnosis {bad[0]!r}; use M (malignant) or B (benign).")
    return frame[[ID, TARGET, *FEATURES]], f"real: {path}"


def load_embedded(seed: int) -> tuple[pd.DataFrame, str]:
    """scikit-learn's copy of the data, in Kaggle's column names (sklearn's target 0 is malignant)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    frame = pd.DataFrame(data.data, columns=FEATURES)
    frame.insert(0, TARGET, ["M" if t == 0 else "B" for t in data.target])
    frame.insert(0, ID, range(1, len(frame) + 1))
    return frame, "embedded: scikit-learn breast cancer"


def disguise(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Fresh ids and features moved by 0.2-1%: nothing in the output joins to the source."""
    out = frame.copy()
    out[ID] = fresh_ids(len(out), rng, avoid=frame[ID])
    values = out[FEATURES].to_numpy(dtype=float)
    sign = rng.choice([-1.0, 1.0], size=values.shape)
    out[FEATURES] = values * (1 + sign * rng.uniform(*JITTER, size=values.shape))
    return out


def build(raw: Path | None, out: Path, seed: int) -> Built:
    """Stratified split into train.csv and an unlabelled test.csv, both disguised."""
    frame, source = load_real(raw) if raw is not None else load_embedded(seed)
    frame = disguise(frame, np.random.default_rng([seed, 2]))
    train, test = split_indices(len(frame), TEST_SHARE, seed, stratify=frame[TARGET])
    train_frame = frame.iloc[train].reset_index(drop=True)
    test_frame = frame.iloc[test].reset_index(drop=True)
    train_frame.to_csv(out / "train.csv", index=False, float_format=FLOAT_FORMAT)
    test_frame[[ID, *FEATURES]].to_csv(out / "test.csv", index=False, float_format=FLOAT_FORMAT)
    return Built(
        solution=test_frame[[ID, TARGET]],
        train_targets=train_frame[[TARGET]],
        source=source,
        files=("train.csv", "test.csv"),
    )


def baseline(directory: Path) -> pd.DataFrame:
    """Standardized logistic regression: the linear model this week's networks must beat."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train = pd.read_csv(directory / "train.csv")
    test = pd.read_csv(directory / "test.csv")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(train[FEATURES], train[TARGET].astype(str))
    return pd.DataFrame({ID: test[ID], TARGET: model.predict(test[FEATURES])})
