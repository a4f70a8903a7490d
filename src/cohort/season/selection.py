"""The top-N selection with reasons, the statistical-tie check at the cut, and its freeze."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from cohort.config import Formula
from cohort.errors import CohortError, Conflict, ValidationError
from cohort.season.formula import (
    BELOW_CUT_SHOWN,
    BOOTSTRAP_SEED,
    DECIMALS,
    WeekResample,
    ahead_probability,
    bootstrap_from_points,
    cut,
    draw_rows,
    percentile_rank_rows,
    week_points,
)
from cohort.season.standings import StandingRow, Standings, standings
from cohort.workspace import Cohort, utcnow

# Fixed, so the bootstrap (and so the tie flags) are identical on every run.


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
            "top": self.top,
            "selected": [asdict(s) for s in self.selected],
            "below_cut": [asdict(b) for b in self.below_cut],
            "ties": [asdict(t) for t in self.ties],
            "cut_probability": self.cut_probability,
            "bootstrap_samples": self.samples,
            "unrevealed_weeks": self.unrevealed,
            "notes": self.notes,
        }


def _reason(row: StandingRow) -> dict[str, float]:
    """The non-zero components: they add up to the total."""
    return {k: v for k, v in row.components.items() if v != 0.0}


def _below_note(row: StandingRow, lacked: float) -> str:
    if lacked > 0:
        return f"{lacked:g} points short of the cut"
    return (
        f"equal total; {row.tie_note.split('; ', 1)[-1]}"
        if row.tie_note
        else "equal total; placed after by the tie-break"
    )


def cut_size(cohort: Cohort, top: int | None) -> int:
    """How many members the cut keeps: `top`, else the cohort's final_size; refuses fewer than 1."""
    top = top if top is not None else cohort.config.final_size
    if top < 1:
        raise ValidationError(f"Cannot select the top {top}; pass --top with a positive number.")
    return top


def select(cohort: Cohort, top: int | None = None, now: datetime | None = None) -> Selection:
    """The top N with reasons, the members just below the cut, and bootstrap tie flags at the cut."""
    top = cut_size(cohort, top)
    table = standings(cohort, now)
    chosen, under = cut(table.table, top)
    by_handle = {r.handle: r for r in table.rows}
    selected = [
        Selected(r.rank, r.handle, r.name, r.total, _reason(r))
        for r in (by_handle[h] for h in chosen["handle"])
    ]
    below = [
        BelowCut(
            int(u["rank"]),
            u["handle"],
            u["name"],
            float(u["total"]),
            float(u["lacked"]),
            _below_note(by_handle[u["handle"]], float(u["lacked"])),
        )
        for u in under.to_dict("records")
    ]
    ties, probability, notes = _ties(cohort, table, len(chosen), len(under))
    unrevealed = [w for w, shown in table.revealed.items() if not shown]
    return Selection(
        top,
        selected,
        below,
        ties,
        probability,
        cohort.config.formula.bootstrap_samples,
        unrevealed,
        notes,
        table,
    )


def _ties(
    cohort: Cohort, table: Standings, n_selected: int, n_below: int
) -> tuple[list[Tie], float | None, list[str]]:
    """Pairs straddling the cut whose order is not stable (the cut pair always); P(cut holds); notes."""
    if n_below == 0 or table.scores.empty:
        return [], None, []
    formula = table.formula
    frame = table.table
    weeks = list(table.weeks)
    points = frame[weeks].to_numpy(dtype=float)
    # Undo the dropped week in the base: the bootstrap re-decides which week is lowest.
    points = _undropped(points, frame, table.scores, weeks, formula)
    placed, notes = _resampled_weeks(cohort, table, weeks)
    boot = bootstrap_from_points(
        points,
        frame["contributions"].to_numpy(dtype=float),
        placed,
        formula,
        formula.bootstrap_samples,
    )
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


