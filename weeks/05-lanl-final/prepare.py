"""Final project data: LANL Earthquake Prediction, from Kaggle's files or the lab-quake simulator.

Real data (data/raw/05-lanl-final/, as Kaggle ships the competition): train.csv
(acoustic_data int16, time_to_failure float64), test/seg_*.csv and
sample_submission.csv. Kaggle's own test segments have no labels, so the cohort's
hidden test set is carved from the end of train.csv: the cycles after a failure
boundary, cut into segments as long as Kaggle's test segments (150,000 samples).
Embedded default: cohort.weeks.labquake's simulator, 2,000 samples/s, 1,000-sample segments.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cohort.errors import CohortError
from cohort.weeks import labquake
from cohort.weeks.contract import Built, csv_frame, require_columns

ID, TARGET = "seg_id", "time_to_failure"
TEST_SHARE = 0.2  # at least this share of the signal, starting at a failure, becomes test segments
EMBEDDED_SEGMENT = 1_000


def load_real(raw: Path) -> tuple[labquake.Signal, int, str]:
    """Kaggle's train.csv, and the segment length of Kaggle's test segments."""
    frame = csv_frame(
        raw / "train.csv",
        "LANL train.csv",
        dtype={"acoustic_data": "int16", "time_to_failure": "float64"},
    )
    require_columns(frame, ["acoustic_data", "time_to_failure"], raw / "train.csv")
    segments = sorted((raw / "test").glob("seg_*.csv"))
    if not segments:
        raise CohortError(
            f"{raw / 'test'} has no seg_*.csv files; download the whole LANL competition."
        )
    length = len(csv_frame(segments[0], "LANL test segment"))
    signal = labquake.Signal(frame["acoustic_data"].to_numpy(), frame["time_to_failure"].to_numpy())
    return signal, length, f"real: {raw}"


def load_embedded(seed: int) -> tuple[labquake.Signal, int, str]:
    """The lab-quake simulator's signal."""
    return labquake.simulate(seed), EMBEDDED_SEGMENT, "embedded: lab-quake simulator"


def build(raw: Path | None, out: Path, seed: int) -> Built:
    """Write train.csv, test/seg_*.csv and return the hidden answers."""
    signal, length, source = load_real(raw) if raw is not None else load_embedded(seed)
    cut = holdout_start(signal.time_to_failure, length)
    train = pd.DataFrame(
        {
            "acoustic_data": signal.acoustic_data[:cut],
            "time_to_failure": signal.time_to_failure[:cut],
        }
    )
    train.to_csv(out / "train.csv", index=False, float_format="%.9f")
    n_segments = (len(signal.time_to_failure) - cut) // length
    ids = segment_ids(n_segments, seed)
    order = np.random.default_rng(seed).permutation(
        n_segments
    )  # Kaggle lists segments in no time order
    (out / "test").mkdir()
    answers = []
    for seg_id, k in zip(ids, order, strict=True):
        start = cut + int(k) * length
        pd.DataFrame({"acoustic_data": signal.acoustic_data[start : start + length]}).to_csv(
            out / "test" / f"{seg_id}.csv", index=False
        )
        answers.append((seg_id, round(float(signal.time_to_failure[start + length - 1]), 9)))
    solution = pd.DataFrame(answers, columns=[ID, TARGET])
    return Built(
        solution=solution,
        train_targets=train[[TARGET]],
        source=source,
        files=("train.csv", "test/"),
    )


def holdout_start(ttf: np.ndarray, length: int) -> int:
    """The last cycle start that leaves at least TEST_SHARE of the signal (and two segments) after it."""
    starts = labquake.failure_starts(ttf)
    need = max(TEST_SHARE * len(ttf), 2 * length)
    fitting = [int(s) for s in starts if len(ttf) - s >= need]
    if not fitting:
        raise CohortError(
            f"The LANL signal ({len(ttf)} samples) has no failure leaving {int(need)} samples for test "
            "segments; use the full train.csv."
        )
    return fitting[-1]


def segment_ids(n: int, seed: int) -> list[str]:
    """Unique Kaggle-style ids: seg_ and six hex digits."""
    rng = np.random.default_rng([seed, 5])
    values = rng.choice(16**6, size=n, replace=False)
    return [f"seg_{v:06x}" for v in values]


def features(signal: np.ndarray) -> dict[str, float]:
    """Summary statistics of one segment; the classic LANL feature set, shortened."""
    x = signal.astype(np.float64)
    centred = np.abs(x - np.median(x))
    return {
        "mean": x.mean(),
        "std": x.std(),
        "max": x.max(),
        "min": x.min(),
        "q01": np.quantile(x, 0.01),
        "q05": np.quantile(x, 0.05),
        "q95": np.quantile(x, 0.95),
        "q99": np.quantile(x, 0.99),
        "abs_q90": np.quantile(centred, 0.9),
        "spikes": float((centred > 30).mean()),
    }


def baseline(directory: Path) -> pd.DataFrame:
    """Segment statistics and gradient boosting, trained on train.csv cut into test-length segments."""
    from sklearn.ensemble import GradientBoostingRegressor

    train = pd.read_csv(directory / "train.csv")
    sample = pd.read_csv(directory / "sample_submission.csv")
    length = len(pd.read_csv(directory / "test" / f"{sample[ID].iloc[0]}.csv"))
    acoustic, ttf = train["acoustic_data"].to_numpy(), train["time_to_failure"].to_numpy()
    starts = range(0, len(acoustic) - length + 1, length // 2)
    x_train = pd.DataFrame([features(acoustic[s : s + length]) for s in starts])
    y_train = [ttf[s + length - 1] for s in starts]
    model = GradientBoostingRegressor(
        loss="absolute_error", n_estimators=150, max_depth=3, random_state=0
    ).fit(x_train, y_train)
    x_test = pd.DataFrame(
        [
            features(pd.read_csv(directory / "test" / f"{s}.csv")["acoustic_data"].to_numpy())
            for s in sample[ID]
        ]
    )
    return pd.DataFrame({ID: sample[ID], TARGET: model.predict(x_test)})
