# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Final project: LANL Earthquake Prediction, a feature baseline
#
# `train.csv` is one long acoustic record from a laboratory fault (`acoustic_data`)
# with the time left before the next lab quake (`time_to_failure`). Each test file
# `test/seg_*.csv` is a short segment of the signal; predict the time to failure at
# its last sample. Scored by mean absolute error.
#
# The classic first step: cut the training record into segments as long as the test
# segments, summarise each with statistics (spread, quantiles, spike counts) that grow
# as failure nears, and fit gradient boosting. Deep models on the raw signal or on
# these features are where the final project goes next.

# %%
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import mean_absolute_error

WEEK = "05-lanl-final"
ON_KAGGLE = Path("/kaggle/input").is_dir()


def find_data() -> Path:
    """COHORT_DATA_DIR, else the Kaggle input folder, else data/<week>/ in the cohort."""
    if os.environ.get("COHORT_DATA_DIR"):
        return Path(os.environ["COHORT_DATA_DIR"])
    if ON_KAGGLE:
        for found in sorted(Path("/kaggle/input").rglob("sample_submission.csv")):
            return found.parent
    for base in [Path.cwd(), *Path.cwd().parents]:
        if (base / "data" / WEEK).is_dir():
            return base / "data" / WEEK
    raise FileNotFoundError(
        f"No data for {WEEK}: run `cohort prepare {WEEK}` or set COHORT_DATA_DIR."
    )


DATA = find_data()

# %%
# The real train.csv has 629 million rows: the narrow dtypes keep it to about 6 GB.
train = pd.read_csv(
    DATA / "train.csv", dtype={"acoustic_data": np.int16, "time_to_failure": np.float64}
)
sample = pd.read_csv(DATA / "sample_submission.csv")
length = len(pd.read_csv(DATA / "test" / f"{sample['seg_id'].iloc[0]}.csv"))
print(f"{len(train):,} training samples; test segments of {length:,} samples")


# %%
def features(signal: np.ndarray) -> dict[str, float]:
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


acoustic, ttf = train["acoustic_data"].to_numpy(), train["time_to_failure"].to_numpy()
starts = np.arange(0, len(acoustic) - length + 1, length)
x = pd.DataFrame([features(acoustic[s : s + length]) for s in starts])
y = ttf[starts + length - 1]
print(x.shape[0], "training segments")

# %% [markdown]
# ## Validate on the last fifth of the record (the future), then refit on all of it

# %%
split = int(len(x) * 0.8)
model = GradientBoostingRegressor(
    loss="absolute_error", n_estimators=200, max_depth=3, random_state=0
)
model.fit(x[:split], y[:split])
print(
    "validation MAE",
    round(mean_absolute_error(y[split:], model.predict(x[split:])), 3),
    "| predicting the median:",
    round(mean_absolute_error(y[split:], np.full(len(y) - split, np.median(y[:split]))), 3),
)
model.fit(x, y)

# %%
x_test = pd.DataFrame(
    [
        features(pd.read_csv(DATA / "test" / f"{s}.csv")["acoustic_data"].to_numpy())
        for s in sample["seg_id"]
    ]
)
submission = pd.DataFrame({"seg_id": sample["seg_id"], "time_to_failure": model.predict(x_test)})
submission.to_csv("submission.csv", index=False)
submission.head()
