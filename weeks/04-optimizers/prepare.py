"""Week 4 data: MNIST as in Kaggle's digit-recognizer, or scikit-learn's digits in that format.

Real data (data/raw/04-optimizers/, as the Kaggle competition digit-recognizer ships it):
train.csv with label, pixel0 ... pixel783 (28x28, 0-255), test.csv and sample_submission.csv.
Kaggle's test.csv has no labels, so the cohort's hidden test set is carved from train.csv.
Embedded default: scikit-learn's 1,797 8x8 digits, scaled into a 20x20 box centred in
28x28 as MNIST's digits are, ink 255 on 0.

Output, exactly Kaggle's layout: train.csv, test.csv (ImageId is the row number from 1).

Fair-competition rule: Kaggle's train.csv is public, so its rows must not be findable in
test.csv. In every image (train and test alike, so both come from one distribution) each
ink pixel is moved by 1 or 2 grey levels (never 0, never off the ink), so no test row
equals a public row, nor joins to one on a pixel value that identifies it. ImageId is the
row number of a randomly ordered test set, as Kaggle's is; it says nothing about the
source. A nearest-neighbour search over the public rows still finds most digits: the
week's README states that as an honour rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cohort.weeks.contract import Built, csv_frame, require_columns, split_indices

ID, TARGET = "ImageId", "Label"
PIXELS = [f"pixel{i}" for i in range(784)]
TEST_SHARE = 0.3


def load_real(raw: Path) -> tuple[pd.DataFrame, str]:
    """Kaggle's labelled train.csv (label, pixel0..pixel783)."""
    path = raw / "train.csv"
    frame = csv_frame(path, "digit-recognizer train.csv")
    require_columns(frame, ["label", *PIXELS], path)
    return frame[["label", *PIXELS]], f"real: {path}"


def load_embedded(seed: int) -> tuple[pd.DataFrame, str]:
    """scikit-learn's digits, resized to MNIST's 28x28 layout."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    rows = []
    for image in digits.images:
        box = Image.fromarray((image * 255 / 16).astype(np.uint8), mode="L").resize(
            (20, 20), Image.BILINEAR
        )
        canvas = np.zeros((28, 28), dtype=np.uint8)
        canvas[4:24, 4:24] = np.asarray(box)
        rows.append(canvas.ravel())
    frame = pd.DataFrame(np.stack(rows).astype(np.int64), columns=PIXELS)
    frame.insert(0, "label", digits.target.astype(np.int64))
    return frame, "embedded: scikit-learn digits in digit-recognizer format"


def disguise(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Every ink pixel moved 1-2 grey levels up or down (never 0), staying in 1..255."""
    values = pixels.astype(np.int64)
    step = rng.choice([-2, -1, 1, 2], size=values.shape)
    noisy = values + step
    # Reflect at the ends, so ink stays in 1..255 and still differs from the original.
    noisy = np.where((noisy > 255) | (noisy < 1), values - step, noisy)
    return np.where(values > 0, noisy, 0)


def build(raw: Path | None, out: Path, seed: int) -> Built:
    """Stratified split into train.csv and an unlabelled test.csv, every image disguised."""
    frame, source = load_real(raw) if raw is not None else load_embedded(seed)
    frame = frame.copy()
    frame[PIXELS] = disguise(frame[PIXELS].to_numpy(), np.random.default_rng([seed, 4]))
    train, test = split_indices(len(frame), TEST_SHARE, seed, stratify=frame["label"])
    frame.iloc[train].to_csv(out / "train.csv", index=False)
    test_frame = frame.iloc[test].reset_index(drop=True)
    test_frame[PIXELS].to_csv(out / "test.csv", index=False)
    solution = pd.DataFrame(
        {ID: np.arange(1, len(test_frame) + 1), TARGET: test_frame["label"].to_numpy()}
    )
    train_targets = (
        frame.iloc[train][["label"]].rename(columns={"label": TARGET}).reset_index(drop=True)
    )
    return Built(
        solution=solution,
        train_targets=train_targets,
        source=source,
        files=("train.csv", "test.csv"),
    )


def baseline(directory: Path) -> pd.DataFrame:
    """Logistic regression on the scaled pixels."""
    from sklearn.linear_model import LogisticRegression

    train = pd.read_csv(directory / "train.csv")
    test = pd.read_csv(directory / "test.csv")
    model = LogisticRegression(max_iter=300).fit(train[PIXELS] / 255.0, train["label"])
    return pd.DataFrame(
        {ID: np.arange(1, len(test) + 1), TARGET: model.predict(test[PIXELS] / 255.0)}
    )
