"""Competition metrics: pure functions over arrays, with a name, a direction and a kind.

Each metric is written once, vectorized over a stack of submissions (`batch`), so the
scorer can score thousands of stored prediction arrays in a few numpy calls; `fn`
scores one submission through the same code. No I/O here, so tests compare every
metric with scikit-learn on random data.

Kinds say what `y_true` and `y_pred` hold:
- "label":      class codes (integers indexing the week's class list), shape (n,) or (n, t)
- "proba":      y_true class codes (n,); y_pred one probability column per class (n, k)
- "score":      y_true 0/1 (n,) or (n, t); y_pred a real-valued score per row
- "regression": real values, shape (n,) or (n, t); several columns are averaged
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cohort.errors import NotFound

Batch = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Metric:
    """A named metric; `batch` scores a stack (B, n[, t|k]) of predictions at once."""

    name: str
    direction: str
    batch: Batch
    kind: str
    # For metrics that are a mean of a per-row loss: the loss (B, n[, t]) and what turns the
    # per-column means into the score. The scorer uses them to score public and private rows
    # in one pass; `batch` gives the same numbers.
    pointwise: Batch | None = None
    finish: Callable[[np.ndarray], np.ndarray] | None = None

    def fn(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        """Score one submission."""
        return float(self.batch(np.asarray(y_true), np.asarray(y_pred)[None, ...])[0])

    def better(self, a: float, b: float) -> bool:
        """True when score `a` beats score `b` in this metric's direction."""
        return a > b if self.direction == "max" else a < b


def _columns(y: np.ndarray) -> np.ndarray:
    """Truth as (n, t)."""
    return y[:, None] if y.ndim == 1 else y


def _stack(p: np.ndarray) -> np.ndarray:
    """Predictions as (B, n, t)."""
    return p[:, :, None] if p.ndim == 2 else p


