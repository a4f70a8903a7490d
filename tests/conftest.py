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
# xdist sets COLUMNS=80 in its workers; the CLI's tables read it (cli._console_width), so a
# test would see a table folded to 80 columns under `make test` and 200 under plain pytest.
os.environ.pop("COLUMNS", None)
# Under `make test`'s two workers, a kernel's OpenMP threads (torch's) sleep while they wait
# instead of spinning: spinning, a 2-thread kernel beside the other worker ran 3x slower
# than alone (week 1's README run 24 s alone, 86 s so). Numerics do not depend on it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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
    """(members, seed, finished) -> (a pristine demo directory, what `cohort demo` printed).

    Under xdist (`make test` runs two workers) the workers of one run share each build:
    the first to need it builds it under a file lock in the run's shared temp folder, the
    other waits for it and reads the same directory, so a run simulates each demo once."""
    from filelock import FileLock
    from typer.testing import CliRunner

    from cohort.cli import app

    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own popen-gwN
    built: dict[tuple[int, int, bool], tuple[Path, str]] = {}

    def build(members: int, seed: int, finished: bool) -> tuple[Path, str]:
        key = (members, seed, finished)
        if key not in built:
            name = f"demo-{members}-{seed}-{'finished' if finished else 'live'}"
            home = base / "session-demos" / name
            home.mkdir(parents=True, exist_ok=True)
            directory, printed, done = home / "demo-cohort", home / "output.txt", home / ".built"
            with FileLock(str(home / ".lock")):
                if not done.exists():
                    if directory.exists():  # a worker that died midway left a partial one
                        import shutil

                        shutil.rmtree(directory)
                    args = ["demo", str(directory), "--members", str(members), "--seed", str(seed)]
                    result = CliRunner().invoke(app, args + (["--finished"] if finished else []))
                    assert result.exit_code == 0, result.output
                    printed.write_text(result.stdout, encoding="utf-8")
                    done.touch()
            built[key] = (directory, printed.read_text(encoding="utf-8"))
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


# ---------------------------------------------------------------- two workers (`make test`)

# `make test` runs the suite on two xdist workers (`-n 2 --dist loadscope`), with the
# scheduler below: a unit of work is a module, so a module's fixtures (prepared seasons,
# servers) are built once, on one worker. One unit holds every module that executes the
# starter kernels or serves the fake Kaggle: two kernels at once on two cores ran each 10x
# slower than alone (torch's threads of one spinning against the other's), and the fake's
# port, 7777, is fixed by the SDK and one per host. That unit is handed out first, so one
# worker runs it while the other works through the rest. (xdist's own `loadgroup` would say
# this with marks, but under pytest 9 its node-id suffix no longer takes: every test went
# out on its own.)
KERNEL_UNIT = "kernels-and-kaggle"
KERNEL_MODULES = {
    "test_weeks_report.py",
    "test_kernels.py",
    "test_kaggle_loop.py",
    "test_cli_kaggle.py",
    "test_collect.py",
    "test_fake_kaggle.py",
    "test_final.py",
    "test_kaggle_client.py",
}


def _unit(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    return KERNEL_UNIT if module.rsplit("/", 1)[-1] in KERNEL_MODULES else module


@pytest.hookimpl(optionalhook=True)  # xdist's hook: without xdist (`-p no:xdist`) it is unused
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """Under `--dist loadscope`, xdist's scope scheduler with our units as its scopes."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    return UnitScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # On a worker: the order units are handed out in (`--no-loadscope-reorder`), the long
    # one first; the sort is stable, so within a unit the collection order stays.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=lambda item: _unit(item.nodeid) != KERNEL_UNIT)
