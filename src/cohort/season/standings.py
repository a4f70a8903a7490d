"""The season standings: every member's week points and contributions, ranked by the formula."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import pandas as pd

from cohort.config import CONTRIBUTION_KINDS, Formula
from cohort.season.formula import _iso, compute, percentile_ranks, records
from cohort.workspace import Cohort, utcnow

# --- gathering inputs -----------------------------------------------------------------------


@dataclass(frozen=True)
class StandingRow:
    """One member's place: the total and the components that sum to it."""

    rank: int
    handle: str
    name: str
    total: float
    performance: float
    contributions: float
    components: dict[str, float]
    dropped_week: str = ""
    tie_note: str = ""


@dataclass(frozen=True)
class Standings:
    """The season table, plus what it was computed from (for freezes and the bootstrap)."""

    rows: list[StandingRow]
    weeks: tuple[str, ...]
    revealed: dict[str, bool]
    formula: Formula
    table: pd.DataFrame = field(repr=False)
    scores: pd.DataFrame = field(repr=False)
    # What the freeze records is built only when asked for (`inputs`): a page view never needs it.
    members: pd.DataFrame = field(repr=False)
    events: pd.DataFrame = field(repr=False)
    _built: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def inputs(self) -> dict[str, Any]:
        """Everything the standings came from, JSON-ready, in a stable order (hashed by freeze)."""
        if "inputs" not in self._built:
            self._built["inputs"] = _inputs(
                self.members, self.scores, self.events, self.revealed, self.formula
            )
        return dict(self._built["inputs"])

    def frame(self) -> pd.DataFrame:
        """One row per member: rank, handle, name, components, totals (for exports)."""
        return self.table.drop(columns=["first_submission"])

    def as_dicts(self) -> list[dict[str, Any]]:
        """JSON-ready rows."""
        return [asdict(r) for r in self.rows]


def _members(cohort: Cohort, weeks: list[str]) -> pd.DataFrame:
    from cohort.sheets.roster import list_members
    from cohort.store import revision as store_revision
    from cohort.store import selections as store_sel

    with cohort.store.transaction() as tx:
        # Kept per member of each week: a new entry re-reads that member's first submission.
        first: dict[str, datetime] = {}
        for week in weeks:
            kept = store_revision.by_members(
                tx,
                "first_scored",
                week,
                None,
                partial(store_sel.first_scored, tx, [week]),
                lambda row: row[0],
            )
            for _, handle, at in kept:
                first[handle] = min(at, first.get(handle, at))
    people = list_members(cohort.store, include_inactive=False)
    return pd.DataFrame(
        {
            "handle": [m.handle for m in people],
            "name": [m.name for m in people],
            "first_submission": [first.get(m.handle) for m in people],
        },
        columns=["handle", "name", "first_submission"],
    )


def _week_scores(
    cohort: Cohort, now: datetime
) -> tuple[pd.DataFrame, dict[str, bool], dict[str, str]]:
    """Each held season week's leaderboard scores and percentiles; private only after reveal."""
    from cohort.scoring import boards

    frames, revealed, directions = [], {}, {}
    for week in cohort.config.season_weeks:
        if not boards.week_has_scores(cohort, week.id):
            continue
        revealed[week.id] = boards.is_revealed(cohort, week.id, now=now)
        board = boards.leaderboard(cohort, week.id, private=revealed[week.id], now=now)
        directions[week.id] = board.direction
        rows = [
            (r.handle, float(r.score), r.submission_id) for r in board.rows if r.score is not None
        ]
        frame = pd.DataFrame(rows, columns=["handle", "score", "submission_id"])
        frame["week"] = week.id
        frame["percentile"] = percentile_ranks(frame["score"].to_numpy(), board.direction)
        frames.append(frame)
    columns = ["handle", "score", "submission_id", "week", "percentile"]
    scores = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return scores, revealed, directions


def _season_events(cohort: Cohort) -> pd.DataFrame:
    from cohort.season import contributions

    frame = contributions.events(cohort, evidence=False)
    # Final-project events do not count in the season; week-less events (e.g. help on the forum) do.
    season = {w.id for w in cohort.config.season_weeks} | {""}
    return frame[frame["week"].isin(season)].reset_index(drop=True)


def _inputs(
    members: pd.DataFrame,
    scores: pd.DataFrame,
    events: pd.DataFrame,
    revealed: dict[str, bool],
    formula: Formula,
) -> dict[str, Any]:
    """Everything the standings came from, JSON-ready, in a stable order (hashed by freeze)."""
    ev = events.sort_values(["handle", "week", "kind", "recorded_at"], kind="stable")
    return {
        "formula": formula_dict(formula),
        "members": [
            [r["handle"], r["name"], _iso(r["first_submission"])] for r in records(members)
        ],
        "revealed": dict(sorted(revealed.items())),
        "scores": [
            [
                r["week"],
                r["handle"],
                float(r["score"]),
                int(r["submission_id"]),
                float(r["percentile"]),
            ]
            for r in records(scores.sort_values(["week", "handle"]))
        ],
        "events": [
            [
                None if r["id"] is None or pd.isna(r["id"]) else int(r["id"]),
                r["handle"],
                r["week"],
                r["kind"],
                float(r["value"]),
                r["source"],
            ]
            for r in records(ev)
        ],
    }


def formula_dict(formula: Formula) -> dict[str, Any]:
    """The formula as plain JSON."""
    data = asdict(formula)
    data["tie_break"] = list(formula.tie_break)
    data["challenge_points"] = list(formula.challenge_points)
    return data


def standings(cohort: Cohort, now: datetime | None = None) -> Standings:
    """The season standings: each member's total and components, best first."""
    now = now or utcnow()
    scores, revealed, _ = _week_scores(cohort, now)
    weeks = [w.id for w in cohort.config.season_weeks if w.id in revealed]
    members = _members(cohort, weeks)
    events = _season_events(cohort)
    events = events[events["handle"].isin(set(members["handle"]))]
    formula = cohort.config.formula
    table = compute(members, scores, events, weeks, formula)
    rows = [
        StandingRow(
            int(r["rank"]),
            r["handle"],
            r["name"],
            float(r["total"]),
            float(r["performance"]),
            float(r["contributions"]),
            {c: float(r[c]) for c in (*weeks, *CONTRIBUTION_KINDS)},
            r["dropped_week"],
            r["tie_note"],
        )
        for r in records(table)
    ]
    return Standings(
        rows,
        tuple(weeks),
        revealed,
        formula,
        table,
        scores,
        members,
        events,
    )
