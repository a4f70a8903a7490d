"""Backing up a whole season to one archive, and restoring it after checking everything.

`cohort backup FILE` writes one gzip'd tar: `manifest.json` (the cohort's identity, the
hidden solutions' hashes, and the sha256 and size of every other member), the database
as a consistent SQLite snapshot (`cohort.db`), `cohort.toml`, `members.csv`, `weeks/`,
the built `data/` (hidden solutions and the cohort's secret `data/.cohort-secret`
included: the archive is the organizer's secret) and the stored `submissions/`. Left
out, because they are rebuilt or re-downloaded: the parsed-array cache
(`submissions/*/parsed/`), `data/raw/`, the member bundles `data/bundle/` (`cohort
bundle` writes them again) and `__pycache__/`. Every member is stored as a regular
file, never as a tar link entry (a restore accepts regular files only).

A restore trusts nothing in the archive. Members are read one by one (regular files
under the known top-level names only, never extracted by tarfile itself), each checked
against the manifest's hash and size; a stored submission's content must hash to its
name, and every submission in the database must have its file. The database is
checked (`PRAGMA integrity_check`, foreign keys), upgraded by the migrations in a
scratch copy, and only the known tables and columns are copied out of it into a
schema built from the migrations. Another cohort's or another season's backup (a
different name, start or hidden solution) is refused unless forced. Only when all of
that passes is anything replaced.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from cohort import config as config_mod
from cohort.errors import (
    CohortError,
    ConfigError,
    Conflict,
    NotFound,
    StorageError,
    ValidationError,
)
from cohort.store import Store, migration_heads
from cohort.store import snapshot as store_snapshot
from cohort.weeks.prepare import SECRET_FILE
from cohort.workspace import Cohort, utcnow

FORMAT = "cohort-season-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "cohort.db"
TOP_FILES = ("cohort.toml", "members.csv", "Makefile")
TOP_DIRS = ("weeks", "data", "submissions")
SQLITE_HEADER = b"SQLite format 3\x00"
CHUNK = 1 << 20


@dataclass(frozen=True)
class BackupReport:
    """What a backup or restore wrote: the archive, its size, rows per table, warnings."""

    path: Path
    bytes: int
    rows: dict[str, int]
    files: int = 0
    warnings: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------- backup


def backup(
    cohort: Cohort, path: Path, force: bool = False, actor: str = "organizer"
) -> BackupReport:
    """Write the whole season into one archive at `path` (a consistent database snapshot;
    audited in the live store, after the snapshot)."""
    path = Path(path)
    _check_target(cohort, path, force)
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    db_tmp = path.parent / f".{path.name}.{os.getpid()}.db.tmp"
    try:
        rows = _snapshot_database(cohort.store, db_tmp)
        files = _season_files(cohort.root)
        manifest = _manifest(cohort, files, db_tmp, rows)
        with tarfile.open(tmp, "w:gz") as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
            tar.add(db_tmp, arcname=DATABASE, recursive=False)
            for name in sorted(files):
                _add_file(tar, cohort.root / name, name)
        os.replace(tmp, path)
    except sqlite3.Error as exc:
        raise StorageError(f"Backup failed ({exc}); check the disk space and try again.") from None
    except OSError as exc:
        raise StorageError(
            f"Cannot write the backup to {path} ({exc.strerror}); choose a writable file path."
        ) from None
    finally:
        for leftover in (tmp, db_tmp, Path(f"{db_tmp}-wal"), Path(f"{db_tmp}-shm")):
            leftover.unlink(missing_ok=True)
    size = path.stat().st_size
    _audit(cohort.store, actor, "backup", path, bytes=size, files=len(files) + 1)
    return BackupReport(path, size, rows, len(files) + 1)


def _audit(store: Store, actor: str, action: str, path: Path, **detail: Any) -> None:
    from cohort.store import audit

    with store.transaction() as tx:
        audit.record(tx, utcnow(), actor, action, str(Path(path).resolve()), **detail)


def _check_target(cohort: Cohort, path: Path, force: bool) -> None:
    if path.exists() and not path.is_file():
        raise ValidationError(f"{path} is not a regular file; choose a file path for the backup.")
    live = sqlite_file(cohort.store)
    if path.exists() and live is not None and path.resolve() == live.resolve():
        raise Conflict(f"{path} is the live database itself; choose another file for the backup.")
    if path.exists() and not force:
        raise Conflict(
            f"{path} already exists; choose a new file name or pass --force to replace it."
        )
    if not path.parent.is_dir():
        raise NotFound(f"Folder {path.parent} does not exist; create it or choose another path.")
    inside = path.resolve().is_relative_to(cohort.root.resolve())
    if inside and path.resolve().parts[len(cohort.root.resolve().parts)] in (*TOP_DIRS, *TOP_FILES):
        raise ValidationError(
            f"{path} is inside the season's own files; write the backup elsewhere."
        )


def sqlite_file(store: Store) -> Path | None:
    """The SQLite file behind the store; None for another kind of database."""
    prefix = "sqlite:///"
    database = store.url[len(prefix) :].split("?", 1)[0] if store.url.startswith(prefix) else ""
    return Path(database) if database and database != ":memory:" else None


def _snapshot_database(store: Store, out: Path) -> dict[str, int]:
    """A consistent single-file SQLite copy of the store; rows per table."""
    source = sqlite_file(store)
    if source is not None:
        # SQLite's online backup API: consistent even while the app reads or a score writes.
        with _connect(source) as src, _connect(out) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
    else:
        copy = Store(f"sqlite:///{out}")
        try:
            store_snapshot.replace_all(store, copy)
        finally:
            copy.dispose()
    copy = Store(f"sqlite:///{out}", migrate=False)
    try:
        with copy.transaction() as tx:
            return store_snapshot.row_counts(tx)
    finally:
        copy.dispose()


def _season_files(root: Path) -> list[str]:
    """The season's files, relative to the root, posix-style."""
    names = [n for n in TOP_FILES if (root / n).is_file()]
    for top in TOP_DIRS:
        base = root / top
        if not base.is_dir():
            continue
        for path in base.rglob("*"):
            rel = path.relative_to(root)
            if path.is_file() and not path.is_symlink() and _kept(rel):
                names.append(rel.as_posix())
    return names


