"""A submission's scores from its encoded predictions: the arithmetic that intake and scoring
runs share, with no store import (the driver-level intake path scores without SQLAlchemy)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from cohort.errors import ValidationError
from cohort.scoring import SCORER_VERSION, metrics
from cohort.scoring.solution import Solution
from cohort.workspace import utcnow

INFINITE = (
    "The predictions give an infinite score (values too large for the metric); "
    "submit finite predictions of a sensible size."
)


def score_values(solution: Solution, stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Public and private scores of a stack of encoded predictions (NaN for an empty split)."""
    metric = metrics.get(solution.metric)
    # Overflow gives an infinite score, which the callers refuse; it is not a warning.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        public, private = metrics.split_scores(
            metric, solution.truth, stack, [solution.public, ~solution.public]
        )
    return public, private


def non_finite(solution: Solution, pub: np.ndarray, priv: np.ndarray) -> np.ndarray:
    """Scores that overflowed: infinite, or, for mean-of-loss metrics, NaN on a split that
    has rows (an infinite loss times another split's zero weight)."""
    means = metrics.get(solution.metric).pointwise is not None
    has_pub = means and bool(solution.public.any())
    has_priv = means and bool((~solution.public).any())
    return (np.isinf(pub) | (np.isnan(pub) & has_pub)) | (
        np.isinf(priv) | (np.isnan(priv) & has_priv)
    )


def score_row(
    solution: Solution, sid: int, public: float, private: float, at: datetime
) -> dict[str, Any]:
    """The scores row of one submission (None for an empty split)."""

    def clean(x: float) -> float | None:
        return None if np.isnan(x) else float(x)

    return {
        "submission_id": sid,
        "solution_sha256": solution.sha256,
        "scorer_version": SCORER_VERSION,
        "public_score": clean(public),
        "private_score": clean(private),
        "scored_at": at,
    }


def score_one(solution: Solution, sid: int, values: np.ndarray) -> dict[str, Any]:
    """The scores row of one just-submitted file, scored now; refused when non-finite."""
    pub, priv = score_values(solution, values[None])
    if non_finite(solution, pub, priv)[0]:
        raise ValidationError(INFINITE)
    return score_row(solution, sid, pub[0], priv[0], utcnow())
