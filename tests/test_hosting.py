"""The hosted set-up of docs/hosting.md, for real: `streamlit run` with only a secrets file.

The app is started exactly as the systemd unit (and Streamlit Community Cloud) start it:
in the cohort's directory, with the database URL, the organizer password and a persistent
submissions path in .streamlit/secrets.toml and nothing in the environment. A member
submits through the Submit page in Chromium; the app is restarted, and nothing is lost.
"""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohort.appserver import app_command
from cohort.scoring import boards
from cohort.sheets.roster import import_roster, issue_tokens
from cohort.workspace import Cohort, utcnow
from tests.conftest import write_roster
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, free_port, stop, wait_healthy

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]

IDS = [f"h{i:02d}" for i in range(20)]
PASSWORD = "hosted-organizer-password"


def _hosted_cohort(make_cohort, tmp_path: Path) -> tuple[Path, str, Path]:
    start = (utcnow() - timedelta(days=1)).date().isoformat()
    root = make_cohort({"01-host": {"metric": "mae", "targets": ("target",)}}, start=start)
    (root / "data/01-host").mkdir(parents=True)
    pd.DataFrame(
        {"id": IDS, "target": np.arange(20.0), "Usage": ["Public"] * 8 + ["Private"] * 12}
    ).to_csv(root / "data/01-host/solution.csv", index=False)
    write_roster(root, [("ann", "Ann Lee", "ann@example.org", "")])
    # The lane's database (Postgres in `make test-postgres`), else a SQLite file outside the
    # checkout, as a server would keep it.
    url = os.environ.get("COHORT_DATABASE_URL") or f"sqlite:///{tmp_path / 'srv' / 'cohort.db'}"
    (tmp_path / "srv").mkdir()
    persistent = tmp_path / "srv" / "submissions"
    (root / ".streamlit").mkdir()
    (root / ".streamlit" / "secrets.toml").write_text(
        f'database_url = "{url}"\n'
        f'organizer_password = "{PASSWORD}"\n'
        f'submissions_dir = "{persistent}"\n'
    )
    return root, url, persistent


def _serve(root: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COHORT_")}
    log = root.parent / f"hosted-{port}.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [*app_command(port, "127.0.0.1"), "--server.fileWatcherType=none"],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server, log)
    except AssertionError:
        stop(server)
        raise
    return server, url


def test_a_member_submits_to_the_hosted_app_and_a_restart_loses_nothing(
    make_cohort, tmp_path: Path, monkeypatch
) -> None:
    from playwright.sync_api import sync_playwright

    root, url, persistent = _hosted_cohort(make_cohort, tmp_path)
    cohort = Cohort.open(root, url)
    import_roster(cohort.store, root / "members.csv")
    token = issue_tokens(cohort.store, ["ann"])["ann"]
    cohort.store.dispose()
    predictions = tmp_path / "predictions.csv"
    pd.DataFrame({"id": IDS, "target": np.arange(20.0) + 0.5}).to_csv(predictions, index=False)

    server, base = _serve(root)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"{base}/submit")
            page.get_by_label("Your personal token", exact=True).fill(token)
            page.keyboard.press("Enter")
            page.get_by_text("Signed in as").first.wait_for(timeout=60_000)
            page.locator("input[type=file]").set_input_files(str(predictions))
            page.get_by_text("predictions.csv").first.wait_for(timeout=30_000)
            page.get_by_role("button", name="Submit", exact=True).click()
            page.get_by_text("scored: public score").first.wait_for(timeout=60_000)
            browser.close()
    finally:
        stop(server)

    # The file went to the persistent path from the secrets, the row to the secrets' database.
    assert not (root / "cohort.db").exists()
    assert not list((root / "submissions").rglob("*.csv"))
    assert len(list((persistent / "01-host").glob("*.csv"))) == 1
    monkeypatch.setenv("COHORT_SUBMISSIONS_DIR", str(persistent))
    cohort = Cohort.open(root, url)
    rows = boards.leaderboard(cohort, "01-host").rows
    assert [(r.handle, r.score) for r in rows] == [("ann", pytest.approx(0.5))]
    cohort.store.dispose()

    server, base = _serve(root)  # a restart, as after a reboot or a deploy
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"{base}/")
            page.get_by_text("Ann Lee").first.wait_for(state="attached", timeout=60_000)
            page.goto(f"{base}/organizer")
            page.get_by_label("Organizer password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            # The form goes only once the password from the secrets file is accepted.
            page.get_by_label("Organizer password", exact=True).wait_for(
                state="detached", timeout=60_000
            )
            browser.close()
    finally:
        stop(server)
