"""Serving the Streamlit leaderboard app on a cohort (`cohort app`, `make app`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cohort.errors import NotFound, ValidationError
from cohort.template import REPO

APP = REPO / "leaderboard_app" / "app.py"

# The repository's .streamlit/config.toml, as flags: the app runs in the cohort's own directory
# (so its .streamlit/secrets.toml holds the organizer password), which has no config of its own.
SETTINGS = {
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    "server.maxUploadSize": "25",
    "client.toolbarMode": "minimal",
}


def app_command(port: int, host: str) -> list[str]:
    """The `streamlit run` command line for the app on `host:port`."""
    if not APP.is_file():
        raise NotFound(f"No leaderboard app at {APP}; run cohort from a clone of its repository.")
    if not 1 <= port <= 65535:
        raise ValidationError(f"Port {port} is not a TCP port; pass --port between 1 and 65535.")
    if not host.strip():
        raise ValidationError("The host is empty; pass --host 127.0.0.1, or 0.0.0.0 for a LAN.")
    flags = [f"--{key}={value}" for key, value in SETTINGS.items()]
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        *flags,
        f"--server.port={port}",
        f"--server.address={host}",
    ]


def app_environment(root: Path, db: str | None) -> dict[str, str]:
    """The environment that points the app at this cohort and its database."""
    env = {**os.environ, "COHORT_ROOT": str(root)}
    if db:
        env["COHORT_DATABASE_URL"] = db
    return env
