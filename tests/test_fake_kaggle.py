"""The fake Kaggle's port: one fixed port (the SDK pins localhost:7777), shared by turns.

Two test runs on one host used to collide (the second got 40 errors). A server now holds
a cross-process lock while it listens, so a second run waits for the first to give the
port back.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.fake_kaggle.server import FakeKaggleServer

REPO = Path(__file__).resolve().parents[1]
SECOND_RUN = """
import time
from tests.fake_kaggle.server import FakeKaggleServer
server = FakeKaggleServer().start()
print(time.time())
server.stop()
"""


def test_a_second_test_run_waits_for_the_port_instead_of_failing() -> None:
    server = FakeKaggleServer().start()  # as a running test module holds it
    try:
        second = subprocess.Popen(
            [sys.executable, "-c", SECOND_RUN],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)  # time for the second run to reach the port
        assert second.poll() is None, second.communicate()  # waiting, not failed
    finally:
        released = time.time()
        server.stop()
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert float(out) >= released  # it got the port only once the first gave it back