def _undropped(
    points: np.ndarray,
    frame: pd.DataFrame,
    scores: pd.DataFrame,
    weeks: list[str],
    formula: Formula,
) -> np.ndarray:
    if not formula.drop_lowest_week:
        return points
    return week_points(scores, list(frame["handle"]), weeks, formula).to_numpy()


def _resampled_weeks(
    cohort: Cohort, table: Standings, weeks: list[str]
) -> tuple[list[tuple[int, np.ndarray, np.ndarray]], list[str]]:
    """Each week's points on every resample, placed at (column, standings positions) for
    `bootstrap_from_points`; a week whose files are gone is held fixed, with a note why.

    A week's resampled points depend on its own lines, its solution and the draws only, so they
    are kept on the week's revision (`store.revision.by_weeks`): after a new entry in one week
    the others are not resampled again. The draws depend on every resampled week's row count."""
    from cohort.scoring import boards
    from cohort.scoring.solution import load_solution
    from cohort.store import revision as store_revision

    formula = table.formula
    samples = formula.bootstrap_samples
    position = {h: i for i, h in enumerate(table.table["handle"])}
    notes: list[str] = []
    columns = list(enumerate(weeks))
    while True:
        solutions, lengths, kept_columns = {}, [], []
        for col, week in columns:
            try:
                solutions[week] = load_solution(cohort, week)
            except CohortError as exc:
                notes.append(f"Week {week} is held fixed in the tie check: {exc}")
                continue
            kept_columns.append((col, week))
            mask = ~solutions[week].public if table.revealed[week] else solutions[week].public
            lengths.append(int(mask.sum()))
        draws = draw_rows(tuple(lengths), samples, BOOTSTRAP_SEED)
        placed, failed = [], None
        with cohort.store.transaction() as tx:
            for k, (col, week) in enumerate(kept_columns):
                revealed, solution = table.revealed[week], solutions[week]
                wk = cohort.config.week(week)
                direction = wk.competition.direction
                # The lines' own key too: a close or final_selections edited in week.toml
                # changes which files count, not the rows' counters.
                key = (
                    revealed,
                    solution.sha256,
                    solution.metric,
                    direction,
                    tuple(lengths),
                    samples,
                    BOOTSTRAP_SEED,
                    *boards.lines_key(wk),
                )
                try:
                    # The week's points on every resample, kept per week; when the week moved,
                    # from its members' resampled bests, kept per member (a new entry scores
                    # one member's files again). Points are ranks among everyone on the board,
                    # so they are computed from all the bests, but only then (25 ms a week at
                    # 1,000 members: stored too, 1.6 MB a week).
                    handles, points = store_revision.by_weeks(
                        tx,
                        "bootstrap",
                        [week],
                        (*key, formula.performance_weight),
                        partial(
                            _week_points,
                            tx,
                            cohort,
                            week,
                            key,
                            [d[k] for d in draws],
                            formula.performance_weight,
                        ),
                    )
                except CohortError as error:
                    failed = (col, week, str(error))
                    break
                at = np.array([position.get(h, -1) for h in handles], dtype=int)
                keep = at >= 0  # a member off the standings (none in practice) is left out
                placed.append((col, at[keep], points[:, keep]))
        if failed is None:
            return placed, notes
        # A week held fixed changes the draws of the others: draw again without it.
        col, week, why = failed
        notes.append(f"Week {week} is held fixed in the tie check: {why}")
        columns = [c for c in columns if c[0] != col]


def _week_points(
    tx: Any,
    cohort: Cohort,
    week: str,
    key: tuple[Any, ...],
    draws: list[np.ndarray],
    weight: float,
) -> tuple[list[str], np.ndarray]:
    """The week's members on the board (handles) and their points on each resample (samples x
    members), from each member's resampled bests (kept per member)."""
    from cohort.store import revision as store_revision

    revealed, direction, samples = key[0], key[3], key[5]
    best = store_revision.by_members(
        tx,
        "bootstrap_best",
        week,
        key,
        partial(_week_best, cohort, week, revealed, draws),
        lambda item: item[0],
    )
    scores = np.stack([b for _, _, b in best], axis=1) if best else np.empty((samples, 0))
    points = np.round(percentile_rank_rows(scores, direction) * weight, DECIMALS)
    return [h for _, h, _ in best], points


