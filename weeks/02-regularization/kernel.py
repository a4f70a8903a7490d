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
# # Week 2: overfitting, regularization and imbalance
#
# A small network on the UCI Breast Cancer Wisconsin (Diagnostic) data: predict whether
# a tumour is malignant (`M`) or benign (`B`) from 30 measurements of its cell nuclei.
# With 30 features and a few hundred patients, a wide network memorizes the training
# patients: its training loss keeps falling while its validation loss turns back up.
# That turn is overfitting, and the gap between the two curves is its size.
#
# We train the same network six ways, each over several seeds (one seed can flatter
# any method), and plot their validation curves:
#
# | method | what it does |
# |---|---|
# | none | no regularization at all; the weights of the last epoch |
# | L2 penalty | adds `l2 * sum(w**2)` to the loss: every weight shrinks a little each step |
# | L1 penalty | adds `l1 * sum(abs(w))`: pushes weights to exactly zero (feature selection) |
# | dropout | zeroes a random 30% of the hidden units at each training step |
# | early stopping | stops when the validation loss has not improved for 20 epochs and keeps the best weights |
# | augmentation | adds fresh Gaussian noise to the (scaled) inputs at each step, so no patient is seen twice the same |
#
# Then the imbalance: about 37% of the patients are malignant. Accuracy would hide
# the minority's errors, so the metric is macro F1 and we read a confusion matrix;
# class weights (or resampling) make the rarer class count as much as the common one.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix, f1_score
from sklearn.model_selection import train_test_split
from torch import nn

# --- cohort: where the data is (the same block in every week's starter) ---
WEEK = "02-regularization"
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
SEED = 0  # the validation split and the first training seed
SEEDS = 3  # how many seeds each method is trained with
EPOCHS = 300

# %%
train = pd.read_csv(DATA / "train.csv")
test = pd.read_csv(DATA / "test.csv")
features = [c for c in test.columns if c != "id"]
y_all = (train["diagnosis"].astype(str) == "M").astype(np.float32).to_numpy()
x_tr, x_val, y_tr, y_val = train_test_split(
    train[features].to_numpy(np.float32), y_all, test_size=0.25, stratify=y_all, random_state=SEED
)
mean, std = x_tr.mean(axis=0), x_tr.std(axis=0) + 1e-6


def tensor(x: np.ndarray) -> torch.Tensor:
    return torch.tensor((x - mean) / std, dtype=torch.float32)


xt, yt, xv, yv = tensor(x_tr), torch.tensor(y_tr), tensor(x_val), torch.tensor(y_val)
print(f"{len(x_tr)} training, {len(x_val)} validation patients; {y_all.mean():.0%} malignant")


# %% [markdown]
# ## One network, one training loop, every remedy a switch
#
# Two hidden layers of `width` units; `width=0` leaves no hidden layer at all: one
# weighted sum of the 30 features, squashed by a sigmoid in the loss. That is the
# linear model, logistic regression, trained by the same loop.


# %%
def make_model(
    dropout: float, width: int = 128, activation: type[nn.Module] = nn.ReLU
) -> nn.Module:
    if width == 0:
        return nn.Linear(len(features), 1)
    return nn.Sequential(
        nn.Linear(len(features), width),
        activation(),
        nn.Dropout(dropout),
        nn.Linear(width, width),
        activation(),
        nn.Dropout(dropout),
        nn.Linear(width, 1),
    )


def train_model(
    seed: int,
    dropout: float = 0.0,
    l1: float = 0.0,
    l2: float = 0.0,
    patience: int | None = None,
    noise: float = 0.0,
    pos_weight: float = 1.0,
    epochs: int = EPOCHS,
    width: int = 128,
    activation: type[nn.Module] = nn.ReLU,
):
    """Full-batch Adam; the penalties are added to the loss by hand, so L2 is truly L2."""
    torch.manual_seed(seed)
    model = make_model(dropout, width, activation)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)  # no weight_decay: see l2
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight))
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    best, best_state, waited, history = float("inf"), None, 0, []
    for _epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        inputs = xt + noise * torch.randn_like(xt) if noise else xt
        loss = loss_fn(model(inputs).squeeze(1), yt)
        penalty = l1 * sum(w.abs().sum() for w in weights) + l2 * sum((w**2).sum() for w in weights)
        (loss + penalty).backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            val = loss_fn(model(xv).squeeze(1), yv).item()
        history.append((loss.item(), val))
        if patience is not None:  # early stopping: keep the best weights, stop when stuck
            if val < best - 1e-4:
                best, waited = val, 0
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
                if waited >= patience:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    return model, history


