"""The live demo in a real browser: its Submit page accepts a file for the open week with a demo token.

What `make demo` then `make app DEMO=1` gives a newcomer: the demo prints a token, and
the app (served by `cohort app`, as the Makefile does) takes a predictions file with it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LIVE_DEMO, copy_demo
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, free_port, wait_healthy

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="no Chromium at /usr/bin/chromium; install it: apt-get install -y chromium",
    ),
]
COHORT = Path(sys.executable).with_name("cohort")


@pytest.fixture(scope="module")
def live(demo_builds, tmp_path_factory) -> Iterator[tuple[str, Path, str]]:
    """The session's live demo (built by `cohort demo`, as test_demo checks), then `cohort app`
    on a copy of it; yields the URL, the demo and the token the demo printed."""
    directory, output = copy_demo(demo_builds, tmp_path_factory, LIVE_DEMO)
    env = {k: v for k, v in os.environ.items() if k != "COHORT_DATABASE_URL"}
    line = next(x for x in output.splitlines() if x.startswith("Demo token"))
    token = line.split(": ", 1)[1].split(" ", 1)[0]
    port = free_port()
    log = directory.parent / "app.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(COHORT), "--root", str(directory), "app", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server, log)
        yield url, directory, token
    finally:
        server.terminate()  # SIGTERM, as `kill` or a supervisor stops it
        server.wait(timeout=20)
        # Nothing of it keeps serving: `cohort app` waiting on a Streamlit child used to
        # die alone, leaving Streamlit on the port (found as orphans after test runs).
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"still served on {port}"


def test_the_submit_page_accepts_a_file_for_the_open_week_with_the_printed_token(
    live: tuple[str, Path, str], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    from cohort.scoring import boards
    from cohort.workspace import Cohort

    url, directory, token = live
    cohort = Cohort.open(directory)
    before = len(boards.week_frame(cohort, cohort.config.week("3")))
    sample = directory / "data" / "03-sequences" / "sample_submission.csv"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(f"{url}/submit")
            page.locator("input[aria-label='Your personal token']").fill(token)
            page.keyboard.press("Enter")
            page.get_by_text("Signed in as").wait_for(timeout=60_000)
            page.locator("input[type=file]").set_input_files(str(sample))
            page.get_by_text(sample.name).wait_for(timeout=30_000)
            page.get_by_role("button", name="Submit").click()
            page.get_by_text("scored: public score").wait_for(timeout=60_000)
            page.screenshot(path=str(tmp_path / "submitted.png"), full_page=True)
        finally:
            browser.close()
    assert len(boards.week_frame(cohort, cohort.config.week("3"))) == before + 1
