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
# # Week 4: optimizers and hyperparameter search on handwritten digits
#
# The data are laid out as Kaggle's digit-recognizer: `train.csv` with `label` and
# `pixel0` ... `pixel783` (28x28 images), `test.csv` with the pixels only, and a
# submission `ImageId,Label`. We train one small convolutional network in PyTorch with
# three optimizers (SGD with momentum, RMSprop, Adam) and compare their validation
# curves, then let Optuna search the learning rate, width and optimizer, and train the
# best setting for the submission.

# %%
import os
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import torch
from torch import nn

# --- cohort: where the data is (one block; keep it as it is, the Kaggle loop tests rely on it) ---
WEEK = "04-optimizers"
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
pixels = [f"pixel{i}" for i in range(784)]


def images(frame: pd.DataFrame) -> torch.Tensor:
    return torch.tensor(frame[pixels].to_numpy(np.float32) / 255.0).reshape(-1, 1, 28, 28)


order = np.random.default_rng(0).permutation(len(train))
n_val = len(train) // 5
x_val, y_val = (
    images(train.iloc[order[:n_val]]),
    torch.tensor(train["label"].to_numpy()[order[:n_val]]),
)
x_tr, y_tr = (
    images(train.iloc[order[n_val:]]),
    torch.tensor(train["label"].to_numpy()[order[n_val:]]),
)
print(f"{len(x_tr)} training and {len(x_val)} validation images")


# %%
def make_model(width: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * width * 49, 10),
    )


OPTIMIZERS = {
    "sgd": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
    "rmsprop": lambda params, lr: torch.optim.RMSprop(params, lr=lr),
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
}


def fit(optimizer_name: str, lr: float, width: int, epochs: int, x=x_tr, y=y_tr):
    """Train and return the model and the validation accuracy after each epoch."""
    torch.manual_seed(0)
    model = make_model(width)
    optimizer = OPTIMIZERS[optimizer_name](model.parameters(), lr)
    loss_fn = nn.CrossEntropyLoss()
    curve = []
    for _ in range(epochs):
        model.train()
        for batch in torch.randperm(len(x)).split(64):
            optimizer.zero_grad()
            loss_fn(model(x[batch]), y[batch]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            curve.append((model(x_val).argmax(1) == y_val).float().mean().item())
    return model, curve


# %% [markdown]
# ## Three optimizers, same network, same budget

# %%
for name, lr in [("sgd", 0.05), ("rmsprop", 1e-3), ("adam", 1e-3)]:
    start = time.perf_counter()
    _, curve = fit(name, lr, width=8, epochs=3)
    print(
        f"{name:8s} lr={lr:<6} accuracy by epoch {[round(a, 3) for a in curve]}  "
        f"({time.perf_counter() - start:.1f}s)"
    )

# %% [markdown]
# ## Hyperparameter search with Optuna
# Optuna's TPE sampler proposes settings from the results so far; a fixed seed makes
# the search repeatable. The seed curriculum names scikit-optimize, which has had no
# release since 2024; Optuna is maintained and does the same Bayesian search.

# %%
optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(trial: optuna.Trial) -> float:
    name = trial.suggest_categorical("optimizer", list(OPTIMIZERS))
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    width = trial.suggest_categorical("width", [4, 8, 16])
    _, curve = fit(name, lr, width, epochs=2)
    return curve[-1]


study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
study.optimize(objective, n_trials=20 if ON_KAGGLE else 6)
print("best validation accuracy", round(study.best_value, 3), "with", study.best_params)

# %% [markdown]
# ## Train the best setting longer, predict the test images, write the submission

# %%
best = study.best_params
model, curve = fit(best["optimizer"], best["lr"], best["width"], epochs=6)
print("validation accuracy by epoch", [round(a, 3) for a in curve])
with torch.no_grad():
    labels = model(images(test)).argmax(1).numpy()
submission = pd.DataFrame({"ImageId": np.arange(1, len(test) + 1), "Label": labels})
submission.to_csv("submission.csv", index=False)
submission.head()
