"""Shared fixtures: real cohort directories and real SQLite files in tmp_path."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.store_lanes import any_store_url, fresh_database  # noqa: F401 - fixtures

# Tests never talk to the real Kaggle, and never read a developer's credentials.
os.environ.pop("KAGGLE_API_TOKEN", None)
os.environ.pop("KAGGLE_USERNAME", None)
os.environ.pop("KAGGLE_KEY", None)
os.environ.pop("COHORT_DATABASE_URL", None)
os.environ.pop("COHORT_ROOT", None)
os.environ.pop("COHORT_SUBMISSIONS_DIR", None)

REPO = Path(__file__).resolve().parents[1]

COHORT_TOML = """\
name = "Test Cohort"
timezone = "Europe/Amsterdam"
start = {start}
weeks = [{weeks}]
final_size = {final_size}
"""

WEEK_TOML = """\
title = "{title}"
opens = {opens}
closes = {closes}

[competition]
metric = "{metric}"
id_column = "{id_column}"
target_columns = [{targets}]
daily_limit = {daily_limit}
final_selections = {final_selections}
"""


def write_week(
    root: Path,
    week_id: str,
    *,
    title: str = "A week",
    opens: int = 0,
    closes: int = 7,
    metric: str = "accuracy",
    id_column: str = "id",
    targets: tuple[str, ...] = ("label",),
    daily_limit: int = 5,
    final_selections: int = 2,
) -> Path:
    """Write weeks/<week_id>/week.toml with the given competition settings."""
    path = root / "weeks" / week_id
    path.mkdir(parents=True, exist_ok=True)
    (path / "week.toml").write_text(
        WEEK_TOML.format(
            title=title,
            opens=opens,
            closes=closes,
            metric=metric,
            id_column=id_column,
            targets=", ".join(f'"{t}"' for t in targets),
            daily_limit=daily_limit,
            final_selections=final_selections,
        )
    )
    return path


@pytest.fixture
def make_cohort(tmp_path: Path) -> Callable[..., Path]:
    """Build a small cohort directory: cohort.toml plus one week.toml per week.

    `weeks` maps week ids to write_week() keyword arguments. Returns the cohort root.
    """

    def build(
        weeks: dict[str, dict] | None = None,
        start: str = "2027-01-11",
        final_size: int = 8,
        name: str = "cohort",
    ) -> Path:
        root = tmp_path / name
        root.mkdir()
        weeks = weeks if weeks is not None else {"01-test": {}}
        for week_id, settings in weeks.items():
            write_week(root, week_id, **settings)
        (root / "cohort.toml").write_text(
            COHORT_TOML.format(
                start=start, weeks=", ".join(f'"{w}"' for w in weeks), final_size=final_size
            )
        )
        (root / "submissions").mkdir()
        return root

    return build


def write_roster(root: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """Write members.csv with (handle, name, email, kaggle_username) rows."""
    lines = ["handle,name,email,kaggle_username"] + [",".join(r) for r in rows]
    path = root / "members.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def dedent(text: str) -> str:
    """textwrap.dedent, for inline fixture files."""
    return textwrap.dedent(text).lstrip("\n")


# ---------------------------------------------------------------- store lanes (tests/store_lanes.py)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="the store every test's cohort opens: a SQLite file (default) or a fresh "
        "Postgres database per test on COHORT_TEST_POSTGRES_URL",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: reads the SQLite file itself; skipped in the Postgres lane"
    )


@pytest.fixture(autouse=True)
def _store_lane(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """In the Postgres lane, point COHORT_DATABASE_URL at a fresh database for this test."""
    if request.config.getoption("--store") != "postgres":
        yield
        return
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip("reads the SQLite file itself; runs in the SQLite lane")
    with fresh_database() as url:
        monkeypatch.setenv("COHORT_DATABASE_URL", url)
        yield


# ---------------------------------------------------------------- one demo per test session

# The demos the suite reads: (members, seed, finished). Each is simulated once per session
# (about 40 s each on 2 cores) and every module gets its own copy, so no test sees another's
# writes. Pass the same key to share a build.
LIVE_DEMO = (24, 7, False)
FINISHED_DEMO = (24, 7, True)


@pytest.fixture(scope="session")
def demo_builds(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., tuple[Path, str]]:
    """(members, seed, finished) -> (a pristine demo directory, what `cohort demo` printed)."""
    from typer.testing import CliRunner

    from cohort.cli import app

    built: dict[tuple[int, int, bool], tuple[Path, str]] = {}

    def build(members: int, seed: int, finished: bool) -> tuple[Path, str]:
        key = (members, seed, finished)
        if key not in built:
            name = f"demo-{members}-{seed}-{'finished' if finished else 'live'}"
            directory = tmp_path_factory.mktemp(name) / "demo-cohort"
            args = ["demo", str(directory), "--members", str(members), "--seed", str(seed)]
            result = CliRunner().invoke(app, args + (["--finished"] if finished else []))
            assert result.exit_code == 0, result.output
            built[key] = (directory, result.stdout)
        return built[key]

    return build


def copy_demo(
    builds: Callable[..., tuple[Path, str]],
    tmp_path_factory: pytest.TempPathFactory,
    key: tuple[int, int, bool],
) -> tuple[Path, str]:
    """A private copy of a session demo (the database file included), and the demo's output."""
    import shutil

    source, output = builds(*key)
    target = tmp_path_factory.mktemp("demo-copy") / "demo-cohort"
    shutil.copytree(source, target)
    return target, output
