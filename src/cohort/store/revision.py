"""The store's revision: a counter every write transaction bumps (`Store.transaction`).

The app's caches key on it (through `cohort.revision.stamp`), so no kind of write can
leave a page stale: the bump happens in the store's one transaction function, not in
each writer.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
import threading
import weakref
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from cohort.store import WROTE, Tx, bump_revision
from cohort.store.tables import (
    DerivedCache,
    MemberWeekRevision,
    Revision,
    Score,
    Submission,
    WeekRevision,
)


def current(tx: Tx) -> int:
    """The store's revision: how many write transactions it has committed (one-row read)."""
    return int(tx.scalar(select(Revision.value).where(Revision.id == 1)) or 0)


def week_stamp(tx: Tx, week: str) -> tuple[int, int]:
    """(the week's revision, the members' revision): what the database's triggers (migration
    0010) have counted of changes to the rows the week's boards are built from."""
    (value,), members = weeks_stamp(tx, [week])
    return value, members


def weeks_stamp(tx: Tx, weeks: list[str]) -> tuple[tuple[int, ...], int]:
    """Each of `weeks`' revisions, in their order, and the members' revision (one query)."""
    rows = dict(
        tx.execute(
            select(WeekRevision.week, WeekRevision.value).where(WeekRevision.week.in_([*weeks, ""]))
        ).all()
    )
    return tuple(int(rows.get(w, 0)) for w in weeks), int(rows.get("", 0))


T = TypeVar("T")
# The week_revisions row that migration 0011's triggers bump on any change to contribution
# events (no week id starts with '#').
CONTRIBUTIONS = "#contributions"
# Results kept per (engine, name): (engine ref, stamp, value). A few dozen small entries.
_KEPT: dict[tuple[int, str], tuple[Any, Any, Any]] = {}
_KEEP = 256
_KEPT_LOCK = threading.Lock()


def by_weeks(
    tx: Tx,
    name: str,
    weeks: Iterable[str],
    extra: Any,
    build: Callable[[], T],
    persist: bool = True,
) -> T:
    """`build()`, or the value it gave before if none of `weeks` has changed since (their
    trigger-kept revisions, the members' revision and `extra` all equal): for a week's derived
    facts that a page reads on every view and that change only when the week's rows do.

    The engine is held weakly and compared by identity, so a database recreated at the same
    URL (its counters starting over) never matches a value of the old one. `persist=False`
    keeps it in this process only (a value quick to rebuild from others that are stored)."""
    engine = tx.get_bind()
    ids = sorted(set(weeks))
    stamp = (*weeks_stamp(tx, ids), extra)
    if _wrote(tx):
        return build()
    key = (id(engine), f"{name}:{','.join(ids)}")
    kept = _KEPT.get(key)
    if kept is not None and kept[0]() is engine and kept[1] == stamp:
        return kept[2]  # type: ignore[no-any-return]
    stored = _load(tx, key[1]) if persist else None
    if stored is not None and stored[0] == stamp:
        _keep(key, engine, stamp, stored[1])
        return stored[1]  # type: ignore[no-any-return]
    value = build()
    _keep(key, engine, stamp, value)
    if persist:
        _save(tx, key[1], stamp, value)
    return value


def by_members(
    tx: Tx,
    name: str,
    week: str,
    extra: Any,
    build: Callable[[list[int] | None], list[T]],
    owner: Callable[[T], int],
) -> list[T]:
    """`build(None)` (every member's items of the week), kept per member: on a later call only
    the members whose counter moved since (migration 0011) are built again, by
    `build(member_ids)`, which must return exactly those members' items; `owner` names an
    item's member. The week's state (member 0), members ('') or `extra` moving builds all.

    The result is grouped by member id, each member's items in the order `build` gave them. A
    new entry in a 1,000-member week reads one member's rows instead of the week's thousands."""
    engine = tx.get_bind()
    (week_value,), members = weeks_stamp(tx, [week])
    if _wrote(tx):
        return _flat(_group(build(None), owner))
    key = (id(engine), f"members:{name}:{week}")
    kept = _KEPT.get(key)
    found = kept[2] if kept is not None and kept[0]() is engine else None
    if found is None:
        stored = _load(tx, key[1])
        found = stored[1] if stored is not None else None
    # 0010's week counter moves with every member counter of the week (the same triggers'
    # tables), so an unmoved week needs no read of its members' counters.
    if found is not None and found[0] == (week_value, members, extra):
        if kept is None or kept[2] is not found:
            _keep(key, engine, None, found)
        return _flat(found[2])
    revs = dict(
        tx.execute(
            select(MemberWeekRevision.member_id, MemberWeekRevision.value).where(
                MemberWeekRevision.week == week
            )
        ).all()
    )
    whole = (members, revs.pop(0, 0), extra)
    if found is not None and found[1][0] == whole:
        old_revs, old_groups = found[1][1], found[2]
        # Both ways: a member whose counter row is gone (deleted by hand) counts as moved too.
        changed = sorted(m for m in revs.keys() | old_revs.keys() if old_revs.get(m) != revs.get(m))
        if not changed:
            groups = old_groups
        elif len(changed) * 2 <= len(revs):  # else reading the whole week is as quick
            moved = set(changed)
            groups = {m: items for m, items in old_groups.items() if m not in moved}
            groups.update(_group(build(changed), owner))
            groups = dict(sorted(groups.items()))
        else:
            groups = _group(build(None), owner)
    else:
        groups = _group(build(None), owner)
    value = ((week_value, members, extra), (whole, revs), groups)
    _keep(key, engine, None, value)
    _save(tx, key[1], None, value)
    return _flat(groups)