def _week_best(
    cohort: Cohort, week: str, revealed: bool, draws: list[np.ndarray], only: list[int] | None
) -> list[tuple[int, str, np.ndarray]]:
    """(member id, handle, their best score on each resample) for each member on the week's
    board (`only`: of those members). A member's bests depend on their own files alone, so they
    are kept per member (`store.revision.by_members`): a new entry re-scores one member's files."""
    resample, ids, handles = _week_resample(cohort, week, revealed, only)
    if not len(resample.members):
        return []
    positions, best = resample.best(resample.resampled(draws))
    return [(ids[p], handles[p], best[:, k]) for k, p in enumerate(positions)]


def _week_resample(
    cohort: Cohort, week: str, revealed: bool, only: list[int] | None = None
) -> tuple[WeekResample, list[int], list[str]]:
    """The week's counted rows and, per member on the board (`only`: of those), every
    submission that could be their line (candidates grouped by member, members numbered into
    the returned member ids and handles).

    Before reveal a member's line is their best public score of all their files; after reveal it
    is the best private score of their counted (selected, else best public) files. Each resample
    re-picks the best among those, as the board would, rather than fixing today's winner.
    """
    from cohort.scoring import boards, metrics, parsed
    from cohort.scoring.solution import load_solution

    wk = cohort.config.week(week)
    # The store's board lines: after reveal the counted files only (a few per member), before
    # it every file with a public score, never a frame of every submission.
    wanted = None if only is None else set(only)
    lines = [
        ln
        for ln in boards.board_lines(cohort, wk, every_scored=not revealed)
        if ln.public_score is not None and (wanted is None or ln.member_id in wanted)
    ]
    owners = sorted({(ln.member_id, ln.handle) for ln in lines})
    number = {m: i for i, (m, _) in enumerate(owners)}
    files = sorted(
        (number[ln.member_id], ln.submission_id, ln.file_sha256)
        for ln in lines
        if ln.counted or not revealed
    )
    solution = load_solution(cohort, week)
    # Private rows only once revealed, so the tie check never leaks a hidden score.
    mask = ~solution.public if revealed else solution.public
    # Each distinct stored file is read and scored once, however many submissions share it.
    shas, which = np.unique(np.array([f[2] for f in files], dtype=str), return_inverse=True)
    preds = [parsed.stored_values(cohort, solution, sha)[mask] for sha in shas]
    resample = WeekResample(
        0,
        np.array([f[0] for f in files], dtype=int),
        solution.truth[mask],
        np.stack(preds) if preds else np.empty((0, int(mask.sum()))),
        metrics.get(solution.metric),
        wk.competition.direction,
        files=which.reshape(-1),
    )
    return resample, [m for m, _ in owners], [h for _, h in owners]


# --- freeze ---------------------------------------------------------------------------------


def inputs_hash(inputs: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the inputs."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _refuse_refreeze(old: Any) -> CohortError:
    return Conflict(
        f"The selection was already frozen (#{old.id}, {old.frozen_at:%Y-%m-%d %H:%M} UTC by {old.frozen_by}); "
        "pass --force to freeze again (the old freeze is kept, marked superseded)."
    )


def freeze(
    cohort: Cohort,
    actor: str,
    top: int | None = None,
    force: bool = False,
    now: datetime | None = None,
    selection: Selection | None = None,
) -> int:
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
        freeze_id = store_sel.add_freeze(
            tx, now, actor, chosen.top, inputs["formula"], digest, inputs, result
        )
        audit.record(
            tx,
            now,
            actor,
            "selection.freeze",
            f"top {chosen.top}",
            freeze=freeze_id,
            inputs_sha256=digest,
            superseded=old.id if old else None,
            selected=[s.handle for s in chosen.selected],
        )
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