def _kept(rel: Path) -> bool:
    parts = rel.parts
    if rel.as_posix() == f"data/{SECRET_FILE}":
        return True  # the cohort's secret: re-preparing a week needs it to rebuild the same data
    if any(p.startswith(".") or p == "__pycache__" for p in parts):
        return False  # temp files, caches
    if parts[0] == "data" and len(parts) > 1 and parts[1] in ("raw", "bundle"):
        return False  # Kaggle downloads (fetched again) and member bundles (`cohort bundle`)
    return not (parts[0] == "submissions" and "parsed" in parts[2:-1])


def _manifest(cohort: Cohort, files: list[str], db: Path, rows: dict[str, int]) -> dict[str, Any]:
    entries = {name: _file_entry(cohort.root / name) for name in files}
    entries[DATABASE] = _file_entry(db)
    return {
        "format": FORMAT,
        "version": VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "cohort": identity(cohort.config),
        "solutions": solution_hashes(cohort.root, cohort.config),
        "migrations": sorted(migration_heads()),
        "rows": rows,
        "files": entries,
    }


def identity(cfg: config_mod.CohortConfig) -> dict[str, Any]:
    """What names a season: the cohort's name, start and weeks."""
    return {
        "name": cfg.name,
        "start": cfg.start.isoformat(),
        "weeks": [w.id for w in cfg.weeks],
    }


def solution_hashes(root: Path, cfg: config_mod.CohortConfig) -> dict[str, str]:
    """sha256 of each week's hidden solution file that exists under `root`."""
    found = {}
    for week in cfg.weeks:
        path = root / "data" / week.id / "solution.csv"
        if path.is_file():
            found[week.id] = _file_entry(path)["sha256"]
    return found


def _file_entry(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "bytes": size}


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> None:
    """Add `path` as a regular-file member, even when it is hard-linked to another member
    (tarfile would store a link entry, which a restore refuses)."""
    info = tar.gettarinfo(path, arcname=name)
    info.type = tarfile.REGTYPE
    info.linkname = ""
    info.size = path.stat().st_size
    with path.open("rb") as fh:
        tar.addfile(info, fh)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