def accuracy(y_true: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """Share of labels predicted exactly."""
    return (_stack(stack) == _columns(y_true)[None]).mean(axis=(1, 2))


def error_rate(y_true: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """Share of labels predicted wrongly (1 - accuracy)."""
    return 1.0 - accuracy(y_true, stack)


def macro_f1(y_true: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """Unweighted mean F1 over the labels present in the truth or the predictions (as sklearn)."""
    y = _columns(y_true).astype(np.int64).ravel()
    p = _stack(stack).astype(np.int64).reshape(len(stack), -1)
    k = int(max(y.max(initial=0), p.max(initial=0))) + 1
    b = len(p)
    # One bincount gives every submission's confusion matrix: index = (sub, true, pred).
    flat = (np.arange(b)[:, None] * k * k + y[None, :] * k + p).ravel()
    conf = np.bincount(flat, minlength=b * k * k).reshape(b, k, k)
    tp = np.diagonal(conf, axis1=1, axis2=2).astype(float)
    denom = conf.sum(axis=2) + conf.sum(axis=1)
    present = denom > 0
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=present)
    return f1.sum(axis=1) / present.sum(axis=1)


def log_loss(y_true: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """Multi-class log loss. As on Kaggle, each row is first divided by its sum (rows need
    not sum to 1; the validator refuses negative values and all-zero rows), then clipped
    to [eps, 1-eps] as sklearn does."""
    eps = np.finfo(np.float64).eps
    stack = stack.astype(np.float64, copy=False)
    codes = y_true.astype(np.int64)
    picked = np.take_along_axis(stack, codes[None, :, None], axis=2)[:, :, 0]
    picked = np.clip(picked / stack.sum(axis=2), eps, 1 - eps)
    return -np.log(picked).mean(axis=1)


def roc_auc(y_true: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """Area under the ROC curve via average ranks (ties count half); NaN with one class only.

    Several target columns are averaged (sklearn's macro average for multilabel)."""
    from scipy.stats import rankdata

    y = _columns(y_true).astype(bool)
    s = _stack(stack).astype(np.float64, copy=False)
    ranks = rankdata(s, axis=1)  # (B, n, t), ties get their average rank
    pos = y.sum(axis=0).astype(float)
    neg = len(y) - pos
    rank_sum = (ranks * y[None]).sum(axis=1)  # (B, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (rank_sum - pos * (pos + 1) / 2) / (pos * neg)
    auc = np.where((pos > 0) & (neg > 0), auc, np.nan)
    return auc.mean(axis=1)


def _equal(y_true: np.ndarray, stack: np.ndarray) -> np.ndarray:
    return (_stack(stack) == _columns(y_true)[None]).astype(np.float64)


def _unequal(y_true: np.ndarray, stack: np.ndarray) -> np.ndarray:
    return (_stack(stack) != _columns(y_true)[None]).astype(np.float64)


def _abs_error(y_true: np.ndarray, stack: np.ndarray) -> np.ndarray:
    diff = _stack(stack) - _columns(y_true)[None]
    return np.abs(diff, out=diff)


def _squared_error(y_true: np.ndarray, stack: np.ndarray) -> np.ndarray:
    diff = _stack(stack) - _columns(y_true)[None]
    return np.multiply(diff, diff, out=diff)


def _squared_log_error(y_true: np.ndarray, stack: np.ndarray) -> np.ndarray:
    return _squared_error(np.log1p(y_true), np.log1p(stack))


def _neg_log_p(y_true: np.ndarray, stack: np.ndarray) -> np.ndarray:
    eps = np.finfo(np.float64).eps
    stack = stack.astype(np.float64, copy=False)
    picked = np.take_along_axis(stack, y_true.astype(np.int64)[None, :, None], axis=2)[:, :, 0]
    return -np.log(np.clip(picked / stack.sum(axis=2), eps, 1 - eps))


def _per_column(errors: np.ndarray) -> np.ndarray:
    """Mean over rows, for a (B, n, t) array -> (B, t)."""
    return errors.mean(axis=1)


def mae(y_true: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """Mean absolute error, averaged over target columns."""
    diff = _stack(stack) - _columns(y_true)[None]
    return _per_column(np.abs(diff)).mean(axis=1)


def rmse(y_true: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """Root mean squared error per target column, averaged over columns (as sklearn)."""
    diff = _stack(stack) - _columns(y_true)[None]
    return np.sqrt(_per_column(diff * diff)).mean(axis=1)


def rmsle(y_true: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """Root mean squared logarithmic error; values must be >= 0 (the validator checks)."""
    return rmse(np.log1p(y_true), np.log1p(stack))


def _same(x: np.ndarray) -> np.ndarray:
    return x


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("accuracy", "max", accuracy, "label", _equal, _same),
        Metric("error_rate", "min", error_rate, "label", _unequal, _same),
        Metric("macro_f1", "max", macro_f1, "label"),
        Metric("log_loss", "min", log_loss, "proba", _neg_log_p, _same),
        Metric("roc_auc", "max", roc_auc, "score"),
        Metric("mae", "min", mae, "regression", _abs_error, _same),
        Metric("rmse", "min", rmse, "regression", _squared_error, np.sqrt),
        Metric("rmsle", "min", rmsle, "regression", _squared_log_error, np.sqrt),
    )
}


# The values each metric can take (a hand-set score outside them is a typo).
RANGES: dict[str, tuple[float, float]] = {
    "accuracy": (0.0, 1.0),
    "error_rate": (0.0, 1.0),
    "macro_f1": (0.0, 1.0),
    "roc_auc": (0.0, 1.0),
    "log_loss": (0.0, float("inf")),
    "mae": (0.0, float("inf")),
    "rmse": (0.0, float("inf")),
    "rmsle": (0.0, float("inf")),
}


def in_range(name: str, value: float) -> bool:
    """True when `value` is a score the metric can give."""
    low, high = RANGES.get(name, (-float("inf"), float("inf")))
    return low <= value <= high


def split_scores(
    metric: Metric, y_true: np.ndarray, stack: np.ndarray, masks: list[np.ndarray]
) -> list[np.ndarray]:
    """The metric on several row subsets (e.g. public and private) of every submission in `stack`.

    Mean-of-loss metrics compute the loss once and average each subset with one matrix
    product, so no subset is copied; the others score each subset with `batch`."""
    if metric.pointwise is None or metric.finish is None:
        return [
            metric.batch(y_true[m], stack[:, m]) if m.any() else np.full(len(stack), np.nan)
            for m in masks
        ]
    n = stack.shape[1]
    weights = np.stack([m / m.sum() if m.any() else np.full(n, np.nan) for m in masks], axis=1)
    # Chunks of ~64k values keep the loss in cache instead of streaming temporaries through memory.
    step = max(1, 65536 // max(1, stack[0].size))
    means = None
    for start in range(0, len(stack), step):
        loss = metric.pointwise(y_true, stack[start : start + step])
        b, t = loss.shape[0], loss[0].size // n  # log loss has one loss per row, not per class
        if means is None:
            means = np.empty((len(stack), t, len(masks)))
        flat = (
            loss.reshape(b, n, t).transpose(0, 2, 1).reshape(-1, n)
        )  # (b*t, n); a view when t == 1
        if b < step:
            # Every product has the same shape: BLAS sums a row in an order that depends on
            # the matrix's shape, so a file scored alone at intake and again in a batch of 800
            # differed in the last bit, and a no-change rescore rewrote those scores (and an
            # exact tie could go to the later entry). Padded, a row's sum is the same anywhere.
            flat = np.concatenate([flat, np.zeros(((step - b) * t, n))])
        means[start : start + b] = (flat @ weights)[: b * t].reshape(b, t, len(masks))
    if means is None:  # no submissions
        return [np.empty(0) for _ in masks]
    scores = metric.finish(means).mean(axis=1)  # (B, subsets)
    return [scores[:, i] for i in range(len(masks))]


def get(name: str) -> Metric:
    """The metric called `name`, or NotFound listing the known ones."""
    try:
        return METRICS[name]
    except KeyError:
        raise NotFound(f"No metric '{name}'; use one of: {', '.join(METRICS)}.") from None
