"""The standings commands as an organizer types them: standings, select, contrib, notebook, export, backup."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.workspace import Cohort

from .test_standings import build_season

runner = CliRunner()
DATA = Path(__file__).parent / "data"


def invoke(root: Path, *args: str, db: str | None = None):
    return runner.invoke(app, ["--root", str(root), *(["--db", db] if db else []), *args])


@pytest.fixture
def season(make_cohort, tmp_path: Path) -> Cohort:
    return build_season(make_cohort, tmp_path)


def test_standings_json_has_every_component(season: Cohort) -> None:
    result = invoke(season.root, "standings", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["weeks"] == ["01-a", "02-b"]
    bob = data["rows"][1]
    assert (bob["rank"], bob["handle"], bob["total"], bob["performance"], bob["contributions"]) == (
        2,
        "bob",
        8.5,
        7.5,
        1.0,
    )
    assert bob["components"]["01-a"] == 7.5 and bob["components"]["attended"] == 1.0


def test_standings_table(season: Cohort) -> None:
    result = invoke(season.root, "standings")
    assert result.exit_code == 0, result.output
    assert "Season standings" in result.stdout and "tied with bob on total" in result.stdout


def test_select_prints_reasons_the_members_below_and_the_tie_check(season: Cohort) -> None:
    result = invoke(season.root, "select", "--top", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:7] == [
        "Selected (top 2):",
        "   1. ann (Ann Lee): 25 = 01-a 10 + 02-b 10 + presented 3 + on_time_kernel 2",
        "   2. bob (Bob Ray): 8.5 = 01-a 7.5 + attended 1",
        "Just below the cut:",
        "   3. cy (Cy Young): 8.5; equal total; ordered after by earliest_submission",
        "   4. dee (Dee Dee): 3.5; 5 points short of the cut",
        lines[6],
    ]
    assert lines[6].startswith("Cut check: bob stays ahead of cy in ")
    assert lines[6].endswith("% of 200 resamples of the test rows (a statistical tie).")


def test_select_freeze_refuses_to_refreeze_without_force(season: Cohort) -> None:
    first = invoke(season.root, "select", "--top", "2", "--freeze", "--actor", "lead")
    assert first.exit_code == 0 and first.stdout.splitlines()[-1] == "Frozen as selection #1."
    again = invoke(season.root, "select", "--freeze", "--json")
    assert again.exit_code == 1
    assert again.stderr.startswith("Error: The selection was already frozen (#1, ")
    assert again.stderr.rstrip().endswith(
        "by lead); pass --force to freeze again (the old freeze is kept, marked superseded)."
    )
    forced = invoke(season.root, "select", "--top", "3", "--freeze", "--force", "--json")
    data = json.loads(forced.stdout)
    assert data["freeze_id"] == 2 and [s["handle"] for s in data["selected"]] == [
        "ann",
        "bob",
        "cy",
    ]
    assert data["ties"] == [{"above": "cy", "below": "dee", "probability": 1.0, "flagged": False}]


def test_freezes_lists_them_and_says_whether_inputs_changed(season: Cohort) -> None:
    assert json.loads(invoke(season.root, "freezes", "--json").stdout) == {
        "freezes": [],
        "inputs_changed_since_current": None,
    }
    invoke(season.root, "select", "--top", "2", "--freeze", "--actor", "lead")
    shown = invoke(season.root, "freezes")
    assert (
        shown.exit_code == 0
        and shown.stdout.splitlines()[-1] == "Today's inputs match the current freeze."
    )
    invoke(season.root, "contrib", "add", "--member", "dee", "--kind", "attended", "--week", "2")
    data = json.loads(invoke(season.root, "freezes", "--json").stdout)
    assert data["inputs_changed_since_current"] is True
    assert [
        (f["id"], f["frozen_by"], f["top"], f["superseded"], f["selected"]) for f in data["freezes"]
    ] == [(1, "lead", 2, False, ["ann", "bob"])]


def test_contrib_add_list_and_correct(season: Cohort) -> None:
    added = invoke(
        season.root,
        "contrib",
        "add",
        "--member",
        "dee",
        "--kind",
        "presented",
        "--week",
        "2",
        "--note",
        "demo",
    )
    assert added.stdout == "Recorded event #5: dee presented 2 value 1.\n"
    fixed = invoke(
        season.root,
        "contrib",
        "add",
        "--member",
        "dee",
        "--kind",
        "presented",
        "--week",
        "2",
        "--value",
        "0",
        "--supersedes",
        "5",
    )
    assert fixed.stdout == "Recorded event #6: dee presented 2 value 0, superseding #5.\n"
    listed = json.loads(invoke(season.root, "contrib", "list", "--member", "dee", "--json").stdout)
    assert [(e["id"], e["kind"], e["value"], e["supersedes"]) for e in listed] == [
        (4, "helped", 1.0, None),
        (6, "presented", 0.0, 5),
    ]
    derived = json.loads(invoke(season.root, "contrib", "list", "--member", "ann", "--json").stdout)
    assert [(e["id"], e["kind"], e["source"]) for e in derived] == [
        (1, "presented", "manual"),
        (None, "on_time_kernel", "derived"),
    ]


def test_contrib_errors_are_one_line(season: Cohort) -> None:
    result = invoke(season.root, "contrib", "add", "--member", "zed", "--kind", "helped")
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: No member 'zed'; check `cohort members list` or import the roster.\n"
    )


def test_contrib_import_reports_unmatched_rows(season: Cohort) -> None:
    result = invoke(
        season.root,
        "contrib",
        "import",
        str(DATA / "contrib_challenge.csv"),
        "--kind",
        "challenge_rank",
        "--week",
        "1",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "Contributions: 2 added, 0 already recorded, 1 unmatched.\n"
    assert result.stderr == "  unmatched line 4: no member matches 'zed'\n"


def test_notebook_analyze_and_record(season: Cohort) -> None:
    shown = invoke(season.root, "notebook", "analyze", str(DATA / "nb_keras_calls.ipynb"))
    assert (
        shown.stdout == "Frameworks: tensorflow; explanation cells: 0; plots: 2; code cells: 2.\n"
    )
    recorded = invoke(
        season.root,
        "notebook",
        "analyze",
        str(DATA / "nb_keras_calls.ipynb"),
        "--member",
        "dee",
        "--week",
        "1",
    )
    # The verdict explains each rule; tensorflow is only imported (no starter: every cell is new).
    assert recorded.stdout.splitlines()[1:] == [
        "  not met: no framework beyond the week's minimum "
        "(tensorflow is imported but builds or trains no model)",
        "  not met: 0 explanation cell(s) (3 needed)",
        "  met: 2 plot(s) (2 needed)",
        "Beyond the minimum: 2 plot(s) (2 needed).",
        "Awarded beyond_minimum to dee (event #5).",
    ]
    missing = invoke(
        season.root, "notebook", "analyze", str(DATA / "nb_keras_calls.ipynb"), "--member", "dee"
    )
    assert (
        missing.stderr
        == "Error: Recording a notebook needs its week; pass --week W with --member.\n"
    )


@pytest.mark.sqlite_only  # --into makes a SQLite file beside the restored cohort
def test_export_backup_and_restore_through_the_cli(season: Cohort, tmp_path: Path) -> None:
    exported = invoke(season.root, "export", str(tmp_path / "standings.csv"))
    assert exported.stdout == f"Wrote {tmp_path / 'standings.csv'}.\n"
    before = invoke(season.root, "select", "--json").stdout
    archive = tmp_path / "season.tar.gz"
    backed = invoke(season.root, "backup", str(archive))
    assert re.fullmatch(
        rf"Backed up \d+ rows and \d+ files to {re.escape(str(archive))} \(\d+ bytes\)\. "
        r"It holds the hidden solutions: keep it secret\.\n",
        backed.stdout,
    )
    fresh = tmp_path / "elsewhere"
    restored = invoke(season.root, "restore", str(archive), "--into", str(fresh))
    assert restored.exit_code == 0, restored.output
    assert invoke(fresh, "select", "--json").stdout == before
    refused = invoke(season.root, "restore", str(archive))
    assert refused.exit_code == 1 and "pass --force to replace them." in refused.stderr
    other = tmp_path / "other"
    missing = invoke(season.root, "restore", str(tmp_path / "nope.bak"), "--into", str(other))
    assert (
        missing.stderr
        == f"Error: Backup file {tmp_path / 'nope.bak'} not found; pass the file `cohort backup` wrote.\n"
    )


def test_every_standings_command_has_help() -> None:
    for args in (
        ["standings"],
        ["select"],
        ["freezes"],
        ["contrib", "add"],
        ["contrib", "import"],
        ["contrib", "list"],
        ["notebook", "analyze"],
        ["export"],
        ["backup"],
        ["restore"],
    ):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0 and "Usage" in result.stdout


def test_standings_prints_the_top_and_the_cut_unless_all(season: Cohort, monkeypatch) -> None:
    from cohort.cli import season as season_cli

    toml = season.root / "cohort.toml"
    toml.write_text(re.sub(r"final_size = \d+", "final_size = 1", toml.read_text()))
    monkeypatch.setattr(season_cli, "BELOW_CUT", 1)
    short = invoke(season.root, "standings")
    assert short.exit_code == 0, short.output
    assert "ann" in short.stdout and "bob" in short.stdout and "dee" not in short.stdout
    assert "The top 1 make the cut; 2 more members below (--all lists everyone)." in short.stdout
    full = invoke(season.root, "standings", "--all")
    assert "dee" in full.stdout and "more members below" not in full.stdout


def test_select_warns_of_unrevealed_weeks_in_the_singular_or_plural(season: Cohort, capsys) -> None:
    from dataclasses import replace

    from cohort.cli.season import _print_selection
    from cohort.season.selection import select

    sel = select(season)
    _print_selection(replace(sel, unrevealed=["02-b"]))
    assert "Warning: week 02-b is not revealed; its public scores were used.\n" in (
        capsys.readouterr().out
    )
    _print_selection(replace(sel, unrevealed=["01-a", "02-b"]))
    assert "Warning: weeks 01-a, 02-b are not revealed; their public scores were used.\n" in (
        capsys.readouterr().out
    )
