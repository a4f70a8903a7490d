"""The season formula, the standings, the top-N selection with reasons, and its freeze.

The ranking math is pure (`compute`, `percentile_ranks`, `season_totals`, `cut`,
`bootstrap_totals`): DataFrames and arrays in, DataFrames and arrays out. The
rest gathers inputs through the scorer's functions and the store.

The formula (docs/standings.md has the long version):
- a week's performance = performance_weight x percentile, where the percentile is
  the share of that week's scored members the member scores at least as well as
  (1.0 = best; the leaderboard's private scores after reveal, public before);
  a week without a score counts 0;
- each contribution kind = its weight x units (the event values; a challenge rank
  r earns challenge_points[r-1] units, 0 past the list);
- drop_lowest_week removes each member's lowest week (the earliest of equal ones);
- components are rounded to 4 decimals and the total is their sum, so a reason
  always adds up to the total;
- ties on the total are broken by formula.tie_break, in order: more performance
  points, more contribution points, the earlier first scored submission, the handle.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from cohort.config import CONTRIBUTION_KINDS, Formula
from cohort.errors import CohortError
from cohort.metrics import Metric
from cohort.workspace import Cohort, utcnow

DECIMALS = 4
BELOW_CUT_SHOWN = 3
# Fixed, so the bootstrap (and so the tie flags) are identical on every run.
BOOTSTRAP_SEED = 20270111


# --- pure ranking math ----------------------------------------------------------------------

def percentile_ranks(scores: np.ndarray, direction: str) -> np.ndarray:
    """Share of the scores each one is at least as good as (1.0 = best, ties share the higher)."""
    # Scores equal to 12 decimals are tied: float noise in a metric must not split a true tie.
    values = np.round(np.asarray(scores, dtype=float), 12)
    if direction == "min":
        values = -values
    # A NaN score (a metric that failed) ranks below every real score.
    values = np.where(np.isnan(values), -np.inf, values)
    ranks = pd.Series(values).rank(method="max").to_numpy()
    return ranks / max(len(values), 1)


def challenge_units(rank: float, points: tuple[float, ...]) -> float:
    """Units a workshop coding-challenge rank earns (rank 1 = points[0])."""
    index = int(rank) - 1
    return points[index] if 0 <= index < len(points) else 0.0


def contribution_points(events: pd.DataFrame, handles: list[str], formula: Formula) -> pd.DataFrame:
    """Weighted, rounded points per member (rows) and contribution kind (columns)."""
    kinds = list(CONTRIBUTION_KINDS)
    table = pd.DataFrame(0.0, index=pd.Index(handles, name="handle"), columns=kinds)
    if events.empty:
        return table
    units = events["value"].astype(float).to_numpy().copy()
    is_rank = (events["kind"] == "challenge_rank").to_numpy()
    units[is_rank] = [challenge_units(v, formula.challenge_points) for v in units[is_rank]]
    frame = pd.DataFrame({"handle": events["handle"].to_numpy(), "kind": events["kind"].to_numpy(), "units": units})
    sums = frame.groupby(["handle", "kind"])["units"].sum().unstack(fill_value=0)
    sums = sums.reindex(index=handles, columns=kinds, fill_value=0.0)
    weights = pd.Series(formula.contribution_weights).reindex(kinds, fill_value=0.0)
    return (sums * weights).round(DECIMALS).astype(float)


def season_totals(points: np.ndarray, contributions: np.ndarray, drop_lowest: bool) -> tuple[np.ndarray, np.ndarray]:
    """Totals from week points (members x weeks) and contribution sums; and the dropped week (-1 = none)."""
    points = np.asarray(points, dtype=float)
    dropped = np.full(points.shape[0], -1)
    kept = points
    if drop_lowest and points.shape[1] >= 2:
        dropped = points.argmin(axis=1)
        kept = points.copy()
        kept[np.arange(points.shape[0]), dropped] = 0.0
    performance = np.round(kept.sum(axis=1), DECIMALS)
    return np.round(performance + contributions, DECIMALS), dropped


def _sort_key(row: dict[str, Any], rules: tuple[str, ...]) -> tuple[Any, ...]:
    key: list[Any] = [-row["total"]]
    for rule in rules:
        if rule == "performance":
            key.append(-row["performance"])
        elif rule == "contributions":
            key.append(-row["contributions"])
        elif rule == "earliest_submission":
            first = row["first_submission"]
            key.append((1, "") if first is None or pd.isna(first) else (0, pd.Timestamp(first).isoformat()))
        elif rule == "handle":
            key.append(row["handle"])
    return tuple(key)


def _decided_by(a: dict[str, Any], b: dict[str, Any], rules: tuple[str, ...]) -> str:
    """The first tie-break rule that puts `a` before `b`."""
    ka, kb = _sort_key(a, rules), _sort_key(b, rules)
    return next((rule for rule, x, y in zip(rules, ka[1:], kb[1:], strict=True) if x != y), "handle")


def week_points(performance: pd.DataFrame, handles: list[str], weeks: list[str],
                formula: Formula) -> pd.DataFrame:
    """Weighted, rounded performance points per member (rows) and week (columns); missing = 0."""
    if performance.empty or not weeks:
        return pd.DataFrame(0.0, index=pd.Index(handles, name="handle"), columns=weeks)
    pct = performance.pivot_table(index="handle", columns="week", values="percentile", aggfunc="max")
    pct = pct.reindex(index=handles, columns=weeks).fillna(0.0).astype(float)
    pct.index.name, pct.columns.name = "handle", None
    return (pct * formula.performance_weight).round(DECIMALS)


def compute(members: pd.DataFrame, performance: pd.DataFrame, events: pd.DataFrame,
            weeks: list[str], formula: Formula) -> pd.DataFrame:
    """The standings table, best first.

    members: handle, name, first_submission (NaT when none); performance: handle, week,
    percentile; events: handle, kind, value. Returns rank, handle, name, one column per
    week and per contribution kind, performance, contributions, total, dropped_week, tie_note.
    """
    handles = list(members["handle"])
    points = week_points(performance, handles, weeks, formula)
    contrib = contribution_points(events, handles, formula)
    csum = np.round(contrib.sum(axis=1).to_numpy(), DECIMALS)
    totals, dropped = season_totals(points.to_numpy(), csum, formula.drop_lowest_week)
    for i, d in enumerate(dropped):
        if d >= 0:
            points.iloc[i, d] = 0.0
    table = pd.concat([members.set_index("handle")[["name", "first_submission"]], points, contrib], axis=1)
    table["performance"] = np.round(points.sum(axis=1).to_numpy(), DECIMALS)
    table["contributions"] = csum
    table["total"] = totals
    table["dropped_week"] = [weeks[d] if d >= 0 else "" for d in dropped]
    rows: list[dict[str, Any]] = _records(table.reset_index(names="handle"))
    rows.sort(key=lambda r: _sort_key(r, formula.tie_break))
    for i, row in enumerate(rows):
        row["rank"] = i + 1
        above = rows[i - 1] if i else None
        row["tie_note"] = (f"tied with {above['handle']} on total; ordered after by {_decided_by(above, row, formula.tie_break)}"
                           if above is not None and above["total"] == row["total"] else "")
    columns = ["rank", "handle", "name", *weeks, "performance", *CONTRIBUTION_KINDS, "contributions",
               "total", "dropped_week", "tie_note", "first_submission"]
    return pd.DataFrame(rows, columns=columns)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _iso(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def cut(table: pd.DataFrame, top: int, below: int = BELOW_CUT_SHOWN) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first `top` rows, and the next `below` with the points each lacked to reach the cut."""
    selected = table.iloc[:top]
    under = table.iloc[top: top + below].copy()
    line = float(selected["total"].iloc[-1]) if len(selected) else 0.0
    under["lacked"] = np.round(line - under["total"].astype(float), DECIMALS)
    return selected, under


