"""The scores' SQLite upsert on the driver keeps what SQLAlchemy's Core insert kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import insert, select, text

from cohort.scoring import runs
from cohort.store import scores as store_scores
from cohort.store.tables import Score
from tests.test_scoring import _submit, cohort  # noqa: F401 - the fixture

AT = datetime(2027, 1, 12, 9, 30, tzinfo=timezone(timedelta(hours=2)))


def _row(sid: int, sha: str, public: float | None, at: datetime) -> dict[str, object]:
    return {
        "submission_id": sid,
        "solution_sha256": sha,
        "scorer_version": "bench",
        "public_score": public,
        "private_score": None,
        "scored_at": at,
    }


def test_driver_upsert_stores_the_text_and_values_core_stored(cohort) -> None:  # noqa: F811
    sid = _submit(cohort, "ann", 1.0, 2.0, score=False)
    exact = AT.replace(microsecond=0)  # isoformat would drop the zero microseconds
    with cohort.store.transaction() as tx:
        tx.connection().execute(insert(Score.__table__), [_row(sid, "core", 0.5, exact)])
        store_scores.upsert_many(tx, [_row(sid, "driver", 0.5, exact)])
    with cohort.store.transaction() as tx:
        raw = dict(
            tx.execute(
                text("SELECT solution_sha256, scored_at FROM scores WHERE scorer_version = 'bench'")
            ).all()
        )
        assert raw["driver"] == raw["core"] == "2027-01-12 07:30:00.000000"
        got = tx.execute(
            select(Score.scored_at, Score.public_score, Score.private_score).where(
                Score.solution_sha256 == "driver"
            )
        ).one()
        assert tuple(got) == (exact.astimezone(UTC), 0.5, None)


def test_driver_upsert_replaces_the_same_key(cohort) -> None:  # noqa: F811
    sid = _submit(cohort, "ann", 1.0, 2.0, score=False)
    later = AT + timedelta(seconds=1, microseconds=7)
    with cohort.store.transaction() as tx:
        store_scores.upsert_many(tx, [_row(sid, "x", 0.5, AT)])
        store_scores.upsert_many(tx, [_row(sid, "x", None, later)])
    with cohort.store.transaction() as tx:
        rows = tx.execute(
            select(Score.public_score, Score.scored_at).where(Score.solution_sha256 == "x")
        ).all()
    assert [tuple(r) for r in rows] == [(None, later.astimezone(UTC))]


def test_score_rows_hold_floats_and_none_for_an_empty_split() -> None:
    import numpy as np

    assert runs._floats(np.array([0.25, np.nan, 3.0])) == [0.25, None, 3.0]
    assert all(type(v) is float for v in runs._floats(np.array([1.0, 2.0])))