def _group(items: list[T], owner: Callable[[T], int]) -> dict[int, list[T]]:
    """Items by member id, ascending; each member's in the given order."""
    groups: dict[int, list[T]] = {}
    for item in items:
        groups.setdefault(owner(item), []).append(item)
    return dict(sorted(groups.items()))


def _flat(groups: dict[int, list[T]]) -> list[T]:
    return [item for items in groups.values() for item in items]


def _wrote(tx: Tx) -> bool:
    """True inside a transaction that has written: on PostgreSQL the counters move at its
    commit (deferred triggers), so a value kept before would miss its own writes."""
    return bool(tx.connection().info.get(WROTE))


def _keep(key: tuple[int, str], engine: Any, stamp: Any, value: Any) -> None:
    with _KEPT_LOCK:  # the app's sessions run in threads and evict from one dict
        _KEPT.pop(key, None)  # a value kept again moves to the end: evicted last
        while len(_KEPT) >= _KEEP:
            _KEPT.pop(next(iter(_KEPT)), None)
        _KEPT[key] = (weakref.ref(engine), stamp, value)


# --- kept in the database (migration 0012) ---------------------------------------------------
#
# Every CLI command is a fresh process, so a value kept only in memory is rebuilt on every
# `cohort select`. The derived_cache table keeps each value with the stamp it was built under,
# in the same database as the counters the stamp reads: a value can only ever match the
# counters (and the rows) it came from.
#
# Values are pickled, and unpickling runs code, so each payload carries an HMAC under a key
# kept outside the database (a 0600 file in the user's cache folder, or COHORT_CACHE_KEY): a
# row written by anyone else (a hand edit, a shared server's other users, a backup from
# elsewhere) is never unpickled, only rebuilt. Saves wait until the reading transaction has
# ended and go in one transaction of their own: a read stays a read (no revision bump, no
# second pooled connection held beside the reader's), and a store too busy to take them in
# 0.25 s is left alone for a few seconds: it is a cache.

_FORMAT = 2  # bump when what is pickled changes shape in a way the code stamp cannot see
_SAVE_WAIT_MS = 250
_BUSY_PAUSE_S = 2.0
_SAVES = "cohort_derived_saves"  # the session's pending saves (Session.info)
_MAC = 32
_paused_until = 0.0


def _stamp_code() -> str:
    """Which code pickles: the content of each of cohort's source files and the Python and
    numpy versions, taken when this module is imported (the code this process runs). Equal
    checkouts on two machines share their stored values; any edit stops old values matching."""
    import numpy

    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{_FORMAT}:{sys.version}:{numpy.__version__}".encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(f"{path.relative_to(root)}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:24]


_CODE = _stamp_code()


@lru_cache(maxsize=1)
def _mac_key() -> bytes:
    """The key of the payloads' HMAC: COHORT_CACHE_KEY, else a random key kept in a 0600 file
    of the user's cache folder (created on first use), else one for this process alone."""
    import os
    import secrets

    given = os.environ.get("COHORT_CACHE_KEY", "")
    if given:
        return hashlib.sha256(given.encode()).digest()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "cohort" / "derived-cache.key"
    key = secrets.token_bytes(32)
    try:
        kept = path.read_bytes()
        return kept[:32] if len(kept) >= 32 else key  # a cut-short file is no key: ours alone
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key)
    except FileExistsError:  # another process made it first: use theirs
        kept = path.read_bytes()
        return kept[:32] if len(kept) >= 32 else key
    except OSError:  # nowhere to keep it: values stored now match only this process
        pass
    return key


