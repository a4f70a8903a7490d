"""Notebook analysis on small real .ipynb files, and the automatic 'beyond the minimum' award."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cohort.errors import NotFound, ValidationError
from cohort.season import contributions
from cohort.season.notebooks import (
    NotebookAnalysis,
    analyze,
    is_explanation,
    judge,
    record_notebook,
)
from cohort.sheets.roster import import_roster
from cohort.workspace import Cohort

from .conftest import write_roster

DATA = Path(__file__).parent / "data"


def _read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "frameworks", "explanations", "plots", "code", "used"),
    [
        ("nb_fastai_minimum.ipynb", ("fastai",), 0, 1, 3, ("fastai",)),
        # fastai is star-imported but builds no learner; torch trains (a loss, backward)
        ("nb_torch_beyond.ipynb", ("fastai", "torch"), 3, 2, 4, ("torch",)),
        ("nb_keras_calls.ipynb", ("tensorflow",), 0, 2, 2, ()),  # imported only
        # a Kaggle script kernel, read through jupytext
        ("nb_script_kernel.py", ("torch",), 1, 1, 2, ("torch",)),
    ],
)
def test_analyze_counts_frameworks_explanations_and_plots(
    name: str,
    frameworks: tuple[str, ...],
    explanations: int,
    plots: int,
    code: int,
    used: tuple[str, ...],
) -> None:
    assert analyze(_read(name)) == NotebookAnalysis(
        frameworks, explanations, plots, code, used=used
    )


def test_an_explanation_needs_enough_words_outside_headings() -> None:
    assert not is_explanation(
        "# A very long heading with many many words in it, more than twelve words"
    )
    assert not is_explanation("Train the model.")
    assert is_explanation(
        "We train the model for one epoch because the pretrained weights already know most of it."
    )


def _notebook(*cells: tuple[str, str]) -> str:
    """A minimal .ipynb from (cell_type, source) pairs."""
    return json.dumps(
        {
            "cells": [
                {"cell_type": kind, "source": src, "metadata": {}}
                | ({"outputs": [], "execution_count": None} if kind == "code" else {})
                for kind, src in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


@pytest.mark.parametrize(
    ("cells", "framework", "expected"),
    [
        ([("code", "from fastai.vision.all import *\nlearn = vision_learner()")], "fastai", ()),
        # The example: torch under fastai is the library fastai is built on.
        (
            [("code", "from fastai.vision.all import *\nimport torch\nx = torch.ones(2)")],
            "fastai",
            (),
        ),
        # A bare import is not a framework used.
        ([("code", "import torch\nimport keras\nnet = torch.nn.Linear(2, 1)")], "pytorch", ()),
        (
            [("code", "import torch\nfrom tensorflow import keras\nm = keras.Sequential([])")],
            "pytorch",
            ("uses tensorflow beyond the week's torch",),  # tensorflow's keras
        ),
    ],
)
def test_beyond_the_minimum_needs_another_framework_actually_used(
    cells: list[tuple[str, str]], framework: str, expected: tuple[str, ...]
) -> None:
    assert judge(_notebook(*cells), framework, None).reasons == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{not json",
            r"^The notebook is not valid JSON \(Expecting property name enclosed in double quotes at line 1\); upload the \.ipynb file itself\.$",
        ),
        (
            '{"a": 1}',
            r"^The file is JSON but not a notebook \(no 'cells' list\); upload the \.ipynb file itself\.$",
        ),
    ],
)
def test_a_broken_notebook_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        analyze(text)


@pytest.fixture
def cohort(make_cohort) -> Cohort:
    root = make_cohort({"01-pets": {}})
    (root / "weeks/01-pets/week.toml").write_text(
        (root / "weeks/01-pets/week.toml")
        .read_text()
        .replace("[competition]", 'framework = "fastai"\n\n[competition]')
    )
    write_roster(
        root,
        [("ann", "Ann Lee", "ann@example.org", "annk"), ("bob", "Bob Ray", "bob@example.org", "")],
    )
    c = Cohort.open(root)
    import_roster(c.store, root / "members.csv")
    return c


def _open(c: Cohort) -> datetime:
    """A moment the test week is open (it opens in 2027)."""
    return c.config.week("1").opens_at + timedelta(hours=1)


def test_record_awards_beyond_minimum_once_with_the_evidence(cohort: Cohort) -> None:
    first = record_notebook(
        cohort,
        "ann",
        "1",
        _read("nb_torch_beyond.ipynb"),
        url="https://kaggle.com/code/ann/pets",
        at=_open(cohort),
    )
    assert first.event_id is not None
    # torch under fastai is not another framework; the explanations and plots are new (the
    # test week has no starter kernel, so every cell is the member's own).
    assert first.reasons == ("3 explanation cell(s) (3 needed)", "2 plot(s) (2 needed)")
    assert (
        first.verdict[0] == "not met: no framework beyond the week's fastai "
        "(torch is what fastai is built on)"
    )
    again = record_notebook(cohort, "ann", "1", _read("nb_torch_beyond.ipynb"), at=_open(cohort))
    assert again.event_id is None
    frame = contributions.events(cohort, "ann")
    awarded = frame[frame["kind"] == "beyond_minimum"]
    assert len(awarded) == 1
    row = awarded.iloc[0]
    assert (row["week"], row["source"], row["value"]) == ("01-pets", "derived", 1.0)
    assert row["evidence"]["frameworks"] == ["fastai", "torch"]
    assert row["evidence"]["url"] == "https://kaggle.com/code/ann/pets"
    assert len(row["evidence"]["sha256"]) == 64


def test_a_minimum_notebook_is_stored_but_earns_nothing(cohort: Cohort) -> None:
    result = record_notebook(cohort, "bob", "1", _read("nb_fastai_minimum.ipynb"), at=_open(cohort))
    assert (result.reasons, result.event_id) == ((), None)
    assert contributions.events(cohort, "bob", derived=False).empty


def test_recording_for_an_unknown_member_changes_nothing(cohort: Cohort) -> None:
    with pytest.raises(NotFound, match=r"^No member 'zed'"):
        record_notebook(cohort, "zed", "1", _read("nb_torch_beyond.ipynb"), at=_open(cohort))
    assert contributions.events(cohort).empty


TF_CHEAP = "import tensorflow as tf\nx = tf.constant(1)\nprint(x)"


@pytest.mark.parametrize(
    ("code", "used"),
    [
        (TF_CHEAP, ()),  # a call, but no model
        (
            "import tensorflow as tf\nm = tf.keras.Sequential([tf.keras.layers.Dense(2)])",
            ("tensorflow",),
        ),
        ("from tensorflow.keras import layers\nx = layers.Dense(3)", ("tensorflow",)),
        ("import keras\nclass Net(keras.Model):\n    pass", ("keras",)),
        ("import torch\nt = torch.tensor([1.0])\nprint(t.sum())", ()),
        ("import torch\nfrom torch import nn\nnet = nn.Linear(2, 1)", ("torch",)),
        ("import torch\nopt = torch.optim.SGD(params, lr=0.1)\nopt.step()", ("torch",)),
        ("from sklearn.linear_model import LogisticRegression\nm = LogisticRegression()", ()),
        (
            "from sklearn.linear_model import LogisticRegression\nLogisticRegression().fit(X, y)",
            ("sklearn",),
        ),
        ("from sklearn.model_selection import train_test_split\na = train_test_split(X)", ()),
    ],
)
def test_a_framework_is_used_only_when_it_builds_or_trains_a_model(
    code: str, used: tuple[str, ...]
) -> None:
    assert analyze(_notebook(("code", code))).used == used


def test_a_tensorflow_constant_is_not_beyond_a_torch_week() -> None:
    verdict = judge(_notebook(("code", TF_CHEAP)), "pytorch", None)
    assert verdict.frameworks == ("tensorflow",)
    assert verdict.reasons == ()
    assert verdict.verdict[0] == (
        "not met: no framework beyond the week's torch "
        "(tensorflow is imported but builds or trains no model)"
    )


def test_a_notebook_for_a_week_not_yet_open_is_refused(cohort: Cohort) -> None:
    week = cohort.config.week("1")
    with pytest.raises(ValidationError, match=r"^Week '01-pets' opens 2027-01-11 00:00 CET; "):
        record_notebook(
            cohort,
            "ann",
            "1",
            _notebook(("code", TF_CHEAP)),
            at=week.opens_at - timedelta(seconds=1),
        )
    assert contributions.events(cohort).empty
