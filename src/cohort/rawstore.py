"""The statements of `cohort submit`, `leaderboard` and `score` on the database driver itself
(sqlite3, psycopg 3), and the scoring run's rows (`ScoringRows`), which both paths build.

A submit on a store that already stands at every migration head runs a dozen short
statements, a scoring run a few dozen; importing SQLAlchemy for them costs ~0.4 s of CPU,
most of a submit's start-up and a third of a no-change rescore. `open_current` opens the driver and checks, in one query, that the store is
current; anything else (a store behind head or ahead of it, an in-memory or unusual URL,
another driver, a connection that fails) answers None, and the caller opens `cohort.store`,
which migrates, reports, and owns every other statement.

It lives beside `cohort.store`, not in it, because importing that package imports
SQLAlchemy. The rows it writes are the rows `cohort.store` writes (tests/test_rawstore.py
compares them on both stores); the database's triggers (migrations 0010-0011) keep the
revision counters of raw writes as of any other. The default URL, the migration heads and
the SQLite pragmas are defined here and imported by `cohort.store`; the time text and score
upsert are repeated here (the store builds them with SQLAlchemy), and tests/test_rawstore.py
holds each copy equal to the store's.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import lru_cache
from heapq import nsmallest
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cohort.errors import NotFound, ValidationError

if TYPE_CHECKING:
    import numpy as np

DB_FILE = "cohort.db"
ENV_URL = "COHORT_DATABASE_URL"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
TABLES_FILE = Path(__file__).resolve().parent / "store" / "tables.py"


def default_url(root: Path) -> str:
    """COHORT_DATABASE_URL if set, else the SQLite file cohort.db at the cohort root."""
    return os.environ.get(ENV_URL) or f"sqlite:///{(root / DB_FILE).resolve()}"


_HEAD_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.M)


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    """The revisions no other migration builds on, read from the version files' text.

    Several migrations branch from 0001, so the store upgrades to "heads" (a set)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(_HEAD_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        revisions.add(ast.literal_eval(found["revision"]))
        down = ast.literal_eval(found.get("down_revision", "None"))
        parents.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions - parents)


@lru_cache(maxsize=1)
def table_names() -> frozenset[str]:
    """The tables cohort.store.tables declares, read from its text (importing it imports
    SQLAlchemy); tests/test_rawstore.py checks them against the mapped metadata."""
    text = TABLES_FILE.read_text(encoding="utf-8")
    return frozenset(re.findall(r"^\s+__tablename__\s*=\s*\"(\w+)\"", text, re.M))


def sqlite_pragmas(conn: Any) -> None:
    """The settings every SQLite connection gets, here and in cohort.store: WAL (the app reads
    while `cohort score` writes), foreign keys, and a writer waiting up to 60 s for the write
    lock (20 members submitting at once during a rescore on 2 busy cores waited past 10 s,
    tools/scale.py)."""
    cur = conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
    # Reads through a memory map, not a read() a page: a board query over a week of 20,000
    # scored files visits ~20,000 table pages, and its system calls were half of its time
    # (0.22 s against 0.12 s, a 34 MB store). SQLite still writes through its own I/O, and
    # a map larger than the file costs only address space.
    cur.execute("PRAGMA mmap_size=1073741824")
    cur.close()


