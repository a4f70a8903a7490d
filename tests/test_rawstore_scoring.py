"""`cohort score` on the database driver (runs.score_at on cohort.rawstore): the same rows,
reports and rank changes as the scoring run on cohort.store, on SQLite and PostgreSQL; a
store behind head goes through cohort.store; the command imports no SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from cohort import rawstore
from cohort.scoring import runs
from cohort.scoring.parsed import parsed_path
from cohort.scoring.solution import load_solution
from cohort.store import Store
from cohort.store import audit as store_audit
from cohort.store.tables import DERIVED_TABLES, Base
from cohort.workspace import Cohort
from tests.test_rawstore import IDS, NOW, _csv, _opened, clock, root, two_urls  # noqa: F401

LATER = NOW + timedelta(days=1)


def _tables(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the derived ones (values the store's own boards keep for
    the next reader; the driver keeps none), in primary-key order."""
    out = {}
    with store.engine.connect() as conn:
        for name, table in sorted(Base.metadata.tables.items()):
            if name in DERIVED_TABLES:
                continue
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[name] = [tuple(r) for r in rows]
    return out


def _season(folder: Path, url: str) -> Cohort:
    """Ann, Bob and Cy with files of several scores (Ann's best is first, Cy's second)."""
    from cohort.scoring import intake

    cohort = _opened(folder, url)
    story = [("ann", 1.0), ("ann", 4.0), ("bob", 2.0), ("cy", 3.0), ("cy", 9.0), ("bob", 2.0)]
    for i, (handle, value) in enumerate(story):
        intake.submit_bytes(
            cohort, handle, "1", _csv(value), "sub.csv", at=NOW + timedelta(minutes=i)
        )
    return cohort


def _report(report: runs.ScoreReport) -> tuple[Any, ...]:
    return (
        report.scored,
        report.errors,
        report.weeks,
        report.skipped,
        report.resumed,
        report.rank_changes,
    )


def _refused() -> Cohort:
    raise AssertionError("a store at head is scored on the driver")


def _seasons(folder: Path, urls: tuple[str, str]) -> None:
    """The same season on both stores (closed again: each run opens its own)."""
    for url in urls:
        _season(folder, url).store.dispose()


def _both(folder: Path, urls: tuple[str, str], moment: list[Any], **kw: Any) -> tuple[Any, Any]:
    """One scoring run on each store: cohort.store's on the first, the driver's on the second."""
    moment[0] += timedelta(hours=1)
    by_store = Cohort.open(folder, urls[0])
    store_report = runs.score_pending(by_store, progress=False, **kw)
    by_store.store.dispose()

    driver_report = runs.score_at(by_store.config, urls[1], _refused, progress=False, **kw)
    return _report(store_report), _report(driver_report)


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch, clock: None) -> list[Any]:  # noqa: F811
    """The scoring runs' clock fixed too (score and audit times): a day after the entries,
    moved on an hour by each pair of runs (`_both`), so each rescore starts after the last."""
    moment = [LATER]
    # The boards' clock too: whether the week is revealed (closed) is read from it.
    for where in ("runs", "boards", "board_rows"):
        monkeypatch.setattr(f"cohort.scoring.{where}.utcnow", lambda: moment[0])
    return moment


def test_a_scoring_run_on_the_driver_writes_what_the_store_writes(
    root: Path,  # noqa: F811
    two_urls: tuple[str, str],  # noqa: F811
    fixed_clock: list[Any],
) -> None:
    _seasons(root, two_urls)
    stores = [Store(url) for url in two_urls]
    assert _tables(stores[1]) == _tables(stores[0])

    # A rescore that changes nothing writes only its two audit entries (and the revision).
    before = _tables(stores[0])
    store_says, driver_says = _both(root, two_urls, fixed_clock, rescore=True)
    assert driver_says == store_says
    assert store_says[:2] == (6, 0) and store_says[5] == []
    after = _tables(stores[0])
    assert {name for name in after if after[name] != before[name]} == {"audit_log", "revision"}
    assert len(after["audit_log"]) == len(before["audit_log"]) + 2
    assert _tables(stores[1]) == _tables(stores[0])

    # A solution fix: every score rewritten for the new solution, ranks moved and reported.
    solution_csv = root / "data/01-reg/solution.csv"
    pd.DataFrame(
        {"id": IDS, "target": np.arange(10.0)[::-1], "Usage": ["Public"] * 4 + ["Private"] * 6}
    ).to_csv(solution_csv, index=False)
    store_says, driver_says = _both(root, two_urls, fixed_clock)
    assert driver_says == store_says
    changes = store_says[5]
    assert changes and {c.board for c in changes} == {"public"}  # not revealed yet
    assert _tables(stores[1]) == _tables(stores[0])

    # A stored file gone: its submission now an error on both, with the same line.
    cohort = Cohort.open(root, two_urls[0])
    solution = load_solution(cohort, "1")
    week = cohort.config.week("1")
    with cohort.store.transaction() as tx:
        sha = tx.execute(select(Base.metadata.tables["submissions"].c.file_sha256)).first()[0]
    for path in (root / "submissions" / week.id).glob(f"{sha}*"):
        path.unlink()
    parsed_path(cohort, week, sha, solution.key).unlink(missing_ok=True)
    cohort.store.dispose()
    store_says, driver_says = _both(root, two_urls, fixed_clock, rescore=True)
    assert driver_says == store_says and store_says[1] == 1
    assert _tables(stores[1]) == _tables(stores[0])

    # An interrupted rescore (started, never finished) resumes from its start on both.
    for store in stores:
        with store.transaction() as tx:
            store_audit.record(tx, NOW, "scorer", rawstore.RESCORE_STARTED, "all weeks")
    store_says, driver_says = _both(root, two_urls, fixed_clock, rescore=True)
    assert driver_says == store_says and store_says[4] is True
    assert _tables(stores[1]) == _tables(stores[0])
    for store in stores:
        store.dispose()


