"""Public/private scoring, leaderboards, reveal, final selections and rescoring.

Scores are stamped with SCORER_VERSION and the solution file's sha256. A week's
leaderboard reads only the scores of the solution sha recorded in its week state,
which moves to a new solution only once every submission has a score for it, so
scores of an old and a new solution are never mixed.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cohort import metrics
from cohort.config import Competition, Week
from cohort.errors import CohortError, ConfigError, IntakeRefused, NotFound, ValidationError
from cohort.store import Tx, audit
from cohort.store import members as store_members
from cohort.store import scores as store_scores
from cohort.store import submissions as store_subs
from cohort.workspace import Cohort, utcnow

if TYPE_CHECKING:
    from collections.abc import Iterator

SCORER_VERSION = "1"
# Submissions scored per transaction: a kill loses at most one batch of work.
BATCH = 2000
# Bytes of stacked predictions held in memory at once.
BATCH_BYTES = 16 * 1024 * 1024  # under glibc's mmap threshold, so batches reuse memory


@dataclass(frozen=True)
class Solution:
    """A week's hidden solution, with its truth encoded for the metric."""

    week: str
    frame: pd.DataFrame
    sha256: str  # the stamp on its scores: file bytes + the scoring settings (see _load_solution)
    classes: tuple[str, ...]
    competition: Competition = field(repr=False, default=None)  # type: ignore[assignment,arg-type]
    ids: pd.Index = field(repr=False, default=None)  # type: ignore[assignment,arg-type]
    truth: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment,arg-type]
    public: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment,arg-type]
    key: str = ""

    @property
    def id_column(self) -> str:
        return self.competition.id_column

    @property
    def target_columns(self) -> tuple[str, ...]:
        return self.competition.target_columns

    @property
    def metric(self) -> str:
        return self.competition.metric

    @property
    def kind(self) -> str:
        return metrics.get(self.competition.metric).kind

    def decode_labels(self, codes: np.ndarray) -> np.ndarray:
        """Class codes back to their labels."""
        return np.asarray(self.classes, dtype=object)[codes]


def load_solution(cohort: Cohort, week_ref: str) -> Solution:
    """The week's solution.csv, checked and encoded; NotFound before `cohort prepare`."""
    week = cohort.config.week(week_ref)
    path = cohort.config.solution_path(week)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise NotFound(f"Week '{week.id}' has no solution file {path}; run `cohort prepare {week.id}` first.") from None
    return _load_solution(str(path), st.st_mtime_ns, st.st_size, week.id, week.competition)


@lru_cache(maxsize=16)
def _load_solution(path: str, _mtime: int, _size: int, week: str, comp: Competition) -> Solution:
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path} cannot be read as CSV ({exc}); rebuild it with `cohort prepare {week} --force`.") from None
    fix = f"rebuild it with `cohort prepare {week} --force`"
    for col in (comp.id_column, *comp.target_columns, "Usage"):
        if col not in frame.columns:
            raise ConfigError(f"{path} has no column '{col}'; {fix}.")
    ids = pd.Index(frame[comp.id_column].str.strip())
    if ids.has_duplicates:
        raise ConfigError(f"{path} repeats id '{ids[ids.duplicated()][0]}'; {fix}.")
    usage = frame["Usage"].str.strip().str.capitalize()
    if not usage.isin(["Public", "Private"]).all():
        raise ConfigError(f"{path} has a Usage other than Public/Private; {fix}.")
    kind = metrics.get(comp.metric).kind
    classes, truth = _encode_truth(frame, comp, kind, path)
    key_src = "\n".join([kind, ",".join(comp.target_columns), "|".join(classes), *ids])
    # Scores are stamped with this hash: the file's bytes plus the settings it is scored under,
    # so fixing a week's metric or direction makes every old score stale, as a new file does.
    settings = "\n".join([comp.metric, comp.direction, ",".join(comp.target_columns), "|".join(classes)])
    stamp = hashlib.sha256(data + b"\0" + settings.encode()).hexdigest()
    return Solution(week, frame, stamp, classes, comp, ids, truth,
                    usage.to_numpy() == "Public", hashlib.sha256(key_src.encode()).hexdigest())