def sqlite_time(at: datetime) -> str:
    """An aware time as the store's UTCDateTime keeps it on SQLite (UTC, microseconds)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given to the store; pass an aware datetime")
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# The audit actions that bracket a `--rescore` (an interrupted one resumes from its start).
RESCORE_STARTED = "rescore_started"
RESCORE_FINISHED = "rescore_finished"
# cohort.store.scores' statement on SQLite (tested equal).
SCORE_UPSERT = (
    "INSERT INTO scores (submission_id, solution_sha256, scorer_version, public_score, "
    "private_score, scored_at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (submission_id, solution_sha256, scorer_version) DO UPDATE SET "
    "public_score = excluded.public_score, private_score = excluded.private_score, "
    "scored_at = excluded.scored_at"
)
# Migration 0013: while bulk_score_writes holds a row, the row triggers on scores stand aside;
# a batch bumps the counters of the (week, member) pairs it wrote, once each, here instead.
_BULK_ON = "INSERT OR IGNORE INTO bulk_score_writes (id) VALUES (1)"
_BULK_OFF = "DELETE FROM bulk_score_writes"
_BATCH_IDS = "SELECT value FROM json_each(?)"
_BUMP_WEEKS = (
    "INSERT INTO week_revisions (week, value) SELECT DISTINCT week, 1 FROM submissions "
    f"WHERE id IN ({_BATCH_IDS}) "
    "ON CONFLICT (week) DO UPDATE SET value = week_revisions.value + 1"
)
_BUMP_MEMBERS = (
    "INSERT INTO member_week_revisions (week, member_id, value) SELECT week, member_id, 1 "
    f"FROM submissions WHERE id IN ({_BATCH_IDS}) GROUP BY week, member_id "
    "ON CONFLICT (week, member_id) DO UPDATE SET value = member_week_revisions.value + 1"
)


def score_params(rows: list[dict[str, Any]], time: Any) -> list[tuple[Any, ...]]:
    """SCORE_UPSERT's parameters for score rows, each distinct scored_at bound once through
    `time` (a batch shares a handful: converting each row's was most of its Python time)."""
    texts: dict[datetime, Any] = {}

    def bound(at: datetime) -> Any:
        if at not in texts:
            texts[at] = time(at)
        return texts[at]

    return [
        (
            r["submission_id"],
            r["solution_sha256"],
            r["scorer_version"],
            r["public_score"],
            r["private_score"],
            bound(r["scored_at"]),
        )
        for r in rows
    ]


def write_scores_sqlite(cur: Any, rows: Sequence[Sequence[Any]]) -> None:
    """SCORE_UPSERT for each row (SCORE_UPSERT's parameters), on a SQLite cursor inside the
    caller's write transaction, with the counters bumped once per (week, member) touched
    instead of by a trigger per row (migration 0013: 20,000 inserts 0.71 s against 0.35 s on a
    copy of the bench's store). The bumps and the marker's removal run even when a row
    fails, so a caller that carried on and committed would still leave every counter moved
    and the triggers on."""
    if not rows:
        return
    import json

    conn = cur.connection
    if conn.isolation_level is None and not conn.in_transaction:
        # A connection that commits each statement would commit the marker, and every
        # writer's triggers would stand aside until it went: refused before any write.
        raise RuntimeError("write_scores_sqlite needs a connection inside a transaction")
    # Taken before the marker goes in, so nothing between it and its removal can fail but
    # the statements themselves.
    ids = json.dumps(sorted({int(r[0]) for r in rows}))
    cur.execute(_BULK_ON)
    if not conn.in_transaction:  # any other mode that commits each statement (3.12's autocommit)
        cur.execute(_BULK_OFF)
        raise RuntimeError("write_scores_sqlite needs a connection inside a transaction")
    try:
        cur.executemany(SCORE_UPSERT, rows)
    finally:
        try:
            cur.execute(_BUMP_WEEKS, (ids,))
            cur.execute(_BUMP_MEMBERS, (ids,))
        finally:
            cur.execute(_BULK_OFF)


# What Store.transaction runs after any write: the revision row to max(value, 0) + 1.
REVISION_BUMP = (
    "INSERT INTO revision (id, value) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET "
    "value = (CASE WHEN (revision.value > 0) THEN revision.value ELSE 0 END + 1)"
)
# Text columns of a submission row and their length limits (None: any length), in the
# table's column order: what cohort.store.guards checks before every ORM flush.
SUBMISSION_TEXT: dict[str, int | None] = {
    "week": 64,
    "source": 20,
    "notebook_url": None,
    "file_sha256": 64,
    "file_name": 255,
    "status": 20,
    "error": None,
    "import_key": 128,
}
SUBMISSION_COLUMNS = (
    "member_id",
    "week",
    "submitted_at",
    "source",
    "notebook_url",
    "file_sha256",
    "file_name",
    "status",
    "error",
    "selected",
    "import_key",
)


def check_text(table: str, limits: dict[str, int | None], row: dict[str, Any]) -> None:
    """Refuse text with a NUL or longer than its column, as cohort.store.guards does."""
    for column, limit in limits.items():
        value = row.get(column)
        if not isinstance(value, str):
            continue
        what = f"{table}.{column}"
        if "\x00" in value:
            raise ValidationError(
                f"The text for {what} contains a NUL character; remove it and try again."
            )
        if limit and len(value) > limit:
            raise ValidationError(
                f"The text for {what} is {len(value)} characters long; at most {limit} "
                "fit. Shorten it and try again."
            )


def _sqlite_path(url: str) -> str | None:
    """The file of a plain `sqlite:///path` URL that exists; None for anything else."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :]
    # Query options, URI filenames, percent-escapes and :memory: are SQLAlchemy's to read.
    if not path or any(c in path for c in "?%#") or path.startswith(":memory:"):
        return None
    return path if os.path.isfile(path) else None  # a new database needs its migrations


_PG_PREFIXES = ("postgresql+psycopg://",)


def open_current(url: str) -> RawStore | None:
    """The store at `url` on its driver, when it stands at every migration head; else None."""
    path = _sqlite_path(url)
    conn: Any = None
    try:
        if path is not None:
            import sqlite3

            conn = sqlite3.connect(path)
            sqlite_pragmas(conn)
            store = RawStore(conn, "sqlite")
        elif url.startswith(_PG_PREFIXES):
            import psycopg

            conninfo = "postgresql://" + url.split("://", 1)[1]
            conn = psycopg.connect(conninfo)
            store = RawStore(conn, "postgresql")
        else:
            return None
        if store.at_heads():
            return store
    except Exception:  # noqa: BLE001 - any failure: cohort.store opens it and reports
        pass
    if conn is not None:
        with suppress(Exception):
            conn.close()
    return None


class RawStore:
    """One driver connection to a current store, and the intake's, the board's and the scoring
    run's statements on it."""

    def __init__(self, conn: Any, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    def close(self) -> None:
        """Close the connection (a transaction left open is rolled back)."""
        self.conn.close()

    def __enter__(self) -> RawStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sql(self, statement: str) -> str:
        return statement if self.dialect == "sqlite" else statement.replace("?", "%s")

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of one query."""
        cur = self.conn.cursor()
        try:
            cur.execute(self._sql(statement), tuple(params))
            return list(cur.fetchall())
        finally:
            cur.close()

    def run(self, statement: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; the cursor's lastrowid (SQLite) or first column (RETURNING)."""
        cur = self.conn.cursor()
        try:
            cur.execute(self._sql(statement), tuple(params))
            if self.dialect == "sqlite":
                return cur.lastrowid
            return cur.fetchone()[0] if cur.description else None
        finally:
            cur.close()

    def many(self, statement: str, params: Sequence[Sequence[Any]]) -> None:
        """One statement for each parameter row (the driver's executemany)."""
        if not params:
            return
        cur = self.conn.cursor()
        try:
            cur.executemany(self._sql(statement), params)
        finally:
            cur.close()

    def at_heads(self) -> bool:
        """True when the store stands at every migration head (as Store._at_heads decides)."""
        try:
            found = {r[0] for r in self.rows("SELECT version_num FROM alembic_version")}
            if not found or found != migration_heads():
                return False
            if self.dialect != "sqlite":
                return True
            tables = {
                r[0] for r in self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            return table_names() <= tables
        finally:
            self.conn.rollback()

    def time(self, at: datetime) -> Any:
        """A time bound as the store's UTCDateTime binds it."""
        if self.dialect == "sqlite":
            return sqlite_time(at)
        if at.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware datetime")
        return at.astimezone(UTC).replace(tzinfo=None)

    @staticmethod
    def read_time(value: Any) -> datetime | None:
        """A stored time as the store's UTCDateTime reads it (aware, UTC)."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]

    @contextmanager
    def reading(self) -> Iterator[RawStore]:
        """A read-only transaction (ended by a rollback: nothing was written)."""
        try:
            yield self
        finally:
            self.conn.rollback()

    @contextmanager
    def writing(self) -> Iterator[RawStore]:
        """A write transaction: committed with the store's revision bumped (as
        Store.transaction does after any write), or rolled back on any error."""
        try:
            yield self
            self.run(REVISION_BUMP)
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise

    # --- the statements ------------------------------------------------------------------

    def member(self, handle: str) -> tuple[int, str]:
        """(id, kaggle_username) of a member, or NotFound as store.members.by_handle says."""
        found = self.rows("SELECT id, kaggle_username FROM members WHERE handle = ?", [handle])
        if not found:
            raise NotFound(
                f"No member '{handle}'; check `cohort members list` or import the roster."
            )
        return int(found[0][0]), str(found[0][1])

    def import_key_exists(self, key: str) -> bool:
        """True when a submission was already imported under this key."""
        return bool(self.rows("SELECT id FROM submissions WHERE import_key = ?", [key]))

    def extension(self, week: str, handle: str) -> datetime | None:
        """The member's extended deadline for the week, if any."""
        found = self.rows(
            "SELECT extensions.until FROM extensions JOIN members "
            "ON members.id = extensions.member_id "
            "WHERE extensions.week = ? AND members.handle = ?",
            [week, handle],
        )
        return self.read_time(found[0][0]) if found else None

    def revealed_at(self, week: str) -> datetime | None:
        """When the week was revealed explicitly, if it was."""
        found = self.rows("SELECT revealed_at FROM week_state WHERE week = ?", [week])
        return self.read_time(found[0][0]) if found else None

    def count_files(self, member_id: int, week: str, start: datetime, end: datetime) -> int:
        """File submissions (not notebook links) of a member for a week in [start, end)."""
        found = self.rows(
            "SELECT count(id) FROM submissions WHERE member_id = ? AND week = ? "
            "AND file_sha256 != '' AND submitted_at >= ? AND submitted_at < ?",
            [member_id, week, self.time(start), self.time(end)],
        )
        return int(found[0][0] or 0)

    def lock_intake(self, member_id: int, week: str) -> None:
        """store.submissions.lock_intake: PostgreSQL's advisory lock; SQLite's insert-first."""
        if self.dialect == "postgresql":
            import zlib

            week_key = zlib.crc32(week.encode()) - 2**31  # into int4's range
            self.rows("SELECT pg_advisory_xact_lock(?, ?)", [member_id, week_key])

    def add_submission(self, row: dict[str, Any]) -> int:
        """Insert one submission row (every column the ORM writes); returns its id."""
        check_text("submissions", SUBMISSION_TEXT, row)
        values = [
            self.time(row[c])
            if c == "submitted_at"
            else row.get(c, False if c == "selected" else None)
            for c in SUBMISSION_COLUMNS
        ]
        statement = (
            f"INSERT INTO submissions ({', '.join(SUBMISSION_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in SUBMISSION_COLUMNS)})"
        )
        if self.dialect == "postgresql":
            statement += " RETURNING id"
        return int(self.run(statement, values))

    def upsert_score(self, row: dict[str, Any]) -> None:
        """Write one score keyed by (submission, solution sha, scorer version)."""
        self.run(
            SCORE_UPSERT,
            [
                row["submission_id"],
                row["solution_sha256"],
                row["scorer_version"],
                row["public_score"],
                row["private_score"],
                self.time(row["scored_at"]),
            ],
        )

    def set_status(self, submission_id: int, status: str, error: str) -> None:
        """Set (status, error) of one submission."""
        self.run(
            "UPDATE submissions SET status = ?, error = ? WHERE id = ?",
            [status, error, submission_id],
        )

    def scored_sha(self, week: str) -> str:
        """The solution sha the week's complete set of scores belongs to ('' before any)."""
        found = self.rows("SELECT solution_sha256 FROM week_state WHERE week = ?", [week])
        return str(found[0][0]) if found else ""

    def set_scored_sha(self, week: str, sha: str) -> None:
        """Switch the week's leaderboard to this solution's scores (its state row made first,
        if absent, as store.scores does: two first intakes of a week may both find none)."""
        if not self.rows("SELECT week FROM week_state WHERE week = ?", [week]):
            self.run(
                "INSERT INTO week_state (week, revealed_by, solution_sha256) VALUES (?, '', '') "
                "ON CONFLICT DO NOTHING",
                [week],
            )
        self.run("UPDATE week_state SET solution_sha256 = ? WHERE week = ?", [sha, week])

    # --- a scoring run ---------------------------------------------------------------------

    def open_rescore(self, started: str, finished: str) -> datetime | None:
        """store.scores.open_rescore: the start of a `--rescore` never finished, if any."""
        found = self.rows(
            "SELECT action, at FROM audit_log WHERE action IN (?, ?) ORDER BY id DESC LIMIT 1",
            [started, finished],
        )
        return self.read_time(found[0][1]) if found and found[0][0] == started else None

    def audit(self, at: datetime, actor: str, action: str, target: str, **detail: Any) -> None:
        """store.audit.record: one entry appended (its detail as the store's JSON column
        keeps it: json.dumps' text on both drivers, cast to json on PostgreSQL)."""
        import json

        value = "CAST(? AS JSON)" if self.dialect == "postgresql" else "?"
        self.run(
            "INSERT INTO audit_log (at, actor, action, target, detail) "
            f"VALUES (?, ?, ?, ?, {value})",
            [self.time(at), actor, action, target, json.dumps(detail)],
        )

    def file_rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """(id, file sha, status, error) of every file submission, by week, in id order: one
        pass over the table for a scoring run's whole plan (a week is most of a season's
        table: its index then costs a lookup a row, 3x the time of the pass on SQLite)."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        for row in self.rows(
            "SELECT week, id, file_sha256, status, error FROM submissions "
            "WHERE file_sha256 != ? ORDER BY id",
            [""],
        ):
            out.setdefault(row[0], []).append(row[1:])
        return out

    def scoring_rows(
        self,
        week: str,
        sha: str,
        version: str,
        since: datetime | None,
        subs: Sequence[Sequence[Any]],
    ) -> ScoringRows:
        """store.submissions.scoring_rows on the driver, for the week's `file_rows`."""
        fresh, params = "0", [sha, version]
        if since is not None:
            fresh = "CASE WHEN scored_at >= ? THEN 1 ELSE 0 END"
            params.insert(0, self.time(since))
        scores = self.rows(
            f"SELECT submission_id, public_score, private_score, {fresh} FROM scores "
            "WHERE solution_sha256 = ? AND scorer_version = ?",
            params,
        )
        return scoring_arrays(subs, scores)

    def upsert_scores(self, rows: list[dict[str, Any]]) -> None:
        """store.scores.upsert_many on the driver: one executemany of SCORE_UPSERT (on SQLite,
        write_scores_sqlite's)."""
        params = score_params(rows, self.time)
        if self.dialect != "sqlite":
            self.many(SCORE_UPSERT, params)
            return
        cur = self.conn.cursor()
        try:
            write_scores_sqlite(cur, params)
        finally:
            cur.close()

    def set_statuses(self, statuses: dict[int, tuple[str, str]]) -> None:
        """store.submissions.set_status on the driver (one executemany)."""
        self.many(
            "UPDATE submissions SET status = ?, error = ? WHERE id = ?",
            [(s, e, i) for i, (s, e) in statuses.items()],
        )

    # --- a week's board ------------------------------------------------------------------

    def week_state(self, week: str) -> tuple[str, datetime | None]:
        """(scored solution sha or '', explicit reveal time or None) of a week."""
        found = self.rows(
            "SELECT solution_sha256, revealed_at FROM week_state WHERE week = ?", [week]
        )
        return (str(found[0][0]), self.read_time(found[0][1])) if found else ("", None)

    def week_files(self, week: str) -> int:
        """How many file submissions the week holds."""
        found = self.rows(
            "SELECT count(id) FROM submissions WHERE week = ? AND file_sha256 != ''", [week]
        )
        return int(found[0][0] or 0)

    def board_lines(
        self,
        week: str,
        sha: str,
        version: str,
        closes_at: datetime,
        revealed_at: datetime | None,
        direction: str,
        limit: int,
    ) -> list[tuple[Any, ...]]:
        """store.submissions.board_lines for a whole week (every member, no `every_scored`),
        on the driver: its rows (sid, mid, handle, name, at, sha, pub, priv, pub_order,
        counted, entries, last), times read as aware UTC.

        The database joins and filters (the store's rules, word for word); the per-member
        windows (the order of each member's files, their count and latest time, whether
        they chose finals) are taken here, in one pass over the rows: SQLite's four window
        functions over a 20,000-file week took 0.15 s of the query's 0.21 s."""
        found = self.board_files(week, sha, version, closes_at, revealed_at)
        return self.window_lines(found, direction, limit)

    def board_files(
        self,
        week: str,
        sha: str,
        version: str,
        closes_at: datetime,
        revealed_at: datetime | None,
        scan: bool = False,
    ) -> list[tuple[Any, ...]]:
        """The week's files that can be board lines (`_BOARD_FILES`' rows, any order).

        `scan`: the caller knows the week holds most of the table's files; SQLite then reads
        the table in one pass instead of through the week's index (a lookup a row). On the
        bench's 20,000-file week of 22,000 files: 0.034 s against 0.056 s; at a quarter of
        the table the two take the same time, below it the index wins. Same rows either way."""
        params: list[Any] = [sha, version, week, "", True, self.time(closes_at), week]
        revealed = ""
        if revealed_at is not None:
            revealed = " AND submissions.submitted_at < ?"
            params.append(self.time(revealed_at))
        # SQLite's NOT INDEXED: a pass over the table (PostgreSQL's planner has statistics).
        source = " NOT INDEXED" if scan and self.dialect == "sqlite" else ""
        return self.rows(_BOARD_FILES.format(source=source, revealed=revealed), params)

    def window_lines(
        self, found: Sequence[Sequence[Any]], direction: str, limit: int
    ) -> list[tuple[Any, ...]]:
        """`board_lines`' rows from `board_files`' (or `rescored`'s)."""
        return [
            (
                int(r[0]),
                int(r[1]),
                r[2],
                r[3],
                self.read_time(r[4]),
                r[5],
                None if r[6] is None else float(r[6]),
                None if r[7] is None else float(r[7]),
                order,
                counted,
                entries,
                self.read_time(last),
            )
            for r, order, counted, entries, last in member_windows(found, direction, limit)
        ]


def rescored(
    found: Sequence[Sequence[Any]], scores: dict[int, tuple[float | None, float | None]]
) -> list[tuple[Any, ...]]:
    """`board_files`' rows as the same query reads them once the week's scores (of the
    solution it was read for) are `scores`, submission id -> (public, private); a file
    without one is unscored. Its overrides still win, column by column, as the query's
    coalesce has them."""
    out = []
    for r in found:
        pub, priv = scores.get(int(r[0]), (None, None))
        out.append(
            (
                *r[:6],
                r[9] if r[9] is not None else pub,
                r[10] if r[10] is not None else priv,
                *r[8:],
            )
        )
    return out


def member_windows(
    found: Sequence[Sequence[Any]], direction: str, limit: int
) -> Iterator[tuple[Sequence[Any], int, bool, int, Any]]:
    """The lines of a board among a week's eligible files, with the store's windows.

    `found` holds (sid, mid, handle, name, at, sha, pub, priv, selected, ...) rows (any
    further columns are carried along), any order. Per
    member, files are ordered by public score (unscored last, best first by `direction`),
    then time, then id; a member who selected a scored file counts their selected scored
    files, anyone else their first `limit` scored ones. Yields (row, its place, counted,
    the member's files, their latest time) for each member's first file and each counted
    one, as store.submissions.board_lines' SQL windows rank them."""
    sign = 1.0 if direction == "min" else -1.0

    def place(r: Sequence[Any]) -> tuple[Any, ...]:
        score = r[6]
        if score is None:
            return (1, 0, 0.0, r[4], r[0])
        if score != score:  # NaN, which only PostgreSQL keeps: above every number, as it sorts
            return (0, int(sign), 0.0, r[4], r[0])
        return (0, 0, sign * score, r[4], r[0])

    members: dict[Any, list[Sequence[Any]]] = {}
    for r in found:
        members.setdefault(r[1], []).append(r)
    for files in members.values():
        has_choice = any(r[6] is not None and r[8] for r in files)
        last = max(r[4] for r in files)
        # Without a choice only the first `limit` files can count: the smallest by place,
        # in order (what sorting all of them gives, without the sort: a member's hundreds
        # of files in a scoring run's rank-change report).
        ranked = sorted(files, key=place) if has_choice else nsmallest(max(limit, 1), files, place)
        for order, r in enumerate(ranked, 1):
            counted = r[6] is not None and (bool(r[8]) if has_choice else order <= limit)
            if order == 1 or counted:
                yield r, order, counted, len(files), last


# The rows store.submissions.board_lines ranks (members: all), written once for both drivers:
# its joins and filters, without its windows (member_windows takes them). Booleans are
# compared with a bound True, not SQLite's `IS 1` or PostgreSQL's bare column (the same
# rows: neither column holds NULL).
_BOARD_FILES = (
    "SELECT submissions.id, submissions.member_id, members.handle, members.name, "
    "submissions.submitted_at, submissions.file_sha256, "
    "coalesce(ov.public_score, scores.public_score), "
    "coalesce(ov.private_score, scores.private_score), submissions.selected, "
    # The override alone (`rescored` puts other scores under it).
    "ov.public_score, ov.private_score "
    "FROM submissions{source} JOIN members ON members.id = submissions.member_id "
    "LEFT OUTER JOIN scores ON scores.submission_id = submissions.id "
    "AND scores.solution_sha256 = ? AND scores.scorer_version = ? "
    "LEFT OUTER JOIN (SELECT score_overrides.submission_id AS submission_id, "
    "score_overrides.public_score AS public_score, score_overrides.private_score AS private_score "
    "FROM score_overrides JOIN (SELECT score_overrides.submission_id AS submission_id, "
    "max(score_overrides.id) AS oid FROM score_overrides GROUP BY score_overrides.submission_id) "
    "AS latest ON latest.oid = score_overrides.id) AS ov ON ov.submission_id = submissions.id "
    "WHERE submissions.week = ? AND submissions.file_sha256 != ? AND members.active = ? "
    # The store's LEFT JOIN on extensions, as a test run only for a file after the close
    # (a member has at most one extension a week: the same rows, without a lookup a file).
    "AND (submissions.submitted_at < ? OR EXISTS (SELECT 1 FROM extensions "
    "WHERE extensions.member_id = submissions.member_id AND extensions.week = ? "
    "AND submissions.submitted_at < extensions.until)){revealed}"
)


# --- a scoring run's rows, read on either path ----------------------------------------------


@dataclass(frozen=True)
class ScoringRows:
    """A week's file submissions with their stored score for one (sha, version), as arrays.

    Column access (`rows["status"]`) and row selection (`rows[mask]`, `rows[a:b]`) read as
    a DataFrame's do, without importing pandas: scoring runs do not need it. Defined here,
    below `cohort.store`, because a scoring run on the driver builds them too."""

    submission_id: np.ndarray  # int64
    file_sha256: np.ndarray  # object (str)
    status: np.ndarray  # object (str)
    error: np.ndarray  # object (str)
    scored_public: np.ndarray  # float64, NaN when unscored
    scored_private: np.ndarray  # float64, NaN when unscored
    scored: np.ndarray  # bool: a score exists
    scored_since: np.ndarray  # bool: written at or after `since`

    def __len__(self) -> int:
        return len(self.submission_id)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return getattr(self, key)
        return ScoringRows(*(getattr(self, f.name)[key] for f in fields(self)))


def scoring_arrays(subs: Sequence[Sequence[Any]], scores: Sequence[Sequence[Any]]) -> ScoringRows:
    """ScoringRows from two queries' rows: (id, file sha, status, error) of each file
    submission, and (submission id, public, private, written since: 0/1) of each score."""
    import numpy as np

    ids, shas, status, error = _columns(subs, 4)
    score_ids, public, private, fresh = _columns(scores, 4)
    sub_ids = np.asarray(ids, dtype=np.int64)
    order = np.argsort(np.asarray(score_ids, dtype=np.int64), kind="stable")
    sorted_ids = np.asarray(score_ids, dtype=np.int64)[order]
    slot = np.minimum(np.searchsorted(sorted_ids, sub_ids), max(len(sorted_ids) - 1, 0))
    found = sorted_ids[slot] == sub_ids if len(sorted_ids) else np.zeros(len(sub_ids), bool)
    at = order[slot] if len(sorted_ids) else slot

    def pick(values: tuple[Any, ...]) -> np.ndarray:
        arr = np.asarray(values, dtype=float)
        return np.where(found, arr[at], np.nan) if len(arr) else np.full(len(sub_ids), np.nan)

    return ScoringRows(
        sub_ids,
        _objects(shas),
        _objects(status),
        _objects(error),
        pick(public),
        pick(private),
        found,
        np.nan_to_num(pick(tuple(f or 0 for f in fresh))).astype(bool),
    )


def _objects(values: tuple[Any, ...]) -> np.ndarray:
    import numpy as np

    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[tuple[Any, ...]]:
    """Rows turned into `width` column tuples."""
    return list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]