def predict(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return (torch.sigmoid(model(x).squeeze(1)) > 0.5).numpy()


# %% [markdown]
# ### The same network in Keras
#
# PyTorch (here) spells out the training loop: we compute the loss, add the penalties,
# call `backward()` and step the optimizer ourselves, so any remedy is a line in the
# loop. Keras, the high-level API of the seeds' DataCamp courses, follows
# specify-compile-fit: it owns the loop, and remedies are arguments and callbacks.
# The network above, and its L2 penalty and early stopping, would read (not run here:
# the track's environment has PyTorch and fastai, not TensorFlow):
#
# ```python
# from tensorflow import keras
# l2 = keras.regularizers.l2(1e-3)
# model = keras.Sequential([
#     keras.layers.Dense(128, activation="relu", kernel_regularizer=l2),
#     keras.layers.Dropout(0.3),
#     keras.layers.Dense(128, activation="relu", kernel_regularizer=l2),
#     keras.layers.Dropout(0.3),
#     keras.layers.Dense(1, activation="sigmoid"),
# ])
# model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
# stop = keras.callbacks.EarlyStopping(patience=20, restore_best_weights=True)
# model.fit(x_tr, y_tr, validation_data=(x_val, y_val), epochs=300,
#           batch_size=len(x_tr), callbacks=[stop])
# ```
#
# Keras is quicker to write for a standard recipe; PyTorch is easier to bend (a
# penalty on some layers only, a loss of your own) and to debug, since the loop is
# plain Python. The week's beyond-the-minimum invites you to write it in Keras.
#
# ## Activation functions
#
# Between the layers sits a non-linear activation; without one, two layers collapse
# into a single linear map. The sigmoid squashes to (0, 1) and tanh to (-1, 1): both
# flatten out for large inputs, where their gradient nearly vanishes, so the layers
# before them learn slowly. ReLU (`max(0, x)`) keeps a gradient of 1 for every
# positive input, which is why it is the default in deep networks.

# %%
grid = torch.linspace(-4, 4, 200, requires_grad=True)
fig, axes = plt.subplots(1, 3, figsize=(15, 3.5))
for activation in (nn.Sigmoid, nn.Tanh, nn.ReLU):
    name = activation.__name__
    out = activation()(grid)
    (slope,) = torch.autograd.grad(out.sum(), grid)
    axes[0].plot(grid.detach(), out.detach(), label=name)
    axes[1].plot(grid.detach(), slope, label=name)
    _, history = train_model(SEED, activation=activation, epochs=100)
    axes[2].plot([train_loss for train_loss, _ in history], label=name)
    print(f"{name:8s} training loss after 100 epochs {history[-1][0]:.3f}")
axes[0].set_title("activation(x)")
axes[1].set_title("its gradient")
axes[2].set(title="training loss, same network", xlabel="epoch")
axes[2].legend()
plt.show()

# %% [markdown]
# ## Six ways to train it, each over several seeds

# %%
METHODS = {
    "none": {},
    "L2 penalty": {"l2": 1e-3},
    "L1 penalty": {"l1": 1e-4},
    "dropout": {"dropout": 0.3},
    "early stopping": {"patience": 20},
    "augmentation": {"noise": 0.3},
}
runs = {
    name: [train_model(SEED + k, **settings) for k in range(SEEDS)]
    for name, settings in METHODS.items()
}
fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
for name, trained in runs.items():
    for k, (_, history) in enumerate(trained):
        curve = np.array(history)
        label = name if k == 0 else None
        line = axes[1].plot(curve[:, 1], alpha=0.7, label=label)[0]
        axes[0].plot(curve[:, 0], alpha=0.7, color=line.get_color(), label=label)
axes[0].set_title("training loss")
axes[1].set_title("validation loss")
for ax in axes:
    ax.set_xlabel("epoch")
    ax.set_ylim(0, 0.5)
axes[1].legend()
plt.show()
rows = []
for name, trained in runs.items():
    f1s = [f1_score(y_val, predict(m, xv), average="macro") for m, _ in trained]
    finals = np.array([h[-1] for _, h in trained])
    rows.append(
        {
            "method": name,
            "val macro F1": f"{np.mean(f1s):.3f} +- {np.std(f1s, ddof=1):.3f}",
            "final train loss": round(finals[:, 0].mean(), 3),
            "final val loss": round(finals[:, 1].mean(), 3),
            "epochs": int(np.mean([len(h) for _, h in trained])),
        }
    )
pd.DataFrame(rows).set_index("method")

# %% [markdown]
# Read the table with the curves: without regularization the training loss heads to
# zero while the validation loss climbs (overfitting); each remedy narrows that gap.
# On about 100 validation patients one misclassified patient moves macro F1 by about
# 0.01, so differences smaller than the +- are not evidence.
#
# ## Bias and variance: why regularization works
#
# A model's validation error has two parts besides the noise in the labels. **Bias**:
# the model is too simple (or too briefly trained) to follow the pattern, so it is
# wrong on training and validation patients alike: both losses high, close together.
# That is underfitting. **Variance**: the model is flexible enough to fit the
# particular training patients, their noise included: training loss near zero,
# validation loss well above it, a gap that grows with capacity. That is overfitting.
# Below, capacity is the knob: no hidden layer (the linear model), then 8, 128 and
# 512 units per hidden layer, none regularized, over the same seeds.

# %%
sweep = {0: None, 8: None, 128: runs["none"], 512: None}  # width 128 is "none" above
finals = {}
for width, trained in sweep.items():
    trained = trained or [train_model(SEED + k, width=width) for k in range(SEEDS)]
    finals[width] = np.array([history[-1] for _, history in trained])
    train_loss, val_loss = finals[width].mean(axis=0)
    print(f"width {width:3d}: training loss {train_loss:.3f}, validation loss {val_loss:.3f}")
widths = list(finals)
place = np.arange(len(widths))
for column, label in ((0, "training loss"), (1, "validation loss")):
    means = [finals[w][:, column].mean() for w in widths]
    spread = [finals[w][:, column].std(ddof=1) for w in widths]
    plt.errorbar(place, means, yerr=spread, marker="o", capsize=3, label=label)
plt.xticks(place, ["0 (linear)", *map(str, widths[1:])])
plt.xlabel("hidden units per layer (capacity)")
plt.ylabel(f"loss after {EPOCHS} epochs ({SEEDS} seeds, mean +- sd)")
plt.title("Underfitting (bias) on the left, overfitting (variance) on the right")
plt.legend()
plt.show()

# %% [markdown]
# Read it from left to right. The linear model's two losses are high and close: bias.
# As capacity grows the training loss falls towards zero, but the validation loss
# stops following it and climbs back: the gap is variance, what the network learned
# about these particular patients rather than about tumours. The best validation loss
# lies in between. Regularization moves a wide network along this trade-off without
# shrinking it: a penalty or dropout buys a large cut in variance for a little bias
# (its training loss stays above zero, its validation loss falls), early stopping
# halts before the variance grows, and augmentation makes the training patients
# harder to memorize.
#
# ## The imbalance: class weights, F1 and the confusion matrix
#
# `pos_weight` makes each malignant patient count `n_benign / n_malignant` times in
# the loss, as if the classes were balanced (oversampling the minority does the same
# by repeating its rows; undersampling drops majority rows and loses information).

# %%
balance = float((1 - y_tr).sum() / y_tr.sum())
regularized = {"dropout": 0.3, "l2": 1e-3, "patience": 20}
plain_model, _ = train_model(SEED, **regularized)
weighted_model, _ = train_model(SEED, pos_weight=balance, **regularized)
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, (name, model) in zip(
    axes,
    [("unweighted", plain_model), (f"class weight {balance:.2f}", weighted_model)],
    strict=True,
):
    predicted = predict(model, xv)
    f1 = f1_score(y_val, predicted, average="macro")
    ConfusionMatrixDisplay(confusion_matrix(y_val, predicted), display_labels=["B", "M"]).plot(
        ax=ax, colorbar=False
    )
    ax.set_title(f"{name}: macro F1 {f1:.3f}")
plt.show()

# %% [markdown]
# ## Predict the test patients and write the submission
# The submission uses the regularized, class-weighted network.

# %%
labels = np.where(predict(weighted_model, tensor(test[features].to_numpy(np.float32))), "M", "B")
submission = pd.DataFrame({"id": test["id"], "diagnosis": labels})
submission.to_csv("submission.csv", index=False)
submission.head()