class _connect:
    """A sqlite3 connection closed on exit (sqlite3's own context manager only commits)."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        self.conn = sqlite3.connect(uri, uri=True)

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


# ---------------------------------------------------------------- reading an archive


def read_archive(path: Path, scratch: Path) -> dict[str, Any]:
    """Extract and check the archive into `scratch`; returns its manifest. Raises on any doubt."""
    path = Path(path)
    if path.is_dir():
        raise ValidationError(
            f"Backup file {path} is a directory; pass the file `cohort backup` wrote."
        )
    if not path.is_file():
        raise NotFound(f"Backup file {path} not found; pass the file `cohort backup` wrote.")
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_HEADER))
    if head == SQLITE_HEADER:
        raise ValidationError(
            f"Backup file {path} is a bare database (a backup from before season archives); "
            f"read it with --db sqlite:///{path}, or pass an archive `cohort backup` wrote."
        )
    try:
        with tarfile.open(path, "r:gz") as tar:
            manifest = _read_manifest(path, tar)
            _extract(path, tar, manifest, scratch)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:  # not gzip's "bad gzip file"
            raise StorageError(
                f"Cannot read {path} or write {scratch} ({exc.strerror}); "
                "check the disk space and permissions."
            ) from None
        raise ValidationError(
            f"Backup file {path} is corrupt or not a cohort backup ({_short(exc)}); "
            "pass an intact file `cohort backup` wrote."
        ) from None
    return manifest


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _read_manifest(path: Path, tar: tarfile.TarFile) -> dict[str, Any]:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isreg() or first.size > 64 << 20:
        raise ValidationError(
            f"Backup file {path} has no manifest; pass an archive `cohort backup` wrote."
        )
    handle = tar.extractfile(first)
    assert handle is not None
    try:
        manifest = json.loads(handle.read())
    except (ValueError, UnicodeDecodeError):
        manifest = None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or not isinstance(manifest.get("files"), dict)
        or not isinstance(manifest.get("cohort"), dict)
    ):
        raise ValidationError(
            f"Backup file {path} has an unreadable manifest; pass an archive `cohort backup` wrote."
        )
    if manifest.get("version") != VERSION:
        raise Conflict(
            f"Backup file {path} is format version {manifest.get('version')!r}; this cohort reads "
            f"version {VERSION}. Upgrade cohort to restore it."
        )
    return manifest


def _safe_name(name: str) -> str | None:
    """The member's path if it is one the season holds, else None."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or any(p in ("", ".", "..") for p in pure.parts) or "\\" in name:
        return None
    top = pure.parts[0] if pure.parts else ""
    if len(pure.parts) == 1 and top in (*TOP_FILES, DATABASE):
        return name
    if top in TOP_DIRS and len(pure.parts) > 1:
        return name
    return None


def _extract(path: Path, tar: tarfile.TarFile, manifest: dict[str, Any], scratch: Path) -> None:
    expected: dict[str, Any] = manifest["files"]
    seen: set[str] = set()
    for index, member in enumerate(tar):
        if index == 0:
            continue  # the manifest, read first
        name = _safe_name(member.name)
        if name is None or not member.isreg() or name not in expected or name in seen:
            raise ValidationError(
                f"Backup file {path} holds {member.name!r}, which is not one of the season's "
                "files listed in its manifest; it was not restored."
            )
        _copy_checked(path, tar, member, expected[name], scratch / name)
        seen.add(name)
    missing = sorted(set(expected) - seen)
    if missing:
        raise ValidationError(
            f"Backup file {path} lacks {missing[0]} (listed in its manifest); it is incomplete."
        )


def _copy_checked(
    path: Path, tar: tarfile.TarFile, member: tarfile.TarInfo, entry: Any, out: Path
) -> None:
    want_sha = entry.get("sha256") if isinstance(entry, dict) else None
    want_size = entry.get("bytes") if isinstance(entry, dict) else None
    if member.size != want_size:
        raise ValidationError(
            f"Backup file {path}: {member.name} has {member.size} bytes, its manifest says "
            f"{want_size}; the archive was altered or damaged."
        )
    source = tar.extractfile(member)
    assert source is not None
    out.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with out.open("wb") as fh:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            fh.write(chunk)
    if digest.hexdigest() != want_sha:
        raise ValidationError(
            f"Backup file {path}: {member.name} does not match its sha256 in the manifest; "
            "the archive was altered or damaged."
        )


