"""A lockout for password guessing: after repeated failures, every try is refused for a while.

One `Lockout` per app process guards the organizer password (a guess costs ~40 ms, so
without it a script could try tens of thousands an hour). It counts failures across all
browser sessions, since a guesser can open as many sessions as it likes; while locked even
the right password is refused, and the organizer can end a lock by restarting the app.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW_S = 300.0
LOCK_S = 300.0


class Lockout:
    """Failures within `window_s`; `max_failures` of them lock every try for `lock_s`."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        lock_s: float = LOCK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures, self.window_s, self.lock_s = max_failures, window_s, lock_s
        self._clock = clock
        self._failures: deque[float] = deque()
        self._locked_until = 0.0
        self._mutex = threading.Lock()  # Streamlit runs sessions in threads of one process

    def seconds_left(self) -> float:
        """How long the lock still holds (0 when open)."""
        with self._mutex:
            return max(0.0, self._locked_until - self._clock())

    def message(self) -> str:
        """The one line a locked-out user sees."""
        minutes = max(1, round(self.seconds_left() / 60))
        return (
            f"Too many wrong organizer passwords; sign-in is locked for about {minutes} more "
            "minute(s). Wait, or restart the app if you run it."
        )

    def attempt(self, check: Callable[[], bool]) -> bool:
        """Run a password check unless locked; a failure counts towards the lock."""
        with self._mutex:
            now = self._clock()
            if now < self._locked_until:
                return False
            ok = check()
            if ok:
                return True
            self._failures.append(now)
            while self._failures and now - self._failures[0] > self.window_s:
                self._failures.popleft()
            if len(self._failures) >= self.max_failures:
                self._locked_until = now + self.lock_s
                self._failures.clear()
            return False
