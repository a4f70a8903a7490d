"""One real-browser test: `streamlit run` on the demo cohort, driven by Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STREAMLIT = Path(sys.executable).with_name("streamlit")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="no Chromium at /usr/bin/chromium; install it: apt-get install -y chromium",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"streamlit exited with {server.returncode}: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"streamlit did not answer on {url} within {timeout} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """The app served headless on the demo cohort, on a free localhost port."""
    from cohort.demo import run_demo

    directory = tmp_path_factory.mktemp("browser") / "demo-cohort"
    run_demo(directory, members=24, seed=7, echo=lambda _line: None).store.dispose()
    port = free_port()
    env = {**os.environ, "COHORT_ROOT": str(directory)}
    env.pop("COHORT_DATABASE_URL", None)
    log = directory.parent / "streamlit.log"
    server = subprocess.Popen(
        [
            str(STREAMLIT),
            "run",
            str(REPO / "leaderboard_app" / "app.py"),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=directory,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_standings_show_the_cut_line_and_eight_selected_members(
    server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1900})
            page.goto(f"{server}/standings")
            page.wait_for_selector("table.standings", timeout=60_000)
            cut = page.locator("table.standings tr.cut")
            assert cut.count() == 1
            assert "cut line: the top 8 above go to the final project" in cut.inner_text()
            assert page.locator("table.standings tr.selected").count() == 8
            assert page.get_by_text("Top 8 go to the final project").is_visible()
            page.screenshot(path=str(tmp_path / "standings.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "standings.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    "path",
    [
        "data/01-pets/solution.csv",
        "app/static/data/01-pets/solution.csv",
        "cohort.db",
        "members.csv",
        "media/../data/01-pets/solution.csv",
    ],
)
def test_no_url_serves_a_cohort_file(server: str, path: str) -> None:
    try:
        with urllib.request.urlopen(f"{server}/{path}", timeout=10) as answer:
            body = answer.read()
    except urllib.error.HTTPError as exc:
        assert exc.code in (400, 403, 404)
        return
    # Streamlit answers unknown paths with its page shell, never with the file.
    assert b"<!doctype html>" in body[:2000].lower()
    assert b"Usage" not in body and b"@demo.invalid" not in body and b"SQLite" not in body
