"""Every metric against scikit-learn on seeded random data, edge cases included."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from cohort import config
from cohort.errors import NotFound
from cohort.scoring import metrics

RNG_SEEDS = [0, 1, 2]


def _labels(seed: int, n: int = 200, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, k, n), rng.integers(0, k, n)


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_label_metrics_match_sklearn(seed: int) -> None:
    y, p = _labels(seed)
    assert metrics.get("accuracy").fn(y, p) == pytest.approx(skm.accuracy_score(y, p))
    assert metrics.get("error_rate").fn(y, p) == pytest.approx(1 - skm.accuracy_score(y, p))
    assert metrics.get("macro_f1").fn(y, p) == pytest.approx(skm.f1_score(y, p, average="macro"))


def test_macro_f1_with_one_class_in_truth_and_unseen_predicted_labels() -> None:
    y = np.zeros(50, dtype=int)
    p = np.array([0] * 30 + [3] * 20)
    assert metrics.get("macro_f1").fn(y, p) == pytest.approx(skm.f1_score(y, p, average="macro"))


def test_batch_scores_each_submission_like_fn() -> None:
    y, _ = _labels(3)
    stack = np.stack([_labels(s)[1] for s in range(4)])
    got = metrics.get("macro_f1").batch(y, stack)
    assert got == pytest.approx([skm.f1_score(y, row, average="macro") for row in stack])


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_log_loss_matches_sklearn_on_normalized_rows(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, 300)
    p = rng.random((300, 4))
    p /= p.sum(axis=1, keepdims=True)
    expected = skm.log_loss(y, p, labels=range(4))
    assert metrics.get("log_loss").fn(y, p) == pytest.approx(expected)


def test_log_loss_rescales_rows_that_do_not_sum_to_one_as_kaggle() -> None:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, 100)
    p = rng.random((100, 3)) * 5
    expected = skm.log_loss(y, p / p.sum(axis=1, keepdims=True), labels=range(3))
    assert metrics.get("log_loss").fn(y, p) == pytest.approx(expected)


def test_log_loss_clips_zero_and_one_probabilities() -> None:
    y = np.array([0, 1, 2, 0])
    p = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    got = metrics.get("log_loss").fn(y, p)
    assert np.isfinite(got)
    assert got == pytest.approx(skm.log_loss(y, p, labels=range(3)), rel=1e-6)


def test_log_loss_with_one_class_present() -> None:
    y = np.zeros(20, dtype=int)
    p = np.tile([0.7, 0.2, 0.1], (20, 1))
    assert metrics.get("log_loss").fn(y, p) == pytest.approx(skm.log_loss(y, p, labels=range(3)))


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_roc_auc_matches_sklearn_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 250)
    s = np.round(rng.random(250), 1)  # rounding makes many ties
    assert metrics.get("roc_auc").fn(y, s) == pytest.approx(skm.roc_auc_score(y, s))


def test_roc_auc_multilabel_is_the_macro_average() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, (120, 3))
    s = rng.random((120, 3))
    assert metrics.get("roc_auc").fn(y, s) == pytest.approx(
        skm.roc_auc_score(y, s, average="macro")
    )


def test_roc_auc_with_one_class_present_is_nan() -> None:
    assert np.isnan(metrics.get("roc_auc").fn(np.ones(10), np.linspace(0, 1, 10)))


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_regression_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.random(500) * 10
    p = y + rng.normal(0, 1, 500).clip(-y)
    assert metrics.get("mae").fn(y, p) == pytest.approx(skm.mean_absolute_error(y, p))
    assert metrics.get("rmse").fn(y, p) == pytest.approx(skm.root_mean_squared_error(y, p))
    assert metrics.get("rmsle").fn(y, p) == pytest.approx(skm.root_mean_squared_log_error(y, p))


def test_multi_target_regression_averages_columns_as_sklearn() -> None:
    rng = np.random.default_rng(5)
    y = rng.random((80, 3))
    p = rng.random((80, 3))
    assert metrics.get("rmse").fn(y, p) == pytest.approx(skm.root_mean_squared_error(y, p))
    assert metrics.get("mae").fn(y, p) == pytest.approx(skm.mean_absolute_error(y, p))


def test_registry_agrees_with_config_directions() -> None:
    assert {n: m.direction for n, m in metrics.METRICS.items()} == config.METRICS


def test_unknown_metric_names_the_known_ones() -> None:
    with pytest.raises(NotFound, match=r"^No metric 'auc'; use one of: accuracy, error_rate, "):
        metrics.get("auc")


def test_better_follows_direction() -> None:
    assert metrics.get("mae").better(1.0, 2.0)
    assert metrics.get("accuracy").better(0.9, 0.8)


def _answers_and_stack(
    rng: np.random.Generator, kind: str, n: int, b: int, targets: int
) -> tuple[np.ndarray, np.ndarray]:
    """Random answers for `n` rows and `b` submissions of a metric's kind (regression: with
    `targets` columns, one column given flat)."""
    if kind == "label":
        return rng.integers(0, 4, n), rng.integers(0, 4, (b, n))
    if kind == "proba":
        return rng.integers(0, 3, n), rng.random((b, n, 3))
    if kind == "score":
        return rng.integers(0, 2, n), rng.random((b, n))
    shape = (n, targets) if targets > 1 else (n,)
    return rng.random(shape) * 5, rng.random((b, *shape)) * 5


@pytest.mark.parametrize("name", list(metrics.METRICS))
def test_split_scores_match_batch_on_each_subset(name: str) -> None:
    rng = np.random.default_rng(11)
    metric = metrics.get(name)
    n, b = 60, 4
    y, stack = _answers_and_stack(rng, metric.kind, n, b, targets=2)
    public = rng.random(n) < 0.3
    got = metrics.split_scores(metric, y, stack, [public, ~public, np.zeros(n, bool)])
    assert got[0] == pytest.approx(metric.batch(y[public], stack[:, public]))
    assert got[1] == pytest.approx(metric.batch(y[~public], stack[:, ~public]))
    assert np.isnan(got[2]).all()


@pytest.mark.parametrize("name", list(metrics.METRICS))
def test_a_files_score_is_the_same_to_the_bit_alone_or_anywhere_in_a_batch(name: str) -> None:
    """A file scored alone at intake and again in a rescore's batch must get the same float:
    a last-bit difference made a no-change rescore rewrite scores and could split an exact
    tie (earliest wins) the other way."""
    rng = np.random.default_rng(5)
    metric = metrics.get(name)
    n, b = 2624, 61  # the LANL test size; more rows than one chunk of the loss
    y, stack = _answers_and_stack(rng, metric.kind, n, b, targets=1)
    public = rng.random(n) < 0.3
    whole = metrics.split_scores(metric, y, stack, [public, ~public])
    for start, size in [(0, 1), (7, 1), (60, 1), (3, 5), (20, 30), (1, 60)]:
        part = metrics.split_scores(metric, y, stack[start : start + size], [public, ~public])
        for got, want in zip(part, whole, strict=True):
            assert got.tobytes() == want[start : start + size].tobytes(), (start, size)