def _encode_truth(frame: pd.DataFrame, comp: Competition, kind: str, path: str) -> tuple[tuple[str, ...], np.ndarray]:
    cols = list(comp.target_columns)
    if kind == "label":
        values = frame[cols].apply(lambda c: c.str.strip())
        classes = comp.classes or tuple(sorted(set(values.to_numpy().ravel().tolist())))
        codes = np.column_stack([pd.Index(classes).get_indexer(values[c]) for c in cols])
        if (codes < 0).any():
            raise ConfigError(f"{path} has labels outside the week's classes; fix [competition] classes or the file.")
        return tuple(classes), codes[:, 0] if len(cols) == 1 else codes
    try:
        numbers = frame[cols].apply(pd.to_numeric).to_numpy(dtype=np.float64)
    except (ValueError, TypeError):
        raise ConfigError(f"{path} has non-numeric values in {cols}; rebuild it with `cohort prepare`.") from None
    if kind == "proba":  # one-hot columns, one per class
        return tuple(cols), numbers.argmax(axis=1)
    return (), numbers[:, 0] if len(cols) == 1 else numbers


def score_values(solution: Solution, stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Public and private scores of a stack of encoded predictions (NaN for an empty split)."""
    metric = metrics.get(solution.metric)
    with np.errstate(divide="ignore", invalid="ignore"):
        public, private = metrics.split_scores(metric, solution.truth, stack, [solution.public, ~solution.public])
    return public, private


def _score_row(solution: Solution, sid: int, public: float, private: float, at: datetime) -> dict[str, Any]:
    def clean(x: float) -> float | None:
        return None if np.isnan(x) else float(x)

    return {"submission_id": sid, "solution_sha256": solution.sha256, "scorer_version": SCORER_VERSION,
            "public_score": clean(public), "private_score": clean(private), "scored_at": at}


def score_new(tx: Tx, solution: Solution, sid: int, values: np.ndarray, at: datetime) -> float | None:
    """Score one just-submitted file inside the intake transaction; returns its public score."""
    pub, priv = score_values(solution, values[None])
    row = _score_row(solution, sid, pub[0], priv[0], utcnow())
    store_scores.upsert_many(tx, [row])
    store_subs.set_status(tx, {sid: ("scored", "")})
    if not store_scores.scored_sha(tx, solution.week):
        store_scores.set_scored_sha(tx, solution.week, solution.sha256)
    return row["public_score"]


# --- reveal -----------------------------------------------------------------------------


def is_revealed(cohort: Cohort, week_ref: str, now: datetime | None = None) -> bool:
    """True once the week was revealed with `cohort reveal`, or has closed."""
    week = cohort.config.week(week_ref)
    if week.is_closed(now or utcnow()):
        return True
    with cohort.store.transaction() as tx:
        return store_scores.revealed_at(tx, week.id) is not None


def reveal(cohort: Cohort, week_ref: str, actor: str) -> None:
    """Reveal the week's private leaderboard before it closes (audit-logged)."""
    week = cohort.config.week(week_ref)
    now = utcnow()
    with cohort.store.transaction() as tx:
        store_scores.set_revealed(tx, week.id, now, actor)
        audit.record(tx, now, actor, "reveal", week.id)


def week_has_scores(cohort: Cohort, week_ref: str) -> bool:
    """True when any submission of the week has been scored."""
    week = cohort.config.week(week_ref)
    with cohort.store.transaction() as tx:
        return store_scores.week_has_scores(tx, week.id)


# --- scoring runs -------------------------------------------------------------------------


@dataclass(frozen=True)
class RankChange:
    """A member whose rank on a board moved during a scoring run."""

    week: str
    board: str
    handle: str
    old_rank: int | None
    new_rank: int | None


@dataclass
class ScoreReport:
    """What a scoring run did."""

    scored: int = 0
    errors: int = 0
    weeks: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    rank_changes: list[RankChange] = field(default_factory=list)
    resumed: bool = False


def _quiet() -> bool:
    return bool(os.environ.get("CI")) or not sys.stderr.isatty()


class _progress:
    """A rich progress bar on stderr, or nothing when quiet."""

    def __init__(self, total: int, show: bool) -> None:
        self.total, self.show = total, show and total > 0
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not self.show:
            return lambda n: None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task("Scoring", total=self.total)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def score_pending(cohort: Cohort, rescore: bool = False, progress: bool = True) -> ScoreReport:
    """Score every unscored file (all of them with `rescore`), committing in batches.

    Only changed scores are written, so a rescore with nothing to fix writes nothing;
    a killed `--rescore` resumes, skipping what it already wrote, when run again."""
    report = ScoreReport()
    since = _rescore_since(cohort, report) if rescore else None
    plan = _plan(cohort, rescore, since, report)
    if since is not None and not report.resumed:
        # Recorded only once the plan stands: a rescore refused up front (a broken solution
        # file, say) leaves the store as it was.
        with cohort.store.transaction() as tx:
            audit.record(tx, since, "scorer", store_scores.RESCORE_STARTED, "all weeks")
    total = sum(len(todo) for _, todo in plan)
    with _progress(total, progress and not _quiet()) as advance:
        for solution, todo in plan:
            _score_week(cohort, solution, todo, report, advance)
    if rescore:
        with cohort.store.transaction() as tx:
            audit.record(tx, utcnow(), "scorer", store_scores.RESCORE_FINISHED, "all weeks",
                         scored=report.scored, errors=report.errors)
    return report


def _rescore_since(cohort: Cohort, report: ScoreReport) -> datetime:
    """The start of this rescore, or of the interrupted one it resumes."""
    with cohort.store.transaction() as tx:
        since = store_scores.open_rescore(tx)
    report.resumed = since is not None
    return since if since is not None else utcnow()


def _plan(cohort: Cohort, rescore: bool, since: datetime | None,
          report: ScoreReport) -> list[tuple[Solution, pd.DataFrame]]:
    plan = []
    for week in cohort.config.weeks:
        try:
            solution = load_solution(cohort, week.id)
        except NotFound:
            report.skipped[week.id] = f"no solution file; run `cohort prepare {week.id}`"
            continue
        with cohort.store.transaction() as tx:
            rows = store_subs.scoring_rows(tx, week.id, solution.sha256, SCORER_VERSION, since)
            stale = store_scores.scored_sha(tx, week.id) != solution.sha256
        due = ~rows["scored"] | (~rows["scored_since"] if rescore else False)
        if due.any() or (stale and len(rows)):
            plan.append((solution, rows[due]))
    return plan


def _score_week(cohort: Cohort, solution: Solution, todo: pd.DataFrame, report: ScoreReport,
                advance: Any) -> None:
    week = cohort.config.week(solution.week)
    with cohort.store.transaction() as tx:
        switch = store_scores.scored_sha(tx, week.id) != solution.sha256
    # The board as members saw it, read just before the first write (none may be needed).
    before = week_frame(cohort, week) if switch else None
    per_batch = max(1, min(BATCH, BATCH_BYTES // max(1, solution.truth.size * 8)))
    batches = [todo.iloc[start:start + per_batch] for start in range(0, len(todo), per_batch)]
    for batch, read in zip(batches, _prefetched(cohort, solution, batches), strict=True):
        rows, statuses, scored = _score_batch(solution, batch, read)
        if rows or statuses:
            before = week_frame(cohort, week) if before is None else before
            with cohort.store.transaction() as tx:
                store_scores.upsert_many(tx, rows)
                store_subs.set_status(tx, statuses)
        report.scored += scored
        report.errors += len(batch) - scored
        advance(len(batch))
    report.weeks[week.id] = len(todo)
    if switch:
        with cohort.store.transaction() as tx:
            # Only now, with every file scored, does the leaderboard switch to this solution.
            store_scores.set_scored_sha(tx, week.id, solution.sha256)
    if before is not None:
        revealed = is_revealed(cohort, week.id)
        after = week_frame(cohort, week)
        report.rank_changes.extend(_diff(week.id, _ranks(before, week, revealed), _ranks(after, week, revealed)))


def _prefetched(cohort: Cohort, solution: Solution, batches: list[pd.DataFrame]) -> Iterator[Any]:
    """Each batch's stored predictions, the next one read in a thread while this one is scored."""
    from concurrent.futures import ThreadPoolExecutor

    from cohort.submissions import read_stack

    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = [pool.submit(read_stack, cohort, solution, b["file_sha256"].tolist()) for b in batches[:1]]
        for i in range(len(batches)):
            if i + 1 < len(batches):
                ahead.append(pool.submit(read_stack, cohort, solution, batches[i + 1]["file_sha256"].tolist()))
            yield ahead.pop(0).result()


def _score_batch(solution: Solution, batch: pd.DataFrame, read: tuple[np.ndarray, dict[int, str]]
                 ) -> tuple[list[dict[str, Any]], dict[int, tuple[str, str]], int]:
    """Score a batch; returns the changed score rows, the changed statuses, and how many scored."""
    ids = batch["submission_id"].tolist()
    status, error = batch["status"].tolist(), batch["error"].tolist()
    stack, failed = read
    statuses = {ids[i]: ("error", msg) for i, msg in failed.items() if (status[i], error[i]) != ("error", msg)}
    good = [i for i in range(len(ids)) if i not in failed]
    if not good:
        return [], statuses, 0
    pub, priv = score_values(solution, stack if not failed else stack[good])
    old_pub, old_priv = batch["scored_public"].to_numpy()[good], batch["scored_private"].to_numpy()[good]
    changed = ~batch["scored"].to_numpy()[good] | ~(_same(old_pub, pub) & _same(old_priv, priv))
    at = utcnow()
    rows = [_score_row(solution, ids[good[j]], pub[j], priv[j], at) for j in np.flatnonzero(changed)]
    statuses.update({ids[i]: ("scored", "") for i in good if status[i] != "scored"})
    return rows, statuses, len(good)


def _same(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    return (np.isnan(old) & np.isnan(new)) | (old == new)


def _ranks(frame: pd.DataFrame, week: Week, revealed: bool) -> dict[str, dict[str, int]]:
    """Ranks per board ('public', and 'private' once revealed): handle -> rank."""
    files = frame[frame["file_sha256"] != ""]
    comp = week.competition
    out = {"public": dict(zip(*_board_frame(files, comp, False)[["handle", "rank"]].T.to_numpy(), strict=True))}
    if revealed:
        out["private"] = dict(zip(*_board_frame(files, comp, True)[["handle", "rank"]].T.to_numpy(), strict=True))
    return out


def _diff(week: str, before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> Iterator[RankChange]:
    for board, now in after.items():
        old = before.get(board, {})
        for handle in sorted(set(old) | set(now)):
            if old.get(handle) != now.get(handle):
                yield RankChange(week, board, str(handle), _int(old.get(handle)), _int(now.get(handle)))


def _int(x: Any) -> int | None:
    return None if x is None else int(x)


# --- leaderboards ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaderboardRow:
    """One member's line on a week's leaderboard."""

    rank: int
    handle: str
    name: str
    score: float
    entries: int
    last_submitted_at: datetime
    submission_id: int
    public_rank: int | None = None
    rank_change: int | None = None


@dataclass(frozen=True)
class Leaderboard:
    """A week's public or private leaderboard."""

    week: str
    private: bool
    revealed: bool
    metric: str
    direction: str
    rows: list[LeaderboardRow]


def week_frame(cohort: Cohort, week: Week, member_id: int | None = None) -> pd.DataFrame:
    """The week's submissions with their current scores (overrides applied)."""
    with cohort.store.transaction() as tx:
        sha = store_scores.scored_sha(tx, week.id)
        return store_subs.scored_frame(tx, {week.id: sha}, SCORER_VERSION, member_id)


def _sort_key(frame: pd.DataFrame, col: str, direction: str) -> pd.DataFrame:
    """Best first; ties go to the earlier submission, then the lower id."""
    key = frame[col] if direction == "min" else -frame[col]
    return frame.assign(_k=key).sort_values(["_k", "submitted_at", "submission_id"]).drop(columns="_k")


def best_per_member(frame: pd.DataFrame, col: str, direction: str) -> pd.DataFrame:
    """Each member's best submission by `col`, ranked 1..n (ties: earlier submission first)."""
    scored = _sort_key(frame[frame[col].notna()], col, direction)
    best = scored.drop_duplicates("member_id", keep="first").reset_index(drop=True)
    return best.assign(rank=np.arange(1, len(best) + 1))


def counted_ids(frame: pd.DataFrame, direction: str, limit: int) -> dict[str, list[int]]:
    """Per handle: the selected submissions, else the best `limit` by public score."""
    scored = _sort_key(frame[frame["public_score"].notna()], "public_score", direction)
    selected = scored["selected"].astype(bool)
    by_member = scored.groupby("handle", sort=False)
    # Whole-column operations, not a loop of DataFrame slices: this runs for every board view,
    # and a per-member loop made the standings page scale with the number of members.
    has_choice = selected.groupby(scored["handle"], sort=False).transform("any")
    keep = (has_choice & selected) | (~has_choice & (by_member.cumcount() < limit))
    out: dict[str, list[int]] = {}
    for handle, sid in zip(scored.loc[keep, "handle"].tolist(), scored.loc[keep, "submission_id"].tolist(),
                           strict=True):
        out.setdefault(str(handle), []).append(int(sid))
    return dict(sorted(out.items()))


def _hidden(cohort: Cohort, week: Week) -> CohortError:
    local = week.closes_at.astimezone(cohort.config.tz).strftime("%Y-%m-%d %H:%M %Z")
    return CohortError(
        f"Week '{week.id}' private leaderboard is hidden until the week is revealed "
        f"(it closes {local}); the organizer can run `cohort reveal {week.id}`.")


def leaderboard(cohort: Cohort, week_ref: str, private: bool = False, now: datetime | None = None) -> Leaderboard:
    """One row per member: best public score, or (after reveal) the private score of the counted ones."""
    week = cohort.config.week(week_ref)
    revealed = is_revealed(cohort, week.id, now)
    if private and not revealed:
        raise _hidden(cohort, week)
    comp = week.competition
    frame = week_frame(cohort, week)
    files = frame[frame["file_sha256"] != ""]
    public = _board_frame(files, comp, False)
    board = _board_frame(files, comp, True) if private else public
    stats = files.groupby("member_id").agg(entries=("submission_id", "size"), last=("submitted_at", "max"))
    public_rank = dict(zip(public["member_id"], public["rank"], strict=True))
    rows = [_row(r, stats, "private_score" if private else "public_score",
                 public_rank.get(r.member_id) if private else None) for r in board.itertuples()]
    return Leaderboard(week.id, private, revealed, comp.metric, comp.direction, rows)


def _board_frame(files: pd.DataFrame, comp: Competition, private: bool) -> pd.DataFrame:
    """Each member's ranked line: best public score, or best private score of the counted ones."""
    if not private:
        return best_per_member(files, "public_score", comp.direction)
    counted = counted_ids(files, comp.direction, comp.final_selections)
    ids = [i for group in counted.values() for i in group]
    return best_per_member(files[files["submission_id"].isin(ids)], "private_score", comp.direction)


def _row(r: Any, stats: Any, col: str, public_rank: int | None) -> LeaderboardRow:
    change = None if public_rank is None else int(public_rank) - int(r.rank)
    return LeaderboardRow(int(r.rank), r.handle, r.name, float(getattr(r, col)),
                          int(stats.at[r.member_id, "entries"]), stats.at[r.member_id, "last"].to_pydatetime(),
                          int(r.submission_id), None if public_rank is None else int(public_rank), change)


def counted_submissions(cohort: Cohort, week_ref: str) -> dict[str, list[int]]:
    """handle -> the submission ids that count: the member's selection, else the best public N."""
    week = cohort.config.week(week_ref)
    frame = week_frame(cohort, week)
    return counted_ids(frame[frame["file_sha256"] != ""], week.competition.direction,
                       week.competition.final_selections)


# --- organizer and member actions ---------------------------------------------------------------


def select_final(cohort: Cohort, member: str, week_ref: str, submission_ids: list[int]) -> None:
    """Choose which of a member's scored submissions count on the private leaderboard."""
    week = cohort.config.week(week_ref)
    limit = week.competition.final_selections
    ids = sorted(set(int(i) for i in submission_ids))
    if not ids or len(ids) > limit:
        raise ValidationError(f"Week '{week.id}' allows 1 to {limit} final selections, got {len(ids)}; pass fewer ids.")
    if is_revealed(cohort, week.id):
        raise IntakeRefused(f"Week '{week.id}' is already revealed; final selections can no longer change.")
    with cohort.store.transaction() as tx:
        owner = store_members.by_handle(tx, member)
        for sid in ids:
            sub = store_subs.get(tx, sid)
            if sub.member_id != owner.id or sub.week != week.id or not sub.file_sha256:
                raise ValidationError(
                    f"Submission {sid} is not a file submission of '{member}' for week '{week.id}'; "
                    "pick ids from the member's history.")
        store_subs.set_selected(tx, owner.id, week.id, ids)
        audit.record(tx, utcnow(), member, "select_final", week.id, submission_ids=ids)


def override_score(cohort: Cohort, submission_id: int, public: float | None, private: float | None,
                   reason: str, actor: str) -> None:
    """Correct a submission's scores by hand, with a reason (audit-logged; the latest override wins)."""
    with cohort.store.transaction() as tx:
        store_subs.get(tx, submission_id)  # an unknown id is the first thing to say
    if not reason.strip():
        raise ValidationError(f"Override of submission {submission_id} needs a reason; pass --reason.")
    if public is None and private is None:
        raise ValidationError(
            f"Override of submission {submission_id} sets no score; pass --public, --private or both."
        )
    for which, value in (("public", public), ("private", private)):
        # nan/inf would sort unpredictably on the board and break JSON exports.
        if value is not None and not np.isfinite(value):
            raise ValidationError(
                f"Override of submission {submission_id}: --{which} {value} is not a finite number; "
                "pass the corrected score as an ordinary number."
            )
    now = utcnow()
    with cohort.store.transaction() as tx:
        store_subs.get(tx, submission_id)
        store_scores.add_override(tx, submission_id, public, private, reason, actor, now)
        audit.record(tx, now, actor, "override_score", str(submission_id),
                     public=public, private=private, reason=reason)


HISTORY_COLUMNS = ["submission_id", "week", "submitted_at", "public_score", "private_score",
                   "status", "error", "notebook_url", "selected"]


def member_history(cohort: Cohort, handle: str, include_private: bool) -> pd.DataFrame:
    """A member's submissions, newest first; private scores only for revealed weeks
    (or everywhere with `include_private`, for the organizer)."""
    with cohort.store.transaction() as tx:
        member = store_members.by_handle(tx, handle)
        shas = {w.id: store_scores.scored_sha(tx, w.id) for w in cohort.config.weeks}
        frame = store_subs.scored_frame(tx, shas, SCORER_VERSION, member.id)
    if not include_private:
        revealed = {w: is_revealed(cohort, w) for w in frame["week"].unique()}
        hidden = ~frame["week"].map(revealed).astype(bool)
        frame.loc[hidden, "private_score"] = np.nan
    frame = frame.sort_values(["submitted_at", "submission_id"], ascending=False, ignore_index=True)
    return frame[HISTORY_COLUMNS]
