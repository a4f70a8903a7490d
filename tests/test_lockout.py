"""The organizer password locks after repeated failures, in the core and on the Organizer page."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cohort.lockout import Lockout
from tests.test_app_helpers import PASSWORD, app_test, write_cohort


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_lock_every_try_even_the_right_one_until_the_lock_ends() -> None:
    clock = Clock()
    lock = Lockout(max_failures=5, window_s=300, lock_s=300, clock=clock)
    for _ in range(4):
        assert not lock.attempt(lambda: False)
    assert lock.seconds_left() == 0
    assert not lock.attempt(lambda: False)  # the fifth
    assert lock.seconds_left() == 300
    assert not lock.attempt(lambda: True)  # locked: the right password is refused too
    assert lock.message().startswith(
        "Too many wrong organizer passwords; sign-in is locked for about 5 more minute(s)."
    )
    clock.now += 301
    assert lock.attempt(lambda: True)


def test_failures_spread_over_more_than_the_window_do_not_lock() -> None:
    clock = Clock()
    lock = Lockout(max_failures=3, window_s=60, lock_s=600, clock=clock)
    for _ in range(6):
        assert not lock.attempt(lambda: False)
        clock.now += 31  # never three within 60 s
    assert lock.seconds_left() == 0
    assert lock.attempt(lambda: True)


def test_the_organizer_page_locks_after_five_wrong_passwords(tmp_path: Path, monkeypatch) -> None:
    st.cache_resource.clear()  # the lock is one per app process; start from an open one
    root = write_cohort(tmp_path / "c")
    try:
        at = app_test(root, monkeypatch, "organizer")
        for i in range(5):
            at.text_input[0].input(f"guess-{i}")
            at.button[0].click().run()
        at = app_test(root, monkeypatch, "organizer")  # a new browser session
        assert [e.value for e in at.error][0].startswith("Too many wrong organizer passwords")
        assert not at.text_input and not at.radio
    finally:
        st.cache_resource.clear()
    at = app_test(root, monkeypatch, "organizer")  # after a restart: open again
    at.text_input[0].input(PASSWORD)
    at.button[0].click().run()
    assert not at.error and at.radio
