"""Rebuild the leak-audit fixtures: larger copies of each week's public source, in Kaggle's layouts.

Run once from the repository root (`.venv/bin/python tests/data/weeks/leak-audit/make.py`); the
files it writes are committed. They are big enough for the audit's chance test to tell a leak
(every answer recovered) from luck, and small enough to prepare in a second:

- 01-pets/images/<Breed>_<n>.jpg: 48 small photos-like JPEGs of 4 breeds (the Pets naming);
- 02-regularization/data.csv: 120 real patients of the UCI data (scikit-learn's copy) with
  Kaggle's columns, 6-9 digit patient ids and the empty trailing column;
- 03-sequences/daily-minimum-temperatures-in-me.csv: two years of daily temperatures in the
  Melbourne file's layout (quoted header, a tenth of a degree, two "?" typos);
- 04-optimizers/train.csv: 100 scikit-learn digits in digit-recognizer's label,pixel0..783 layout.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
BREEDS = ["Abyssinian", "Bengal", "american_bulldog", "beagle"]


def pets(rng: np.random.Generator) -> None:
    from PIL import Image

    folder = HERE / "01-pets" / "images"
    folder.mkdir(parents=True, exist_ok=True)
    for b, breed in enumerate(BREEDS):
        for n in range(1, 13):
            base = np.array([60 + 50 * b, 200 - 40 * b, 90 + 30 * n % 160], dtype=float)
            pixels = base + rng.normal(0, 10, size=(24, 32, 3))
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="RGB")
            image.save(folder / f"{breed}_{n}.jpg", quality=90)


def regularization(rng: np.random.Generator) -> None:
    from sklearn.datasets import load_breast_cancer

    sys_path = HERE.parents[3] / "weeks" / "02-regularization"
    import sys

    sys.path.insert(0, str(sys_path))
    from prepare import FEATURES  # type: ignore[import-not-found]

    data = load_breast_cancer()
    rows = rng.choice(len(data.target), size=120, replace=False)
    frame = pd.DataFrame(data.data[rows], columns=FEATURES)
    frame.insert(0, "diagnosis", ["M" if t == 0 else "B" for t in data.target[rows]])
    ids = rng.choice(np.arange(84_000, 92_000_000), size=120, replace=False)
    frame.insert(0, "id", ids)
    frame["Unnamed: 32"] = ""
    folder = HERE / "02-regularization"
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "data.csv", index=False, float_format="%.6g")


def sequences(rng: np.random.Generator) -> None:
    days = pd.date_range("1981-01-01", periods=730, freq="D")
    season = 11 + 4 * np.cos(2 * np.pi * (days.day_of_year - 15) / 365.25)
    values = np.round(season + rng.normal(0, 2.5, size=len(days)), 1)
    folder = HERE / "03-sequences"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "daily-minimum-temperatures-in-me.csv", "w", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(["Date", "Daily minimum temperatures in Melbourne, Australia, 1981-1990"])
        for k, (day, value) in enumerate(zip(days, values, strict=True)):
            text: object = f"?{value}" if k in (200, 555) else float(value)
            writer.writerow([day.strftime("%Y-%m-%d"), text])


def optimizers(rng: np.random.Generator) -> None:
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    rows = rng.choice(len(digits.target), size=100, replace=False)
    out = []
    for i in rows:
        box = Image.fromarray((digits.images[i] * 255 / 16).astype(np.uint8), mode="L")
        canvas = np.zeros((28, 28), dtype=np.uint8)
        canvas[4:24, 4:24] = np.asarray(box.resize((20, 20), Image.BILINEAR))
        out.append([int(digits.target[i]), *canvas.ravel().tolist()])
    frame = pd.DataFrame(out, columns=["label", *[f"pixel{k}" for k in range(784)]])
    folder = HERE / "04-optimizers"
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "train.csv", index=False)


if __name__ == "__main__":
    rng = np.random.default_rng(20261202)
    pets(rng)
    regularization(rng)
    sequences(rng)
    optimizers(rng)
