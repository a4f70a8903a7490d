"""Notebook analysis on small real .ipynb files, and the automatic 'beyond the minimum' award."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohort.errors import NotFound, ValidationError
from cohort.season import contributions
from cohort.season.notebooks import (
    NotebookAnalysis,
    analyze,
    beyond_reasons,
    is_explanation,
    record_notebook,
)
from cohort.sheets.roster import import_roster
from cohort.workspace import Cohort

from .conftest import write_roster

DATA = Path(__file__).parent / "data"


def _read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "frameworks", "explanations", "plots", "code"),
    [
        ("nb_fastai_minimum.ipynb", ("fastai",), 0, 1, 3),
        ("nb_torch_beyond.ipynb", ("fastai", "torch"), 3, 2, 4),
        ("nb_keras_calls.ipynb", ("keras",), 0, 2, 2),
        (
            "nb_script_kernel.py",
            ("torch",),
            1,
            1,
            2,
        ),  # a Kaggle script kernel, read through jupytext
    ],
)
def test_analyze_counts_frameworks_explanations_and_plots(
    name: str, frameworks: tuple[str, ...], explanations: int, plots: int, code: int
) -> None:
    assert analyze(_read(name)) == NotebookAnalysis(frameworks, explanations, plots, code)


def test_an_explanation_needs_enough_words_outside_headings() -> None:
    assert not is_explanation(
        "# A very long heading with many many words in it, more than twelve words"
    )
    assert not is_explanation("Train the model.")
    assert is_explanation(
        "We train the model for one epoch because the pretrained weights already know most of it."
    )


@pytest.mark.parametrize(
    ("analysis", "framework", "expected"),
    [
        (NotebookAnalysis(("fastai",), 0, 1, 3), "fastai", ()),
        (
            NotebookAnalysis(("fastai", "torch"), 0, 0, 3),
            "fastai",
            ("uses torch beyond the week's fastai",),
        ),
        (NotebookAnalysis(("torch",), 0, 0, 3), "pytorch", ()),
        (NotebookAnalysis(("torch",), 3, 2, 3), "pytorch", ("3 explanation cells", "2 plots")),
    ],
)
def test_beyond_the_minimum_rules(
    analysis: NotebookAnalysis, framework: str, expected: tuple[str, ...]
) -> None:
    assert beyond_reasons(analysis, framework) == expected


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


def test_record_awards_beyond_minimum_once_with_the_evidence(cohort: Cohort) -> None:
    first = record_notebook(
        cohort, "ann", "1", _read("nb_torch_beyond.ipynb"), url="https://kaggle.com/code/ann/pets"
    )
    assert first.event_id is not None
    assert first.reasons == (
        "uses torch beyond the week's fastai",
        "3 explanation cells",
        "2 plots",
    )
    again = record_notebook(cohort, "ann", "1", _read("nb_torch_beyond.ipynb"))
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
    result = record_notebook(cohort, "bob", "1", _read("nb_fastai_minimum.ipynb"))
    assert (result.reasons, result.event_id) == ((), None)
    assert contributions.events(cohort, "bob", derived=False).empty


def test_recording_for_an_unknown_member_changes_nothing(cohort: Cohort) -> None:
    with pytest.raises(NotFound, match=r"^No member 'zed'"):
        record_notebook(cohort, "zed", "1", _read("nb_torch_beyond.ipynb"))
    assert contributions.events(cohort).empty
