"""Suspicious results for the organizer: implausible scores, one file from two members,
near-identical predictions, copied notebooks; `cohort flags` changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.scoring import boards, intake
from cohort.season.flags import flags
from cohort.season.notebooks import record_notebook
from cohort.sheets.roster import import_roster
from cohort.workspace import Cohort
from tests.conftest import write_roster

IDS = [f"i{k}" for k in range(20)]
TRUTH = ["cat", "dog"] * 10
T0 = datetime(2027, 1, 12, 9, tzinfo=UTC)
HANDLES = ("ann", "bob", "cy", "dee", "eve")


def _cohort(make_cohort, week: dict, ceiling: str, truth: list, usage: list) -> Cohort:
    root = make_cohort({"01-a": week})
    toml = root / "weeks/01-a/week.toml"
    toml.write_text(toml.read_text() + ceiling)
    write_roster(root, [(h, h.title(), f"{h}@example.org", "") for h in HANDLES])
    c = Cohort.open(root)
    import_roster(c.store, root / "members.csv")
    target = week.get("targets", ("label",))[0]
    (root / "data/01-a").mkdir(parents=True)
    pd.DataFrame({"id": IDS, target: truth, "Usage": usage}).to_csv(
        root / "data/01-a/solution.csv", index=False
    )
    return c


@pytest.fixture
def cohort(make_cohort) -> Cohort:
    """An accuracy week whose organizers think 0.9 is the best a model can do."""
    return _cohort(make_cohort, {}, "plausible_best = 0.9\n", TRUTH, ["Public", "Private"] * 10)


def _submit(c: Cohort, handle: str, labels: list[str], minutes: int, text: str = "") -> int:
    data = text or "id,label\n" + "".join(f"{i},{v}\n" for i, v in zip(IDS, labels, strict=True))
    at = T0 + timedelta(minutes=minutes)
    return intake.submit_bytes(c, handle, "1", data.encode(), "p.csv", at=at).submission_id


def _mostly(wrong: int) -> list[str]:
    labels = list(TRUTH)
    for k in range(wrong):
        labels[k] = "dog" if labels[k] == "cat" else "cat"
    return labels


def test_each_kind_is_flagged_with_its_evidence_and_nothing_changes(cohort: Cohort) -> None:
    ann = _submit(cohort, "ann", TRUTH, 0)  # perfect: beyond the plausible 0.9
    bob = _submit(cohort, "bob", TRUTH, 1)  # ann's very file
    cy = _submit(cohort, "cy", _mostly(5), 2)
    # dee: cy's predictions in another file (rows reordered, so other bytes)
    rows = list(zip(IDS, _mostly(5), strict=True))[::-1]
    dee = _submit(cohort, "dee", [], 3, "id,label\n" + "".join(f"{i},{v}\n" for i, v in rows))
    _submit(cohort, "eve", _mostly(6)[::-1], 4)  # independent
    board = boards.leaderboard(cohort, "1")
    found = flags(cohort, "1")
    assert boards.leaderboard(cohort, "1") == board  # nothing is changed
    kinds = [(f.kind, f.handles, f.submissions) for f in found]
    assert kinds == [
        ("implausible", ("ann",), (ann,)),
        ("implausible", ("ann",), (ann,)),
        ("implausible", ("bob",), (bob,)),
        ("implausible", ("bob",), (bob,)),
        ("same_file", ("ann", "bob"), (ann, bob)),
        ("near_identical", ("cy", "dee"), (cy, dee)),
    ]
    # in the cohort's zone (Europe/Amsterdam), as every other table
    assert found[0].evidence.startswith("public accuracy 1 of ann (#1, 2027-01-12 10:00 CET)")
    assert found[0].evidence.endswith("is beyond the week's plausible best 0.9 (higher is better)")
    assert "the same file (sha256 " in found[4].evidence
    assert found[5].evidence.endswith("identical predictions on all 20 rows, in different files")


def test_late_submissions_are_not_flagged(cohort: Cohort) -> None:
    closes = cohort.config.week("1").closes_at
    data = "id,label\n" + "".join(f"{i},{v}\n" for i, v in zip(IDS, TRUTH, strict=True))
    intake.submit_bytes(cohort, "ann", "1", data.encode(), "p.csv", at=closes)
    assert flags(cohort, "1") == []


def test_numbers_that_differ_by_a_rounding_are_near_identical(make_cohort) -> None:
    truth = [float(k) for k in range(20)]
    c = _cohort(
        make_cohort, {"metric": "mae", "targets": ("y",)}, "", truth, ["Public", "Private"] * 10
    )

    def send(handle: str, values: list[float], minutes: int) -> None:
        data = "id,y\n" + "".join(f"{i},{v!r}\n" for i, v in zip(IDS, values, strict=True))
        intake.submit_bytes(
            c, handle, "1", data.encode(), "p.csv", at=T0 + timedelta(minutes=minutes)
        )

    send("ann", [v + 0.5 for v in truth], 0)
    send("bob", [v + 0.5000001 for v in truth], 1)
    send("cy", [v - 0.5 for v in truth], 2)
    found = flags(c, "1")
    assert [(f.kind, f.handles) for f in found] == [("near_identical", ("ann", "bob"))]
    assert "of the answers' spread" in found[0].evidence


def _notebook(lines: list[str]) -> str:
    cells = [{"cell_type": "code", "source": line, "metadata": {}, "outputs": []} for line in lines]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_copied_notebooks_are_flagged(cohort: Cohort) -> None:
    work = [f"step_{k} = train(model, epochs={k})" for k in range(12)]
    record_notebook(cohort, "ann", "1", _notebook(work), at=T0)
    record_notebook(cohort, "bob", "1", _notebook(work + ["print('mine now')"]), at=T0)
    record_notebook(
        cohort, "cy", "1", _notebook([f"other_{k} = fit({k})" for k in range(12)]), at=T0
    )
    found = flags(cohort, "1")
    assert [(f.kind, f.handles) for f in found] == [("copied_notebook", ("ann", "bob"))]
    assert found[0].evidence == (
        "the notebooks of ann and bob share 12 of their 13 lines beyond the starter (92%)"
    )


def test_notebook_links_the_member_does_not_own_are_flagged(cohort: Cohort) -> None:
    rows = [(h, h.title(), f"{h}@example.org", f"{h}k" if h != "eve" else "") for h in HANDLES]
    write_roster(cohort.root, rows)
    import_roster(cohort.store, cohort.root / "members.csv")
    with (cohort.root / "cohort.toml").open("a") as fh:
        fh.write('kaggle_owner = "Organizer"\n')
    cohort = Cohort.open(cohort.root)
    at = T0 + timedelta(hours=1)
    for handle, url in [
        ("ann", "https://www.kaggle.com/code/annk/my-regularization"),  # her own: fine
        ("dee", "https://www.kaggle.com/code/annk/my-regularization"),  # ann's
        ("bob", "https://www.kaggle.com/code/your-kaggle-username/cohort-01-a"),  # the starter
        ("eve", "https://www.kaggle.com/code/someone/nb"),  # eve has no kaggle_username
        ("cy", "https://www.kaggle.com/code/organizer/cohort-01-a"),  # the published starter
    ]:
        intake.submit(cohort, handle, "1", None, url, at=at)
    closes = cohort.config.week("1").closes_at
    intake.submit(cohort, "cy", "1", None, "https://www.kaggle.com/code/annk/x", at=closes)  # late
    found = [f for f in flags(cohort, "1") if f.kind == "foreign_notebook"]
    assert [f.handles for f in found] == [("dee",), ("bob",), ("eve",), ("cy",)]
    assert found[3].evidence.startswith("notebook link owned by the organizer, not by cy ")
    assert found[0].evidence == (
        "notebook link owned by another member (ann), not by dee (kaggle_username deek): "
        "https://www.kaggle.com/code/annk/my-regularization, sent 2027-01-12 11:00 CET"
    )
    assert found[1].evidence.startswith(
        "notebook link owned by the organizer (the starter's placeholder address), not by bob"
    )
    assert "owned by Kaggle user 'someone', not by eve (kaggle_username blank)" in found[2].evidence


def test_cohort_flags_lists_them_and_says_when_there_are_none(cohort: Cohort) -> None:
    runner = CliRunner()
    root = str(cohort.root)
    empty = runner.invoke(app, ["--root", root, "flags", "1"])
    assert empty.exit_code == 0 and "No suspicious results." in empty.stdout
    _submit(cohort, "ann", TRUTH, 0)
    shown = runner.invoke(app, ["--root", root, "flags"])
    assert shown.exit_code == 0 and "implausible" in shown.stdout
    listed = json.loads(runner.invoke(app, ["--root", root, "flags", "1", "--json"]).stdout)
    assert [(f["kind"], f["handles"], f["submissions"]) for f in listed] == [
        ("implausible", ["ann"], [1]),
        ("implausible", ["ann"], [1]),
    ]
    assert runner.invoke(app, ["--root", root, "flags", "--help"]).exit_code == 0


def test_a_week_without_a_ceiling_flags_no_score(make_cohort, tmp_path: Path) -> None:
    c = _cohort(make_cohort, {}, "", TRUTH, ["Public", "Private"] * 10)
    data = "id,label\n" + "".join(f"{i},{v}\n" for i, v in zip(IDS, TRUTH, strict=True))
    intake.submit_bytes(c, "ann", "1", data.encode(), "p.csv", at=T0)
    assert flags(c) == []
