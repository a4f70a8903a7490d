"""The embedded LANL prepare writes the simulator's record with array arithmetic instead of
pandas; the bytes must be exactly what `to_csv(float_format="%.9f")` writes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohort.weeks import labquake

PREPARE = Path(__file__).resolve().parents[1] / "weeks" / "05-lanl-final" / "prepare.py"


def _module():
    spec = importlib.util.spec_from_file_location("lanl_prepare_under_test", PREPARE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pandas(acoustic: np.ndarray, ttf: np.ndarray) -> bytes:
    frame = pd.DataFrame({"acoustic_data": acoustic, "time_to_failure": ttf})
    return frame.to_csv(index=False, float_format="%.9f").encode()


@pytest.mark.parametrize("seed", [0, 1])
def test_written_bytes_equal_pandas_on_edges_and_random_values(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    edges_a = [0, -1, 1, -9, 10, -10, 99, -100, -32768, 32767]
    # Halves at the ninth decimal, exact binary halves, zero, the largest whole part.
    edges_t = [0.0, 5e-10, 1.5e-9, 2.5e-9, 0.1234567895, 9.9999999995, 15.9999999995, 1e-10]
    edges_t += [0.5, 0.125, 999999.999999999, 11.85, 1e-4, 3.0]
    n = 50_000
    acoustic = np.concatenate(
        [np.array(edges_a, dtype=np.int16), rng.integers(-32768, 32768, n).astype(np.int16)]
    )
    ttf = np.concatenate(
        [np.array(edges_t), rng.random(n // 2) * 16, np.round(rng.random(n // 2) * 16, 9)]
    )
    size = min(len(acoustic), len(ttf))
    acoustic, ttf = acoustic[:size], ttf[:size]
    path = tmp_path / "out.csv"
    module = _module()
    module.WRITE_ROWS = 7_001  # several chunks, one of them short
    module.write_signal_csv(path, acoustic, ttf)
    assert path.read_bytes() == _pandas(acoustic, ttf)


def test_the_simulators_record_is_written_as_pandas_writes_it(tmp_path: Path) -> None:
    signal = labquake.simulate(3)
    rows = slice(0, 400_000)  # a few blocks of each kind the record has, near its start
    path = tmp_path / "sim.csv"
    _module().write_signal_csv(path, signal.acoustic_data[rows], signal.time_to_failure[rows])
    assert path.read_bytes() == _pandas(signal.acoustic_data[rows], signal.time_to_failure[rows])


def test_a_test_segment_is_written_as_pandas_writes_it(tmp_path: Path) -> None:
    values = np.array([0, -1, 7, -32768, 32767, 10, -10, 100000 - 1], dtype=np.int64)
    values = np.concatenate([values, np.random.default_rng(2).integers(-3000, 3000, 10_000)])
    expected = pd.DataFrame({"acoustic_data": values}).to_csv(index=False).encode()
    assert b"acoustic_data\n" + _module()._int_lines(values) == expected