# ---------------------------------------------------------------- checking what was read


def _check_season(path: Path, scratch: Path, manifest: dict[str, Any]) -> Store:
    """Check the extracted season; returns its database, migrated, as a scratch store."""
    try:
        cfg = config_mod.load(scratch)
    except CohortError as exc:
        raise ConfigError(
            f"Backup file {path} holds a cohort.toml that does not load: {exc}"
        ) from None
    if identity(cfg) != manifest["cohort"]:
        raise ValidationError(
            f"Backup file {path}: its cohort.toml is not the one its manifest names; "
            "the archive was altered."
        )
    if solution_hashes(scratch, cfg) != manifest.get("solutions"):
        raise ValidationError(
            f"Backup file {path}: its hidden solutions are not the ones its manifest names; "
            "the archive was altered."
        )
    _check_submission_names(path, scratch)
    database = scratch / DATABASE
    _check_sqlite(path, database)
    db = Store(f"sqlite:///{database}")  # upgrades a backup from an older cohort, in scratch
    try:
        _check_columns(path, database)
        with db.transaction() as tx:
            stored = store_snapshot.stored_files(tx)
        for week, sha in sorted(stored):
            if not any(
                (scratch / "submissions" / week / f"{sha}{s}").is_file()
                for s in (".csv.gz", ".zip", ".csv")
            ):
                raise ValidationError(
                    f"Backup file {path} lacks the stored file {sha[:12]}... of a week '{week}' "
                    "submission; it is incomplete."
                )
    except BaseException:
        db.dispose()
        raise
    return db


def _check_submission_names(path: Path, scratch: Path) -> None:
    base = scratch / "submissions"
    if not base.is_dir():
        return
    for stored in base.glob("*/*"):
        if not stored.is_file():
            continue
        sha = stored.name.split(".", 1)[0]
        if len(sha) == 64 and _file_entry(stored)["sha256"] != sha:
            raise ValidationError(
                f"Backup file {path}: stored submission {stored.relative_to(scratch)} does not "
                "hash to its name; the archive was altered."
            )


def _check_sqlite(path: Path, database: Path) -> None:
    with database.open("rb") as fh:
        if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise ValidationError(f"Backup file {path}: its database is not a SQLite file.")
    try:
        with _connect(database, readonly=True) as conn:
            problems = [r[0] for r in conn.execute("PRAGMA integrity_check(5)")]
            if problems != ["ok"]:
                raise StorageError(
                    f"Backup file {path}: its database is corrupt ({' '.join(problems[0].split())[:200]}); "
                    "restore an older backup."
                )
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if "alembic_version" not in tables:
                raise ValidationError(
                    f"Backup file {path}: its database is not a cohort database (no 'alembic_version' table)."
                )
            if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                raise ValidationError(
                    f"Backup file {path}: its database has rows pointing at rows it lacks; restore another backup."
                )
    except sqlite3.DatabaseError as exc:
        raise StorageError(
            f"Backup file {path}: its database is corrupt ({exc}); restore an older backup."
        ) from None


def _check_columns(path: Path, database: Path) -> None:
    from cohort.store.tables import DERIVED_TABLES, Base

    with _connect(database, readonly=True) as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in DERIVED_TABLES:  # rebuilt by the restored store's own triggers
                continue
            have = {r[1] for r in conn.execute(f'PRAGMA table_info("{table.name}")')}
            lacking = [c.name for c in table.columns if c.name not in have]
            if lacking:
                raise ValidationError(
                    f"Backup file {path}: its database's table '{table.name}' has no column "
                    f"'{lacking[0]}'; restore a complete backup."
                )


# ---------------------------------------------------------------- restoring


