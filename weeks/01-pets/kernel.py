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
# # Week 1: image classification with fastai
#
# The starter kernel for the cohort's first competition. It trains a convolutional
# network with fastai's `vision_learner` and `fine_tune`, as in lesson 1 of
# course.fast.ai, and writes `submission.csv` (`id,label`) for the hidden test images.
#
# The labels are in the training file names (`Abyssinian_1.jpg` is an Abyssinian),
# so the regular expression `^(.*)_\d+\.jpg$` is all the labelling we need.
#
# On Kaggle it starts from ImageNet weights (`pretrained=True`, internet on);
# on a laptop, with no network, it trains from scratch on the small embedded data.

# %%
import contextlib
import os
from pathlib import Path

import pandas as pd
from fastai.vision.all import (
    ImageDataLoaders,
    Resize,
    accuracy,
    resnet18,
    resnet34,
    set_seed,
    vision_learner,
)

# --- cohort: where the data is (one block; keep it as it is, the Kaggle loop tests rely on it) ---
WEEK = "01-pets"
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
print("data from", DATA)

# %% [markdown]
# ## Data
# Pets photos are large, so on Kaggle we resize to 224 pixels; the embedded digits are
# 32x32 and stay that size, which keeps a CPU run short.

# %%
set_seed(42, reproducible=True)
size = 224 if ON_KAGGLE else 32
fnames = sorted((DATA / "images").glob("*.jpg"))
dls = ImageDataLoaders.from_name_re(
    DATA,
    fnames,
    pat=r"^(.*)_\d+\.jpg$",
    item_tfms=Resize(size),
    valid_pct=0.2,
    seed=42,
    bs=64,
    num_workers=0,
)
print(len(dls.vocab), "classes:", list(dls.vocab)[:10])

# %% [markdown]
# ## Train
# On Kaggle, `fine_tune` starts from ImageNet weights: one epoch trains the new head with
# the body frozen, then the whole network trains, its early layers with smaller steps.
# Offline there are no weights to download, so the network starts from random weights:
# no frozen epoch, and one learning rate for every layer (`lr_mult=1`).

# %%
if ON_KAGGLE:
    learn = vision_learner(dls, resnet34, metrics=accuracy, pretrained=True)
else:
    learn = vision_learner(dls, resnet18, metrics=accuracy, pretrained=False)


def quiet():
    """No progress bars when COHORT_QUIET is set (the tests set it)."""
    return learn.no_bar() if os.environ.get("COHORT_QUIET") else contextlib.nullcontext()


with quiet():
    if ON_KAGGLE:
        learn.fine_tune(4)
    else:
        learn.fine_tune(2, base_lr=1e-2, freeze_epochs=0, lr_mult=1)

# %% [markdown]
# ## Predict the test images and write the submission

# %%
sample = pd.read_csv(DATA / "sample_submission.csv", dtype=str)
test_dl = dls.test_dl([DATA / "test" / f"{i}.jpg" for i in sample["id"]])
with quiet():
    probs, _ = learn.get_preds(dl=test_dl)
submission = pd.DataFrame(
    {"id": sample["id"], "label": [dls.vocab[i] for i in probs.argmax(dim=1)]}
)
submission.to_csv("submission.csv", index=False)
submission.head()
