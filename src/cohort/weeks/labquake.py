"""A laboratory-earthquake simulator in the LANL Earthquake Prediction format.

The LANL data come from a shear experiment: a fault gouge is loaded until it slips
(a "lab quake"), over and over. `time_to_failure` falls to zero within a stick-slip
cycle and jumps back up after each quake (a sawtooth); the acoustic signal is noise
whose spread and rate of impulsive spikes grow, unevenly, as the next failure nears.

What makes the real competition hard, and this simulator keeps:

- **No two cycles alike.** Each cycle draws its own length (7-16 s, in no order),
  gain, noise floor and precursor envelope (how early and how strongly the signal
  rises). About one cycle in five is a slow slip: it fails with little warning and
  a small burst. So a segment's statistics say "failure is near" reliably, but
  "8 s or 12 s to go" only roughly, which is why a feature model gets about 2 s
  of error while the constant median gets about 3.
- **Rare, large spikes.** Most of the record is quiet (spread about 5); spikes and
  the quakes' bursts, up to thousands, bring the whole record's spread near the
  real 10.7.
- **Kaggle's geometry.** Samples come in blocks of 4,096 recorded together:
  `time_to_failure` barely moves within a block and steps down between blocks, as
  in the real train.csv. Test segments are 150,000 samples. The record starts and
  ends in mid-cycle.

The one scale change: a 4,096-sample block spans `BLOCK_SECONDS` (0.03 s) here,
against about 0.001 s in the real experiment, so a 150,000-sample segment covers
about 1.1 s of a cycle instead of 0.04 s and the whole record is about 24 million
samples (24,399,872 for seed 42) instead of 629 million: small enough to prepare and
train on a laptop in minutes.

`python -m cohort.weeks.labquake 42 7 1` prints the calibration figures for those
seeds (`calibration` below; tests/test_labquake.py checks seed 42's).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

BLOCK = 4_096  # samples recorded together, as in the real train.csv
BLOCK_SECONDS = 0.03  # time between blocks; the real experiment's is about 0.0011 s
WITHIN_BLOCK_STEP = 1e-9  # time_to_failure's step inside a block, as in the real file
SEGMENT = 150_000  # samples in a Kaggle test segment
CYCLES = 15  # full cycles between the two partial ones at the ends
CYCLE_SECONDS = (7.0, 16.0)
SLOW_SLIP_SHARE = 0.2
NOISE_MEAN = 4.5  # the real acoustic_data's mean is about 4.5


@dataclass(frozen=True)
class Signal:
    """An acoustic record and its time to the next failure, sample by sample."""

    acoustic_data: np.ndarray  # int16
    time_to_failure: np.ndarray  # float64, seconds


@dataclass(frozen=True)
class Cycle:
    """One stick-slip cycle's own character."""

    seconds: float  # from the previous quake to this one
    gain: float  # scales the whole cycle's signal
    floor: float  # the quiet noise spread far from failure
    rise: float  # how strongly the spread grows near failure
    tau: float  # over how many seconds before failure it grows
    burst: float  # the spread of the quake's own burst
    slow_slip: bool


def draw_cycle(rng: np.random.Generator, cycle_seconds: tuple[float, float]) -> Cycle:
    """A cycle with random length, gain and envelope; some are slow slips."""
    slow = bool(rng.random() < SLOW_SLIP_SHARE)
    return Cycle(
        seconds=float(rng.uniform(*cycle_seconds)),
        gain=float(rng.lognormal(0.0, 0.15)),
        floor=float(rng.uniform(3.8, 4.8)),
        rise=float(rng.uniform(0.5, 2.0) if slow else rng.uniform(3.0, 9.0)),
        tau=float(rng.uniform(1.0, 5.0)),
        burst=float(rng.uniform(20, 60) if slow else rng.uniform(100, 250)),
        slow_slip=slow,
    )


def simulate(
    seed: int,
    cycles: int = CYCLES,
    cycle_seconds: tuple[float, float] = CYCLE_SECONDS,
    block_seconds: float = BLOCK_SECONDS,
) -> Signal:
    """`cycles` full stick-slip cycles between two partial ones; the same seed, the same signal."""
    rng = np.random.default_rng(seed)
    drawn = [draw_cycle(rng, cycle_seconds) for _ in range(cycles + 2)]
    # The record starts and ends mid-cycle: keep the last part of the first cycle
    # and the first part of the last one.
    head = rng.uniform(0.2, 0.8)
    tail = rng.uniform(0.2, 0.8)
    acoustic, ttf = [], []
    for k, cycle in enumerate(drawn):
        blocks = _cycle_times(cycle.seconds, block_seconds)  # (blocks, BLOCK)
        if k == 0:
            blocks = blocks[blocks[:, 0] <= head * cycle.seconds]
        elif k == len(drawn) - 1:
            blocks = blocks[blocks[:, 0] >= (1 - tail) * cycle.seconds]
        times = blocks.ravel()
        ttf.append(times)
        acoustic.append(_acoustic(times, cycle, rng))
    return Signal(acoustic_data=np.concatenate(acoustic), time_to_failure=np.concatenate(ttf))


