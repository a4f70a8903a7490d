"""The driver-level intake (cohort.rawstore): the rows, refusals and counters of cohort.store's,
on SQLite and PostgreSQL; a store behind or ahead of head goes through cohort.store."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import String, select

from cohort import rawstore
from cohort.errors import CohortError, IntakeRefused
from cohort.scoring import deadlines, intake
from cohort.sheets.roster import import_roster
from cohort.store import Store
from cohort.store.tables import Base, Submission
from cohort.workspace import Cohort
from tests.conftest import write_roster
from tests.store_lanes import fresh_database

IDS = [f"s{i}" for i in range(10)]
NOW = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)  # the week opened on the 11th, closes the 18th
CLOSES = datetime(2027, 1, 17, 23, 0, tzinfo=UTC)  # midnight in Amsterdam


@pytest.fixture(params=["sqlite", "postgres"])
def two_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two fresh, empty databases on one store."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
        return
    with fresh_database() as a, fresh_database() as b:
        yield a, b


@pytest.fixture
def root(make_cohort) -> Path:
    return _cohort(make_cohort, "2027-01-11")


@pytest.fixture
def open_now(make_cohort) -> Path:
    """A cohort whose week is open today (for the command line's own clock)."""
    return _cohort(make_cohort, (date.today() - timedelta(days=1)).isoformat())


def _cohort(make_cohort: Any, start: str) -> Path:
    root = make_cohort(
        {"01-reg": {"metric": "rmse", "targets": ("target",), "daily_limit": 3}}, start=start
    )
    (root / "data/01-reg").mkdir(parents=True)
    pd.DataFrame(
        {"id": IDS, "target": np.arange(10.0), "Usage": ["Public"] * 4 + ["Private"] * 6}
    ).to_csv(root / "data/01-reg/solution.csv", index=False)
    write_roster(
        root,
        [
            ("ann", "Ann Lee", "ann@example.org", "annk"),
            ("bob", "Bob Ray", "bob@example.org", ""),
            ("cy", "Cy Po", "cy@example.org", ""),
        ],
    )
    return root


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every time the stores write, fixed: two runs of one story write equal rows."""
    for where in ("sheets.roster", "scoring.deadlines", "scoring.compute"):
        monkeypatch.setattr(f"cohort.{where}.utcnow", lambda: NOW)


def _csv(value: float) -> bytes:
    return ("id,target\n" + "".join(f"{i},{value}\n" for i in IDS)).encode()


def _opened(root: Path, url: str) -> Cohort:
    cohort = Cohort.open(root, url)  # migrated to head by cohort.store
    import_roster(cohort.store, root / "members.csv")
    deadlines.extend(cohort, "1", "bob", CLOSES + timedelta(days=2), "organizer", "ill")
    return cohort


STORY: list[tuple[str, str, float | None, str | None, datetime]] = [
    # handle, week, file value (None: no file), notebook link, at
    ("ann", "1", 1.0, None, NOW),  # the week's first file: its state row and scored sha
    ("ann", "1", 2.0, "https://www.kaggle.com/code/annk/w1", NOW + timedelta(hours=1)),
    ("bob", "1", None, "https://www.kaggle.com/code/annk/w1", NOW + timedelta(hours=2)),
    ("ann", "1", 1.0, None, NOW + timedelta(hours=3)),  # the same bytes again
    ("ann", "1", 3.0, None, NOW + timedelta(hours=4)),  # past the daily limit of 3
    ("nobody", "1", 1.0, None, NOW),
    ("cy", "1", 1.0, None, datetime(2027, 1, 10, tzinfo=UTC)),  # before the week opens
    ("cy", "1", 4.0, None, CLOSES + timedelta(hours=1)),  # late
    ("bob", "1", 5.0, None, CLOSES + timedelta(hours=1)),  # on time: his extension
    ("cy", "1", 1e300, None, NOW),  # an infinite score: nothing kept
]


def _outcome(*args: Any, **kw: Any) -> Any:
    """What one intake tells the member: its result, or its error line."""
    try:
        return intake._intake(*args, **kw)
    except CohortError as exc:
        return f"{type(exc).__name__}: {exc}"


def _tables(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    out = {}
    with store.engine.connect() as conn:
        for name, table in sorted(Base.metadata.tables.items()):
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[name] = [tuple(r) for r in rows]
    return out


def test_the_driver_writes_the_rows_the_store_writes(
    root: Path, two_urls: tuple[str, str], clock: None
) -> None:
    by_store, by_driver = _opened(root, two_urls[0]), _opened(root, two_urls[1])
    raw = rawstore.open_current(two_urls[1])
    assert raw is not None
    ledgers = {"store": intake._StoreLedger(by_store), "driver": intake._DriverLedger(raw)}
    told: dict[str, list[Any]] = {"store": [], "driver": []}
    with raw:
        for handle, week, value, link, at in STORY:
            data = None if value is None else _csv(value)
            for name, ledger in ledgers.items():
                told[name].append(
                    _outcome(by_store.config, ledger, handle, week, data, "sub.csv", link, at=at)
                )
    assert told["driver"] == told["store"]
    assert [t.status for t in told["store"] if isinstance(t, intake.SubmitResult)] == [
        *("scored", "scored", "notebook", "scored", "scored", "scored")
    ]
    assert sum("IntakeRefused" in str(t) for t in told["store"]) == 2
    assert any("NotFound: No member 'nobody'" in str(t) for t in told["store"])
    assert any("infinite score" in str(t) for t in told["store"])
    # The same rows, the revision bumped as often, the triggers' counters moved alike.
    assert _tables(by_driver.store) == _tables(by_store.store)
    for cohort in (by_store, by_driver):
        cohort.store.dispose()


def test_a_store_behind_head_is_migrated_and_one_ahead_refused(
    open_now: Path, any_store_url: str
) -> None:
    root = open_now
    from alembic import command
    from alembic.config import Config

    behind = Store(any_store_url, migrate=False)
    cfg = Config()
    cfg.set_main_option("script_location", str(rawstore.MIGRATIONS))
    with behind.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        for rev in ("0001", "0004"):  # an old store: every branch stopped early
            command.upgrade(cfg, rev)
    behind.dispose()
    assert rawstore.open_current(any_store_url) is None
    cohort = Cohort.open(root, any_store_url)  # the roster import of an old cohort
    import_roster(cohort.store, root / "members.csv")
    cohort.store.dispose()

    result = intake.submit_at(
        cohort.config,
        any_store_url,
        "ann",
        "1",
        _file(root, 1.0),
        None,
        lambda: Cohort.open(root, any_store_url),
    )
    assert result.status == "scored"
    raw = rawstore.open_current(any_store_url)  # now at head: the driver takes the next one
    assert raw is not None
    raw.close()
    newer = Store(any_store_url, migrate=False)
    with newer.engine.begin() as conn:  # one branch moved on by a newer cohort
        conn.exec_driver_sql(
            "UPDATE alembic_version SET version_num = '9999' WHERE version_num = '0002'"
        )
    newer.dispose()
    assert rawstore.open_current(any_store_url) is None
    with pytest.raises(CohortError, match="written by a newer version of cohort"):
        intake.submit_at(
            cohort.config,
            any_store_url,
            "ann",
            "1",
            _file(root, 2.0),
            None,
            lambda: Cohort.open(root, any_store_url),
        )


def _file(root: Path, value: float) -> Path:
    path = root / f"sub-{value}.csv"
    path.write_bytes(_csv(value))
    return path


def test_two_driver_intakes_at_once_cannot_both_take_the_last_slot(
    root: Path, any_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cohort = _opened(root, any_store_url)
    for value in (0.0, 0.5):  # one of three left
        intake.submit(cohort, "ann", "1", _file(root, value), at=NOW)
    both_checked = threading.Barrier(2)
    early_check = intake._files_left

    def racing_check(*args: Any, **kwargs: Any) -> int:  # both pass before either inserts
        left = early_check(*args, **kwargs)
        both_checked.wait(timeout=10)
        return left

    monkeypatch.setattr(intake, "_files_left", racing_check)
    outcomes: list[str] = []

    def submit_one(value: float) -> None:
        raw = rawstore.open_current(any_store_url)  # each process has its own connection
        assert raw is not None
        with raw:
            try:
                ledger = intake._DriverLedger(raw)
                intake._intake(
                    cohort.config, ledger, "ann", "1", _csv(value), "s.csv", None, at=NOW
                )
                outcomes.append("accepted")
            except IntakeRefused:
                outcomes.append("refused")

    threads = [threading.Thread(target=submit_one, args=(v,)) for v in (1.0, 2.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["accepted", "refused"]
    monkeypatch.setattr(intake, "_files_left", early_check)
    assert intake.remaining_today(cohort, "ann", "1", at=NOW) == 0
    cohort.store.dispose()


@pytest.mark.parametrize(
    ("until", "revealed"),
    [
        (None, None),
        (CLOSES + timedelta(days=1), None),  # an extension
        (CLOSES + timedelta(days=1), NOW),  # and an early reveal before it
        (CLOSES + timedelta(days=1), CLOSES + timedelta(hours=5)),
    ],
)
def test_the_driver_reads_the_deadline_the_store_reads(
    root: Path, any_store_url: str, monkeypatch: pytest.MonkeyPatch, until: Any, revealed: Any
) -> None:
    from cohort.scoring import boards

    monkeypatch.setattr("cohort.scoring.deadlines.utcnow", lambda: NOW)
    cohort = Cohort.open(root, any_store_url)
    import_roster(cohort.store, root / "members.csv")
    if until is not None:
        deadlines.extend(cohort, "1", "bob", until, "organizer")
    if revealed is not None:
        boards.reveal(cohort, "1", "organizer", close_now=True, at=revealed)
    week = cohort.config.week("1")
    raw = rawstore.open_current(any_store_url)
    assert raw is not None
    with raw:
        for handle in ("ann", "bob"):
            assert intake._DriverLedger(raw).deadline(week, handle) == deadlines.deadline(
                cohort, week, handle
            )
    cohort.store.dispose()


def test_the_copies_of_the_stores_definitions_are_the_stores() -> None:
    # (The URL, migration heads and pragmas are rawstore's own, imported by cohort.store.)
    assert rawstore.table_names() == set(Base.metadata.tables)
    table: Any = Submission.__table__
    assert tuple(c.name for c in table.columns if c.name != "id") == rawstore.SUBMISSION_COLUMNS
    assert {
        c.name: c.type.length for c in table.columns if isinstance(c.type, String)
    } == rawstore.SUBMISSION_TEXT


@pytest.mark.sqlite_only
def test_driver_connections_get_the_stores_sqlite_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    store = Store(url)
    pragmas = ("journal_mode", "foreign_keys", "busy_timeout")

    def read(conn: Any) -> list[Any]:
        return [conn.execute(f"PRAGMA {p}").fetchone()[0] for p in pragmas]

    with store.engine.connect() as conn:
        by_store = read(conn.connection.dbapi_connection)
    raw = rawstore.open_current(url)
    assert raw is not None
    with raw:
        assert read(raw.conn) == by_store == ["wal", 1, 60000]
    store.dispose()
    plain = sqlite3.connect(tmp_path / "new.db")
    plain.close()  # a file that is not a store (no alembic_version): cohort.store's to refuse
    assert rawstore.open_current(f"sqlite:///{tmp_path / 'new.db'}") is None
    assert rawstore.open_current(f"sqlite:///{tmp_path / 'absent.db'}") is None
    assert not (tmp_path / "absent.db").exists()  # a new store is made by cohort.store
    assert rawstore.open_current("sqlite://") is None


def test_the_driver_refuses_text_as_the_stores_guards_do(
    root: Path, any_store_url: str, clock: None
) -> None:
    cohort = _opened(root, any_store_url)
    raw = rawstore.open_current(any_store_url)
    assert raw is not None
    for name, source in (("bad\x00name.csv", "cli"), ("sub.csv", "x" * 21)):
        outcomes = []
        for ledger in (intake._StoreLedger(cohort), intake._DriverLedger(raw)):
            outcomes.append(
                _outcome(
                    cohort.config, ledger, "ann", "1", _csv(1.0), name, None, at=NOW, source=source
                )
            )
        assert outcomes[0] == outcomes[1] and str(outcomes[0]).startswith("ValidationError: ")
    raw.close()
    assert intake.remaining_today(cohort, "ann", "1", at=NOW) == 3  # nothing was stored
    cohort.store.dispose()
