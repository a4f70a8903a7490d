"""A small laboratory-earthquake simulator in the LANL Earthquake Prediction format.

The LANL data come from a shear experiment: a fault gouge is loaded until it
slips (a "lab quake"), over and over. Each stick-slip cycle lasts a few seconds;
the acoustic signal is noisy, and its variance and the rate of impulsive spikes
grow as the next failure nears. `time_to_failure` falls linearly to zero within a
cycle and jumps back up after each quake: a sawtooth. This simulator writes the
same two columns at a reduced sample rate, so the final project's code runs on
a laptop in seconds while keeping the signal a model can learn from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 2_000  # samples per second; the real experiment records at about 4 MHz
CYCLES = 20  # prepare holds the last few out as test segments, leaving about 15-16 to train on
CYCLE_SECONDS = (7.0, 16.0)


@dataclass(frozen=True)
class Signal:
    """An acoustic record and its time to the next failure, sample by sample."""

    acoustic_data: np.ndarray  # int16
    time_to_failure: np.ndarray  # float64, seconds


def simulate(
    seed: int,
    cycles: int = CYCLES,
    sample_rate: int = SAMPLE_RATE,
    cycle_seconds: tuple[float, float] = CYCLE_SECONDS,
) -> Signal:
    """Simulate `cycles` stick-slip cycles; the same seed gives the same signal."""
    rng = np.random.default_rng(seed)
    lengths = rng.uniform(*cycle_seconds, size=cycles)
    ttf = np.concatenate([_sawtooth(length, sample_rate) for length in lengths])
    return Signal(acoustic_data=_acoustic(ttf, rng), time_to_failure=ttf)


def _sawtooth(length: float, sample_rate: int) -> np.ndarray:
    """One cycle's time_to_failure: from `length` seconds down to one sample before the quake."""
    n = int(round(length * sample_rate))
    return (n - np.arange(n)) / sample_rate


def _acoustic(ttf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Noise whose spread and spike rate grow as failure nears, plus the quake's own burst."""
    closeness = np.exp(-ttf / 1.5)  # 0 far from failure, 1 at the failure
    noise = rng.normal(4.5, 2.5 + 6.0 * closeness)
    spikes = rng.random(ttf.size) < 0.0008 + 0.02 * closeness
    sizes = rng.exponential(25.0 + 120.0 * closeness) * rng.choice([-1.0, 1.0], size=ttf.size)
    burst = ttf < 0.05  # the slip itself: the loudest part of the record
    signal = (
        noise + np.where(spikes, sizes, 0.0) + np.where(burst, rng.normal(0, 400, ttf.size), 0.0)
    )
    return np.clip(np.rint(signal), -32768, 32767).astype(np.int16)


def failure_starts(ttf: np.ndarray) -> np.ndarray:
    """Indices where a new cycle starts (time_to_failure jumps up after a quake)."""
    return np.flatnonzero(np.diff(ttf) > 0) + 1
