"""Backing up the store to one file, and restoring it into a fresh database.

Uses SQLite's online backup API, so a backup taken while the Streamlit app reads
(or `cohort score` writes) is a consistent snapshot. The backup file is a plain
single-file SQLite database (rollback journal, not WAL). Submission files and
built data live in submissions/ and data/ and are backed up as ordinary files.
For PostgreSQL use pg_dump / pg_restore.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from cohort.errors import CohortError
from cohort.store import Store
from cohort.store import revision as store_revision

SQLITE_HEADER = b"SQLite format 3\x00"
REQUIRED_TABLES = ("alembic_version", "members", "submissions", "contributions")


@dataclass(frozen=True)
class BackupReport:
    path: Path
    bytes: int
    rows: dict[str, int]


def database_file(store: Store) -> Path:
    """The SQLite file behind the store, or an error saying backups need SQLite."""
    prefix = "sqlite:///"
    database = store.url[len(prefix) :].split("?", 1)[0] if store.url.startswith(prefix) else ""
    if not database or database == ":memory:":
        kind = store.url.split(":", 1)[0]
        raise CohortError(
            f"Backups work on SQLite database files, not a {kind} URL; use pg_dump for PostgreSQL."
        )
    return Path(database)


def row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per table (the bookkeeping tables, Alembic's and the revision counter, left out)."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {
        n: conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0]
        for n in names
        if n not in ("alembic_version", "revision")
    }


def backup(store: Store, path: Path, force: bool = False) -> BackupReport:
    """Copy the database into `path` as one consistent SQLite file."""
    source = database_file(store)
    if path.exists() and not path.is_file():
        raise CohortError(f"{path} is not a regular file; choose a file path for the backup.")
    if path.exists() and path.resolve() == source.resolve():
        raise CohortError(
            f"{path} is the live database itself; choose another file for the backup."
        )
    if path.exists() and not force:
        raise CohortError(
            f"{path} already exists; choose a new file name or pass --force to replace it."
        )
    if not path.parent.is_dir():
        raise CohortError(f"Folder {path.parent} does not exist; create it or choose another path.")
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        with _connect(source) as src, _connect(tmp) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            rows = row_counts(dst)
        os.replace(tmp, path)
    except sqlite3.Error as exc:
        raise CohortError(
            f"Backup of {source} failed ({exc}); check the disk space and try again."
        ) from None
    except OSError as exc:
        raise CohortError(
            f"Cannot write the backup to {path} ({exc.strerror}); choose a writable file path."
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
    return BackupReport(path, path.stat().st_size, rows)


class _connect:
    """A sqlite3 connection closed on exit (sqlite3's own context manager only commits)."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        self.conn = sqlite3.connect(uri, uri=True)

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def check_backup(path: Path) -> dict[str, int]:
    """Row counts of a backup file, or one error line saying why it cannot be restored."""
    if path.is_dir():
        raise CohortError(
            f"Backup file {path} is a directory; pass the file `cohort backup` wrote."
        )
    if not path.is_file():
        raise CohortError(f"Backup file {path} not found; pass the file `cohort backup` wrote.")
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise CohortError(
                f"Backup file {path} is not a SQLite database; pass the file `cohort backup` wrote."
            )
    try:
        with _connect(path, readonly=True) as conn:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise CohortError(
                    f"Backup file {path} is corrupt ({' '.join(check.split())}); restore an older backup."
                )
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            missing = [t for t in REQUIRED_TABLES if t not in tables]
            if missing:
                raise CohortError(
                    f"Backup file {path} is not a cohort database (no '{missing[0]}' table); pass the file `cohort backup` wrote."
                )
            return row_counts(conn)
    except sqlite3.DatabaseError as exc:
        raise CohortError(
            f"Backup file {path} is corrupt ({exc}); restore an older backup."
        ) from None


def restore(store: Store, path: Path, force: bool = False) -> BackupReport:
    """Replace the (empty) database with the backup in `path`; refuses to overwrite data unless `force`."""
    target = database_file(store)
    rows = check_backup(path)
    with _connect(target) as conn:
        existing = sum(row_counts(conn).values())
    if existing and not force:
        raise CohortError(
            f"The database {target} already holds {existing} rows; restore into a fresh database "
            "(--db sqlite:///new.db) or pass --force to replace it."
        )
    # Bring a copy up to this version's schema first: a backup that cannot be (a newer version's,
    # an incomplete one) is refused here, before the live database is touched.
    scratch = target.parent / f".{target.name}.restore.{os.getpid()}.tmp"
    try:
        with _connect(path, readonly=True) as src, _connect(scratch) as dst:
            src.backup(dst)
        with store.transaction() as tx:
            live = store_revision.current(tx)
        # The restored store must not repeat a revision the app has cached pages for.
        restored = Store(f"sqlite:///{scratch}")
        with restored.transaction() as tx:
            store_revision.advance_past(tx, live)
        restored.dispose()
        store.dispose()
        with _connect(scratch) as src, _connect(target) as dst:
            src.backup(dst)
    except sqlite3.Error as exc:
        raise CohortError(
            f"Restore into {target} failed ({exc}); the database was left as it was."
        ) from None
    except CohortError as exc:
        raise CohortError(f"Backup file {path} cannot be restored: {exc}") from None
    finally:
        for leftover in (scratch, Path(f"{scratch}-wal"), Path(f"{scratch}-shm")):
            leftover.unlink(missing_ok=True)
    return BackupReport(path, path.stat().st_size, rows)
