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

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import mean_absolute_error

# --- cohort: where the data is (the same block in every week's starter) ---
WEEK = "05-lanl-final"
ON_KAGGLE = Path("/kaggle/input").is_dir()
MARKER = "cohort-week.json"  # written by `cohort bundle`, at the top of the cohort's data dataset


def find_data() -> Path:
    """The folder holding this week's cohort-week.json marker; never "the first sample_submission.csv".

    Kaggle runs a notebook in /kaggle/working and mounts its attached data beside it, in
    /kaggle/input; the cohort's data dataset is the one with this week's marker (a
    competition attached beside it, with its own train.csv and sample_submission.csv, is
    ignored). Elsewhere: COHORT_DATA_DIR if set, else data/<week>/ of the cohort folder
    this runs in.
    """
    import json  # the os module comes from the import cell above

    root = Path.cwd().parent / "input"  # /kaggle/input on Kaggle
    for depth in range(1, 5):  # /kaggle/input/<slug>/ today; deeper layouts too
        for marker in sorted(root.glob("*/" * depth + MARKER)):
            if json.loads(marker.read_text(encoding="utf-8")).get("week") == WEEK:
                return marker.parent
    if os.environ.get("COHORT_DATA_DIR"):
        return Path(os.environ["COHORT_DATA_DIR"])
    for base in [Path.cwd(), *Path.cwd().parents]:
        if (base / "data" / WEEK / "sample_submission.csv").is_file():
            return base / "data" / WEEK
    raise FileNotFoundError(
        f"No data for {WEEK}: attach the cohort's dataset (`cohort kaggle publish-data {WEEK}`) "
        f"on Kaggle, or run `cohort prepare {WEEK}` here."
    )


# --- end of the cohort block ---


DATA = find_data()

# %% tags=["parameters"]
SEED = 0  # the gradient boosting's random state

# %%
sample = pd.read_csv(DATA / "sample_submission.csv")
length = len(pd.read_csv(DATA / "test" / f"{sample['seg_id'].iloc[0]}.csv"))
print(f"{len(sample)} test segments of {length:,} samples")


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


# The real train.csv has 629 million rows (9 GB): read it in chunks of whole segments and keep
# each segment's features and target; only 100 segments of the signal are in memory at a time.
rows, targets, carry = [], [], None
chunks = pd.read_csv(
    DATA / "train.csv",
    dtype={"acoustic_data": np.int16, "time_to_failure": np.float64},
    chunksize=100 * length,
)
for chunk in chunks:
    if carry is not None:
        chunk = pd.concat([carry, chunk])
    whole = len(chunk) // length * length
    acoustic, ttf = chunk["acoustic_data"].to_numpy(), chunk["time_to_failure"].to_numpy()
    for s in range(0, whole, length):
        rows.append(features(acoustic[s : s + length]))
        targets.append(ttf[s + length - 1])
    carry = chunk.iloc[whole:]
x, y = pd.DataFrame(rows), np.asarray(targets)
print(x.shape[0], "training segments")

# %% [markdown]
# ## Look before modelling
# The sawtooth of `time_to_failure`, one point per segment, and the segments' spread:
# it rises before most quakes, but by how much, and how early, differs from cycle to
# cycle, and a few cycles fail with hardly any warning.

# %%
fig, ax = plt.subplots(figsize=(12, 4))
ax.plot(y, color="tab:blue", label="time to failure (s)")
ax.set_xlabel("training segment")
ax.set_ylabel("seconds")
spread = ax.twinx()
spread.plot(x["std"].to_numpy(), color="tab:red", alpha=0.6, label="segment std")
spread.set_ylabel("acoustic std")
ax.set_title("Time to failure and the acoustic spread, segment by segment")
plt.show()

# %% [markdown]
# ## Validate on the last fifth of the record (the future), then refit on all of it

# %%
split = int(len(x) * 0.8)
model = GradientBoostingRegressor(
    loss="absolute_error", n_estimators=200, max_depth=3, random_state=SEED
)
model.fit(x[:split], y[:split])
predicted = model.predict(x[split:])
print(
    "validation MAE",
    round(mean_absolute_error(y[split:], predicted), 3),
    "| predicting the median:",
    round(mean_absolute_error(y[split:], np.full(len(y) - split, np.median(y[:split]))), 3),
)
plt.figure(figsize=(12, 3))
plt.plot(y[split:], label="actual")
plt.plot(predicted, label="gradient boosting")
plt.title("Validation segments: the model is sure near a quake, vague far from one")
plt.legend()
plt.show()
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