def restore_into(
    path: Path, directory: Path, db: str | None = None, actor: str = "organizer"
) -> BackupReport:
    """Restore the season in archive `path` as a new cohort in `directory` (new or empty)."""
    directory = Path(directory).resolve()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise Conflict(
            f"{directory} is not an empty directory; restore into a new one, or run "
            "`cohort restore FILE` inside the cohort to replace it."
        )
    created = not directory.exists()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"Cannot create {directory} ({exc.strerror}); choose another directory."
        ) from None
    scratch = directory / f".restore-{os.getpid()}.tmp"
    try:
        manifest = read_archive(path, scratch)
        season = _check_season(path, scratch, manifest)
        try:
            target = Store.open(directory, db) if db else Store(f"sqlite:///{directory / DATABASE}")
            if db:
                _refuse_data(target, force=False)
            rows = _copy_database(path, season, target)
            _audit(target, actor, "restore", path, into=str(directory))
        finally:
            season.dispose()
        _swap_files(scratch, directory, manifest)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        if created:
            shutil.rmtree(directory, ignore_errors=True)
        else:
            for child in directory.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise
    shutil.rmtree(scratch, ignore_errors=True)
    return BackupReport(Path(path), Path(path).stat().st_size, rows, len(manifest["files"]))


def restore_over(
    cohort: Cohort, path: Path, force: bool = False, actor: str = "organizer"
) -> BackupReport:
    """Replace this cohort's season with the archive's, after every check; `force` to
    replace data or restore another cohort's or season's backup (the warnings say which)."""
    root = cohort.root
    scratch = root / f".restore-{os.getpid()}.tmp"
    try:
        manifest = read_archive(path, scratch)
        season = _check_season(path, scratch, manifest)
        try:
            warnings = _identity_warnings(cohort, path, manifest)
            if warnings and not force:
                raise Conflict(f"{warnings[0]} Pass --force to replace this cohort with it.")
            _refuse_data(cohort.store, force)
            rows = _copy_database(path, season, cohort.store)
            _audit(cohort.store, actor, "restore", path, into=str(root), forced=force)
        finally:
            season.dispose()
        _swap_files(scratch, root, manifest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return BackupReport(
        Path(path), Path(path).stat().st_size, rows, len(manifest["files"]), tuple(warnings)
    )


def _identity_warnings(cohort: Cohort, path: Path, manifest: dict[str, Any]) -> list[str]:
    theirs = manifest["cohort"]
    ours = identity(cohort.config)
    found = []
    if theirs["name"] != ours["name"]:
        found.append(
            f"Backup file {path} is of cohort '{theirs['name']}', not this cohort '{ours['name']}'."
        )
    elif theirs["start"] != ours["start"] or theirs["weeks"] != ours["weeks"]:
        found.append(
            f"Backup file {path} is of another season of '{ours['name']}' (starting {theirs['start']}, "
            f"this one {ours['start']})."
        )
    live = solution_hashes(cohort.root, cohort.config)
    differ = [w for w, sha in manifest.get("solutions", {}).items() if live.get(w, sha) != sha]
    if differ:
        found.append(
            f"Backup file {path} holds a different hidden solution for week '{differ[0]}' than "
            "this cohort's data/."
        )
    return found


def _refuse_data(store: Store, force: bool) -> None:
    with store.transaction() as tx:
        existing = sum(store_snapshot.row_counts(tx).values())
    if existing and not force:
        raise Conflict(
            f"The database at {store.url} already holds {existing} rows; restore into a new "
            "directory (--into DIR) or pass --force to replace them."
        )


def _copy_database(path: Path, season: Store, target: Store) -> dict[str, int]:
    try:
        return store_snapshot.replace_all(season, target)
    except CohortError as exc:
        raise type(exc)(f"Backup file {path} cannot be restored: {exc}") from None


def _swap_files(scratch: Path, root: Path, manifest: dict[str, Any]) -> None:
    """Move the checked files into place: whole top-level entries, data/ week by week."""
    entries = list(TOP_FILES) + ["weeks", "submissions"]
    data = scratch / "data"
    if data.is_dir():
        entries += [f"data/{child.name}" for child in sorted(data.iterdir())]
    (root / "data").mkdir(exist_ok=True)
    for name in entries:
        new, old = scratch / name, root / name
        if not new.exists():
            continue
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        elif old.exists() or old.is_symlink():
            old.unlink()
        os.replace(new, old)
    (root / "submissions").mkdir(exist_ok=True)
