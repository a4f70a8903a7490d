"""Scoring runs: scoring new submissions, rescoring, and the rank-change report.

Scores are stamped with SCORER_VERSION and the solution's stamp. A week's leaderboard
reads only the scores of the solution recorded in its week state, which moves to a new
solution only once every submission has a score for it, so scores of an old and a new
solution are never mixed.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from cohort.config import SUBMISSIONS_ENV, CohortConfig, Week
from cohort.errors import NotFound, StorageError
from cohort.rawstore import RESCORE_FINISHED, RESCORE_STARTED, ScoringRows
from cohort.scoring import compute
from cohort.scoring.solution import SCORER_VERSION, Solution, load_solution
from cohort.workspace import Cohort, utcnow

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from cohort.rawstore import RawStore
    from cohort.store import Tx

# Shared with intake's driver-level path (no store import there); re-exported here.
INFINITE = compute.INFINITE
score_values = compute.score_values
_score_row = compute.score_row
_non_finite = compute.non_finite

# Scores (and statuses) written per transaction: a kill loses at most one batch of work.
BATCH = 5000
# Bytes of stacked predictions held in memory at once.
BATCH_BYTES = 16 * 1024 * 1024  # under glibc's mmap threshold, so batches reuse memory


def score_new(
    tx: Tx, solution: Solution, sid: int, values: np.ndarray, at: datetime
) -> float | None:
    """Score one just-submitted file inside the intake transaction; returns its public score."""
    from cohort.store import scores as store_scores
    from cohort.store import submissions as store_subs

    row = compute.score_one(solution, sid, values)
    store_scores.upsert_many(tx, [row])
    store_subs.set_status(tx, {sid: ("scored", "")})
    if not store_scores.scored_sha(tx, solution.week):
        store_scores.set_scored_sha(tx, solution.week, solution.sha256)
    return row["public_score"]


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
    from cohort.scoring.parsed import files_guard

    # Parsed caches are rebuilt under the intakes' shared guard. No sweep of temp files left
    # by killed writers: listing every stored file was ~0.03 s of a 22,000-file rescore, and
    # intakes and `cohort check --repair` sweep them (what a killed run leaves is only that).
    with files_guard(cohort, sweep=False):
        return _score_all(cohort.config, _StoreLedger(cohort), rescore, progress)


def score_at(
    config: CohortConfig,
    url: str,
    open_cohort: Callable[[], Cohort],
    rescore: bool = False,
    progress: bool = True,
) -> ScoreReport:
    """`score_pending` for the command line: on the database driver when the store at `url`
    stands at every migration head (SQLAlchemy never imported: ~0.45 s of CPU, a third of a
    22,000-file rescore), else on the cohort `open_cohort` opens (which migrates the store,
    or says why it cannot). Both run the same rules over the same statements."""
    from cohort import rawstore
    from cohort.scoring.parsed import files_guard

    raw = rawstore.open_current(url)
    if raw is None:
        return score_pending(open_cohort(), rescore, progress)
    if raw.dialect == "sqlite":
        # This connection's commits wait for the write-ahead log, not for the disk: in WAL
        # mode a power loss can drop a run's last commits but never tears the file, and
        # what a scoring run writes is a function of the stored files (the next run writes
        # whatever was lost again). Each commit's sync was ~0.01 s of a 20,000-score rewrite.
        # Only this connection: intakes keep every commit synced before they answer.
        raw.run("PRAGMA synchronous=NORMAL")
        # A rewrite touches a leaf of the scores key's index per few files (it is ordered by
        # submission, then solution): SQLite's default 2 MB page cache spilled them
        # mid-batch, and after ten solution fixes (220,000 score rows) writing 20,000 scores
        # took 0.20 s where the first took 0.12 s. 64 MB holds a season's (used as needed).
        raw.run("PRAGMA cache_size=-65536")
        # And the log is copied back into the database once, at the end of the run, not
        # after each batch's commit (SQLite's default: every 4 MB of log): 0.016 s of a
        # 20,000-score rewrite. A reader meanwhile reads the log as usual.
        raw.run("PRAGMA wal_autocheckpoint=10000")
    with raw, files_guard(config, sweep=False):  # as score_pending
        report = _score_all(config, _DriverLedger(config, raw), rescore, progress)
        if raw.dialect == "sqlite":
            # The log back into the database now: closing does it only as the last
            # connection, and with the app open the next intake's commit would pay for it.
            raw.run("PRAGMA wal_checkpoint(PASSIVE)")
        return report


class _Ledger(Protocol):
    """The statements a scoring run makes, each its own transaction (`_StoreLedger` on
    cohort.store, `_DriverLedger` on cohort.rawstore)."""

    def open_rescore(self) -> datetime | None: ...
    def audit(self, at: datetime, action: str, **detail: Any) -> None: ...
    def rows(self, week: str, sha: str, since: datetime | None) -> tuple[ScoringRows, str]: ...
    def scored_sha(self, week: str) -> str: ...
    def set_scored_sha(self, week: str, sha: str) -> None: ...
    def write(self, scores: list[dict[str, Any]], statuses: dict[int, tuple[str, str]]) -> None: ...
    def boards(self, week: Week) -> dict[str, dict[str, int]]: ...
    def boards_after(self, week: Week, scores: dict[int, Scores]) -> dict[str, dict[str, int]]: ...


# A submission's (public, private) score; None where a split has none.
Scores = tuple[float | None, float | None]


class _StoreLedger:
    def __init__(self, cohort: Cohort) -> None:
        self.cohort = cohort
        self.transaction = cohort.store.transaction

    def open_rescore(self) -> datetime | None:
        from cohort.store import scores as store_scores

        with self.transaction() as tx:
            return store_scores.open_rescore(tx)

    def audit(self, at: datetime, action: str, **detail: Any) -> None:
        from cohort.store import audit

        with self.transaction() as tx:
            audit.record(tx, at, "scorer", action, "all weeks", **detail)

    def rows(self, week: str, sha: str, since: datetime | None) -> tuple[ScoringRows, str]:
        from cohort.store import scores as store_scores
        from cohort.store import submissions as store_subs

        with self.transaction() as tx:
            rows = store_subs.scoring_rows(tx, week, sha, SCORER_VERSION, since)
            return rows, store_scores.scored_sha(tx, week)

    def scored_sha(self, week: str) -> str:
        from cohort.store import scores as store_scores

        with self.transaction() as tx:
            return store_scores.scored_sha(tx, week)

    def set_scored_sha(self, week: str, sha: str) -> None:
        from cohort.store import scores as store_scores

        with self.transaction() as tx:
            store_scores.set_scored_sha(tx, week, sha)

    def write(self, scores: list[dict[str, Any]], statuses: dict[int, tuple[str, str]]) -> None:
        from cohort.store import scores as store_scores
        from cohort.store import submissions as store_subs

        with self.transaction() as tx:
            store_scores.upsert_many(tx, scores)
            store_subs.set_status(tx, statuses)

    def boards(self, week: Week) -> dict[str, dict[str, int]]:
        """The ranks members see now, from the store's ranked board lines (no week frame, no
        pandas): the report says exactly what the boards said before and say after the run."""
        from cohort.scoring.boards import leaderboard

        public = leaderboard(self.cohort, week.id)
        out = {"public": {r.handle: r.rank for r in public.rows}}
        if public.revealed:
            private = leaderboard(self.cohort, week.id, private=True)
            out["private"] = {r.handle: r.rank for r in private.rows}
        return out

    def boards_after(self, week: Week, scores: dict[int, Scores]) -> dict[str, dict[str, int]]:
        """The ranks once the run is done: read again from the store."""
        return self.boards(week)


class _DriverLedger:
    def __init__(self, config: CohortConfig, raw: RawStore) -> None:
        self.config, self.raw = config, raw
        # Every week's file rows, read in one pass on the plan's first call (a week's index
        # cost a lookup a row); each week's are taken out once, as the plan asks once a week.
        self.files: dict[str, list[tuple[Any, ...]]] | None = None
        self.counts: dict[str, int] = {}  # each week's file rows, for `boards`' plan
        self.candidates: dict[str, Any] = {}  # the files each week's `boards` ranked

    def open_rescore(self) -> datetime | None:
        with self.raw.reading() as db:
            return db.open_rescore(RESCORE_STARTED, RESCORE_FINISHED)

    def audit(self, at: datetime, action: str, **detail: Any) -> None:
        with self.raw.writing() as db:
            db.audit(at, "scorer", action, "all weeks", **detail)

    def rows(self, week: str, sha: str, since: datetime | None) -> tuple[ScoringRows, str]:
        with self.raw.reading() as db:
            if self.files is None:
                self.files = db.file_rows()
                self.counts = {w: len(rows) for w, rows in self.files.items()}
            subs = self.files.pop(week, [])  # asked twice, a week would read as empty
            return db.scoring_rows(week, sha, SCORER_VERSION, since, subs), db.scored_sha(week)

    def scored_sha(self, week: str) -> str:
        with self.raw.reading() as db:
            return db.scored_sha(week)

    def set_scored_sha(self, week: str, sha: str) -> None:
        with self.raw.writing() as db:
            db.set_scored_sha(week, sha)

    def write(self, scores: list[dict[str, Any]], statuses: dict[int, tuple[str, str]]) -> None:
        with self.raw.writing() as db:
            db.upsert_scores(scores)
            db.set_statuses(statuses)

    def boards(self, week: Week) -> dict[str, dict[str, int]]:
        from cohort.scoring import board_rows

        # A pass over the table when the week holds more than a quarter of its files.
        scan = self.counts.get(week.id, 0) * 4 > sum(self.counts.values())
        read = self.candidates[week.id] = board_rows.files(self.config, self.raw, week.id, scan)
        return board_rows.ranks(self.raw, read)

    def boards_after(self, week: Week, scores: dict[int, Scores]) -> dict[str, dict[str, int]]:
        """The ranks once the run is done, from the files `boards` read before it with the
        week's scores now (what the run wrote over what was stored): the same lines a
        second read would give, without its query and conversions (0.1-0.14 s of a
        20,000-file solution fix). What another process changes during the run (a new
        selection, an override) is left out: the report is of what this run moved."""
        from cohort.scoring import board_rows

        return board_rows.ranks(self.raw, self.candidates.pop(week.id), scores)


def _score_all(config: CohortConfig, ledger: _Ledger, rescore: bool, progress: bool) -> ScoreReport:
    report = ScoreReport()
    since = _rescore_since(ledger, report) if rescore else None
    plan = _plan(config, ledger, rescore, since, report)
    if since is not None and not report.resumed:
        # Recorded only once the plan stands: a rescore refused up front (a broken solution
        # file, say) leaves the store as it was.
        ledger.audit(since, RESCORE_STARTED)
    total = sum(len(due) for _, _, due in plan)
    with _progress(total, progress and not _quiet()) as advance:
        for solution, rows, due in plan:
            _score_week(config, ledger, solution, rows, due, report, advance)
    if rescore:
        ledger.audit(utcnow(), RESCORE_FINISHED, scored=report.scored, errors=report.errors)
    return report


def _rescore_since(ledger: _Ledger, report: ScoreReport) -> datetime:
    """The start of this rescore, or of the interrupted one it resumes."""
    since = ledger.open_rescore()
    report.resumed = since is not None
    return since if since is not None else utcnow()


def _plan(
    config: CohortConfig,
    ledger: _Ledger,
    rescore: bool,
    since: datetime | None,
    report: ScoreReport,
) -> list[tuple[Solution, ScoringRows, np.ndarray]]:
    """Per week with work: its solution, every file submission's row, and which are due."""
    plan = []
    for week in config.weeks:
        try:
            solution = load_solution(config, week.id)
        except NotFound:
            report.skipped[week.id] = f"no solution file; run `cohort prepare {week.id}`"
            continue
        rows, scored_sha = ledger.rows(week.id, solution.sha256, since)
        stale = scored_sha != solution.sha256
        due = ~rows.scored | (~rows.scored_since if rescore else False)
        if due.any() or (stale and len(rows)):
            # Only a week with work: a past week's folder archived away must not stop the rest.
            _check_folder(config, week, len(rows))
            plan.append((solution, rows, np.flatnonzero(due)))
    return plan


