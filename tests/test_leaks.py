"""The leak audit: no hidden answer of weeks 1-4 can be looked up in the week's public source.

Each week is prepared twice, from a real-layout copy of its Kaggle source
(tests/data/weeks/leak-audit/, big enough for a chance test) and from the embedded default
(whose source, scikit-learn's or statsmodels' data, every member has too). The audit then
tries what a member could: the md5 of each test file, a join of each test column on the
source's columns, an exact match of whole rows, and (week 3) a search for the exact window.
Each lookup's answers must be right no more often than chance: a one-sided binomial test
against the share of the commonest answer, at 1 in 1,000.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from cohort.template import init_cohort
from cohort.weeks.contract import load_module
from cohort.weeks.prepare import prepare
from cohort.workspace import Cohort

AUDIT = Path(__file__).parent / "data" / "weeks" / "leak-audit"
ALPHA = 1e-3
SEED = 7  # the embedded source is rebuilt with the same seed (a simulated source depends on it)
# The embedded builds are full-size (1,797 digits): the slow lane.
SOURCES = ["real", pytest.param("embedded", marks=pytest.mark.slow)]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    root = tmp_path_factory.mktemp("leaks") / "cohort"
    init_cohort(root, "Leak audit")
    return Cohort.open(root)


def prepared(cohort: Cohort, week_id: str, source: str) -> Path:
    """data/<week>/ built from the audit fixture (real) or the embedded default."""
    raw = AUDIT / week_id if source == "real" else None
    return prepare(cohort, week_id, force=True, raw_dir=raw, seed=SEED).directory


def no_better_than_chance(hits: int, truth: pd.Series) -> bool:
    """True when `hits` right answers out of len(truth) are plausible for a blind guess."""
    share = float(truth.astype(str).value_counts(normalize=True).max())
    return bool(binomtest(hits, len(truth), share, alternative="greater").pvalue > ALPHA)


def unique_key_map(keys: pd.Series, answers: pd.Series) -> dict[str, object]:
    """key -> answer for the keys that occur once in the source (a lookup that identifies a row)."""
    once = ~keys.duplicated(keep=False)
    return dict(zip(keys[once], answers[once], strict=True))


def as_keys(column: pd.Series) -> pd.Series:
    """Comparable values: numbers rounded to 6 decimals (17.99 == 17.990), anything else as text."""
    try:
        return pd.Series(np.round(column.to_numpy(dtype=float), 6), index=column.index)
    except (TypeError, ValueError):
        return column.astype(str)


def right(predicted: pd.Series, truth: pd.Series) -> int:
    """How many looked-up answers equal the hidden ones (an unmatched row counts as wrong)."""
    found = predicted.notna().to_numpy()
    if not found.any():
        return 0
    guesses = predicted.to_numpy()[found].astype(str)
    return int((guesses == truth.to_numpy()[found].astype(str)).sum())


# --- the lookups ------------------------------------------------------------------------------


def column_join_hits(
    test: pd.DataFrame, truth: pd.Series, source: pd.DataFrame, label: str, id_column: str | None
) -> dict[str, int]:
    """Right answers from joining each test column on the source column of the same name
    (the id column on every source column)."""
    out = {}
    others = [str(c) for c in source.columns if c != label]
    answers = source[label].astype(str).to_numpy()
    hidden = truth.astype(str).to_numpy()
    source_keys = {c: as_keys(source[c]).to_numpy() for c in others}
    for column in map(str, test.columns):
        targets = others if column == id_column else [column] if column in others else []
        keys = as_keys(test[column]).to_numpy()
        for target in targets:
            out[f"{column}->{target}"] = join_hits(keys, source_keys[target], answers, hidden)
    return out


def join_hits(keys: np.ndarray, source: np.ndarray, answers: np.ndarray, truth: np.ndarray) -> int:
    """Right answers from looking each key up among the source values that occur once."""
    if keys.dtype != source.dtype:  # text never equals a number
        return 0
    values, first, counts = np.unique(source, return_index=True, return_counts=True)
    values, labels = values[counts == 1], answers[first[counts == 1]]
    if not len(values):
        return 0
    at = np.clip(np.searchsorted(values, keys), 0, len(values) - 1)
    found = values[at] == keys
    return int((labels[at][found] == truth[found]).sum())


def exact_row_hits(test: pd.DataFrame, truth: pd.Series, source: pd.DataFrame, label: str) -> int:
    """Right answers from matching a test row to a source row on every column they share."""
    shared = [c for c in test.columns if c in source.columns and c != label]
    if not shared:
        return 0

    def rows(frame: pd.DataFrame) -> pd.Series:
        try:
            numbers = np.round(frame[shared].to_numpy(dtype=float), 6)
            return pd.Series([r.tobytes() for r in numbers])
        except (TypeError, ValueError):
            keys = frame[shared].apply(as_keys)
            return pd.Series(["|".join(map(str, r)) for r in keys.itertuples(index=False)])

    mapping = unique_key_map(rows(source), source[label].astype(str).reset_index(drop=True))
    return right(rows(test).map(mapping), truth)


def md5_hits(test_dir: Path, ids: pd.Series, truth: pd.Series, public: dict[Path, str]) -> int:
    """Right answers from finding each test image's md5 among the public images."""
    digests = pd.Series([hashlib.md5(p.read_bytes()).hexdigest() for p in public])
    mapping = unique_key_map(digests, pd.Series(list(public.values())))
    found = pd.Series([hashlib.md5((test_dir / f"{i}.jpg").read_bytes()).hexdigest() for i in ids])
    return right(found.map(mapping), truth)


