"""The demo: a whole simulated season, reproducible, ending with exactly 8 selected members."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.demo import MARKER, demo_db_url

runner = CliRunner()
pytestmark = pytest.mark.slow


def standings_json(directory: Path) -> list[dict]:
    result = runner.invoke(
        app, ["--root", str(directory), "--db", demo_db_url(directory), "standings", "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def select_json(directory: Path) -> dict:
    result = runner.invoke(
        app, ["--root", str(directory), "--db", demo_db_url(directory), "select", "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[Path, str]:
    directory = tmp_path_factory.mktemp("demo") / "demo-cohort"
    result = runner.invoke(app, ["demo", str(directory), "--members", "24", "--seed", "7"])
    assert result.exit_code == 0, result.output
    return directory, result.stdout


def test_the_demo_says_its_members_are_simulated(demo_run) -> None:
    _, output = demo_run
    assert "SIMULATED members" in output
    assert "make app DEMO=1" in output


def test_the_demo_selects_exactly_eight_members(demo_run) -> None:
    directory, _ = demo_run
    assert len(select_json(directory)["selected"]) == 8


def test_the_demo_prints_every_week_and_the_final(demo_run) -> None:
    directory, output = demo_run
    for week in ("01-pets", "02-regularization", "03-sequences", "04-optimizers", "05-lanl-final"):
        assert week in output
        assert (directory / "data" / week / "solution.csv").is_file()


def test_a_second_demo_gives_the_same_standings(demo_run, tmp_path: Path) -> None:
    directory, _ = demo_run
    first = standings_json(directory)
    again = tmp_path / "again"
    result = runner.invoke(app, ["demo", str(again), "--members", "24", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert standings_json(again) == first


def test_the_demo_never_replaces_a_directory_it_did_not_build(tmp_path: Path) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("years of work")
    result = runner.invoke(app, ["demo", str(precious)])
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"Error: {precious} exists and is not a demo cohort; choose another directory.\n"
    )
    assert (precious / "chapter1.tex").read_text() == "years of work"
    assert not (precious / MARKER).exists()