def _check_folder(config: CohortConfig, week: Week, files: int) -> None:
    """Refuse a run that would find none of a week's stored files: a wrong
    COHORT_SUBMISSIONS_DIR or root (or a folder lost) would otherwise turn every one of its
    submissions into an error, on every board at once. A few missing files are each an error
    of their own (`cohort check` names them); a missing folder stops the run before it writes."""
    from cohort.scoring.parsed import week_dir

    folder = week_dir(config, week)
    if files and not folder.is_dir():
        raise StorageError(
            f"Week '{week.id}' has {files} stored file(s) but {folder} is not there: check "
            f"that {SUBMISSIONS_ENV} or the cohort root points at the cohort's submissions "
            "folder, or restore it from a backup. Nothing was scored."
        )


def _score_week(
    config: CohortConfig,
    ledger: _Ledger,
    solution: Solution,
    rows: ScoringRows,
    due: np.ndarray,
    report: ScoreReport,
    advance: Any,
) -> None:
    week = config.week(solution.week)
    switch = ledger.scored_sha(week.id) != solution.sha256
    # The boards as members saw them, read just before the first write (none may be needed).
    before = ledger.boards(week) if switch else None
    per_batch = max(1, min(BATCH, BATCH_BYTES // max(1, solution.truth.size * 8)))
    batches = [due[start : start + per_batch] for start in range(0, len(due), per_batch)]
    written: list[dict[str, Any]] = []
    statuses: dict[int, tuple[str, str]] = {}
    now: dict[int, Scores] = {}  # what this run wrote, for the boards after it
    for n, (at, read) in enumerate(
        zip(batches, _read_batches(config, solution, rows, batches), strict=True)
    ):
        rows_out, status_out, scored = _score_batch(solution, rows[at], read)
        written += rows_out
        statuses.update(status_out)
        report.scored += scored
        report.errors += len(at) - scored
        advance(len(at))
        # Written in transactions of about BATCH rows (each commit is a disk sync).
        if len(written) + len(statuses) >= BATCH or (
            n == len(batches) - 1 and (written or statuses)
        ):
            before = ledger.boards(week) if before is None else before
            ledger.write(written, statuses)
            now.update((sid, (p, q)) for sid, p, q in map(_SCORES_OF, written))
            written, statuses = [], {}
    report.weeks[week.id] = len(due)
    if switch:
        # Only now, with every file scored, does the leaderboard switch to this solution.
        ledger.set_scored_sha(week.id, solution.sha256)
    if before is not None:
        after = ledger.boards_after(week, {**_stored(rows), **now})
        report.rank_changes.extend(_diff(week.id, before, after))


def _read_batches(
    config: CohortConfig, solution: Solution, rows: ScoringRows, batches: list[np.ndarray]
) -> Iterator[Any]:
    """Each batch's stored predictions, read when it is scored. Reading the next batch in a
    thread while this one was scored lost time: the reader's three system calls a file each
    hand the GIL over and back, and on the bench's 22,000 files a no-change rescore took
    0.83-1.32 s threaded against 0.73-0.94 s in one thread (idle machine, 6 pairs), with
    a third less system time."""
    from cohort.scoring.parsed import read_stack

    shas = rows.file_sha256
    for batch in batches:
        yield read_stack(config, solution, shas[batch].tolist())


def _score_batch(
    solution: Solution, batch: ScoringRows, read: tuple[np.ndarray, dict[int, str]]
) -> tuple[list[dict[str, Any]], dict[int, tuple[str, str]], int]:
    """Score a batch; returns the changed score rows, the changed statuses, and how many scored."""
    ids = batch.submission_id.tolist()
    status, error = batch.status.tolist(), batch.error.tolist()
    stack, failed = read
    statuses = {
        ids[i]: ("error", msg)
        for i, msg in failed.items()
        if (status[i], error[i]) != ("error", msg)
    }
    good = [i for i in range(len(ids)) if i not in failed]
    if not good:
        return [], statuses, 0
    pub, priv = score_values(solution, stack if not failed else stack[good])
    infinite = _non_finite(solution, pub, priv)
    if infinite.any():  # stored before scores were checked: now an error, never Infinity
        for j in np.flatnonzero(infinite):
            if (status[good[j]], error[good[j]]) != ("error", INFINITE):
                statuses[ids[good[j]]] = ("error", INFINITE)
        keep = ~infinite
        good, pub, priv = [g for g, k in zip(good, keep, strict=True) if k], pub[keep], priv[keep]
    old_pub, old_priv = batch.scored_public[good], batch.scored_private[good]
    changed = ~batch.scored[good] | ~(_same(old_pub, pub) & _same(old_priv, priv))
    at = utcnow()
    keep = np.flatnonzero(changed)
    rows = [
        {
            "submission_id": sid,
            "solution_sha256": solution.sha256,
            "scorer_version": SCORER_VERSION,
            "public_score": p,
            "private_score": q,
            "scored_at": at,
        }
        for sid, p, q in zip(
            np.asarray(batch.submission_id[good])[keep].tolist(),
            _floats(pub[keep]),
            _floats(priv[keep]),
            strict=True,
        )
    ]
    statuses.update({ids[i]: ("scored", "") for i in good if status[i] != "scored"})
    return rows, statuses, len(good)


_SCORES_OF = itemgetter("submission_id", "public_score", "private_score")


def _stored(rows: ScoringRows) -> dict[int, Scores]:
    """The scores `rows` read as stored for the run's solution, as the board reads them (a
    NaN in the arrays is a split without a score: NULL in the store)."""
    at = np.flatnonzero(rows.scored)
    return dict(
        zip(
            rows.submission_id[at].tolist(),
            zip(_floats(rows.scored_public[at]), _floats(rows.scored_private[at]), strict=True),
            strict=True,
        )
    )


def _floats(values: np.ndarray) -> list[float | None]:
    """Scores as the store takes them: floats, None for NaN (an empty split)."""
    out = values.astype(object)
    out[np.isnan(values)] = None
    return out.tolist()  # type: ignore[no-any-return]


def _same(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    return (np.isnan(old) & np.isnan(new)) | (old == new)


def _diff(
    week: str, before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]
) -> Iterator[RankChange]:
    for board, now in after.items():
        old = before.get(board, {})
        for handle in sorted(set(old) | set(now)):
            if old.get(handle) != now.get(handle):
                yield RankChange(
                    week, board, str(handle), _int(old.get(handle)), _int(now.get(handle))
                )


def _int(x: Any) -> int | None:
    return None if x is None else int(x)