def pixel_hits(test_dir: Path, ids: pd.Series, truth: pd.Series, public: dict[Path, str]) -> int:
    """Right answers from finding each test image's exact decoded pixels among the public ones."""
    from PIL import Image

    def key(path: Path) -> str:
        with Image.open(path) as image:
            array = np.asarray(image.convert("L"))
        return f"{array.shape}:{hashlib.md5(array.tobytes()).hexdigest()}"

    mapping = unique_key_map(pd.Series([key(p) for p in public]), pd.Series(list(public.values())))
    return right(pd.Series([key(test_dir / f"{i}.jpg") for i in ids]).map(mapping), truth)


def series_hits(
    test: pd.DataFrame, truth: pd.Series, series: np.ndarray, dates: list[str]
) -> dict[str, int]:
    """Week 3: the id as a date, each lag joined on the series, and the exact last-3-lags window."""
    values = pd.Series(series).round(6)
    answer_at = lambda positions: pd.Series(  # noqa: E731
        [series[int(p)] if pd.notna(p) and int(p) < len(series) else None for p in positions]
    )
    by_date = unique_key_map(pd.Series(dates), pd.Series(range(len(dates))))
    out = {"id->date": right(answer_at(test["id"].astype(str).map(by_date)), truth)}
    by_value = unique_key_map(values, pd.Series(range(len(series))))
    for column in [c for c in test.columns if c.startswith("lag_")]:
        k = int(column.split("_")[1])
        position = as_keys(test[column]).map(by_value)
        out[column] = right(answer_at(position + k), truth)
    lags = sorted((c for c in test.columns if c.startswith("lag_")), key=lambda c: -int(c[4:]))
    windows = pd.Series(
        ["|".join(map(str, values.iloc[j : j + 3])) for j in range(len(series) - 2)]
    )
    by_window = unique_key_map(windows, pd.Series(range(len(windows))))
    last3 = test[lags[-3:]].apply(as_keys)
    position = pd.Series(["|".join(map(str, r)) for r in last3.itertuples(index=False)])
    position = position.map(by_window)
    out["window"] = right(answer_at(position + 3), truth)
    return out


# --- the audit, week by week -----------------------------------------------------------------


def pets_public(cohort: Cohort, source: str, scratch: Path) -> dict[Path, str]:
    """The public image files with their labels: Kaggle's files, or the digits as a member rebuilds them."""
    if source == "real":
        paths = sorted((AUDIT / "01-pets" / "images").glob("*.jpg"))
        return {p: p.stem.rsplit("_", 1)[0] for p in paths}
    module = load_module(cohort.config.week("01-pets"))
    items, _ = module.load_embedded(SEED)
    out = {}
    for name, label, write, _ in items:
        write(scratch / name)
        out[scratch / name] = label
    return out


@pytest.mark.parametrize("source", SOURCES)
def test_pets_test_images_are_not_in_the_public_images(
    cohort: Cohort, source: str, tmp_path: Path
) -> None:
    data = prepared(cohort, "01-pets", source)
    solution = pd.read_csv(data / "solution.csv")
    public = pets_public(cohort, source, tmp_path)
    truth = solution["label"].astype(str)
    for lookup in (md5_hits, pixel_hits):
        hits = lookup(data / "test", solution["id"], truth, public)
        assert no_better_than_chance(hits, truth), (lookup.__name__, hits, len(truth))
    # The training images keep the public bytes but not the public numbering.
    names = {p.name for p in (data / "images").glob("*.jpg")}
    assert len(names) + len(solution) == len(public)


