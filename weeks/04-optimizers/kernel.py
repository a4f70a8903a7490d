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
# # Week 4: optimizers, hyperparameter search and transfer learning
#
# The data are laid out as Kaggle's digit-recognizer: `train.csv` with `label` and
# `pixel0` ... `pixel783` (28x28 images), `test.csv` with the pixels only, and a
# submission `ImageId,Label`. In PyTorch, on the GPU when there is one:
#
# 1. **Optimizers.** Mini-batch SGD (with momentum), RMSprop and Adam on the same small
#    convolutional network. A fair comparison gives each its *own* best learning rate
#    (SGD wants a far larger one than Adam) and several seeds, then compares accuracy
#    and time.
# 2. **Transfer learning.** A network trained on one task starts the next one with
#    useful features. On Kaggle with the internet on, that is an ImageNet-pretrained
#    resnet18 (the kernel's internet setting is on for its weights); offline, a
#    network trained on the digits 0-4 is fine-tuned on 5-9 from only a few labelled
#    images, against the same network trained from scratch.
# 3. **A stronger network** (batch norm, one-cycle schedule) and a **hyperparameter
#    search** for it with Optuna (learning rate, width, dropout); the submission trains
#    the best setting the search found.

# %%
import os
import socket
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import optuna
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from torch import nn

# --- cohort: where the data is (the same block in every week's starter) ---
WEEK = "04-optimizers"
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
SEED = 0
SEEDS = 3  # seeds per optimizer in the comparison
EPOCHS = 3

# %%
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("training on", device)
train = pd.read_csv(DATA / "train.csv")
test = pd.read_csv(DATA / "test.csv")
pixels = [f"pixel{i}" for i in range(784)]


def images(frame: pd.DataFrame) -> torch.Tensor:
    return torch.tensor(frame[pixels].to_numpy(np.float32) / 255.0).reshape(-1, 1, 28, 28)


order = np.random.default_rng(SEED).permutation(len(train))
n_val = len(train) // 5
labels = torch.tensor(train["label"].to_numpy())
x_all = images(train).to(device)
x_val, y_val = x_all[order[:n_val]], labels[order[:n_val]].to(device)
x_tr, y_tr = x_all[order[n_val:]], labels[order[n_val:]].to(device)
print(f"{len(x_tr)} training and {len(x_val)} validation images")


# %%
def make_model(width: int, classes: int = 10) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * width * 49, classes),
    ).to(device)


OPTIMIZERS = {
    "sgd": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
    "rmsprop": lambda params, lr: torch.optim.RMSprop(params, lr=lr),
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
}


