"""Week 1 data: Oxford-IIIT Pet images, or scikit-learn's digits written in the Pets layout.

Real data (data/raw/01-pets/, as the Kaggle dataset tanlikesmath/the-oxfordiiit-pet-dataset
ships it): image files named <breed>_<number>.jpg, e.g. images/Abyssinian_1.jpg; the
label is the file name without its number. Any folder depth is accepted.
Embedded default: the 1,797 real 8x8 handwritten digits scikit-learn ships, scaled to
32x32 JPEGs named like the pets (seven_12.jpg), so the fastai lecture code runs unchanged.

Output: images/<label>_<n>.jpg (training, labelled by name), test/<id>.jpg (unlabelled).

Fair-competition rule: the Pets images are public, so a test image must not be findable
by its bytes. Test images get fresh random ids, are cropped by a random 1-4% on each side,
resized by a random 90-100% and re-encoded as JPEG at a random quality, so neither an md5
lookup nor an exact pixel comparison finds them in the public files. Training images keep
their bytes but are renumbered (<label>_<n> in a random order), so the gaps in Kaggle's
numbering do not tell which source images are the test ones. A visual search can still
find a test image: the week's README states that as an honour rule.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cohort.errors import CohortError
from cohort.weeks.contract import Built, fresh_ids, split_indices

ID, TARGET = "id", "label"
LABEL_RE = re.compile(r"^(.*)_\d+\.jpg$")
TEST_SHARE = 0.25
DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
IMAGE_SIZE = 32

CROP = (0.01, 0.04)  # share of each side cut off a test image
SCALE = (0.90, 1.0)  # then resized by this factor
QUALITY = (80, 93)  # and saved at a JPEG quality drawn from this range

# An item: its source file name, its label, how to write it as a training image, and how to
# open it as a PIL image (for the disguised test copy).
Item = tuple[str, str, Callable[[Path], None], Callable[[], Any]]


def load_real(raw: Path) -> tuple[list[Item], str]:
    """Every <label>_<n>.jpg below raw/, copied byte for byte."""
    items, seen = [], set()
    for path in sorted(raw.rglob("*.jpg")):
        match = LABEL_RE.match(path.name)
        if match and path.name not in seen:  # some copies of the dataset hold images/ twice
            seen.add(path.name)
            items.append((path.name, match.group(1), _copier(path), _opener(path)))
    if len(items) < 4:
        raise CohortError(
            f"{raw} holds no images named like Abyssinian_1.jpg; download the Pets dataset again."
        )
    return items, f"real: {raw}"


def _copier(source: Path) -> Callable[[Path], None]:
    return lambda dest: shutil.copyfile(source, dest)


def _opener(source: Path) -> Callable[[], Any]:
    from PIL import Image

    def open_image() -> Any:
        with Image.open(source) as image:
            return image.convert("RGB")

    return open_image


def load_embedded(seed: int) -> tuple[list[Item], str]:
    """scikit-learn's digits as grey JPEGs (the data are fixed; the seed only drives the split)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    counts: dict[str, int] = {}
    items = []
    for image, target in zip(digits.images, digits.target, strict=True):
        label = DIGIT_NAMES[int(target)]
        counts[label] = counts.get(label, 0) + 1
        items.append(
            (f"{label}_{counts[label]}.jpg", label, _digit_writer(image), _digit_opener(image))
        )
    return items, "embedded: scikit-learn digits as Pets-style images"


def _digit_image(image: np.ndarray) -> Any:
    from PIL import Image

    pixels = (255 - image * 255 / 16).astype(np.uint8)  # dark ink on white, like a photo of paper
    return Image.fromarray(pixels, mode="L").resize((IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR)


def _digit_writer(image: np.ndarray) -> Callable[[Path], None]:
    return lambda dest: _digit_image(image).save(dest, quality=95)


def _digit_opener(image: np.ndarray) -> Callable[[], Any]:
    return lambda: _digit_image(image)


def disguise(image: Any, rng: np.random.Generator) -> tuple[Any, int]:
    """A random 1-4% crop of each side, a 90-100% resize; (image, JPEG quality to save it at)."""
    from PIL import Image

    width, height = image.size
    left, right = (int(round(width * c)) or 1 for c in rng.uniform(*CROP, size=2))
    top, bottom = (int(round(height * c)) or 1 for c in rng.uniform(*CROP, size=2))
    cropped = image.crop((left, top, width - right, height - bottom))
    scale = rng.uniform(*SCALE)
    size = (max(8, round(cropped.width * scale)), max(8, round(cropped.height * scale)))
    return cropped.resize(size, Image.BILINEAR), int(rng.integers(*QUALITY))


def build(raw: Path | None, out: Path, seed: int) -> Built:
    """Write the training images by name and the test images by id; return the hidden labels."""
    items, source = load_real(raw) if raw is not None else load_embedded(seed)
    labels = [item[1] for item in items]
    train, test = split_indices(len(items), TEST_SHARE, seed, stratify=labels)
    rng = np.random.default_rng([seed, 1])
    (out / "images").mkdir()
    (out / "test").mkdir()
    counts: dict[str, int] = {}
    for i in rng.permutation(train):
        label, write = items[i][1], items[i][2]
        counts[label] = counts.get(label, 0) + 1
        write(out / "images" / f"{label}_{counts[label]}.jpg")
    answers = []
    for image_id, i in zip(fresh_ids(len(test), rng, prefix="img_"), test, strict=True):
        image, quality = disguise(items[i][3](), rng)
        image.save(out / "test" / f"{image_id}.jpg", quality=quality)
        answers.append((image_id, labels[i]))
    return Built(
        solution=pd.DataFrame(answers, columns=[ID, TARGET]),
        train_targets=pd.DataFrame({TARGET: [labels[i] for i in sorted(train)]}),
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
