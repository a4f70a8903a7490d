"""Week 1 data: Oxford-IIIT Pet images, or scikit-learn's digits written in the Pets layout.

Real data (data/raw/01-pets/, as the Kaggle dataset tanlikesmath/the-oxfordiiit-pet-dataset
ships it): image files named <breed>_<number>.jpg, e.g. images/Abyssinian_1.jpg; the
label is the file name without its number. Any folder depth is accepted.
Embedded default: the 1,797 real 8x8 handwritten digits scikit-learn ships, scaled to
32x32 JPEGs named like the pets (seven_12.jpg), so the fastai lecture code runs unchanged.

Output: images/<label>_<n>.jpg (training, labelled by name), test/<id>.jpg (unlabelled).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from cohort.errors import CohortError
from cohort.weeks.contract import Built, split_indices

ID, TARGET = "id", "label"
LABEL_RE = re.compile(r"^(.*)_\d+\.jpg$")
TEST_SHARE = 0.25
DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
IMAGE_SIZE = 32

# An item: its training file name, its label, and how to write the image to a path.
Item = tuple[str, str, Callable[[Path], None]]


def load_real(raw: Path) -> tuple[list[Item], str]:
    """Every <label>_<n>.jpg below raw/, copied byte for byte."""
    items, seen = [], set()
    for path in sorted(raw.rglob("*.jpg")):
        match = LABEL_RE.match(path.name)
        if match and path.name not in seen:  # some copies of the dataset hold images/ twice
            seen.add(path.name)
            items.append((path.name, match.group(1), _copier(path)))
    if len(items) < 4:
        raise CohortError(
            f"{raw} holds no images named like Abyssinian_1.jpg; download the Pets dataset again."
        )
    return items, f"real: {raw}"


def _copier(source: Path) -> Callable[[Path], None]:
    return lambda dest: shutil.copyfile(source, dest)


def load_embedded(seed: int) -> tuple[list[Item], str]:
    """scikit-learn's digits as grey JPEGs (the data are fixed; the seed only drives the split)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    counts: dict[str, int] = {}
    items = []
    for image, target in zip(digits.images, digits.target, strict=True):
        label = DIGIT_NAMES[int(target)]
        counts[label] = counts.get(label, 0) + 1
        items.append((f"{label}_{counts[label]}.jpg", label, _digit_writer(image)))
    return items, "embedded: scikit-learn digits as Pets-style images"


def _digit_writer(image: np.ndarray) -> Callable[[Path], None]:
    from PIL import Image

    def write(dest: Path) -> None:
        pixels = (255 - image * 255 / 16).astype(
            np.uint8
        )  # dark ink on white, like a photo of paper
        Image.fromarray(pixels, mode="L").resize((IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR).save(
            dest, quality=95
        )

    return write


def build(raw: Path | None, out: Path, seed: int) -> Built:
    """Write the training images by name and the test images by id; return the hidden labels."""
    items, source = load_real(raw) if raw is not None else load_embedded(seed)
    labels = [label for _, label, _ in items]
    train, test = split_indices(len(items), TEST_SHARE, seed, stratify=labels)
    (out / "images").mkdir()
    (out / "test").mkdir()
    for i in train:
        name, _, write = items[i]
        write(out / "images" / name)
    answers = []
    for k, i in enumerate(test, start=1):
        image_id = f"img_{k:05d}"
        items[i][2](out / "test" / f"{image_id}.jpg")
        answers.append((image_id, labels[i]))
    return Built(
        solution=pd.DataFrame(answers, columns=[ID, TARGET]),
        train_targets=pd.DataFrame({TARGET: [labels[i] for i in train]}),
        source=source,
        files=("images/", "test/"),
    )


def _pixels(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("L").resize((16, 16)), dtype=np.float32).ravel() / 255


def baseline(directory: Path) -> pd.DataFrame:
    """Logistic regression on 16x16 grey pixels: fast, and well above the majority class on digits."""
    from sklearn.linear_model import LogisticRegression

    train = sorted((directory / "images").glob("*.jpg"))
    x = np.stack([_pixels(p) for p in train])
    y = [LABEL_RE.match(p.name).group(1) for p in train]  # type: ignore[union-attr]
    model = LogisticRegression(max_iter=500).fit(x, y)
    ids = pd.read_csv(directory / "sample_submission.csv")[ID].astype(str)
    x_test = np.stack([_pixels(directory / "test" / f"{i}.jpg") for i in ids])
    return pd.DataFrame({ID: ids, TARGET: model.predict(x_test)})