@dataclass(frozen=True)
class WeekResample:
    """One week's data for the bootstrap: whose scores count, and the rows they are scored on."""

    column: int
    # Position (in the standings order) of the member owning each candidate, ascending: a member
    # has one candidate per submission that can be their line on the board (see _week_resample).
    members: np.ndarray
    truth: np.ndarray  # (n, ...) the counted test rows: private after reveal, public before
    predictions: np.ndarray  # (len(members), n, ...) each candidate submission on those rows
    metric: Metric
    direction: str

    def best(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each member's best candidate score, as their board line takes it: (positions, scores)."""
        starts = np.flatnonzero(np.r_[True, self.members[1:] != self.members[:-1]])
        pick = np.fmin if self.direction == "min" else np.fmax  # fmin/fmax skip a NaN resample score
        return self.members[starts], pick.reduceat(scores, starts)


def bootstrap_totals(points: np.ndarray, contributions: np.ndarray, weeks: list[WeekResample],
                     formula: Formula, samples: int, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """Season totals (samples x members) with every week's test rows resampled with replacement."""
    rng = np.random.default_rng(seed)
    out = np.empty((samples, points.shape[0]))
    for b in range(samples):
        resampled = np.array(points, dtype=float)
        for w in weeks:
            idx = rng.integers(0, len(w.truth), len(w.truth))
            members, scores = w.best(w.metric.batch(w.truth[idx], w.predictions[:, idx]))
            pct = percentile_ranks(scores, w.direction)
            resampled[members, w.column] = np.round(pct * formula.performance_weight, DECIMALS)
        out[b], _ = season_totals(resampled, contributions, formula.drop_lowest_week)
    return out


def ahead_probability(totals: np.ndarray, i: int, j: int) -> float:
    """Share of resamples in which member i stays ahead of member j (an exact tie counts half)."""
    a, b = totals[:, i], totals[:, j]
    return float(np.mean(a > b) + 0.5 * np.mean(a == b))


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
    inputs: dict[str, Any] = field(repr=False)

    def frame(self) -> pd.DataFrame:
        """One row per member: rank, handle, name, components, totals (for exports)."""
        return self.table.drop(columns=["first_submission"])

    def as_dicts(self) -> list[dict[str, Any]]:
        """JSON-ready rows."""
        return [asdict(r) for r in self.rows]


def _members(cohort: Cohort, weeks: list[str]) -> pd.DataFrame:
    from cohort.members import list_members
    from cohort.store import selections as store_sel

    with cohort.store.transaction() as tx:
        first = store_sel.first_submissions(tx, weeks)
    people = list_members(cohort.store)
    return pd.DataFrame({
        "handle": [m.handle for m in people], "name": [m.name for m in people],
        "first_submission": [first.get(m.handle) for m in people],
    }, columns=["handle", "name", "first_submission"])


def _week_scores(cohort: Cohort, now: datetime) -> tuple[pd.DataFrame, dict[str, bool], dict[str, str]]:
    """Each held season week's leaderboard scores and percentiles; private only after reveal."""
    from cohort import scoring

    frames, revealed, directions = [], {}, {}
    for week in cohort.config.season_weeks:
        if not scoring.week_has_scores(cohort, week.id):
            continue
        revealed[week.id] = scoring.is_revealed(cohort, week.id, now=now)
        board = scoring.leaderboard(cohort, week.id, private=revealed[week.id], now=now)
        directions[week.id] = board.direction
        rows = [(r.handle, float(r.score), r.submission_id) for r in board.rows if r.score is not None]
        frame = pd.DataFrame(rows, columns=["handle", "score", "submission_id"])
        frame["week"] = week.id
        frame["percentile"] = percentile_ranks(frame["score"].to_numpy(), board.direction)
        frames.append(frame)
    columns = ["handle", "score", "submission_id", "week", "percentile"]
    scores = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return scores, revealed, directions


def _season_events(cohort: Cohort) -> pd.DataFrame:
    from cohort import contributions

    frame = contributions.events(cohort)
    # Final-project events do not count in the season; week-less events (e.g. help on the forum) do.
    season = {w.id for w in cohort.config.season_weeks} | {""}
    return frame[frame["week"].isin(season)].reset_index(drop=True)


def _inputs(members: pd.DataFrame, scores: pd.DataFrame, events: pd.DataFrame,
            revealed: dict[str, bool], formula: Formula) -> dict[str, Any]:
    """Everything the standings came from, JSON-ready, in a stable order (hashed by freeze)."""
    ev = events.sort_values(["handle", "week", "kind", "recorded_at"], kind="stable")
    return {
        "formula": formula_dict(formula),
        "members": [[r["handle"], r["name"], _iso(r["first_submission"])] for r in _records(members)],
        "revealed": dict(sorted(revealed.items())),
        "scores": [[r["week"], r["handle"], float(r["score"]), int(r["submission_id"]), float(r["percentile"])]
                   for r in _records(scores.sort_values(["week", "handle"]))],
        "events": [[None if r["id"] is None or pd.isna(r["id"]) else int(r["id"]), r["handle"], r["week"],
                    r["kind"], float(r["value"]), r["source"]] for r in _records(ev)],
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
    rows = [StandingRow(int(r["rank"]), r["handle"], r["name"], float(r["total"]), float(r["performance"]),
                        float(r["contributions"]), {c: float(r[c]) for c in (*weeks, *CONTRIBUTION_KINDS)},
                        r["dropped_week"], r["tie_note"])
            for r in table.to_dict("records")]
    return Standings(rows, tuple(weeks), revealed, formula, table, scores,
                     _inputs(members, scores, events, revealed, formula))


# --- selection ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Selected:
    rank: int
    handle: str
    name: str
    total: float
    reason: dict[str, float]


@dataclass(frozen=True)
class BelowCut:
    rank: int
    handle: str
    name: str
    total: float
    lacked: float
    note: str


@dataclass(frozen=True)
class Tie:
    """How often `above` stays ahead of `below` when the test rows are resampled."""

    above: str
    below: str
    probability: float
    flagged: bool


@dataclass(frozen=True)
class Selection:
    top: int
    selected: list[Selected]
    below_cut: list[BelowCut]
    ties: list[Tie]
    cut_probability: float | None
    samples: int
    unrevealed: list[str]
    notes: list[str]
    standings: Standings = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready selection (without the full standings)."""
        return {
            "top": self.top, "selected": [asdict(s) for s in self.selected],
            "below_cut": [asdict(b) for b in self.below_cut], "ties": [asdict(t) for t in self.ties],
            "cut_probability": self.cut_probability, "bootstrap_samples": self.samples,
            "unrevealed_weeks": self.unrevealed, "notes": self.notes,
        }


def _reason(row: StandingRow) -> dict[str, float]:
    """The non-zero components: they add up to the total."""
    return {k: v for k, v in row.components.items() if v != 0.0}


def _below_note(row: StandingRow, lacked: float) -> str:
    if lacked > 0:
        return f"{lacked:g} points short of the cut"
    return f"equal total; {row.tie_note.split('; ', 1)[-1]}" if row.tie_note else "equal total; placed after by the tie-break"


def cut_size(cohort: Cohort, top: int | None) -> int:
    """How many members the cut keeps: `top`, else the cohort's final_size; refuses fewer than 1."""
    top = top if top is not None else cohort.config.final_size
    if top < 1:
        raise CohortError(f"Cannot select the top {top}; pass --top with a positive number.")
    return top


def select(cohort: Cohort, top: int | None = None, now: datetime | None = None) -> Selection:
    """The top N with reasons, the members just below the cut, and bootstrap tie flags at the cut."""
    top = cut_size(cohort, top)
    table = standings(cohort, now)
    chosen, under = cut(table.table, top)
    by_handle = {r.handle: r for r in table.rows}
    selected = [Selected(r.rank, r.handle, r.name, r.total, _reason(r))
                for r in (by_handle[h] for h in chosen["handle"])]
    below = [BelowCut(int(u["rank"]), u["handle"], u["name"], float(u["total"]), float(u["lacked"]),
                      _below_note(by_handle[u["handle"]], float(u["lacked"])))
             for u in under.to_dict("records")]
    ties, probability, notes = _ties(cohort, table, len(chosen), len(under))
    unrevealed = [w for w, shown in table.revealed.items() if not shown]
    return Selection(top, selected, below, ties, probability, cohort.config.formula.bootstrap_samples,
                     unrevealed, notes, table)


def _ties(cohort: Cohort, table: Standings, n_selected: int,
          n_below: int) -> tuple[list[Tie], float | None, list[str]]:
    """Pairs straddling the cut whose order is not stable (the cut pair always); P(cut holds); notes."""
    if n_below == 0 or table.scores.empty:
        return [], None, []
    formula = table.formula
    frame = table.table
    weeks = list(table.weeks)
    points = frame[weeks].to_numpy(dtype=float)
    # Undo the dropped week in the base: the bootstrap re-decides which week is lowest.
    points = _undropped(points, frame, table.scores, weeks, formula)
    resamples, notes = _resamples(cohort, table, weeks)
    boot = bootstrap_totals(points, frame["contributions"].to_numpy(dtype=float), resamples,
                            formula, formula.bootstrap_samples)
    inside = range(max(0, n_selected - BELOW_CUT_SHOWN), n_selected)
    outside = range(n_selected, n_selected + n_below)
    handles = list(frame["handle"])
    ties = []
    for i in inside:
        for j in outside:
            p = round(ahead_probability(boot, i, j), 3)
            flagged = p < formula.stable_probability
            if flagged or (i == n_selected - 1 and j == n_selected):
                ties.append(Tie(handles[i], handles[j], p, flagged))
    low = boot[:, :n_selected].min(axis=1)
    high = boot[:, n_selected:].max(axis=1)
    return ties, round(float(np.mean(low > high) + 0.5 * np.mean(low == high)), 3), notes


def _undropped(points: np.ndarray, frame: pd.DataFrame, scores: pd.DataFrame,
               weeks: list[str], formula: Formula) -> np.ndarray:
    if not formula.drop_lowest_week:
        return points
    return week_points(scores, list(frame["handle"]), weeks, formula).to_numpy()


def _resamples(cohort: Cohort, table: Standings, weeks: list[str]) -> tuple[list[WeekResample], list[str]]:
    """Each week's resampling data; a week whose files are gone is held fixed, with a note why."""
    position = {h: i for i, h in enumerate(table.table["handle"])}
    out, notes = [], []
    for col, week in enumerate(weeks):
        try:
            out.append(_week_resample(cohort, table, col, week, position))
        except CohortError as exc:
            notes.append(f"Week {week} is held fixed in the tie check: {exc}")
    return out, notes


def _week_resample(cohort: Cohort, table: Standings, col: int, week: str,
                   position: dict[str, int]) -> WeekResample:
    """The week's counted rows and, per member on the board, every submission that could be their line.

    Before reveal a member's line is their best public score of all their files; after reveal it
    is the best private score of their counted (selected, else best public) files. Each resample
    re-picks the best among those, as the board would, rather than fixing today's winner.
    """
    from cohort import metrics, scoring, submissions

    wk = cohort.config.week(week)
    revealed = table.revealed[week]
    frame = scoring.week_frame(cohort, wk)
    files = frame[(frame["file_sha256"] != "") & frame["public_score"].notna() & frame["handle"].isin(position)]
    if revealed:
        counted = scoring.counted_ids(files, wk.competition.direction, wk.competition.final_selections)
        files = files[files["submission_id"].isin([i for ids in counted.values() for i in ids])]
    files = files.assign(position=files["handle"].map(position)).sort_values(["position", "submission_id"])
    solution = scoring.load_solution(cohort, week)
    # Private rows only once revealed, so the tie check never leaks a hidden score.
    mask = ~solution.public if revealed else solution.public
    preds = np.stack([submissions.stored_values(cohort, solution, sha)[mask] for sha in files["file_sha256"]])
    return WeekResample(col, files["position"].to_numpy(), solution.truth[mask], preds,
                        metrics.get(solution.metric), wk.competition.direction)


# --- freeze ---------------------------------------------------------------------------------

def inputs_hash(inputs: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the inputs."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _refuse_refreeze(old: Any) -> CohortError:
    return CohortError(
        f"The selection was already frozen (#{old.id}, {old.frozen_at:%Y-%m-%d %H:%M} UTC by {old.frozen_by}); "
        "pass --force to freeze again (the old freeze is kept, marked superseded)."
    )


def freeze(cohort: Cohort, actor: str, top: int | None = None, force: bool = False,
           now: datetime | None = None, selection: Selection | None = None) -> int:
    """Record the selection with its formula and inputs; refuses to re-freeze unless `force`."""
    from cohort.store import audit
    from cohort.store import selections as store_sel

    now = now or utcnow()
    with cohort.store.transaction() as tx:
        old = store_sel.current_freeze(tx)
    if old is not None and not force:
        raise _refuse_refreeze(old)
    chosen = selection or select(cohort, top, now)
    inputs = chosen.standings.inputs
    digest = inputs_hash(inputs)
    result = json.loads(json.dumps(chosen.as_dict(), default=str))
    with cohort.store.transaction() as tx:
        old = store_sel.current_freeze(tx)
        if old is not None and not force:
            raise _refuse_refreeze(old)
        if old is not None:
            store_sel.supersede_freeze(tx, old.id)
        freeze_id = store_sel.add_freeze(tx, now, actor, chosen.top, inputs["formula"], digest, inputs, result)
        audit.record(tx, now, actor, "selection.freeze", f"top {chosen.top}", freeze=freeze_id,
                     inputs_sha256=digest, superseded=old.id if old else None,
                     selected=[s.handle for s in chosen.selected])
    return freeze_id


def frozen(cohort: Cohort) -> list[Any]:
    """Every freeze, newest first (superseded ones included), for audits."""
    from cohort.store import selections as store_sel

    with cohort.store.transaction() as tx:
        return store_sel.all_freezes(tx)


def inputs_changed(cohort: Cohort, now: datetime | None = None) -> bool | None:
    """Whether today's standings inputs differ from the current freeze's (None when nothing is frozen)."""
    current = next((f for f in frozen(cohort) if not f.superseded), None)
    if current is None:
        return None
    return inputs_hash(standings(cohort, now).inputs) != current.inputs_sha256
