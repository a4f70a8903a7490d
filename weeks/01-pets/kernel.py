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
# Fastai lesson 1 in one notebook: label photos from their file names, look at a
# batch, pick a learning rate with the learning-rate finder, train a convolutional
# network, read its mistakes (confusion matrix, top losses), clean the data,
# export the model for inference, and write `submission.csv` (`id,label`).
#
# The labels are in the training file names (`Abyssinian_1.jpg` is an Abyssinian),
# so the regular expression `^(.*)_\d+\.jpg$` is all the labelling we need.
#
# **On Kaggle** (GPU and internet on) the recipe is the lesson's: an ImageNet-pretrained
# resnet34, presizing (each photo resized to 460 px on the CPU, then augmented and
# cropped to 224 px on the GPU) and `fine_tune(4)`; expect 5-7% error on the 37 breeds.
# **Offline** there are no ImageNet weights to download, so the same code trains a
# resnet18 from random weights on the embedded data: handwritten digits saved as
# small JPEGs named like the pets (`seven_12.jpg`).

# %%
import os
import socket
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from fastai.vision.all import (
    ClassificationInterpretation,
    ImageDataLoaders,
    PILImage,
    Resize,
    accuracy,
    aug_transforms,
    load_learner,
    minimum,
    resnet18,
    resnet34,
    set_seed,
    steep,
    verify_images,
    vision_learner,
)

# --- cohort: where the data is (the same block in every week's starter) ---
WEEK = "01-pets"
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
print("data from", DATA)

# %% tags=["parameters"]
SEED = 42  # change it to see how much a result owes to luck
AUGMENT = True  # random crops, rotations and lighting on every training batch
PHOTOS = ON_KAGGLE  # the lesson's recipe for the Pets photos; small digit images offline
EPOCHS = 4
BATCH_SIZE = 64  # smaller if the GPU runs out of memory
SIZE = None  # training size in px (None: 224 for the photos, 16 for the digits); smaller is faster


# %% [markdown]
# ## How a model learns: gradient descent by hand
#
# Before fastai does it for us, the whole idea in a few lines of PyTorch: guess the
# three coefficients of a quadratic from noisy points by repeatedly stepping each
# coefficient against its gradient. `fit` below does exactly this with millions of
# coefficients instead of three.

