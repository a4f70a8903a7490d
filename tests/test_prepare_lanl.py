"""The final's real-data path on a tiny copy of the LANL competition files, and the simulator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohort.errors import CohortError
from cohort.template import init_cohort
from cohort.weeks.prepare import prepare
from cohort.workspace import Cohort

RAW = Path(__file__).parent / "data" / "weeks" / "05-lanl-final"


def test_lanl_holds_out_the_cycles_after_a_failure_as_kaggle_length_segments(
    tmp_path: Path,
) -> None:
    init_cohort(tmp_path / "c", "LANL")
    cohort = Cohort.open(tmp_path / "c")
    report = prepare(cohort, "final", raw_dir=RAW)
    data = cohort.config.data_dir / "05-lanl-final"
    raw = pd.read_csv(RAW / "train.csv")
    train = pd.read_csv(data / "train.csv", dtype={"acoustic_data": "int16"})
    solution = pd.read_csv(data / "solution.csv")
    # The last failure leaving >= 20% of the record starts the test part: sample 700 of 1,050.
    # The training targets are the 14 whole 50-sample segments' (the competition's unit).
    assert len(train) == 700 and report.train_rows == 700 // 50 and len(solution) == 350 // 50
    # train.csv is the raw file's first 700 rows, byte for byte (streamed, not re-written).
    raw_lines = (RAW / "train.csv").read_bytes().splitlines(keepends=True)
    assert (data / "train.csv").read_bytes() == b"".join(raw_lines[:701])
    assert np.array_equal(train["acoustic_data"].to_numpy(), raw["acoustic_data"].to_numpy()[:700])
    for seg_id, answer in zip(solution["seg_id"], solution["time_to_failure"], strict=True):
        segment = pd.read_csv(data / "test" / f"{seg_id}.csv")
        assert list(segment.columns) == ["acoustic_data"] and len(segment) == 50
        start = next(
            s
            for s in range(700, 1050, 50)
            if np.array_equal(
                raw["acoustic_data"].to_numpy()[s : s + 50], segment["acoustic_data"].to_numpy()
            )
        )
        assert np.isclose(answer, raw["time_to_failure"].iloc[start + 49])


def test_lanl_without_a_failure_to_split_at_is_refused(tmp_path: Path) -> None:
    init_cohort(tmp_path / "c", "LANL")
    cohort = Cohort.open(tmp_path / "c")
    raw = tmp_path / "raw"
    (raw / "test").mkdir(parents=True)
    pd.DataFrame(
        {
            "acoustic_data": np.zeros(400, dtype=np.int16),
            "time_to_failure": np.linspace(4.0, 0.001, 400),
        }
    ).to_csv(raw / "train.csv", index=False)
    pd.DataFrame({"acoustic_data": np.zeros(50, dtype=np.int16)}).to_csv(
        raw / "test" / "seg_000001.csv", index=False
    )
    with pytest.raises(CohortError) as info:
        prepare(cohort, "final", raw_dir=raw)
    assert str(info.value) == (
        "The LANL signal (400 samples) has no failure leaving 100 samples for test "
        "segments; use the full train.csv."
    )
    assert not (cohort.config.data_dir / "05-lanl-final").exists()


def _lanl_module():
    import importlib.util

    path = Path(__file__).parents[1] / "weeks" / "05-lanl-final" / "prepare.py"
    spec = importlib.util.spec_from_file_location("lanl_prepare_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lanl_chunk_boundaries_change_nothing(tmp_path: Path) -> None:
    module = _lanl_module()
    outputs = []
    for rows in (module.CHUNK_ROWS, 7, 50, 61):
        module.CHUNK_ROWS = rows
        out = tmp_path / f"chunk-{rows}"
        out.mkdir()
        built = module.build(RAW, out, seed=3)
        files = {
            p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
        }
        outputs.append((files, built.solution.to_csv(), built.train_targets.to_csv()))
    assert all(o == outputs[0] for o in outputs[1:])


@pytest.mark.slow
def test_lanl_prepare_memory_stays_flat_from_a_200th_to_a_100th_of_full_size(
    tmp_path: Path,
) -> None:
    from cohort.bench.lanl import FULL_ROWS, peak_rss_of_prepare

    peaks = []
    # The suite's own process can be gigabytes by now; hold 1 GiB more so that a measure that
    # reports the parent's peak (ru_maxrss does, across fork and exec) fails here, not only in CI.
    ballast = b"\x01" * 2**30
    # Both sizes read every pass in two chunks or more, so each peak is the steady one.
    for scale in (200, 100):
        segments, peak = peak_rss_of_prepare(tmp_path / str(scale), FULL_ROWS // scale)
        assert segments >= 4  # a fifth of the rows, in 150,000-row segments
        peaks.append(peak)
    # Loading train.csv whole grows by about 33 bytes a row (21 GB at full size, measured before
    # streaming): about 105 MB more at 1/100 than at 1/200. Streaming stays flat (within the
    # few MB runs differ by), and the whole prepare, baseline included, stays far below 1 GiB.
    assert peaks[1] - peaks[0] < 30 * 2**20, f"peaks {[p // 2**20 for p in peaks]} MiB"
    assert max(peaks) < 512 * 2**20, f"peaks {[p // 2**20 for p in peaks]} MiB"
    del ballast