def fit(model, optimizer, epochs, x, y, xv=x_val, yv=y_val, seed=SEED):
    """Mini-batches of 64; the validation accuracy after each epoch."""
    generator = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    curve = []
    for _ in range(epochs):
        model.train()
        for batch in torch.randperm(len(x), generator=generator).split(64):
            optimizer.zero_grad()
            loss_fn(model(x[batch]), y[batch]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            curve.append((model(xv).argmax(1) == yv).float().mean().item())
    return curve


def run(name: str, lr: float, width: int, epochs: int, seed: int = SEED):
    torch.manual_seed(seed)
    model = make_model(width)
    curve = fit(model, OPTIMIZERS[name](model.parameters(), lr), epochs, x_tr, y_tr, seed=seed)
    return model, curve


# %% [markdown]
# ## Each optimizer at its own learning rate
# First a small grid of learning rates per optimizer (one seed, short runs); then each
# optimizer at its best rate over several seeds. The learning rate is the step size:
# too small and training crawls, too large and the loss jumps around or diverges.

# %%
GRID = {"sgd": [0.01, 0.05, 0.2], "rmsprop": [3e-4, 1e-3, 3e-3], "adam": [3e-4, 1e-3, 3e-3]}
tuned = {}
for name, rates in GRID.items():
    scores = {lr: run(name, lr, width=8, epochs=2)[1][-1] for lr in rates}
    tuned[name] = max(scores, key=scores.get)
    print(f"{name:8s}", {lr: round(a, 3) for lr, a in scores.items()}, "-> lr", tuned[name])

curves, seconds = {}, {}
for name, lr in tuned.items():
    start = time.perf_counter()
    curves[name] = np.array([run(name, lr, 8, EPOCHS, SEED + k)[1] for k in range(SEEDS)])
    seconds[name] = (time.perf_counter() - start) / SEEDS
epochs = np.arange(1, EPOCHS + 1)
for name, curve in curves.items():
    plt.errorbar(
        epochs,
        curve.mean(0),
        yerr=curve.std(0, ddof=1),
        capsize=3,
        label=f"{name} lr={tuned[name]}",
    )
plt.xlabel("epoch")
plt.ylabel("validation accuracy")
plt.title(f"Optimizers at their tuned learning rates ({SEEDS} seeds, mean +- sd)")
plt.legend()
plt.show()
for name, curve in curves.items():
    print(
        f"{name:8s} final accuracy {curve[:, -1].mean():.3f} +- {curve[:, -1].std(ddof=1):.3f}"
        f"  {seconds[name]:.1f}s per run"
    )

# %% [markdown]
# ## Transfer learning
#
# Offline: train the network on the digits 0-4 (task A), then reuse its convolutional
# layers for the digits 5-9 (task B) with only 20 labelled images per digit: freeze
# them and train a new last layer, against the same network trained from scratch on
# those 100 images. On Kaggle with the internet on, the same idea at full scale: an
# ImageNet-pretrained resnet18 (torchvision) with a new 10-way head, fine-tuned.


# %%
def internet() -> bool:
    """True when the weights' server answers (Kaggle's internet setting is on)."""
    try:
        socket.create_connection(("download.pytorch.org", 443), timeout=3).close()
        return True
    except OSError:
        return False


if ON_KAGGLE and internet():
    from torchvision.models import ResNet18_Weights, resnet18

    net = resnet18(weights=ResNet18_Weights.DEFAULT)
    net.fc = nn.Linear(net.fc.in_features, 10)
    net = nn.Sequential(nn.Upsample(size=64), nn.Conv2d(1, 3, 1), net).to(device)
    acc = fit(net, torch.optim.Adam(net.parameters(), lr=1e-3), 2, x_tr, y_tr)
    print("ImageNet-pretrained resnet18, fine-tuned: validation accuracy by epoch", acc)
else:
    task_a = y_tr < 5
    torch.manual_seed(SEED)
    source = make_model(8, classes=5)
    fit(source, torch.optim.Adam(source.parameters(), lr=1e-3), 3, x_tr[task_a], y_tr[task_a])
    b_rows = torch.nonzero(y_tr >= 5).squeeze(1)
    few = torch.cat([b_rows[y_tr[b_rows] == d][:20] for d in range(5, 10)])
    xb, yb = x_tr[few], y_tr[few] - 5
    val_b = y_val >= 5
    xvb, yvb = x_val[val_b], y_val[val_b] - 5
    transfer = make_model(8, classes=5)
    transfer.load_state_dict(source.state_dict())
    for layer in list(transfer)[:-1]:
        layer.requires_grad_(False)  # keep the features learned on task A
    transfer[-1].reset_parameters()
    head_only = torch.optim.Adam(transfer[-1].parameters(), lr=3e-3)
    torch.manual_seed(SEED)
    scratch = make_model(8, classes=5)
    results = {
        "pretrained on 0-4, new head": fit(transfer, head_only, 30, xb, yb, xvb, yvb),
        "from scratch": fit(
            scratch, torch.optim.Adam(scratch.parameters(), lr=3e-3), 30, xb, yb, xvb, yvb
        ),
    }
    for name, acc in results.items():
        plt.plot(acc, label=f"{name} (final {acc[-1]:.3f})")
    plt.xlabel("epoch (100 images of the digits 5-9)")
    plt.ylabel("validation accuracy on 5-9")
    plt.title("Transfer learning from task A (0-4) to task B (5-9)")
    plt.legend()
    plt.show()

# %% [markdown]
# ## A stronger network for the submission
#
# The two-layer network above trails a plain linear model: logistic regression on the
# raw pixels (scikit-learn, on the same validation images) is the bar to clear.
# Three changes, none of them a bigger budget, make a CNN clear it:
#
# - **normalized inputs** (mean 0, sd 1 over the training pixels) and **batch
#   normalization** after each convolution, so every layer sees activations of one
#   scale and one learning rate suits all of them;
# - a **third convolution block** and global average pooling: more features, fewer
#   weights in the last layer, and **dropout** before it, regularization inside a CNN;
# - a **one-cycle schedule**: the learning rate warms up to its maximum, then anneals to
#   almost zero, so a large rate explores early and a small one settles late.

# %%
linear = LogisticRegression(max_iter=300).fit(x_tr.flatten(1).cpu().numpy(), y_tr.cpu().numpy())
linear_acc = linear.score(x_val.flatten(1).cpu().numpy(), y_val.cpu().numpy())
print(f"logistic regression on the pixels: validation accuracy {linear_acc:.3f}")

MEAN, STD = x_tr.mean().item(), x_tr.std().item()


def block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


def make_strong_model(width: int, dropout: float) -> nn.Module:
    return nn.Sequential(
        *block(1, width),
        nn.MaxPool2d(2),
        *block(width, 2 * width),
        nn.MaxPool2d(2),
        *block(2 * width, 4 * width),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(4 * width, 10),
    ).to(device)


def train_strong(max_lr: float, width: int, dropout: float, epochs: int, seed: int = SEED):
    """Adam on a one-cycle schedule; the network, its training losses and validation accuracies."""
    torch.manual_seed(seed)
    model = make_strong_model(width, dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=max_lr)
    batches = (len(x_tr) + 63) // 64
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr, total_steps=epochs * batches)
    generator = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    losses, accuracies = [], []
    for _ in range(epochs):
        model.train()
        total = 0.0
        for batch in torch.randperm(len(x_tr), generator=generator).split(64):
            optimizer.zero_grad()
            loss = loss_fn(model((x_tr[batch] - MEAN) / STD), y_tr[batch])
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
        losses.append(total / len(x_tr))
        model.eval()
        with torch.no_grad():
            accuracies.append(
                (model((x_val - MEAN) / STD).argmax(1) == y_val).float().mean().item()
            )
    return model, losses, accuracies


