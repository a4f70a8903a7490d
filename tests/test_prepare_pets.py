"""Week 1's real-data path on a tiny copy of the Kaggle Pets layout (images/<Breed>_<n>.jpg)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cohort.errors import CohortError
from cohort.template import init_cohort
from cohort.weeks.prepare import prepare
from cohort.workspace import Cohort

RAW = Path(__file__).parent / "data" / "weeks" / "01-pets"


@pytest.fixture
def cohort(tmp_path: Path) -> Cohort:
    init_cohort(tmp_path / "cohort", "Pets")
    return Cohort.open(tmp_path / "cohort")


def test_pets_from_data_raw_keeps_names_and_hides_test_labels(cohort: Cohort) -> None:
    # data/raw/<week>/ is where `cohort kaggle download` unpacks the dataset; prepare finds it there.
    shutil.copytree(RAW, cohort.config.data_dir / "raw" / "01-pets")
    report = prepare(cohort, "pets", seed=3)
    assert report.source == f"real: {cohort.config.data_dir / 'raw' / '01-pets'}"
    data = cohort.config.data_dir / "01-pets"
    train = sorted(p.name for p in (data / "images").iterdir())
    solution = pd.read_csv(data / "solution.csv")
    assert len(train) + len(solution) == 12 and len(solution) == 3
    assert set(solution["label"]) == {"Abyssinian", "american_bulldog", "Bengal"}
    assert all(name.split("_")[0] in {"Abyssinian", "american", "Bengal"} for name in train)
    tested = {p.stem for p in (data / "test").iterdir()}
    assert tested == set(solution["id"]) and all(i.startswith("img_") for i in tested)
    # Training files are the Kaggle files byte for byte, renumbered within their label.
    raw_bytes = {p.read_bytes(): p.name.rsplit("_", 1)[0] for p in (RAW / "images").iterdir()}
    for name in train:
        assert raw_bytes[(data / "images" / name).read_bytes()] == name.rsplit("_", 1)[0]
    # Test files are not (fair-competition rule; tests/test_leaks.py audits it).
    assert not {p.read_bytes() for p in (data / "test").iterdir()} & set(raw_bytes)


def test_pets_without_pet_images_is_refused(cohort: Cohort, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "images").mkdir(parents=True)
    (raw / "images" / "notes.txt").write_text("no images here")
    with pytest.raises(
        CohortError,
        match=r"holds no images named like Abyssinian_1\.jpg; download the Pets dataset again\.$",
    ):
        prepare(cohort, "1", raw_dir=raw)
