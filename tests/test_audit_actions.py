"""`cohort audit` records the organizer's roster import, token issuance, bundle, backup and restore."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.workspace import Cohort

from .test_standings import IDS, build_season

pytestmark = pytest.mark.sqlite_only  # restore --into writes its own SQLite file
runner = CliRunner()


def cli(root: Path, *args: str) -> str:
    result = runner.invoke(app, ["--root", str(root), *args])
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def logged(root: Path, action: str) -> list[dict]:
    entries = json.loads(cli(root, "audit", "--json", "--action", action))
    return [{**e, "detail": json.loads(e["detail"])} for e in entries]


def test_organizer_actions_appear_in_the_audit_log(
    make_cohort, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("COHORT_DATABASE_URL", raising=False)
    season: Cohort = build_season(make_cohort, tmp_path)
    root = season.root
    before = len(logged(root, "roster_import"))
    cli(root, "members", "import", str(root / "members.csv"), "--actor", "lead")
    assert len(logged(root, "roster_import")) == before  # an unchanged re-import changes nothing
    with (root / "members.csv").open("a") as fh:
        fh.write("eve,Eve,eve@example.org,evek\n")
    cli(root, "members", "import", str(root / "members.csv"), "--actor", "lead")
    entry = logged(root, "roster_import")[0]
    assert entry["actor"] == "lead" and entry["target"] == "members.csv"
    assert (entry["detail"]["added"], entry["detail"]["unchanged"]) == (1, 4)

    shown = json.loads(cli(root, "members", "tokens", "ann", "bob", "--json", "--actor", "lead"))
    entry = logged(root, "tokens_issue")[0]
    assert entry["actor"] == "lead" and entry["detail"]["handles"] == ["ann", "bob"]
    everything = cli(root, "audit", "--json")
    assert not [t for t in shown.values() if t in everything]  # never the tokens themselves

    data = root / "data" / "01-a"
    sample = pd.DataFrame({"id": IDS, "label": ["a"] * len(IDS)})
    sample.to_csv(data / "sample_submission.csv", index=False)
    cli(root, "bundle", "1", "--actor", "lead")
    entry = logged(root, "bundle")[0]
    assert entry["actor"] == "lead" and entry["target"] == "01-a"

    archive = tmp_path / "season.tar.gz"
    cli(root, "backup", str(archive), "--actor", "lead")
    entry = logged(root, "backup")[0]
    assert entry["actor"] == "lead" and entry["target"] == str(archive.resolve())

    fresh = tmp_path / "new-machine"
    cli(root, "restore", str(archive), "--into", str(fresh), "--actor", "lead")
    entry = logged(fresh, "restore")[0]
    assert entry["actor"] == "lead" and entry["target"] == str(archive.resolve())
    assert entry["detail"]["into"] == str(fresh.resolve())
    cli(root, "restore", str(archive), "--force", "--actor", "lead")
    assert logged(root, "restore")[0]["detail"]["forced"] is True