# %%
torch.manual_seed(SEED)
xs = torch.linspace(-2, 2, 40)
ys = 3 * xs**2 + 2 * xs + 1 + torch.randn(40)
coefs = torch.zeros(3, requires_grad=True)
losses = []
for _step in range(60):
    loss = ((coefs[0] * xs**2 + coefs[1] * xs + coefs[2] - ys) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        coefs -= 0.05 * coefs.grad  # the learning rate is the size of each step
        coefs.grad.zero_()
    losses.append(loss.item())
print("learned a, b, c =", [round(c, 2) for c in coefs.tolist()], "(true 3, 2, 1)")
plt.plot(losses)
plt.xlabel("step")
plt.ylabel("mean squared error")
plt.title("Gradient descent on a quadratic")
plt.show()

# %% [markdown]
# ## Data, cleaned and presized
#
# Data cleaning starts before training: `verify_images` finds files that do not open
# as images (the Pets download has a few), and we leave them out.
#
# *Presizing*: each image is first resized generously, one at a time (`item_tfms`);
# then the whole batch is augmented and cropped to the training size in one go
# (`batch_tfms`, on the GPU when there is one). Augmentation shows the network a
# slightly different picture every epoch, so it learns the breed, not the pixels.
# A mirrored pet is still the same breed, a mirrored digit is not: flips are for photos.

# %%
set_seed(SEED, reproducible=True)
fnames = sorted((DATA / "images").glob("*.jpg"))
broken = set(verify_images(fnames))
fnames = [f for f in fnames if f not in broken]
print(f"{len(fnames)} training images; left out {len(broken)} that do not open")

size = SIZE or (224 if PHOTOS else 16)
presize = round(size * 460 / 224) if PHOTOS else 2 * size  # the photos: 460 px for 224
augment = aug_transforms(
    size=size,
    min_scale=0.75 if PHOTOS else 0.9,
    do_flip=PHOTOS,
    max_rotate=10.0,
    max_warp=0.2 if PHOTOS else 0.1,
)
dls = ImageDataLoaders.from_name_re(
    DATA,
    fnames,
    pat=r"^(.*)_\d+\.jpg$",
    item_tfms=Resize(presize) if AUGMENT else Resize(size),
    batch_tfms=augment if AUGMENT else None,
    valid_pct=0.2,
    seed=SEED,
    bs=BATCH_SIZE,
)
print(len(dls.vocab), "classes:", list(dls.vocab)[:10])
dls.show_batch(max_n=9, figsize=(6, 6))

# %% [markdown]
# ## What a convolution does to an image
#
# A convolutional network's first layer slides small grids of weights (kernels) over
# the image: each output pixel is the sum of the 3x3 input pixels under the kernel,
# weighted by it. Below, two hand-made kernels on one training image: one responds to
# left-to-right changes of brightness (vertical edges), one to top-to-bottom changes
# (horizontal edges). A trained network learns its own kernels, dozens per layer, and
# stacks layers so later ones see edges of edges: corners, textures, eyes, ears.

# %%
image = torch.tensor(np.array(PILImage.create(fnames[0]).convert("L")), dtype=torch.float32)
vertical = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
kernels = torch.stack([vertical, vertical.T]).unsqueeze(1)  # 2 kernels, 1 input channel
edges = torch.nn.functional.conv2d(image[None, None] / 255, kernels, padding=1)[0]
fig, axes = plt.subplots(1, 3, figsize=(9, 3))
for ax, (title, picture) in zip(
    axes,
    [(fnames[0].name, image), ("vertical edges", edges[0]), ("horizontal edges", edges[1])],
    strict=True,
):
    ax.imshow(picture, cmap="gray")
    ax.set_title(title)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## A model, and the learning-rate finder
#
# `vision_learner` puts a new classification head on a resnet. On Kaggle with the
# internet on, the body starts from ImageNet weights (`pretrained=True`); without a
# network there are no weights to download, so it starts from random weights.
#
# `lr_find` trains for a few batches with a learning rate growing from tiny to huge
# and plots the loss: pick a rate on the steep downward slope, well before the loss
# is lowest. We take its `minimum` suggestion, a tenth of the rate where the loss was
# lowest, and train with it below. Too small and training crawls; too large and the
# loss explodes.


# %%
def internet() -> bool:
    """True when the weights' server answers (Kaggle's internet setting is on)."""
    try:
        socket.create_connection(("download.pytorch.org", 443), timeout=3).close()
        return True
    except OSError:
        return False


PRETRAINED = ON_KAGGLE and internet()
arch = resnet34 if PHOTOS else resnet18
learn = vision_learner(dls, arch, metrics=accuracy, pretrained=PRETRAINED, path=Path("."))
print(f"{arch.__name__}, pretrained={PRETRAINED}")
suggestion = learn.lr_find(num_it=100 if PHOTOS else 20, suggest_funcs=(minimum, steep))
LR = float(suggestion.minimum)  # a tenth of the rate where the loss was lowest
print(f"lr_find suggests {LR:.1e} (steepest descent at {suggestion.steep:.1e}): we train with it")

# %% [markdown]
# ## Train
#
# With the finder's rate `LR`. Pretrained: `fine_tune` trains the new head for one
# epoch with the body frozen, then the whole network, its early layers with smaller
# steps. From random weights there is nothing to protect, so we train every layer at
# once with `fit_one_cycle`: the learning rate warms up to `LR`, then anneals, which
# keeps a from-scratch resnet stable.

# %%
if PRETRAINED:
    learn.fine_tune(EPOCHS, base_lr=LR)
else:
    learn.fit_one_cycle(EPOCHS, LR)
learn.recorder.plot_loss()
plt.title("Learning curves")
plt.show()

# %% [markdown]
# ## Read the model's mistakes
#
# The confusion matrix shows which classes are mixed up; the top losses are the
# validation images the model got most confidently wrong. Some of those are the
# model's fault, some are the data's: a wrong label, or a picture of two pets.

# %%
interp = ClassificationInterpretation.from_learner(learn)
print(f"validation accuracy {float(learn.validate()[1]):.3f}")
interp.plot_confusion_matrix(figsize=(6, 6))
plt.show()
interp.plot_top_losses(9, figsize=(8, 8))
plt.show()
print("most confused (actual, predicted, count):", interp.most_confused(min_val=2)[:5])

# %% [markdown]
# ## Data cleaning with the model
#
# The images with the highest loss are the first place to look for bad labels.
# In an interactive notebook, fastai's cleaner lets you relabel or delete them:
#
# ```python
# from fastai.vision.widgets import ImageClassifierCleaner
# cleaner = ImageClassifierCleaner(learn)
# cleaner  # pick a class; mark images <Delete> or give them their right label
# ```
#
# Then retrain on the cleaned files. Here we list the worst few.

# %%
worst, where = interp.top_losses(5)
valid_files = dls.valid_ds.items
for loss, i in zip(worst, where, strict=True):
    print(f"{valid_files[int(i)].name:28s} loss {float(loss):.2f}")

# %% [markdown]
# ## Production: export the model, load it back, predict
#
# `export` saves the model with its data pipeline (resizing, the vocabulary) in one
# file; `load_learner` is all an app needs to use it.

# %%
learn.export(Path.cwd() / "model.pkl")
inference = load_learner(Path.cwd() / "model.pkl")
sample = pd.read_csv(DATA / "sample_submission.csv", dtype=str)
first = DATA / "test" / f"{sample['id'].iloc[0]}.jpg"
label, _, probs = inference.predict(first)
print(f"{first.name}: {label} ({float(probs.max()):.0%})")

# %% [markdown]
# ## Predict the test images and write the submission

# %%
test_dl = dls.test_dl([DATA / "test" / f"{i}.jpg" for i in sample["id"]])
probs, _ = learn.get_preds(dl=test_dl)
submission = pd.DataFrame(
    {"id": sample["id"], "label": [dls.vocab[i] for i in probs.argmax(dim=1)]}
)
submission.to_csv("submission.csv", index=False)
submission.head()
