"""Reveal closes the week; after the close, submissions are late: scored, shown, counted nowhere."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.errors import Conflict
from cohort.scoring import boards, intake
from cohort.season import standings as season_standings
from cohort.sheets.roster import import_roster
from cohort.store import audit
from cohort.workspace import Cohort
from tests.conftest import write_roster

IDS = [f"s{i}" for i in range(8)]
TRUTH = np.arange(8.0)
T0 = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)  # week 01-reg is open from 2027-01-11 to 01-18
REVEAL = T0 + timedelta(days=1)
runner = CliRunner()


def _cohort(root: object) -> Cohort:
    write_roster(
        root,  # type: ignore[arg-type]
        [(h, h.title(), f"{h}@example.org", "") for h in ("ann", "bob", "cy", "dee", "eve", "fay")],
    )
    c = Cohort.open(root)  # type: ignore[arg-type]
    import_roster(c.store, c.root / "members.csv")
    path = c.root / "data/01-reg/solution.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    usage = ["Public"] * 4 + ["Private"] * 4
    pd.DataFrame({"id": IDS, "target": TRUTH, "Usage": usage}).to_csv(path, index=False)
    return c


@pytest.fixture
def cohort(make_cohort) -> Cohort:
    return _cohort(
        make_cohort({"01-reg": {"metric": "mae", "targets": ("target",), "daily_limit": 3}})
    )


def _submit(c: Cohort, handle: str, error: float, at: datetime) -> intake.SubmitResult:
    data = "id,target\n" + "\n".join(
        f"{i},{float(v + error)!r}" for i, v in zip(IDS, TRUTH, strict=True)
    )
    return intake.submit_bytes(c, handle, "1", data.encode(), "s.csv", at=at)


def _board(c: Cohort, private: bool) -> list[tuple[str, float]]:
    return [(r.handle, round(r.score, 6)) for r in boards.leaderboard(c, "1", private).rows]


def test_revealing_an_open_week_needs_close_now_and_changes_nothing_without(
    cohort: Cohort,
) -> None:
    with pytest.raises(Conflict) as info:
        boards.reveal(cohort, "1", "org", at=T0)
    assert str(info.value) == (
        "Week '01-reg' is open until 2027-01-18 00:00 CET; revealing it now also closes it now "
        "(later submissions are late and count on no board): rerun with --close-now, "
        "or wait for the close."
    )
    assert not boards.is_revealed(cohort, "1", now=T0)
    with cohort.store.transaction() as tx:
        assert [e for e in audit.entries(tx) if e.action != "roster_import"] == []


def test_a_submission_after_an_early_reveal_is_late_on_no_board_and_not_in_the_standings(
    cohort: Cohort,
) -> None:
    # The example: six members on the board, the 6th would jump to 2nd after the reveal.
    for k, handle in enumerate(("ann", "bob", "cy", "dee", "eve", "fay")):
        _submit(cohort, handle, 0.1 * (k + 1), T0 + timedelta(minutes=k))
    assert boards.reveal(cohort, "1", "org", close_now=True, at=REVEAL) == REVEAL
    with cohort.store.transaction() as tx:
        entry = [e for e in audit.entries(tx) if e.action == "reveal"][-1]
    assert (entry.action, entry.detail["closed_early"]) == ("reveal", True)
    public, private = _board(cohort, False), _board(cohort, True)
    table = [
        (r.handle, r.total)
        for r in season_standings.standings(cohort, now=REVEAL + timedelta(hours=1)).rows
    ]
    late = _submit(cohort, "fay", 0.15, REVEAL + timedelta(minutes=1))
    assert late.late and late.status == "scored" and late.public_score == pytest.approx(0.15)
    assert "this is a late submission" in late.warnings[0]
    assert _board(cohort, False) == public and _board(cohort, True) == private
    assert private[-1] == ("fay", 0.6)  # still 6th
    assert [
        (r.handle, r.total)
        for r in season_standings.standings(cohort, now=REVEAL + timedelta(hours=1)).rows
    ] == table
    assert boards.counted_submissions(cohort, "1")["fay"] == [6]
    # Shown to the member, with its private score, since the week is revealed.
    history = boards.member_history(cohort, "fay", include_private=False)
    assert history["late"].tolist() == [True, False]
    assert history["private_score"].tolist() == pytest.approx([0.15, 0.6])


def test_a_submission_at_the_reveal_instant_is_late_one_before_is_not(cohort: Cohort) -> None:
    _submit(cohort, "ann", 0.5, T0)
    boards.reveal(cohort, "1", "org", close_now=True, at=REVEAL)
    assert not _submit(cohort, "bob", 0.4, REVEAL - timedelta(microseconds=1)).late
    assert _submit(cohort, "cy", 0.1, REVEAL).late
    assert _board(cohort, False) == [("bob", 0.4), ("ann", 0.5)]


def test_late_submissions_do_not_use_or_need_the_daily_limit(cohort: Cohort) -> None:
    for minute in range(3):  # the daily limit is 3
        _submit(cohort, "ann", 0.5, T0 + timedelta(minutes=minute))
    assert intake.remaining_today(cohort, "ann", "1", at=T0 + timedelta(hours=1)) == 0
    boards.reveal(cohort, "1", "org", close_now=True, at=T0 + timedelta(hours=2))
    later = T0 + timedelta(hours=3)  # the same day, after the early close
    assert intake.remaining_today(cohort, "ann", "1", at=later) == 3
    first = _submit(cohort, "ann", 0.2, later)
    assert first.late and first.remaining_today == 2
    # The on-time board still holds ann's three on-time files only.
    assert boards.leaderboard(cohort, "1").rows[0].entries == 3


def test_after_the_natural_close_a_submission_is_late_and_private_once_revealed(
    cohort: Cohort,
) -> None:
    _submit(cohort, "ann", 0.5, T0)
    closes = cohort.config.week("1").closes_at
    late = _submit(cohort, "bob", 0.1, closes + timedelta(hours=1))
    assert late.late and late.public_score == pytest.approx(0.1)
    assert "closed at 2027-01-18 00:00 CET" in late.warnings[0]
    after = boards.leaderboard(cohort, "1", private=True, now=closes + timedelta(hours=2))
    assert [(r.handle, r.score) for r in after.rows] == [("ann", 0.5)]
    assert boards.member_history(cohort, "bob", include_private=False)["late"].tolist() == [True]


def test_reveal_through_the_cli_asks_for_close_now_on_an_open_week(make_cohort) -> None:
    start = (date.today() - timedelta(days=1)).isoformat()
    root = make_cohort({"01-reg": {"metric": "mae", "targets": ("target",)}}, start=start)
    c = _cohort(root)
    refused = runner.invoke(app, ["--root", str(root), "reveal", "1"])
    assert refused.exit_code == 1 and refused.stderr.startswith(
        "Error: Week '01-reg' is open until"
    )
    assert "--close-now" in refused.stderr and not boards.is_revealed(c, "1")
    done = runner.invoke(app, ["--root", str(root), "reveal", "1", "--close-now"])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(
        "Week 01-reg revealed: private scores are now visible; it closed at"
    )
    assert boards.is_revealed(c, "1")
    late = _submit(c, "ann", 0.2, datetime.now(UTC))
    assert late.late and boards.leaderboard(c, "1").rows == []
