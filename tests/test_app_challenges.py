"""Live coding-challenge windows (cohort.challenges) and the change stamp (cohort.changes)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cohort import audit, revision
from cohort.errors import CohortError, NotFound
from cohort.season import challenges
from cohort.workspace import Cohort, utcnow


@pytest.fixture
def cohort(make_cohort) -> Cohort:
    return Cohort.open(make_cohort({"01-test": {}, "02-next": {"opens": 7, "closes": 14}}))


def test_an_opened_window_is_current_until_it_closes(cohort: Cohort) -> None:
    now = utcnow()
    opened = challenges.open_window(cohort, "2", 30, "ada", now=now)
    assert (opened.week, opened.created_by) == ("02-next", "ada")
    assert opened.closes_at - opened.opens_at == timedelta(minutes=30)
    assert challenges.current(cohort, now + timedelta(minutes=29)) == opened
    assert challenges.current(cohort, now + timedelta(minutes=30)) is None
    assert challenges.latest(cohort) == opened


def test_a_second_window_is_refused_while_one_is_open(cohort: Cohort) -> None:
    first = challenges.open_window(cohort, "1", 10, "ada")
    with pytest.raises(CohortError) as err:
        challenges.open_window(cohort, "2", 10, "ada")
    assert (
        str(err.value) == f"Challenge {first.id} on week '01-test' is still open; close it first."
    )


def test_closing_ends_the_window_and_is_audited(cohort: Cohort) -> None:
    now = utcnow()
    challenges.open_window(cohort, "1", 10, "ada", now=now)
    closed = challenges.close_window(cohort, "bo", now=now + timedelta(minutes=2))
    assert closed.closes_at == now + timedelta(minutes=2)
    assert challenges.current(cohort, now + timedelta(minutes=3)) is None
    log = audit.recent_actions(cohort)
    assert log["action"].tolist() == ["challenge_close", "challenge_open"]
    assert log["actor"].tolist() == ["bo", "ada"]


def test_closing_with_nothing_open_says_so(cohort: Cohort) -> None:
    with pytest.raises(CohortError) as err:
        challenges.close_window(cohort, "ada")
    assert str(err.value) == "No challenge is open; open one from the Organizer page first."


@pytest.mark.parametrize("minutes", [0, challenges.MAX_MINUTES + 1])
def test_a_window_length_out_of_range_is_refused(cohort: Cohort, minutes: int) -> None:
    with pytest.raises(CohortError) as err:
        challenges.open_window(cohort, "1", minutes, "ada")
    assert str(err.value) == (
        f"Challenge length {minutes} minutes is out of range; "
        f"use 1 to {challenges.MAX_MINUTES} minutes."
    )
    assert challenges.latest(cohort) is None


def test_an_unknown_week_is_refused(cohort: Cohort) -> None:
    with pytest.raises(NotFound):
        challenges.open_window(cohort, "9", 10, "ada")


def test_the_stamp_changes_with_each_write_and_not_without(cohort: Cohort) -> None:
    now = utcnow()
    before = revision.stamp(cohort, now)
    assert revision.stamp(cohort, now) == before
    challenges.open_window(cohort, "1", 10, "ada", now=now)
    after = revision.stamp(cohort, now)
    assert after != before
    # A week closing changes the stamp too: its private board is revealed by the clock alone.
    later = cohort.config.week("2").closes_at
    assert revision.stamp(cohort, later) != revision.stamp(cohort, now)


def test_ranks_of_an_open_challenge_cannot_be_recorded(cohort: Cohort) -> None:
    opened = challenges.open_window(cohort, "1", 10, "ada")
    with pytest.raises(CohortError) as err:
        challenges.record_ranks(cohort, opened.id, "ada")
    assert (
        str(err.value) == f"Challenge {opened.id} is still open; close it before recording ranks."
    )


def test_ranks_of_an_unknown_challenge_are_not_found(cohort: Cohort) -> None:
    with pytest.raises(NotFound) as err:
        challenges.record_ranks(cohort, 7, "ada")
    assert str(err.value) == "No challenge 7; open one from the Organizer page."
