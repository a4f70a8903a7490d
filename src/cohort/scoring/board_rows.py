"""`cohort leaderboard` on a current store, read on the driver (cohort.rawstore).

A fresh process reading one board spent ~0.5 s of its ~0.7 s importing SQLAlchemy for two
queries. On a store at every migration head this runs `boards.leaderboard`'s rules over
rawstore's copy of the board-lines query; anything else (a store to migrate, a private board
still hidden, a week too large to read whole in a moment) goes to `boards.leaderboard`
itself, which says why or reads its derived cache. The row and board classes and the ranking
are the ones `boards.leaderboard` uses; tests/test_board_rows.py holds the two paths' boards
equal on both stores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cohort.config import CohortConfig, Competition, Week
from cohort.scoring import SCORER_VERSION
from cohort.workspace import utcnow

# The most file submissions a week may hold for its board to be read on the driver. The
# board query reads every one (~16 us a file on SQLite: 0.8 s at 50,000); above this a fresh
# cohort.store reads the board its derived cache keeps (migration 0012) for less than that.
DRIVER_FILES = 10_000


@dataclass(frozen=True)
class Line:
    """store.submissions.BoardLine's fields: one file that can be a member's board line."""

    submission_id: int
    member_id: int
    handle: str
    name: str
    submitted_at: datetime
    file_sha256: str
    public_score: float | None
    private_score: float | None
    public_order: int
    counted: bool
    entries: int
    last_submitted_at: datetime


class Candidate(Protocol):
    """What the ranking reads of a line: `Line`, or the store's own `BoardLine`."""

    @property
    def submission_id(self) -> int: ...
    @property
    def member_id(self) -> int: ...
    @property
    def handle(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def submitted_at(self) -> datetime: ...
    @property
    def public_score(self) -> float | None: ...
    @property
    def private_score(self) -> float | None: ...
    @property
    def public_order(self) -> int: ...
    @property
    def counted(self) -> bool: ...
    @property
    def entries(self) -> int: ...
    @property
    def last_submitted_at(self) -> datetime: ...


@dataclass(frozen=True)
class Row:
    """One member's line on a week's leaderboard (`boards.LeaderboardRow`)."""

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
class Board:
    """A week's public or private leaderboard (`boards.Leaderboard`)."""

    week: str
    private: bool
    revealed: bool
    metric: str
    direction: str
    rows: list[Row]


def leaderboard_at(
    config: CohortConfig,
    url: str,
    week_ref: str,
    private: bool,
    through_store: Callable[[], Any],
    now: datetime | None = None,
) -> Any:
    """The week's board as `boards.leaderboard` gives it: on the driver when the store at `url`
    stands at every migration head, else `through_store()` (the caller's `boards.leaderboard`
    on an opened cohort: this module never imports the store's side)."""
    from cohort import rawstore

    raw = rawstore.open_current(url)
    board = None
    if raw is not None:
        with raw:
            board = _read(config, raw, week_ref, private, now or utcnow())
    return through_store() if board is None else board


def _read(
    config: CohortConfig, raw: Any, week_ref: str, private: bool, now: datetime
) -> Board | None:
    week = config.week(week_ref)
    comp = week.competition
    with raw.reading() as db:
        sha, revealed_at = db.week_state(week.id)
        revealed = week.is_closed(now) or revealed_at is not None
        if private and not revealed:
            return None  # boards.leaderboard refuses it, in its words
        if db.week_files(week.id) > DRIVER_FILES:
            return None  # a large week's board is read from the store's derived cache
        found = _lines(db, week, sha, revealed_at)
    rows = board_rows(found, comp, private)
    return Board(week.id, private, revealed, comp.metric, comp.direction, rows)


def _lines(db: Any, week: Week, sha: str, revealed_at: datetime | None) -> list[Line]:
    comp = week.competition
    found = db.board_lines(
        week.id,
        sha,
        SCORER_VERSION,
        week.closes_at,
        revealed_at,
        comp.direction,
        comp.final_selections,
    )
    return [Line(*r) for r in found]


@dataclass(frozen=True)
class BoardFiles:
    """A week's files that can be board lines, as read for its boards' solution (`files`)."""

    week: Week
    revealed_at: datetime | None
    found: list[tuple[Any, ...]]


def files(config: CohortConfig, raw: Any, week_ref: str, scan: bool = False) -> BoardFiles:
    """The week's candidate files for the solution its boards read now, on the driver
    (`scan`: the week holds most of the store's files, see `RawStore.board_files`)."""
    week = config.week(week_ref)
    with raw.reading() as db:
        sha, revealed_at = db.week_state(week.id)
        found = db.board_files(week.id, sha, SCORER_VERSION, week.closes_at, revealed_at, scan)
    return BoardFiles(week, revealed_at, found)


def ranks(
    raw: Any,
    read: BoardFiles,
    scores: dict[int, tuple[float | None, float | None]] | None = None,
) -> dict[str, dict[str, int]]:
    """The ranks on the week's boards ('public', and 'private' once revealed), handle ->
    rank, whatever the week's size (both boards from one read of the lines): what a
    scoring run on the driver reports rank changes from, as `runs._StoreLedger.boards`
    does on the store's side. With `scores` (submission id -> (public, private)), the
    ranks the same files give once those are the week's scores (`rawstore.rescored`)."""
    from cohort.rawstore import rescored

    week, comp = read.week, read.week.competition
    found = read.found if scores is None else rescored(read.found, scores)
    lines = [Line(*r) for r in raw.window_lines(found, comp.direction, comp.final_selections)]
    revealed = week.is_closed(utcnow()) or read.revealed_at is not None
    boards = {"public": False, "private": True} if revealed else {"public": False}
    return {
        name: {r.handle: r.rank for r in board_rows(lines, comp, private)}
        for name, private in boards.items()
    }


def board_rows(lines: Sequence[Candidate], comp: Competition, private: bool) -> list[Row]:
    """The board from a week's candidate lines: the public board ranks each member's best public
    line; the private one the best private score of their counted lines, with the public rank
    beside it and the change between the two."""
    public = _ranked([ln for ln in lines if ln.public_order == 1], "public_score", comp.direction)
    if private:
        board = _ranked([ln for ln in lines if ln.counted], "private_score", comp.direction)
        public_rank = {ln.member_id: rank for rank, ln in public}
        return [_row(rank, ln, ln.private_score, public_rank[ln.member_id]) for rank, ln in board]
    return [_row(rank, ln, ln.public_score, None) for rank, ln in public]


def _ranked(lines: Sequence[Candidate], col: str, direction: str) -> list[tuple[int, Candidate]]:
    """Each member's best line by `col`, ranked 1..n; ties go to the earlier submission, then
    the lower id."""
    sign = 1.0 if direction == "min" else -1.0
    scored = [ln for ln in lines if getattr(ln, col) is not None]
    scored.sort(key=lambda ln: (sign * getattr(ln, col), ln.submitted_at, ln.submission_id))
    best: dict[int, Candidate] = {}
    for ln in scored:
        best.setdefault(ln.member_id, ln)
    return list(enumerate(best.values(), start=1))


def _row(rank: int, ln: Candidate, score: float | None, public_rank: int | None) -> Row:
    return Row(
        rank,
        ln.handle,
        ln.name,
        float(score),  # type: ignore[arg-type]  # _ranked keeps scored lines only
        ln.entries,
        ln.last_submitted_at,
        ln.submission_id,
        public_rank,
        None if public_rank is None else public_rank - rank,
    )
