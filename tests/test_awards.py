"""Awards that mean something: beyond the minimum against the week's starter; on-time credit
from a checked notebook link submitted before the close, never from an analysis."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from cohort.scoring import boards, intake
from cohort.season import contributions
from cohort.season.notebooks import judge, record_notebook, starter_text
from cohort.sheets.roster import import_roster
from cohort.template import init_cohort
from cohort.workspace import Cohort
from tests.conftest import write_roster

EXPLAIN = (
    "Here I explain why the learning rate finder suggests a smaller rate than the default "
    "one, and what that means for the fine tuning that follows in the next cells."
)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    """The repository's real weeks (week 1's starter is weeks/01-pets/kernel.py)."""
    root = tmp_path_factory.mktemp("awards") / "cohort"
    init_cohort(root, "Awards")
    write_roster(root, [(h, h.title(), f"{h}@example.org", "") for h in ("ann", "bob", "cy")])
    c = Cohort.open(root)
    import_roster(c.store, root / "members.csv")
    return c


@pytest.fixture(scope="module")
def starter(cohort: Cohort) -> str:
    text = starter_text(cohort.config.week("01-pets"))
    assert text is not None
    return text


def fork(starter: str, *cells: tuple[str, str]) -> str:
    """The starter as a member forks it, with cells (kind, source) added at the end."""
    notebook = json.loads(starter)
    for kind, source in cells:
        cell = {"cell_type": kind, "source": source, "metadata": {}}
        if kind == "code":
            cell |= {"outputs": [], "execution_count": None}
        notebook["cells"].append(cell)
    return json.dumps(notebook)


def test_the_starter_itself_earns_nothing_and_says_why(starter: str) -> None:
    # The example: the forked starter earned it with its own explanation cells.
    assert judge(starter, "fastai", None).reasons  # judged alone it would look beyond
    verdict = judge(starter, "fastai", starter)
    assert verdict.reasons == ()
    assert verdict.verdict == (
        "the week's starter, unchanged: it earns nothing beyond the minimum",
    )


def test_adding_import_torch_to_a_fastai_starter_earns_nothing(starter: str) -> None:
    verdict = judge(
        fork(starter, ("code", "import torch\nprint(torch.__version__)")), "fastai", starter
    )
    assert verdict.reasons == ()
    assert verdict.verdict == (
        "not met: no framework beyond the week's fastai (torch is what fastai is built on)",
        "not met: 0 explanation cell(s) beyond the starter's (3 needed)",
        "not met: 0 plot(s) beyond the starter's (2 needed)",
    )


def test_a_bare_import_of_another_framework_earns_nothing(starter: str) -> None:
    verdict = judge(fork(starter, ("code", "import keras")), "fastai", starter)
    assert verdict.reasons == ()
    assert "keras is imported but builds or trains no model" in verdict.verdict[0]


def test_another_framework_used_for_a_model_earns_it(starter: str) -> None:
    keras = (
        "import keras\nmodel = keras.Sequential([keras.layers.Dense(37)])\nmodel.compile('adam')"
    )
    verdict = judge(fork(starter, ("code", keras)), "fastai", starter)
    assert verdict.reasons == ("uses keras beyond the week's fastai",)


def test_explanations_and_plots_count_only_beyond_the_starters(starter: str) -> None:
    two = fork(starter, ("markdown", EXPLAIN), ("markdown", EXPLAIN + " Twice."))
    assert judge(two, "fastai", starter).reasons == ()
    more = fork(
        starter,
        ("markdown", EXPLAIN),
        ("markdown", EXPLAIN + " Again."),
        ("markdown", EXPLAIN + " Once more."),
        ("code", "plt.plot(losses)\nplt.hist(errors)"),
    )
    assert judge(more, "fastai", starter).reasons == (
        "3 explanation cell(s) beyond the starter's (3 needed)",
        "2 plot(s) beyond the starter's (2 needed)",
    )


def test_recording_the_starter_awards_nothing_and_no_on_time_credit(
    cohort: Cohort, starter: str
) -> None:
    # The example: an analysis created an on-time credit dated when it ran.
    week = cohort.config.week("01-pets")
    result = record_notebook(cohort, "cy", "1", starter, at=week.opens_at + timedelta(hours=1))
    assert (result.reasons, result.event_id) == ((), None)
    assert "unchanged" in result.verdict[0]
    assert contributions.events(cohort, "cy").empty


@pytest.mark.parametrize(
    ("url", "credited"),
    [
        ("https://www.kaggle.com/code/ann/pets-starter", True),
        ("https://www.kaggle.com/ann", False),  # a Kaggle profile
        ("https://www.kaggle.com/competitions/titanic", False),  # a competition page
        ("http://localhost:8888/notebooks/pets.ipynb", False),
    ],
)
def test_on_time_credit_needs_a_checked_link_submitted_before_the_close(
    make_cohort, url: str, credited: bool
) -> None:
    root = make_cohort({"01-a": {}})
    write_roster(root, [("ann", "Ann", "ann@example.org", "ann")])
    c = Cohort.open(root)
    import_roster(c.store, root / "members.csv")
    week = c.config.week("1")
    result = intake.submit(c, "ann", "1", None, url, at=week.opens_at + timedelta(days=1))
    assert bool(result.warnings) != credited
    events = contributions.events(c, "ann")
    on_time = events[events["kind"] == "on_time_kernel"]
    assert len(on_time) == int(credited)
    if credited:
        assert on_time.iloc[0]["recorded_at"] == week.opens_at + timedelta(days=1)


def test_a_link_after_the_close_or_after_an_early_reveal_earns_no_on_time_credit(
    make_cohort,
) -> None:
    root = make_cohort({"01-a": {}})
    write_roster(root, [("ann", "Ann", "ann@example.org", ""), ("bob", "Bob", "b@example.org", "")])
    c = Cohort.open(root)
    import_roster(c.store, root / "members.csv")
    week = c.config.week("1")
    link = "https://www.kaggle.com/code/{}/pets"
    intake.submit(c, "ann", "1", None, link.format("ann"), at=week.closes_at + timedelta(hours=1))
    reveal = week.opens_at + timedelta(days=2)
    boards.reveal(c, "1", "org", close_now=True, at=reveal)
    late = intake.submit(c, "bob", "1", None, link.format("bob"), at=reveal + timedelta(hours=1))
    assert late.late
    assert (contributions.events(c)["kind"] == "on_time_kernel").sum() == 0