def _mac(body: bytes) -> bytes:
    import hmac

    return hmac.new(_mac_key(), body, hashlib.sha256).digest()


def _persistent(engine: Any) -> bool:
    # An in-memory SQLite database (one shared connection) dies with the process anyway.
    from sqlalchemy.pool import SingletonThreadPool, StaticPool

    return not isinstance(engine.pool, SingletonThreadPool | StaticPool)


def _load(tx: Tx, key: str) -> tuple[Any, Any] | None:
    """(stamp, value) stored for `key` by this code under this key, or None."""
    import hmac

    if not _persistent(tx.get_bind()):
        return None
    payload = tx.execute(select(DerivedCache.payload).where(DerivedCache.key == key)).scalar()
    if payload is None or len(payload) <= _MAC + len(_CODE):
        return None
    mac, body = bytes(payload[:_MAC]), bytes(payload[_MAC:])
    if not hmac.compare_digest(mac, _mac(body)) or body[: len(_CODE)] != _CODE.encode():
        return None  # written by other code, or by anyone without the key: never unpickled
    try:
        stamp, value = pickle.loads(body[len(_CODE) :])
    except Exception:  # a payload this code cannot read: rebuilt, as if absent
        return None
    return stamp, value


def _save(tx: Tx, key: str, stamp: Any, value: Any) -> None:
    """Store `value` under `key` once the reading transaction `tx` has ended."""
    if _persistent(tx.get_bind()):
        tx.info.setdefault(_SAVES, []).append((key, stamp, value))


_storing = True  # False in the app: it reads stored values but leaves storing to commands


def read_stored_only() -> None:
    """From now on, read stored values but store none (the app). A long-lived process keeps
    what it builds in memory; storing it too cost a page view after a new entry ~0.1 s of its
    2 cores (app bench: 1.75x the small cohort without, 1.9-2.1x with a writer thread). Fresh
    processes store what they build themselves, and rebuild only what moved since."""
    global _storing
    _storing = False


def write_saves(engine: Any, session_info: dict[str, Any]) -> None:
    """The saves a transaction asked for, after it ended (Store.transaction calls this)."""
    saves = session_info.pop(_SAVES, None)
    if saves and _storing:
        _write(engine, saves)


def _write(engine: Any, saves: list[tuple[str, Any, Any]]) -> None:
    """One transaction on a connection of its own; skipped, and saving paused a moment, when
    the store is busy or the pool has no connection to spare."""
    global _paused_until
    import time

    if time.monotonic() < _paused_until:
        return
    rows = []
    for key, stamp, value in saves:
        body = _CODE.encode() + pickle.dumps((stamp, value), protocol=pickle.HIGHEST_PROTOCOL)
        rows.append((key, _mac(body) + body))
    sqlite = engine.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    try:
        raw = engine.raw_connection()
    except Exception:  # pool exhausted or server refusing: a cache write is never an error
        _paused_until = time.monotonic() + _BUSY_PAUSE_S
        return
    try:
        cursor = raw.cursor()
        if sqlite:
            cursor.execute("PRAGMA busy_timeout")
            wait = int(cursor.fetchone()[0])
            cursor.execute(f"PRAGMA busy_timeout={_SAVE_WAIT_MS}")
        else:
            cursor.execute(f"SET LOCAL lock_timeout = '{_SAVE_WAIT_MS}ms'")
        try:
            cursor.executemany(
                f"INSERT INTO derived_cache (key, payload) VALUES ({mark}, {mark}) "
                "ON CONFLICT (key) DO UPDATE SET payload = excluded.payload",
                rows,
            )
            raw.commit()
        except engine.dialect.dbapi.Error:  # locked, busy or too long a key: rebuilt next time
            raw.rollback()
            _paused_until = time.monotonic() + _BUSY_PAUSE_S
        finally:
            if sqlite:  # the pooled connection goes back with the store's own wait
                cursor.execute(f"PRAGMA busy_timeout={wait}")
            cursor.close()
    finally:
        raw.close()


def advance_past(tx: Tx, value: int) -> None:
    """Move the revision beyond `value` (a restored backup must not repeat an old revision)."""
    tx.execute(bump_revision(tx.get_bind().dialect.name, past=value))


def score_stamp(tx: Tx, week: str) -> tuple[str, str, str] | None:
    """(solution sha, scorer version, file sha) of one scored submission of a week, to clone."""
    row = tx.execute(
        select(Score.solution_sha256, Score.scorer_version, Submission.file_sha256)
        .join(Submission, Submission.id == Score.submission_id)
        .where(Submission.week == week)
        .limit(1)
    ).first()
    return None if row is None else (str(row[0]), str(row[1]), str(row[2]))