# %% [markdown]
# ## Hyperparameter search with Optuna
#
# Which maximum learning rate, width and dropout? Optuna's TPE sampler proposes
# settings from the results so far (its first trials are random, to explore); a fixed
# seed makes the search repeatable. Each trial trains the network for 3 epochs and
# reports its validation accuracy; the submission then trains the best setting in full.
# The seed curriculum names scikit-optimize, which has had no release since 2024;
# Optuna is maintained and does the same Bayesian search.

# %%
optuna.logging.set_verbosity(optuna.logging.WARNING)
FINAL_EPOCHS = 10


def objective(trial: optuna.Trial) -> float:
    max_lr = trial.suggest_float("max_lr", 1e-3, 5e-2, log=True)
    width = trial.suggest_categorical("width", [8, 16, 24])
    dropout = trial.suggest_float("dropout", 0.0, 0.5)
    return train_strong(max_lr, width, dropout, epochs=3)[2][-1]


study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=SEED))
study.optimize(objective, n_trials=20 if ON_KAGGLE else 6)
best = study.best_params
print("best 3-epoch validation accuracy", round(study.best_value, 3), "with", best)
optuna.visualization.matplotlib.plot_optimization_history(study)
plt.show()

# %% [markdown]
# ## The best setting, trained in full

# %%
strong, losses, accuracies = train_strong(
    best["max_lr"], best["width"], best["dropout"], FINAL_EPOCHS
)
print("validation accuracy by epoch", [round(a, 3) for a in accuracies])

figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
left.plot(range(1, FINAL_EPOCHS + 1), losses)
left.set(xlabel="epoch", ylabel="training loss", title="One-cycle training")
right.plot(range(1, FINAL_EPOCHS + 1), accuracies, label="CNN + batch norm")
right.axhline(linear_acc, color="grey", linestyle="--", label="logistic regression")
right.set(xlabel="epoch", ylabel="validation accuracy", title="Against the linear bar")
right.legend()
plt.show()

# %% [markdown]
# ## Predict the test images, write the submission

# %%
with torch.no_grad():
    labels = strong((images(test).to(device) - MEAN) / STD).argmax(1).cpu().numpy()
submission = pd.DataFrame({"ImageId": np.arange(1, len(test) + 1), "Label": labels})
submission.to_csv("submission.csv", index=False)
submission.head()
