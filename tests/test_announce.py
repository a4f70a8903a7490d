"""Announcements: a week's results as Markdown or text, posted to a local Slack/Discord-style webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.season.announce import announce
from cohort.sheets import roster
from cohort.workspace import Cohort

from .test_standings import build_season

runner = CliRunner()


class Hook(BaseHTTPRequestHandler):
    """A local incoming webhook: records each JSON body; answers 204 or the status asked for."""

    received: list[dict] = []
    status = 204

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers["Content-Length"])
        Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(Hook.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def hook() -> Iterator[str]:
    Hook.received, Hook.status = [], 204
    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/abc"
    server.shutdown()
    server.server_close()


@pytest.fixture
def season(make_cohort, tmp_path: Path) -> Cohort:
    return build_season(make_cohort, tmp_path)


def with_webhook(cohort: Cohort, url: str) -> None:
    toml = cohort.root / "cohort.toml"
    toml.write_text(f'webhook_url = "{url}"\n' + toml.read_text())


def test_a_revealed_week_announces_its_private_board_with_public_ranks(season: Cohort) -> None:
    note = announce(season, "1")
    assert "final private leaderboard" in note.title
    assert "| 1 | Ann Lee (ann) | 1.0000 | 1 |" in note.markdown
    assert "4 of 4 members submitted" in note.text
    assert "  1. Ann Lee (ann)  1.0000  (public #1)" in note.text


def test_names_are_escaped_for_markdown(season: Cohort) -> None:
    (season.root / "members.csv").write_text(
        "handle,name,email,kaggle_username\nann,[pwn](http://evil.example) *x*,,\n"
    )
    roster.import_roster(season.store, season.root / "members.csv")
    note = announce(season, "1")
    assert "\\[pwn\\]\\(http://evil\\.example\\) \\*x\\*" in note.markdown
    assert "[pwn](http" not in note.markdown


def test_announce_posts_slack_and_discord_json_to_the_webhook(season: Cohort, hook: str) -> None:
    with_webhook(season, hook)
    result = runner.invoke(app, ["--root", str(season.root), "announce", "1", "--post"])
    assert result.exit_code == 0, result.output
    assert "Posted to the webhook (HTTP 204)." in result.stderr
    (body,) = Hook.received
    assert body["text"] == result.stdout and body["content"] == result.stdout


def test_a_refusing_or_missing_webhook_is_one_error_line(season: Cohort, hook: str) -> None:
    result = runner.invoke(app, ["--root", str(season.root), "announce", "1", "--post"])
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "Error: No webhook_url in cohort.toml; add your Slack or Discord incoming-webhook URL there.\n"
    )
    with_webhook(season, hook)
    Hook.status = 404
    result = runner.invoke(app, ["--root", str(season.root), "announce", "1", "--post"])
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "Error: The webhook answered HTTP 404 (Not Found); check webhook_url in cohort.toml.\n"
    )


def test_a_webhook_url_that_is_not_http_is_refused_at_load(season: Cohort) -> None:
    with_webhook(season, "ftp://example.org/x")
    result = runner.invoke(app, ["--root", str(season.root), "announce", "1"])
    assert result.exit_code == 1
    assert "webhook_url" in result.stderr and "incoming webhook" in result.stderr
