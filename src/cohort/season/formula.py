"""The season formula as pure functions: percentile ranks, contribution points, totals,
the tie-break order, the cut, and the bootstrap over resampled test rows.

No I/O here: a parametrized table of (input, expected) tests it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cohort.config import CONTRIBUTION_KINDS, Formula
from cohort.scoring.metrics import Metric, split_scores

DECIMALS = 4
BELOW_CUT_SHOWN = 3

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
    # rank(method="max") is the count of scores at or below each one: a sorted search, which the
    # bootstrap calls 800 times per view (pandas' rank cost 0.6 s of a 1,000-member standings).
    ranks = np.searchsorted(np.sort(values), values, side="right").astype(float)
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
    # Summed per (member, kind) in event order, as a group-by would, without building one.
    rows = table.index.get_indexer(pd.Index(events["handle"]))
    cols = pd.Index(kinds).get_indexer(pd.Index(events["kind"]))
    ok = (rows >= 0) & (cols >= 0)
    sums = np.zeros((len(handles), len(kinds)))
    np.add.at(sums, (rows[ok], cols[ok]), units[ok])
    weights = np.array([float(formula.contribution_weights.get(k, 0.0)) for k in kinds])
    table.iloc[:, :] = np.round(sums * weights, DECIMALS)
    return table


def season_totals(
    points: np.ndarray, contributions: np.ndarray, drop_lowest: bool
) -> tuple[np.ndarray, np.ndarray]:
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
            # The instant in nanoseconds: the order of the ISO strings this once compared, without
            # formatting a string per member on every view.
            key.append(
                (1, 0) if first is None or pd.isna(first) else (0, pd.Timestamp(first).value)
            )
        elif rule == "handle":
            key.append(row["handle"])
    return tuple(key)


def _decided_by(a: dict[str, Any], b: dict[str, Any], rules: tuple[str, ...]) -> str:
    """The first tie-break rule that puts `a` before `b`."""
    ka, kb = _sort_key(a, rules), _sort_key(b, rules)
    return next(
        (rule for rule, x, y in zip(rules, ka[1:], kb[1:], strict=True) if x != y), "handle"
    )


def week_points(
    performance: pd.DataFrame, handles: list[str], weeks: list[str], formula: Formula
) -> pd.DataFrame:
    """Weighted, rounded performance points per member (rows) and week (columns); missing = 0."""
    index = pd.Index(handles, name="handle")
    if performance.empty or not weeks:
        return pd.DataFrame(0.0, index=index, columns=weeks)
    # Each member's best percentile per week (a pivot with max, missing = 0), filled in place:
    # pandas' pivot_table was a third of a 1,000-member standings view.
    rows = index.get_indexer(pd.Index(performance["handle"]))
    cols = pd.Index(weeks).get_indexer(pd.Index(performance["week"]))
    ok = (rows >= 0) & (cols >= 0)
    pct = np.full((len(handles), len(weeks)), np.nan)
    np.fmax.at(pct, (rows[ok], cols[ok]), performance["percentile"].to_numpy(dtype=float)[ok])
    pct = np.nan_to_num(pct, nan=0.0)
    return pd.DataFrame(
        np.round(pct * formula.performance_weight, DECIMALS), index=index, columns=weeks
    )


def compute(
    members: pd.DataFrame,
    performance: pd.DataFrame,
    events: pd.DataFrame,
    weeks: list[str],
    formula: Formula,
) -> pd.DataFrame:
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
    table = pd.concat(
        [members.set_index("handle")[["name", "first_submission"]], points, contrib], axis=1
    )
    table["performance"] = np.round(points.sum(axis=1).to_numpy(), DECIMALS)
    table["contributions"] = csum
    table["total"] = totals
    table["dropped_week"] = [weeks[d] if d >= 0 else "" for d in dropped]
    rows: list[dict[str, Any]] = records(table.reset_index(names="handle"))
    rows.sort(key=lambda r: _sort_key(r, formula.tie_break))
    for i, row in enumerate(rows):
        row["rank"] = i + 1
        above = rows[i - 1] if i else None
        row["tie_note"] = (
            f"tied with {above['handle']} on total; ordered after by {_decided_by(above, row, formula.tie_break)}"
            if above is not None and above["total"] == row["total"]
            else ""
        )
    columns = [
        "rank",
        "handle",
        "name",
        *weeks,
        "performance",
        *CONTRIBUTION_KINDS,
        "contributions",
        "total",
        "dropped_week",
        "tie_note",
        "first_submission",
    ]
    return pd.DataFrame(rows, columns=columns)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """`frame.to_dict("records")` with str keys, column by column: the same Python values
    (floats, Timestamps, NaT), several times faster on a 1,000-row standings table."""
    keys = [str(k) for k in frame.columns]
    columns = [frame[k].tolist() for k in frame.columns]
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]


def _iso(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def cut(
    table: pd.DataFrame, top: int, below: int = BELOW_CUT_SHOWN
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first `top` rows, and the next `below` with the points each lacked to reach the cut."""
    selected = table.iloc[:top]
    under = table.iloc[top : top + below].copy()
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
    # (files, n, ...) the predictions on those rows: one per candidate, or, with `files`, one per
    # distinct stored file (identical files score alike, so each is scored once).
    predictions: np.ndarray
    metric: Metric
    direction: str
    files: np.ndarray | None = None  # candidate -> its row in `predictions`

    def resampled(self, draws: list[np.ndarray]) -> np.ndarray:
        """Every candidate's score on each resample of the rows: (len(draws), candidates).

        A mean-of-loss metric computes each file's per-row loss once and weights it by how often
        each row was drawn (one matrix product for all resamples); others score each resample.
        """
        n = len(self.truth)
        if self.metric.pointwise is not None and self.metric.finish is not None:
            counts = [np.bincount(d, minlength=n).astype(float) for d in draws]
            scores = np.stack(split_scores(self.metric, self.truth, self.predictions, counts))
        else:
            scores = np.stack(
                [self.metric.batch(self.truth[d], self.predictions[:, d]) for d in draws]
            )
        return scores if self.files is None else scores[:, self.files]

    def best(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each member's best candidate score, as their board line takes it: (positions, scores);
        `scores` is one resample's (candidates,) or many resamples' (samples x candidates)."""
        starts = np.flatnonzero(np.r_[True, self.members[1:] != self.members[:-1]])
        pick = (
            np.fmin if self.direction == "min" else np.fmax
        )  # fmin/fmax skip a NaN resample score
        return self.members[starts], pick.reduceat(scores, starts, axis=-1)


def bootstrap_totals(
    points: np.ndarray,
    contributions: np.ndarray,
    weeks: list[WeekResample],
    formula: Formula,
    samples: int,
    seed: int = BOOTSTRAP_SEED,
) -> np.ndarray:
    """Season totals (samples x members) with every week's test rows resampled with replacement."""
    draws = draw_rows(tuple(len(w.truth) for w in weeks), samples, seed)
    placed = [
        (w.column, *resampled_points(w, [d[k] for d in draws], formula))
        for k, w in enumerate(weeks)
    ]
    return bootstrap_from_points(points, contributions, placed, formula, samples)


_DRAWS: dict[tuple[tuple[int, ...], int, int], list[list[np.ndarray]]] = {}


def draw_rows(lengths: tuple[int, ...], samples: int, seed: int) -> list[list[np.ndarray]]:
    """The row draws of every resample: draws[sample][week], rows drawn with replacement.

    Drawn in the order of one resample after another, week by week, as ever: the same seed gives
    the same resamples. They depend on the weeks' row counts only, so they are kept (the draws
    are 200 x weeks calls to the generator, a tenth of a cold standings view)."""
    key = (lengths, samples, seed)
    kept = _DRAWS.get(key)
    if kept is None:
        rng = np.random.default_rng(seed)
        kept = [[rng.integers(0, n, n) for n in lengths] for _ in range(samples)]
        if len(_DRAWS) >= 8:
            _DRAWS.pop(next(iter(_DRAWS)))
        _DRAWS[key] = kept
    return kept


def resampled_points(
    week: WeekResample, draws: list[np.ndarray], formula: Formula
) -> tuple[np.ndarray, np.ndarray]:
    """One week's performance points on each resample: (members, samples x members), `members`
    as `week.members` names them. Depends on the week's data only, so it can be kept per week."""
    members, scores = week.best(week.resampled(draws))
    pct = percentile_rank_rows(scores, week.direction)
    return members, np.round(pct * formula.performance_weight, DECIMALS)


def bootstrap_from_points(
    points: np.ndarray,
    contributions: np.ndarray,
    placed: list[tuple[int, np.ndarray, np.ndarray]],
    formula: Formula,
    samples: int,
) -> np.ndarray:
    """Season totals (samples x members) from each resampled week's points placed at its
    (column, member positions): the other cells keep `points`."""
    # All resamples at once (samples x members x weeks), each step the same arithmetic as one
    # resample's: a per-resample loop cost ~0.2 s of a 1,000-member standings view.
    resampled = np.repeat(np.asarray(points, dtype=float)[None, :, :], samples, axis=0)
    for column, members, week_points in placed:
        resampled[:, members, column] = week_points
    return _season_totals_rows(resampled, contributions, formula.drop_lowest_week)


def percentile_rank_rows(scores: np.ndarray, direction: str) -> np.ndarray:
    """`percentile_ranks` of each row of a (samples x members) array."""
    values = np.round(np.asarray(scores, dtype=float), 12)
    if direction == "min":
        values = -values
    values = np.where(np.isnan(values), -np.inf, values)
    rows, n = values.shape
    if n == 0:
        return values
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    # rank(method="max"): 1 + the position of the last score equal to each one, in sorted order.
    last = np.ones((rows, n), dtype=bool)
    last[:, :-1] = ordered[:, 1:] != ordered[:, :-1]
    at = np.where(last, np.arange(n), n)
    ends = np.minimum.accumulate(at[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty((rows, n))
    np.put_along_axis(ranks, order, (ends + 1).astype(float), axis=1)
    return ranks / n


def _season_totals_rows(
    points: np.ndarray, contributions: np.ndarray, drop_lowest: bool
) -> np.ndarray:
    """`season_totals` of each resample of a (samples x members x weeks) array: (samples x members)."""
    kept = points
    if drop_lowest and points.shape[2] >= 2:
        dropped = points.argmin(axis=2)
        kept = points.copy()
        np.put_along_axis(kept, dropped[:, :, None], 0.0, axis=2)
    performance = np.round(kept.sum(axis=2), DECIMALS)
    return np.round(performance + contributions[None, :], DECIMALS)


def ahead_probability(totals: np.ndarray, i: int, j: int) -> float:
    """Share of resamples in which member i stays ahead of member j (an exact tie counts half)."""
    a, b = totals[:, i], totals[:, j]
    return float(np.mean(a > b) + 0.5 * np.mean(a == b))
