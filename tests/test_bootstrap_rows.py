"""The bootstrap ranks all resamples at once; each row must equal the one-resample rule."""

from __future__ import annotations

import numpy as np
import pytest

from cohort.season.formula import (
    _season_totals_rows,
    percentile_rank_rows,
    percentile_ranks,
    season_totals,
)


@pytest.mark.parametrize("seed", range(4))
def test_rows_of_resamples_rank_and_total_as_one_resample_does(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(75):
        members, samples, weeks = (int(rng.integers(1, n)) for n in (40, 6, 6))
        # Rounded scores tie often; a NaN (a failed metric) ranks below every score.
        scores = np.round(rng.normal(size=(samples, members)), int(rng.integers(0, 3)))
        scores[rng.random((samples, members)) < 0.1] = np.nan
        for direction in ("min", "max"):
            one_by_one = np.stack([percentile_ranks(row, direction) for row in scores])
            assert np.array_equal(percentile_rank_rows(scores, direction), one_by_one)
        points = np.round(rng.random((samples, members, weeks)) * 10, 2)
        contributions = np.round(rng.random(members), 2)
        for drop in (False, True):
            one_by_one = np.stack([season_totals(p, contributions, drop)[0] for p in points])
            assert np.array_equal(_season_totals_rows(points, contributions, drop), one_by_one)
