"""The season formula, the ranking and its tie-break, the cut with reasons, the bootstrap tie flag, freezes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohort.config import Formula
from cohort.errors import CohortError
from cohort.scoring import intake, metrics
from cohort.season import contributions, selection, standings
from cohort.season.formula import (
    WeekResample,
    ahead_probability,
    bootstrap_totals,
    compute,
    cut,
    percentile_ranks,
)
from cohort.sheets.roster import import_roster
from cohort.workspace import Cohort

from .conftest import write_roster

# --- pure formula ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "direction", "expected"),
    [
        ([0.9, 0.8, 0.7, 0.5], "max", [1.0, 0.75, 0.5, 0.25]),
        ([0.9, 0.8, 0.8, 0.5], "max", [1.0, 0.75, 0.75, 0.25]),  # ties share the higher percentile
        ([1.0, 3.0, 2.0], "min", [1.0, 1 / 3, 2 / 3]),  # lower is better for an error metric
        ([0.7, float("nan")], "max", [1.0, 0.5]),  # a failed score ranks last
        ([0.4], "max", [1.0]),
        ([0.8, 0.8 + 1e-15, 0.7], "max", [1.0, 1.0, 1 / 3]),  # float noise does not split a tie
    ],
)
def test_percentile_ranks(scores: list[float], direction: str, expected: list[float]) -> None:
    assert percentile_ranks(np.array(scores), direction) == pytest.approx(expected)


def _members(*handles: str, first: dict[str, str] | None = None) -> pd.DataFrame:
    first = first or {}
    return pd.DataFrame(
        {
            "handle": list(handles),
            "name": [h.title() for h in handles],
            "first_submission": [pd.Timestamp(first[h]) if h in first else None for h in handles],
        }
    )


def _perf(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["handle", "week", "percentile"])


def _events(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["handle", "kind", "value"])


COMPONENTS = [
    "w1",
    "w2",
    "attended",
    "presented",
    "on_time_kernel",
    "beyond_minimum",
    "challenge_rank",
    "helped",
]


def test_the_formula_weights_percentiles_and_contributions_and_a_missing_week_counts_zero() -> None:
    table = compute(
        _members("ann", "bob"),
        _perf([("ann", "w1", 1.0), ("ann", "w2", 0.5), ("bob", "w1", 0.5)]),
        _events(
            [
                ("bob", "presented", 1),
                ("bob", "challenge_rank", 1),
                ("bob", "challenge_rank", 4),
                ("ann", "helped", 2),
            ]
        ),
        ["w1", "w2"],
        Formula(),
    )
    ann, bob = table.to_dict("records")
    assert {k: ann[k] for k in COMPONENTS} == {
        "w1": 10.0,
        "w2": 5.0,
        "attended": 0.0,
        "presented": 0.0,
        "on_time_kernel": 0.0,
        "beyond_minimum": 0.0,
        "challenge_rank": 0.0,
        "helped": 2.0,
    }
    # challenge rank 1 earns 3 units, rank 4 none; presented weighs 3.
    assert (bob["w1"], bob["w2"], bob["presented"], bob["challenge_rank"]) == (5.0, 0.0, 3.0, 3.0)
    assert [(r["rank"], r["handle"], r["total"]) for r in (ann, bob)] == [
        (1, "ann", 17.0),
        (2, "bob", 11.0),
    ]


def test_every_total_is_the_sum_of_its_components() -> None:
    rng = np.random.default_rng(3)
    handles = [f"m{i:02d}" for i in range(30)]
    perf = _perf(
        [(h, w, float(rng.uniform())) for h in handles for w in ("w1", "w2") if rng.uniform() < 0.8]
    )
    events = _events(
        [
            (
                str(rng.choice(handles)),
                str(rng.choice(["attended", "helped", "challenge_rank"])),
                float(rng.integers(1, 5)),
            )
            for _ in range(60)
        ]
    )
    for drop in (False, True):
        table = compute(
            _members(*handles), perf, events, ["w1", "w2"], Formula(drop_lowest_week=drop)
        )
        for row in table.to_dict("records"):
            assert sum(row[c] for c in COMPONENTS) == pytest.approx(row["total"], abs=1e-9)
            assert row["performance"] + row["contributions"] == pytest.approx(
                row["total"], abs=1e-9
            )


def test_drop_lowest_week_zeroes_each_members_weakest_week() -> None:
    perf = _perf([("ann", "w1", 1.0), ("ann", "w2", 0.25), ("ann", "w3", 0.5), ("bob", "w1", 0.5)])
    table = compute(
        _members("ann", "bob"),
        perf,
        _events([]),
        ["w1", "w2", "w3"],
        Formula(drop_lowest_week=True),
    )
    ann, bob = table.to_dict("records")
    assert (ann["w1"], ann["w2"], ann["w3"], ann["dropped_week"], ann["total"]) == (
        10.0,
        0.0,
        5.0,
        "w2",
        15.0,
    )
    # Bob missed w2 and w3; the missed week that is dropped is the first of them.
    assert (bob["dropped_week"], bob["total"]) == ("w2", 5.0)


# A tie built on purpose: the same total, separated by each rule of the documented tie-break in turn.
# (Equal totals and equal performance imply equal contributions, so "contributions" decides a tie
# only when it comes before "performance" in tie_break.)
@pytest.mark.parametrize(
    ("perf", "events", "first", "rules", "order", "rule"),
    [
        (
            [("ann", "w1", 0.5), ("bob", "w1", 1.0)],
            [("ann", "presented", 1), ("ann", "helped", 2)],
            {},
            None,
            ["bob", "ann"],
            "performance",
        ),
        (
            [("ann", "w1", 0.4), ("bob", "w1", 0.5)],
            [("ann", "attended", 1)],
            {},
            ("contributions", "performance", "handle"),
            ["ann", "bob"],
            "contributions",
        ),
        (
            [("ann", "w1", 0.5), ("bob", "w1", 0.5)],
            [],
            {"ann": "2027-01-12T10:00Z", "bob": "2027-01-12T09:00Z"},
            None,
            ["bob", "ann"],
            "earliest_submission",
        ),
        ([("ann", "w1", 0.5), ("bob", "w1", 0.5)], [], {}, None, ["ann", "bob"], "handle"),
    ],
)
def test_a_tie_on_total_is_broken_as_documented(perf, events, first, rules, order, rule) -> None:
    formula = Formula(tie_break=rules) if rules else Formula()
    table = compute(
        _members("bob", "ann", first=first), _perf(perf), _events(events), ["w1"], formula
    )
    assert table["total"].iloc[0] == table["total"].iloc[1]
    assert list(table["handle"]) == order
    assert table["tie_note"].iloc[1] == f"tied with {order[0]} on total; ordered after by {rule}"


def test_the_cut_says_how_many_points_each_member_below_lacked() -> None:
    perf = _perf(
        [("a", "w1", 1.0), ("b", "w1", 0.8), ("c", "w1", 0.6), ("d", "w1", 0.6), ("e", "w1", 0.1)]
    )
    table = compute(_members("a", "b", "c", "d", "e"), perf, _events([]), ["w1"], Formula())
    selected, below = cut(table, 2)
    assert list(selected["handle"]) == ["a", "b"]
    assert list(zip(below["handle"], below["lacked"], strict=True)) == [
        ("c", 2.0),
        ("d", 2.0),
        ("e", 7.0),
    ]


def _resample(truth: np.ndarray, preds: list[np.ndarray]) -> WeekResample:
    return WeekResample(
        0, np.arange(len(preds)), truth, np.stack(preds), metrics.get("accuracy"), "max"
    )


def test_bootstrap_flags_two_indistinguishable_members() -> None:
    truth = np.tile([0, 1], 100)
    a, b = truth.copy(), truth.copy()
    a[:40] = 1 - a[:40]  # both 80% right, on different rows
    b[-40:] = 1 - b[-40:]
    boot = bootstrap_totals(
        np.array([[10.0], [5.0]]), np.zeros(2), [_resample(truth, [a, b])], Formula(), 200
    )
    p = ahead_probability(boot, 0, 1)
    assert 0.3 < p < 0.7 and p < Formula().stable_probability
    again = bootstrap_totals(
        np.array([[10.0], [5.0]]), np.zeros(2), [_resample(truth, [a, b])], Formula(), 200
    )
    assert np.array_equal(boot, again)  # seeded: the same flag on every run


def test_bootstrap_keeps_two_far_apart_members_in_order() -> None:
    truth = np.tile([0, 1], 100)
    a, b = truth.copy(), truth.copy()
    a[:10] = 1 - a[:10]  # 95% right
    b[:100] = 1 - b[:100]  # 50% right
    boot = bootstrap_totals(
        np.array([[10.0], [5.0]]), np.zeros(2), [_resample(truth, [a, b])], Formula(), 200
    )
    assert ahead_probability(boot, 0, 1) == 1.0


def test_each_resample_takes_a_members_best_counted_submission_as_the_board_does() -> None:
    # Ann's two counted files are each right on a different half of the rows (50% apiece); Bob's
    # one file is 51% right, so on the observed rows Bob leads. In a resample one of Ann's files
    # nearly always beats 50%, and her board line is the better of the two: a real toss-up. Fixing
    # her observed winner instead would call Bob safely ahead (about 0.06).
    truth = np.tile([0, 1], 100)
    first, second, bob = truth.copy(), truth.copy(), truth.copy()
    first[:100] = 1 - first[:100]
    second[100:] = 1 - second[100:]
    bob[:98] = 1 - bob[:98]
    week = WeekResample(
        0,
        np.array([0, 0, 1]),
        truth,
        np.stack([first, second, bob]),
        metrics.get("accuracy"),
        "max",
    )
    boot = bootstrap_totals(np.array([[5.0], [10.0]]), np.zeros(2), [week], Formula(), 200)
    assert 0.3 < ahead_probability(boot, 0, 1) < 0.7


def test_best_skips_a_resample_score_that_is_undefined() -> None:
    week = WeekResample(
        0, np.array([0, 0, 2]), np.zeros(1), np.zeros((3, 1)), metrics.get("mae"), "min"
    )
    members, scores = week.best(np.array([np.nan, 0.4, 0.7]))
    assert members.tolist() == [0, 2] and scores.tolist() == [0.4, 0.7]


# --- end to end, through real scored submissions ---------------------------------------------

START = datetime(2026, 1, 5, tzinfo=UTC) - timedelta(
    hours=1
)  # midnight in Amsterdam; weeks long closed
IDS = [f"r{i:03d}" for i in range(100)]
TRUTH = np.array(["cat", "dog"] * 50, dtype=object)


def _flip(rows: slice) -> np.ndarray:
    values = TRUTH.copy()
    values[rows] = np.where(values[rows] == "cat", "dog", "cat")
    return values


# Private rows are 30..99. Bob and Cy are 80% right on different private rows; Dee 50%.
PREDICTIONS = {
    "ann": TRUTH,
    "bob": _flip(slice(30, 44)),
    "cy": _flip(slice(86, 100)),
    "dee": _flip(slice(30, 65)),
}
SUBMITTED = {"ann": 9, "bob": 10, "cy": 11, "dee": 12}  # hour of day on the week's second day


def build_season(make_cohort, tmp_path: Path, name: str = "cohort") -> Cohort:
    """Two closed weeks: a tie between bob and cy at 8.5 points, ann far ahead, dee far behind."""
    root = make_cohort(
        {"01-a": {}, "02-b": {"opens": 7, "closes": 14}}, start="2026-01-05", name=name
    )
    for week in ("01-a", "02-b"):
        (root / "data" / week).mkdir(parents=True)
        pd.DataFrame(
            {"id": IDS, "label": TRUTH, "Usage": ["Public"] * 30 + ["Private"] * 70}
        ).to_csv(root / "data" / week / "solution.csv", index=False)
    write_roster(
        root,
        [
            ("ann", "Ann Lee", "ann@example.org", "ann"),  # her week-2 kernel is her own
            ("bob", "Bob Ray", "bob@example.org", ""),
            ("cy", "Cy Young", "cy@example.org", ""),
            ("dee", "Dee Dee", "dee@example.org", ""),
        ],
    )
    cohort = Cohort.open(root)
    import_roster(cohort.store, root / "members.csv")
    for handle, values in PREDICTIONS.items():
        path = tmp_path / f"{name}-{handle}.csv"
        pd.DataFrame({"id": IDS, "label": values}).to_csv(path, index=False)
        intake.submit(
            cohort, handle, "1", path, at=START + timedelta(days=1, hours=SUBMITTED[handle])
        )
    path = tmp_path / f"{name}-ann.csv"
    intake.submit(
        cohort,
        "ann",
        "2",
        path,
        "https://www.kaggle.com/code/ann/week-2",
        at=START + timedelta(days=8, hours=9),
    )
    contributions.add(cohort, "ann", "presented", week_ref="1")
    contributions.add(cohort, "bob", "attended", week_ref="1")
    contributions.add(cohort, "cy", "attended", week_ref="1")
    contributions.add(cohort, "dee", "helped", note="answered a question")
    return cohort


@pytest.fixture
def season(make_cohort, tmp_path: Path) -> Cohort:
    return build_season(make_cohort, tmp_path)


def test_standings_of_a_season(season: Cohort) -> None:
    table = standings.standings(season)
    assert table.weeks == ("01-a", "02-b") and table.revealed == {"01-a": True, "02-b": True}
    assert [(r.rank, r.handle, r.total) for r in table.rows] == [
        (1, "ann", 25.0),
        (2, "bob", 8.5),
        (3, "cy", 8.5),
        (4, "dee", 3.5),
    ]
    ann = table.rows[0]
    assert {k: v for k, v in ann.components.items() if v} == {
        "01-a": 10.0,
        "02-b": 10.0,
        "presented": 3.0,
        "on_time_kernel": 2.0,
    }
    assert table.rows[2].tie_note == "tied with bob on total; ordered after by earliest_submission"


def test_selection_reasons_sum_to_totals_and_the_tie_at_the_cut_is_flagged(season: Cohort) -> None:
    sel = selection.select(season, top=2)
    assert [(s.handle, s.total) for s in sel.selected] == [("ann", 25.0), ("bob", 8.5)]
    for s in sel.selected:
        assert sum(s.reason.values()) == pytest.approx(s.total, abs=1e-9)
    assert sel.selected[1].reason == {"01-a": 7.5, "attended": 1.0}
    assert [(b.handle, b.lacked, b.note) for b in sel.below_cut] == [
        ("cy", 0.0, "equal total; ordered after by earliest_submission"),
        ("dee", 5.0, "5 points short of the cut"),
    ]
    cut_pair = sel.ties[0]
    assert (cut_pair.above, cut_pair.below, cut_pair.flagged) == ("bob", "cy", True)
    assert 0.3 < cut_pair.probability < 0.7
    assert sel.cut_probability is not None and sel.cut_probability < 0.9


def test_a_far_apart_cut_is_stable(season: Cohort) -> None:
    sel = selection.select(season, top=3)
    assert [t for t in sel.ties if t.flagged] == []
    assert [(t.above, t.below, t.probability) for t in sel.ties] == [("cy", "dee", 1.0)]
    assert sel.cut_probability == 1.0


def test_standings_and_selection_are_identical_across_runs(season: Cohort) -> None:
    first, second = selection.select(season), selection.select(season)
    assert first.as_dict() == second.as_dict()
    assert first.standings.inputs == second.standings.inputs


def test_before_reveal_only_public_scores_count(season: Cohort) -> None:
    during = START + timedelta(days=2)  # week 1 still open and not revealed
    table = standings.standings(season, now=during)
    assert table.revealed == {"01-a": False, "02-b": False}
    # Everyone is 100% right on the public rows, so nobody's private result shows through.
    assert sorted(table.scores["score"]) == pytest.approx([1.0] * 5)
    assert {r.handle: r.components["01-a"] for r in table.rows} == {
        "ann": 10.0,
        "bob": 10.0,
        "cy": 10.0,
        "dee": 10.0,
    }
    assert selection.select(season, top=2, now=during).unrevealed == ["01-a", "02-b"]


def test_freeze_records_the_selection_and_refuses_to_refreeze(season: Cohort) -> None:
    first = selection.freeze(season, "lead", top=2)
    with pytest.raises(
        CohortError,
        match=r"^The selection was already frozen \(#1, .* UTC by lead\); pass --force to freeze again",
    ):
        selection.freeze(season, "lead", top=2)
    second = selection.freeze(season, "lead", top=3, force=True)
    old, new = sorted(selection.frozen(season), key=lambda f: f.id)
    assert (old.id, old.superseded, new.id, new.superseded) == (first, True, second, False)
    assert (
        old.inputs_sha256
        == new.inputs_sha256
        == selection.inputs_hash(standings.standings(season).inputs)
    )
    assert [s["handle"] for s in new.result["selected"]] == ["ann", "bob", "cy"]
    assert new.formula["performance_weight"] == 10.0
    assert new.inputs["scores"][0] == ["01-a", "ann", pytest.approx(1.0), 1, 1.0]


def test_select_needs_a_positive_top(season: Cohort) -> None:
    with pytest.raises(
        CohortError, match=r"^Cannot select the top 0; pass --top with a positive number\.$"
    ):
        selection.select(season, top=0)


def test_a_week_without_its_solution_is_held_fixed_in_the_tie_check(season: Cohort) -> None:
    (season.root / "data/02-b/solution.csv").unlink()
    sel = selection.select(season, top=2)
    assert sel.notes == [
        f"Week 02-b is held fixed in the tie check: Week '02-b' has no solution file "
        f"{season.root / 'data/02-b/solution.csv'}; run `cohort prepare 02-b` first."
    ]
    assert sel.ties[0].flagged  # week 01-a still resampled: bob and cy remain indistinguishable


def test_drop_lowest_week_from_cohort_toml_keeps_reasons_summing(
    make_cohort, tmp_path: Path
) -> None:
    cohort = build_season(make_cohort, tmp_path)
    toml = cohort.root / "cohort.toml"
    toml.write_text(toml.read_text() + "\n[formula]\ndrop_lowest_week = true\n")
    cohort = Cohort.open(cohort.root)
    sel = selection.select(cohort, top=2)
    assert [(s.handle, s.total) for s in sel.selected] == [("ann", 15.0), ("bob", 8.5)]
    assert sel.selected[0].reason == {
        "02-b": 10.0,
        "presented": 3.0,
        "on_time_kernel": 2.0,
    }  # 01-a dropped
    assert [r.dropped_week for r in sel.standings.rows] == ["01-a", "02-b", "02-b", "02-b"]
    for s in sel.selected:
        assert sum(s.reason.values()) == pytest.approx(s.total, abs=1e-9)
    assert sel.ties[0].above == "bob" and sel.ties[0].flagged


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "[3, -1]",
            r"key 'formula\.challenge_points' is \[3, -1\]; list zero-or-positive numbers, e.g\. \[3, 2, 1\]\.$",
        ),
        ('"3,2,1"', r"key 'formula\.challenge_points' is '3,2,1', not a list; fix its type\.$"),
    ],
)
def test_challenge_points_are_validated_at_load(make_cohort, value: str, message: str) -> None:
    from cohort import config
    from cohort.errors import ConfigError

    root = make_cohort({"01-a": {}})
    (root / "cohort.toml").write_text(
        (root / "cohort.toml").read_text() + f"\n[formula]\nchallenge_points = {value}\n"
    )
    with pytest.raises(ConfigError, match=message):
        config.load(root)
