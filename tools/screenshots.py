"""Refresh the README's screenshots (docs/img/) from the demo cohort in Debian's Chromium.

Usage: .venv/bin/python tools/screenshots.py
Builds the live demo in demo-cohort/ if missing (weeks 1-2 revealed, week 3 open), serves
the app headless on a free localhost port, and saves: the Season standings page, the
workshop screen at 1920x1080 (the open week's board), its standings view, and the
Leaderboard on a 390x844 phone.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo-cohort"
IMG = REPO / "docs" / "img"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def serve() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "COHORT_ROOT": str(DEMO),
        "COHORT_DATABASE_URL": f"sqlite:///{DEMO / 'cohort.db'}",
    }
    server = subprocess.Popen(
        [
            str(REPO / ".venv/bin/streamlit"),
            "run",
            str(REPO / "leaderboard_app/app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--client.toolbarMode",
            "minimal",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return server, url
        except OSError:
            time.sleep(0.5)
    server.terminate()
    sys.exit("streamlit did not start")


def main() -> None:
    if not (DEMO / "cohort.toml").is_file():
        subprocess.run(
            [str(REPO / ".venv/bin/cohort"), "demo", str(DEMO)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    server, url = serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1900})
            page.goto(f"{url}/standings")
            page.wait_for_selector("table.standings", timeout=60_000)
            page.wait_for_timeout(2500)  # let the chart render
            page.screenshot(path=str(IMG / "standings.png"), full_page=True)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"{url}/?mode=workshop")
            page.wait_for_selector("text=Refreshes every", timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(IMG / "workshop.png"))
            page.goto(f"{url}/?mode=workshop&view=standings")
            page.wait_for_selector("text=Refreshes every", timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(IMG / "workshop-standings.png"))
            phone = browser.new_context(
                viewport={"width": 390, "height": 844}, user_agent=PHONE, is_mobile=True
            ).new_page()
            phone.goto(f"{url}/")
            phone.wait_for_selector("text=Public leaderboard", timeout=60_000)
            phone.wait_for_timeout(2500)
            phone.screenshot(path=str(IMG / "phone-leaderboard.png"))
            browser.close()
    finally:
        server.terminate()
    print(
        "wrote docs/img/standings.png, workshop.png, workshop-standings.png, phone-leaderboard.png"
    )


if __name__ == "__main__":
    main()
