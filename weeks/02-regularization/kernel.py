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
# # Week 2: overfitting and regularization
#
# A small network on the UCI Breast Cancer Wisconsin (Diagnostic) data: predict whether
# a tumour is malignant (`M`) or benign (`B`) from 30 measurements of its cell nuclei.
# With 30 features and a few hundred patients, a wide network overfits quickly. We use
# three remedies: a weight penalty (`weight_decay`), dropout, and early stopping on a
# validation split. The metric is macro F1, because the classes are imbalanced (about
# 37% malignant); a confusion matrix shows where the errors fall.

# %%
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import train_test_split
from torch import nn

# --- cohort: where the data is (one block; keep it as it is, the Kaggle loop tests rely on it) ---
WEEK = "02-regularization"
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
train = pd.read_csv(DATA / "train.csv")
test = pd.read_csv(DATA / "test.csv")
features = [c for c in test.columns if c != "id"]
y_all = (train["diagnosis"].astype(str) == "M").astype(np.float32).to_numpy()
x_tr, x_val, y_tr, y_val = train_test_split(
    train[features].to_numpy(np.float32), y_all, test_size=0.25, stratify=y_all, random_state=0
)
mean, std = x_tr.mean(axis=0), x_tr.std(axis=0) + 1e-6


def tensor(x: np.ndarray) -> torch.Tensor:
    return torch.tensor((x - mean) / std, dtype=torch.float32)


print(f"{len(x_tr)} training, {len(x_val)} validation patients; {y_all.mean():.0%} malignant")

# %% [markdown]
# ## The model: dropout between the layers, a weight penalty in the optimizer


# %%
def make_model(dropout: float) -> nn.Module:
    return nn.Sequential(
        nn.Linear(len(features), 64),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(64, 64),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(64, 1),
    )


def train_model(dropout: float, weight_decay: float, patience: int, epochs: int = 300):
    """Full-batch training with early stopping: keep the weights of the best validation loss."""
    model = make_model(dropout)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=weight_decay)
    loss_fn = nn.BCEWithLogitsLoss()
    xt, yt, xv, yv = tensor(x_tr), torch.tensor(y_tr), tensor(x_val), torch.tensor(y_val)
    best, best_state, waited, history = float("inf"), None, 0, []
    for _epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        loss = loss_fn(model(xt).squeeze(1), yt)
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            val = loss_fn(model(xv).squeeze(1), yv).item()
        history.append((loss.item(), val))
        if val < best - 1e-4:
            best, best_state, waited = val, {k: v.clone() for k, v in model.state_dict().items()}, 0
        else:
            waited += 1
            if waited >= patience:  # early stopping
                break
    model.load_state_dict(best_state)
    return model, history


def predict(model: nn.Module, x: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return (torch.sigmoid(model(tensor(x)).squeeze(1)) > 0.5).numpy()


# %% [markdown]
# ## Compare: no regularization against dropout + weight decay + early stopping

# %%
plain, plain_history = train_model(dropout=0.0, weight_decay=0.0, patience=10_000)
regular, regular_history = train_model(dropout=0.3, weight_decay=1e-2, patience=20)
for name, model, history in [
    ("plain", plain, plain_history),
    ("regularized", regular, regular_history),
]:
    f1 = f1_score(y_val, predict(model, x_val), average="macro")
    print(
        f"{name:12s} epochs={len(history):3d}  final train loss={history[-1][0]:.3f}  "
        f"val loss={history[-1][1]:.3f}  val macro F1={f1:.3f}"
    )
print("confusion matrix (rows: true B, M):")
print(confusion_matrix(y_val, predict(regular, x_val)))

# %% [markdown]
# ## Predict the test patients and write the submission

# %%
labels = np.where(predict(regular, test[features].to_numpy(np.float32)), "M", "B")
submission = pd.DataFrame({"id": test["id"], "diagnosis": labels})
submission.to_csv("submission.csv", index=False)
submission.head()