def _cycle_times(seconds: float, block_seconds: float) -> np.ndarray:
    """time_to_failure over one cycle, a row per block: nearly constant inside, stepping between."""
    blocks = max(1, int(seconds / block_seconds))
    inside = np.arange(BLOCK) * WITHIN_BLOCK_STEP
    # The last block ends just before the quake, as the real record's do (about 1e-4 s).
    starts = (blocks - 1 - np.arange(blocks)) * block_seconds + inside[-1] + 1e-4
    return starts[:, None] - inside[None, :]


def _acoustic(ttf: np.ndarray, cycle: Cycle, rng: np.random.Generator) -> np.ndarray:
    """Noise whose spread and spike rate grow as failure nears, plus the quake's own burst."""
    closeness = np.exp(-ttf / cycle.tau)  # 0 far from failure, 1 at the failure
    loading = 1.0 - np.clip(ttf / cycle.seconds, 0.0, 1.0)  # slow growth over the whole cycle
    spread = cycle.gain * (cycle.floor * (1.0 + 0.8 * loading) + cycle.rise * closeness)
    signal = NOISE_MEAN + rng.standard_normal(ttf.size, dtype=np.float32) * spread
    rate = 1e-4 + 3e-4 * loading + 2.5e-3 * closeness * cycle.rise / 4.0
    spikes = np.flatnonzero(rng.random(ttf.size, dtype=np.float32) < rate)
    scale = cycle.gain * (30.0 + 60.0 * closeness[spikes])
    signal[spikes] += rng.exponential(scale) * rng.choice([-1.0, 1.0], size=spikes.size)
    burst = np.flatnonzero(ttf < 0.012)  # the slip itself: the loudest moment of the record
    signal[burst] += rng.normal(0.0, cycle.gain * cycle.burst, burst.size)
    return np.clip(np.rint(signal), -32768, 32767).astype(np.int16)


def failure_starts(ttf: np.ndarray) -> np.ndarray:
    """Indices where a new cycle starts (time_to_failure jumps up after a quake)."""
    return np.flatnonzero(np.diff(ttf) > 0) + 1


def calibration(
    seed: int, features: Callable[[np.ndarray], dict[str, float]], folds: int = 5
) -> tuple[float, float, int, int]:
    """(feature GBM MAE, constant-median MAE, segments, samples) on seed's record cut into
    150,000-sample segments, by time-based CV (contiguous folds), as on real LANL."""
    import pandas as pd
    from sklearn.ensemble import GradientBoostingRegressor

    signal = simulate(seed)
    ends = np.arange(SEGMENT, len(signal.acoustic_data) + 1, SEGMENT)
    x = pd.DataFrame([features(signal.acoustic_data[e - SEGMENT : e]) for e in ends])
    y = signal.time_to_failure[ends - 1]
    gbm, median = [], []
    for fold in np.array_split(np.arange(len(x)), folds):
        train = np.setdiff1d(np.arange(len(x)), fold)
        model = GradientBoostingRegressor(
            loss="absolute_error", n_estimators=150, max_depth=3, random_state=0
        ).fit(x.iloc[train], y[train])
        gbm.append(float(np.abs(model.predict(x.iloc[fold]) - y[fold]).mean()))
        median.append(float(np.abs(np.median(y[train]) - y[fold]).mean()))
    return float(np.mean(gbm)), float(np.mean(median)), len(x), len(signal.acoustic_data)


def main(argv: list[str]) -> int:
    """`python -m cohort.weeks.labquake SEED...`: each seed's record size and calibration."""
    from pathlib import Path

    from cohort.config import load
    from cohort.weeks.contract import load_module

    features = load_module(load(Path.cwd()).week("final")).features
    for seed in [int(a) for a in argv] or [42]:
        gbm, median, segments, samples = calibration(seed, features)
        print(
            f"seed {seed}: {samples:,} samples, {segments} segments; "
            f"GBM {gbm:.3f} MAE, constant median {median:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