def tabular(data: Path, id_column: str | None) -> tuple[pd.DataFrame, pd.Series]:
    """test.csv and the hidden answers in the same row order."""
    test = pd.read_csv(data / "test.csv")
    solution = pd.read_csv(data / "solution.csv")
    target = [c for c in solution.columns if c not in {"Usage", solution.columns[0]}][0]
    if id_column is None:  # digit-recognizer: row i of test.csv is ImageId i + 1
        return test, solution[target].reset_index(drop=True)
    truth = solution.set_index(solution.columns[0]).loc[test[id_column], target]
    return test, truth.reset_index(drop=True)


@pytest.mark.parametrize("source", SOURCES)
def test_regularization_test_rows_do_not_join_to_the_public_data(
    cohort: Cohort, source: str
) -> None:
    data = prepared(cohort, "02-regularization", source)
    if source == "real":
        public = pd.read_csv(AUDIT / "02-regularization" / "data.csv")
    else:
        module = load_module(cohort.config.week("02-regularization"))
        public = module.load_embedded(SEED)[0]
    test, truth = tabular(data, "id")
    joins = column_join_hits(test, truth, public, "diagnosis", "id")
    assert len(joins) > 30 and no_better_than_chance(max(joins.values()), truth), joins
    assert no_better_than_chance(exact_row_hits(test, truth, public, "diagnosis"), truth)
    train = pd.read_csv(data / "train.csv")
    assert not set(public["id"]) & (set(test["id"]) | set(train["id"]))


@pytest.mark.parametrize("source", SOURCES)
def test_sequences_test_rows_cannot_be_found_in_the_public_series(
    cohort: Cohort, source: str
) -> None:
    data = prepared(cohort, "03-sequences", source)
    if source == "real":
        raw = pd.read_csv(AUDIT / "03-sequences" / "daily-minimum-temperatures-in-me.csv")
        text = raw.iloc[:, 1].astype(str).str.replace(r"[^0-9.\-]", "", regex=True)
        series, dates = pd.to_numeric(text).to_numpy(), raw.iloc[:, 0].astype(str).tolist()
    else:
        module = load_module(cohort.config.week("03-sequences"))
        public = module.load_embedded(SEED)[0]
        series, dates = public.to_numpy(), list(public.index.strftime("%Y-%m-%d"))
    test, truth = tabular(data, "id")
    assert not any("date" in c for c in test.columns)  # no source date in the test file
    hits = series_hits(test, truth, series, dates)
    assert no_better_than_chance(max(hits.values()), truth), hits


@pytest.mark.parametrize("source", SOURCES)
def test_optimizers_test_rows_match_no_public_row(cohort: Cohort, source: str) -> None:
    data = prepared(cohort, "04-optimizers", source)
    if source == "real":
        public = pd.read_csv(AUDIT / "04-optimizers" / "train.csv")
    else:
        module = load_module(cohort.config.week("04-optimizers"))
        public = module.load_embedded(SEED)[0]
    test, truth = tabular(data, None)
    joins = column_join_hits(test, truth, public, "label", None)
    assert len(joins) == 784 and no_better_than_chance(max(joins.values()), truth)
    assert no_better_than_chance(exact_row_hits(test, truth, public, "label"), truth)


# --- the audit can fail ------------------------------------------------------------------------


def test_the_audit_finds_a_leak_when_one_is_there() -> None:
    """The lookups themselves: on a test set copied from the source, each recovers the answers."""
    source = pd.read_csv(AUDIT / "02-regularization" / "data.csv")
    leaked = source.sample(40, random_state=0).reset_index(drop=True)
    truth = leaked["diagnosis"]
    test = leaked.drop(columns=["diagnosis", "Unnamed: 32"])
    joins = column_join_hits(test, truth, source, "diagnosis", "id")
    assert joins["id->id"] == 40 and not no_better_than_chance(joins["id->id"], truth)
    assert exact_row_hits(test, truth, source, "diagnosis") == 40
    digits = pd.read_csv(AUDIT / "04-optimizers" / "train.csv")
    rows = digits.sample(30, random_state=0).reset_index(drop=True)
    assert exact_row_hits(rows.drop(columns="label"), rows["label"], digits, "label") == 30
