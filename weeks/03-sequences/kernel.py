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
# # Week 3: sequences, forecasting tomorrow's temperature with recurrent networks
#
# `train.csv` is a daily temperature series (date, temperature). Each row of
# `test.csv` gives the values of the days before an unknown day (`lag_14` ... `lag_1`,
# oldest first: two weeks, or one for a series too short to give a cohort 200 test
# rows of two weeks) and asks for that day's temperature; the metric is the mean
# absolute error.
#
# A recurrent network reads a window one value at a time and carries a state from
# step to step, so the order of the values matters, as it does in a sequence. We
# train three kinds in PyTorch on the same windows and compare them:
#
# - a plain **RNN** (`nn.RNN`): one tanh layer; its gradients fade over long windows;
# - an **LSTM** (`nn.LSTM`): gates decide what to keep, forget and output, so it
#   remembers further back;
# - a **GRU** (`nn.GRU`): a lighter gated cell with two gates instead of three.
#
# Beyond the minimum: **stacked** layers (`num_layers=2`) and a **bidirectional**
# LSTM, which also reads each window backwards. (A bidirectional reader needs the
# whole window before it answers: fine here, where the window is given, but not for
# a forecast that must run as the data arrive.)

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from torch import nn

# --- cohort: where the data is (the same block in every week's starter) ---
WEEK = "03-sequences"
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
SEED = 0  # change it to see how much a ranking owes to luck
EPOCHS = 20

# %% [markdown]
# ## Windows
# We cut the training series into every window as long as the test rows' (14 days on
# the embedded data) and the day after it,
# scale the temperatures, and keep the last 15% of the windows to validate: a
# forecast is judged on the future, so validation must come after training in time.

# %%
torch.manual_seed(SEED)
series = pd.read_csv(DATA / "train.csv")["temperature"].to_numpy(np.float32)
test = pd.read_csv(DATA / "test.csv")
lag_columns = [c for c in test.columns if c.startswith("lag_")]
window = len(lag_columns)
mean, std = series.mean(), series.std()
scaled = (series - mean) / std
x = np.stack([scaled[i - window : i] for i in range(window, len(scaled))])
y = scaled[window:]
split = int(len(x) * 0.85)
xt, yt = torch.tensor(x[:split]), torch.tensor(y[:split])
xv, yv = torch.tensor(x[split:]), torch.tensor(y[split:])
print(
    f"{len(series)} training days, windows of {window}: {split} to train, {len(x) - split} to validate"
)
plt.figure(figsize=(10, 3))
plt.plot(series[-730:])
plt.title("The last two years of train.csv")
plt.ylabel("temperature")
plt.show()


# %% [markdown]
# ## One model class for every cell
# The recurrent layer reads the window; a linear layer turns its last output into
# the forecast. `cell` picks RNN, LSTM or GRU.


# %%
class Forecaster(nn.Module):
    def __init__(self, cell: str, hidden: int = 32, layers: int = 1, bidirectional: bool = False):
        super().__init__()
        kind = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[cell]
        self.rnn = kind(1, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), 1)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        states, _ = self.rnn(windows.unsqueeze(-1))
        return self.head(states[:, -1]).squeeze(-1)


def train(model: nn.Module, epochs: int = EPOCHS) -> tuple[nn.Module, list[float], list[float]]:
    """Adam on the mean absolute error; keep the weights of the best validation epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.L1Loss()  # the competition's metric
    best, best_state, train_curve, valid_curve = float("inf"), None, [], []
    for _epoch in range(epochs):
        model.train()
        total = 0.0
        for batch in torch.randperm(len(xt)).split(64):
            optimizer.zero_grad()
            loss = loss_fn(model(xt[batch]), yt[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        model.eval()
        with torch.no_grad():
            val = loss_fn(model(xv), yv).item() * std
        train_curve.append(total / len(xt) * std)
        valid_curve.append(val)
        if val < best:
            best, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return model, train_curve, valid_curve


# %% [markdown]
# ## RNN, LSTM and GRU on the same windows

# %%
results = {}
for name, settings in {
    "RNN": {"cell": "RNN"},
    "LSTM": {"cell": "LSTM"},
    "GRU": {"cell": "GRU"},
    "stacked GRU (2 layers)": {"cell": "GRU", "layers": 2},
    "bidirectional LSTM": {"cell": "LSTM", "bidirectional": True},
}.items():
    torch.manual_seed(SEED)
    results[name] = train(Forecaster(**settings))
naive = float(np.abs(x[split:, -1] - y[split:]).mean() * std)
fig, ax = plt.subplots(figsize=(8, 4))
for name, (_, _train_curve, valid_curve) in results.items():
    ax.plot(valid_curve, label=f"{name} (best {min(valid_curve):.3f})")
ax.axhline(naive, color="grey", ls=":", label=f"repeat yesterday ({naive:.3f})")
ax.set_xlabel("epoch")
ax.set_ylabel("validation MAE (degrees)")
ax.set_title("Validation learning curves")
ax.legend()
plt.show()
for name, (_, train_curve, valid_curve) in results.items():
    print(
        f"{name:24s} best validation MAE {min(valid_curve):.3f}  last train MAE {train_curve[-1]:.3f}"
    )

# %% [markdown]
# One seed ranks these models only roughly: their gaps are often smaller than what a
# different seed moves them by. Change `SEED` and rerun before you conclude.
#
# ## What `nn.RNN` computes, by hand
#
# At each step the plain RNN mixes the new value `x_t` with its state `h_{t-1}`:
# `h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`, starting from `h_0 = 0`; the
# forecast is the linear head applied to the last state. Unrolled over the window in a
# plain Python loop, with the trained RNN's own weights, it gives the same forecasts.
# The LSTM and GRU cells add gates to this recurrence (PyTorch's `nn.LSTM` and `nn.GRU`
# documentation give their equations: a good exercise to write them out the same way).

# %%
rnn_model = results["RNN"][0]
rnn = rnn_model.rnn
with torch.no_grad():
    state = torch.zeros(len(xv), rnn.hidden_size)
    for step in range(window):
        state = torch.tanh(
            xv[:, step : step + 1] @ rnn.weight_ih_l0.T
            + rnn.bias_ih_l0
            + state @ rnn.weight_hh_l0.T
            + rnn.bias_hh_l0
        )
    by_hand = rnn_model.head(state).squeeze(-1)
    gap = float((by_hand - rnn_model(xv)).abs().max())
print(f"by hand against nn.RNN on {len(xv)} validation windows: largest difference {gap:.1e}")

# %% [markdown]
# ## Forecast the test days with the best model and write the submission

# %%
best_name = min(results, key=lambda n: min(results[n][2]))
model = results[best_name][0]
model.eval()
with torch.no_grad():
    fitted = model(xv).numpy() * std + mean
plt.figure(figsize=(10, 3))
plt.plot(yv.numpy()[:120] * std + mean, label="actual")
plt.plot(fitted[:120], label=f"{best_name} forecast")
plt.title("Validation days: forecast against actual")
plt.legend()
plt.show()
windows = (test[lag_columns].to_numpy(np.float32) - mean) / std
with torch.no_grad():
    forecast = model(torch.tensor(windows)).numpy() * std + mean
print("submitting", best_name)
submission = pd.DataFrame({"id": test["id"], "temperature": forecast})
submission.to_csv("submission.csv", index=False)
submission.head()
