"""cohort.weeks.labquake: a simulator that behaves like the LANL record, calibrated on the shipped GBM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cohort.config import load
from cohort.weeks import labquake
from cohort.weeks.contract import load_module

REPO = Path(__file__).resolve().parents[1]


def test_simulator_is_seeded_and_laid_out_like_the_lanl_record() -> None:
    signal = labquake.simulate(seed=1, cycles=3)
    again = labquake.simulate(seed=1, cycles=3)
    assert np.array_equal(signal.acoustic_data, again.acoustic_data)
    assert signal.acoustic_data.dtype == np.int16
    ttf = signal.time_to_failure
    starts = labquake.failure_starts(ttf)
    assert len(starts) == 3 + 1  # two partial cycles at the ends, three whole ones between
    # Starts and ends mid-cycle: neither end is at a failure or at a cycle's first sample.
    assert ttf[0] > 1.0 and ttf[-1] > 1.0 and starts[0] > 0
    whole = np.diff(starts) * labquake.BLOCK_SECONDS / labquake.BLOCK
    assert whole.min() >= 6.9 and whole.max() <= 16.0
    # 4096-sample blocks: time_to_failure barely moves inside a block and steps between blocks.
    steps = -np.diff(ttf[: 3 * labquake.BLOCK])
    assert np.allclose(steps[: labquake.BLOCK - 1], labquake.WITHIN_BLOCK_STEP)
    assert np.isclose(steps[labquake.BLOCK - 1], labquake.BLOCK_SECONDS, rtol=1e-3)
    assert len(ttf) % labquake.BLOCK == 0


def test_signal_gets_louder_near_failure_with_rare_large_spikes() -> None:
    signal = labquake.simulate(seed=3, cycles=4)
    acoustic, ttf = signal.acoustic_data.astype(float), signal.time_to_failure
    near = acoustic[(ttf < 1) & (ttf > 0.05)]
    far = acoustic[ttf > 5]
    assert near.std() > 1.5 * far.std()
    assert 8.0 < acoustic.std() < 14.0  # the real record's is 10.7
    assert 4.0 < acoustic.mean() < 5.0 and np.abs(acoustic).max() > 300
    assert (np.abs(acoustic - 4.5) > 100).mean() < 0.005  # spikes are rare


def test_cycles_differ_and_some_are_slow_slips() -> None:
    rng = np.random.default_rng(0)
    cycles = [labquake.draw_cycle(rng, labquake.CYCLE_SECONDS) for _ in range(200)]
    assert 0.1 < np.mean([c.slow_slip for c in cycles]) < 0.3
    for field in ("seconds", "gain", "rise", "tau", "burst"):
        values = np.array([getattr(c, field) for c in cycles])
        assert values.std() > 0.05 * values.mean(), field


@pytest.mark.slow
def test_calibration_feature_gbm_about_2_and_constant_median_about_3() -> None:
    """Time-based 5-fold CV on the embedded record's 150,000-sample segments, as on real LANL."""
    week = load(REPO).week("final")  # the config only: no store
    features = load_module(week).features  # the shipped feature set
    gbm, median, segments, samples = labquake.calibration(week.data.seed, features)
    print(f"GBM {gbm:.3f}, median {median:.3f}, {segments} segments, {samples:,} samples")
    assert abs(gbm - 2.0) <= 0.3
    assert abs(median - 3.0) <= 0.3
    assert segments == samples // labquake.SEGMENT