def test_a_revealed_week_reports_both_boards_from_the_driver(
    root: Path,  # noqa: F811
    two_urls: tuple[str, str],  # noqa: F811
    fixed_clock: list[Any],
) -> None:
    for url in two_urls:
        cohort = _season(root, url)
        with cohort.store.transaction() as tx:
            from cohort.store import scores as store_scores

            # Revealed after the entries (later ones would not count).
            store_scores.set_revealed(tx, "01-reg", NOW + timedelta(hours=1), "organizer")
        cohort.store.dispose()
    pd.DataFrame(
        # Public answers now near Cy's 9, private ones all Bob's 2: both boards reorder.
        {
            "id": IDS,
            "target": [2.0] * 4 + list(np.arange(6.0) + 10),
            "Usage": ["Private"] * 4 + ["Public"] * 6,
        }
    ).to_csv(root / "data/01-reg/solution.csv", index=False)
    store_says, driver_says = _both(root, two_urls, fixed_clock)
    assert driver_says == store_says
    assert {c.board for c in store_says[5]} == {"public", "private"}


def test_cohort_score_imports_no_sqlalchemy_on_a_current_store(
    root: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    _season(root, url).store.dispose()
    code = (
        "import sys; from cohort.cli import main; "
        f"sys.argv = ['cohort', '--root', {str(root)!r}, '--db', {url!r}, 'score', '--rescore']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "print('sqlalchemy' in sys.modules, code)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "False 0", out.stdout + out.stderr
    assert "Scored 6 submission(s), 0 error(s)." in out.stdout


def test_a_run_that_finds_no_submissions_folder_refuses_and_changes_nothing(
    root: Path,  # noqa: F811
    two_urls: tuple[str, str],  # noqa: F811
    fixed_clock: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong COHORT_SUBMISSIONS_DIR must not turn every submission into an error."""
    from cohort.config import SUBMISSIONS_ENV
    from cohort.errors import StorageError

    _seasons(root, two_urls)
    stores = [Store(url) for url in two_urls]
    before = [_tables(store) for store in stores]
    monkeypatch.setenv(SUBMISSIONS_ENV, str(root / "elsewhere"))
    for run in (
        lambda: runs.score_pending(Cohort.open(root, two_urls[0]), rescore=True, progress=False),
        lambda: runs.score_at(
            Cohort.open(root, two_urls[0]).config, two_urls[1], _refused, rescore=True
        ),
    ):
        with pytest.raises(StorageError, match="has 6 stored file.*Nothing was scored"):
            run()
    assert [_tables(store) for store in stores] == before
    for store in stores:
        store.dispose()


def test_a_past_weeks_folder_archived_away_does_not_stop_the_run(
    root: Path,  # noqa: F811
    two_urls: tuple[str, str],  # noqa: F811
    fixed_clock: list[Any],
) -> None:
    """Only a week with work to do needs its folder: every file of this one is scored."""
    import shutil

    _seasons(root, two_urls)
    cohort = Cohort.open(root, two_urls[0])
    shutil.rmtree(cohort.config.submissions_dir / cohort.config.week("1").id)
    cohort.store.dispose()
    store_says, driver_says = _both(root, two_urls, fixed_clock)
    assert driver_says == store_says == (0, 0, {}, {}, False, [])
