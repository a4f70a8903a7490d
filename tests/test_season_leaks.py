"""What must not reach the season: hidden private rows before reveal, and the final project."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from cohort.scoring import intake
from cohort.season import contributions, selection, standings
from cohort.sheets.roster import import_roster
from cohort.workspace import Cohort

from .conftest import write_roster, write_week

IDS = [f"r{i:03d}" for i in range(100)]
TRUTH = np.array(["cat", "dog"] * 50, dtype=object)
PUBLIC = 30  # rows 0..29 are public, 30..99 private


def flip(values: np.ndarray, rows: slice) -> np.ndarray:
    out = values.copy()
    out[rows] = np.where(out[rows] == "cat", "dog", "cat")
    return out


# On the public rows bob and cy are each 80% right (different rows): a tie at the cut.
PREDICTIONS = {
    "ann": TRUTH,
    "bob": flip(TRUTH, slice(0, 6)),
    "cy": flip(flip(TRUTH, slice(20, 26)), slice(30, 70)),
    "dee": flip(TRUTH, slice(0, 12)),
}


def season(make_cohort, tmp_path: Path, name: str, private_truth: np.ndarray) -> Cohort:
    """One week of four members, the solution's private rows set to `private_truth`."""
    root = make_cohort({"01-a": {}}, start="2026-01-05", name=name)
    truth = np.concatenate([TRUTH[:PUBLIC], private_truth[PUBLIC:]])
    (root / "data" / "01-a").mkdir(parents=True)
    usage = ["Public"] * PUBLIC + ["Private"] * (len(IDS) - PUBLIC)
    pd.DataFrame({"id": IDS, "label": truth, "Usage": usage}).to_csv(
        root / "data" / "01-a" / "solution.csv", index=False
    )
    write_roster(root, [(h, h.title(), "", "") for h in PREDICTIONS])
    cohort = Cohort.open(root)
    import_roster(cohort.store, root / "members.csv")
    opens = cohort.config.weeks[0].opens_at
    for i, (handle, values) in enumerate(PREDICTIONS.items()):
        path = tmp_path / f"{name}-{handle}.csv"
        pd.DataFrame({"id": IDS, "label": values}).to_csv(path, index=False)
        intake.submit(cohort, handle, "1", path, at=opens + timedelta(days=1, hours=i))
    return cohort


def test_the_tie_check_before_reveal_does_not_depend_on_hidden_private_rows(make_cohort, tmp_path):
    views = []
    for name, private in (("plain", TRUTH), ("flipped", flip(TRUTH, slice(PUBLIC, 100)))):
        cohort = season(make_cohort, tmp_path, name, private)
        during = cohort.config.weeks[0].opens_at + timedelta(days=2)  # open, not revealed
        sel = selection.select(cohort, top=2, now=during)
        assert sel.unrevealed == ["01-a"]
        views.append(([(t.above, t.below, t.probability) for t in sel.ties], sel.cut_probability))
    assert views[0] == views[1]
    ties, _ = views[0]
    # The comparison means something: the cut pair is a real, uncertain tie.
    assert ties and ties[0][:2] in (("bob", "cy"), ("cy", "bob")) and 0 < ties[0][2] < 1


def test_the_final_project_does_not_reach_the_season_standings(make_cohort, tmp_path):
    cohort = season(make_cohort, tmp_path, "final", TRUTH)
    write_week(cohort.root, "09-final", opens=7, closes=30)
    toml = cohort.root / "cohort.toml"
    toml.write_text(toml.read_text() + 'final = "09-final"\n')
    cohort = Cohort.open(cohort.root)
    (cohort.root / "data" / "09-final").mkdir(parents=True)
    shutil.copy(cohort.root / "data/01-a/solution.csv", cohort.root / "data/09-final/solution.csv")
    closed = cohort.config.week("final").closes_at + timedelta(days=1)
    before = standings.standings(cohort, now=closed)
    final = cohort.config.week("final")
    at = final.opens_at + timedelta(days=1)
    for handle in ("dee", "cy"):
        contributions.add(cohort, handle, "presented", week_ref="final")
        contributions.add(cohort, handle, "attended", week_ref="final")
        path = tmp_path / f"final-{handle}.csv"
        pd.DataFrame({"id": IDS, "label": TRUTH}).to_csv(path, index=False)
        intake.submit(cohort, handle, "final", path, "https://www.kaggle.com/code/x/final", at=at)
    after = standings.standings(cohort, now=closed)
    assert [(r.handle, r.total, r.components) for r in after.rows] == [
        (r.handle, r.total, r.components) for r in before.rows
    ]
    assert "09-final" not in after.weeks
