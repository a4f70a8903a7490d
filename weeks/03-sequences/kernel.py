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
# # Week 3: sequences, forecasting the next temperature with an RNN
#
# `train.csv` is a temperature series (date, temperature). Each row of `test.csv` gives
# the values before a date (`lag_W` ... `lag_1`, oldest first) and asks for that
# date's temperature. We cut the training series into windows of the same length and
# train a GRU (a gated recurrent network) in PyTorch to read a window and predict the
# next value. Swapping `nn.GRU` for `nn.LSTM`, or for a 1-D convolution, is one line.

# %%
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

# --- cohort: where the data is (one block; keep it as it is, the Kaggle loop tests rely on it) ---
WEEK = "03-sequences"
ON_KAGGLE = Path("/kaggle/input").is_dir()
MARKER = "cohort-week.json"  # written by `cohort bundle`, at the top of the cohort's data dataset


def find_data() -> Path:
    """The folder holding this week's cohort-week.json marker; never "the first sample_submission.csv".

    On Kaggle the cohort's data dataset is mounted under /kaggle/input (KAGGLE_INPUT_ROOT
    replaces that root; the cohort's Kaggle simulator sets it). A competition attached
    beside it, with its own train.csv and sample_submission.csv, is ignored. Outside
    Kaggle: COHORT_DATA_DIR if set, else data/<week>/ of the cohort folder this runs in.
    """
    import json  # the os module comes from the import cell above

    root = Path(os.environ.get("KAGGLE_INPUT_ROOT", "/kaggle/input"))
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
torch.manual_seed(0)

# %%
series = pd.read_csv(DATA / "train.csv")["temperature"].to_numpy(np.float32)
test = pd.read_csv(DATA / "test.csv")
lag_columns = [c for c in test.columns if c.startswith("lag_")]
window = len(lag_columns)
mean, std = series.mean(), series.std()
scaled = (series - mean) / std
x = np.stack([scaled[i - window : i] for i in range(window, len(scaled))])
y = scaled[window:]
split = int(len(x) * 0.85)  # the last windows validate: a forecast is judged on the future
print(
    f"{len(series)} training values, windows of {window}; {split} to train, {len(x) - split} to validate"
)


# %% [markdown]
# ## A GRU reads the window; a linear layer turns its last state into the forecast


# %%
class Forecaster(nn.Module):
    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.rnn = nn.GRU(input_size=1, hidden_size=hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        states, _ = self.rnn(windows.unsqueeze(-1))
        return self.head(states[:, -1]).squeeze(-1)


model = Forecaster()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
loss_fn = nn.L1Loss()  # the competition's metric is the mean absolute error
xt, yt = torch.tensor(x[:split]), torch.tensor(y[:split])
xv, yv = torch.tensor(x[split:]), torch.tensor(y[split:])
best, best_state = float("inf"), None
for epoch in range(150):
    model.train()
    for batch in torch.randperm(len(xt)).split(32):
        optimizer.zero_grad()
        loss_fn(model(xt[batch]), yt[batch]).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        val = loss_fn(model(xv), yv).item() * std
    if val < best:
        best, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
    if epoch % 30 == 0:
        print(f"epoch {epoch:3d}  validation MAE {val:.3f} degrees")
model.load_state_dict(best_state)
naive = np.abs(x[split:, -1] - y[split:]).mean() * std
print(f"best validation MAE {best:.3f}; repeating the last value gives {naive:.3f}")

# %% [markdown]
# ## Forecast the test dates and write the submission

# %%
windows = (test[lag_columns].to_numpy(np.float32) - mean) / std
with torch.no_grad():
    forecast = model(torch.tensor(windows)).numpy() * std + mean
submission = pd.DataFrame({"id": test["id"], "temperature": forecast})
submission.to_csv("submission.csv", index=False)
submission.head()
