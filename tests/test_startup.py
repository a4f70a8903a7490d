"""Start-up that fits the work: what `cohort validate` / `submit` import, and the store's
fast open when it already stands at every migration head."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from cohort.store import Store, migration_heads
from tests.conftest import write_roster

HEAVY = ("pandas", "alembic", "mako", "sklearn", "scipy", "matplotlib", "torch")

PROBE = """
import json, sys
from cohort.cli import main
sys.argv = ["cohort", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _run(root: Path, *args: str) -> dict:
    """Run the CLI in a fresh interpreter; its exit code and every module it imported."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = out.stdout.strip().splitlines()
    return json.loads(lines[-1]) | {"stderr": out.stderr, "stdout": "\n".join(lines[:-1])}


@pytest.fixture
def cohort_root(make_cohort) -> Path:
    start = (date.today() - timedelta(days=1)).isoformat()
    root = make_cohort({"01-w": {"metric": "mae", "targets": ("target",)}}, start=start)
    (root / "data/01-w").mkdir(parents=True)
    (root / "data/01-w/solution.csv").write_text(
        "id,target,Usage\n"
        + "".join(f"s{i},{i / 2},{'Public' if i % 3 else 'Private'}\n" for i in range(10))
    )
    (root / "sub.csv").write_text("id,target\n" + "".join(f"s{i},{i}\n" for i in range(10)))
    write_roster(root, [("ann", "Ann", "ann@example.org", "")])
    return root


def _heavy(modules: list[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules} & set(HEAVY))


def test_validate_imports_no_pandas_no_database(cohort_root: Path) -> None:
    result = _run(cohort_root, "validate", "--week", "1", "sub.csv")
    assert result["code"] in (0, None), result["stderr"]
    assert _heavy(result["modules"]) == []
    assert "sqlalchemy" not in result["modules"]  # validating stores nothing: no database opened
    assert "pydantic" not in result["modules"]  # its values are coerced by cli.plain_params
    assert "pyarrow.compute" not in result["modules"]  # kernels called by name (scoring.arrow)
    assert not (cohort_root / "cohort.db").exists()


def test_submit_imports_no_pandas_and_no_sqlalchemy_on_a_current_store(cohort_root: Path) -> None:
    first = _run(cohort_root, "members", "import", "members.csv")
    assert first["code"] in (0, None), first["stderr"]
    assert "alembic" in first["modules"]  # a new database is migrated
    result = _run(cohort_root, "submit", "--member", "ann", "--week", "1", "sub.csv")
    assert result["code"] in (0, None), result["stderr"]
    assert "public score 2.25" in result["stdout"]
    assert _heavy(result["modules"]) == []
    assert not {"pydantic", "pyarrow.compute"} & set(result["modules"])
    # A store at head takes the intake on its driver (cohort.rawstore): no SQLAlchemy at all.
    assert "sqlalchemy" not in result["modules"]
    assert "sqlite3" in result["modules"] or "psycopg" in result["modules"]


def test_help_imports_no_numeric_library_and_no_database(cohort_root: Path) -> None:
    result = _run(cohort_root, "--help")
    assert result["code"] in (0, None), result["stderr"]
    found = {m.split(".")[0] for m in result["modules"]}
    assert found & {"numpy", "pyarrow", "sqlalchemy", "pydantic", *HEAVY} == set()


def test_rescore_with_nothing_to_change_imports_no_pandas(cohort_root: Path) -> None:
    for args in (
        ("members", "import", "members.csv"),
        ("submit", "--member", "ann", "--week", "1", "sub.csv"),
        ("score",),
    ):
        assert _run(cohort_root, *args)["code"] in (0, None)
    result = _run(cohort_root, "score", "--rescore")
    assert result["code"] in (0, None), result["stderr"]
    assert _heavy(result["modules"]) == []  # no board is read when no score changes


def test_leaderboard_imports_nothing_it_does_not_use(cohort_root: Path) -> None:
    for args in (
        ("members", "import", "members.csv"),
        ("submit", "--member", "ann", "--week", "1", "sub.csv"),
    ):
        assert _run(cohort_root, *args)["code"] in (0, None)
    result = _run(cohort_root, "leaderboard", "1")
    assert result["code"] in (0, None), result["stderr"]
    assert "ann" in result["stdout"]
    assert _heavy(result["modules"]) == []  # the board is read from the store's lines, no frame
    found = {m.split(".")[0] for m in result["modules"]}
    assert found & {"numpy", "pyarrow", "pydantic"} == set()
    assert "sqlalchemy" not in found  # a store at head is read on its driver (cohort.rawstore)


def test_store_at_heads_opens_without_alembic_and_a_newer_one_is_refused(
    tmp_path: Path,
) -> None:
    db = tmp_path / "c.db"
    Store(f"sqlite:///{db}").dispose()
    with sqlite3.connect(db) as conn:
        assert {r[0] for r in conn.execute("SELECT version_num FROM alembic_version")} == set(
            migration_heads()
        )
    probe = (
        "import sys; from cohort.store import Store; "
        f"Store('sqlite:///{db}'); print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999' WHERE rowid = 1")
    from cohort.errors import CohortError

    with pytest.raises(CohortError, match="written by a newer version of cohort"):
        Store(f"sqlite:///{db}")


def test_heads_are_the_migrations_nothing_builds_on() -> None:
    versions = Path(__file__).resolve().parents[1] / "src/cohort/migrations/versions"
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(versions.parent))
    assert set(migration_heads()) == set(script.get_heads())


def _params() -> list[tuple[Any, Any]]:
    """(command, parameter) for every parameter of every cohort command."""
    from typer.main import get_command

    from cohort.cli import app

    found: list[tuple[Any, Any]] = []

    def walk(command: Any) -> None:
        found.extend((command, p) for p in command.params)
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(get_command(app))
    return found


SAMPLES: dict[Any, tuple[Any, ...]] = {
    str: ("abc", "", " padded ", "-w", "ünï"),
    int: ("3", "-2", "0", "-0", "12345678901234567", 5, "007", "3.0", " 4", "abc", "1_000"),
    float: ("0.5", "-1", "0", "10", "2.25", 2.0, "1e3", ".5", "inf", "nan", "abc", "1.", "1..2"),
    Path: ("file.csv", "data/x.csv.gz", "-", "", "/no/such/dir/f.csv"),
}


def _outcome(runtime: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    from typer._click.exceptions import BadParameter

    try:
        got = runtime._coerce_value(value, param=param, ctx=ctx)
    except BadParameter as exc:
        return "error", exc.format_message()
    return type(got).__name__, repr(got)  # repr: nan equals nan


def test_plain_coercion_gives_what_typers_adapter_gives() -> None:
    from typer._click import Context
    from typer._coercion import build_runtime_param

    from cohort.cli.plain_params import PlainParam, is_plain

    checked = 0
    for command, param in _params():
        if not is_plain(param) or param.type_descriptor.annotation is bool:
            continue  # bool flags are never coerced (typer skips values that are bools)
        desc = param.type_descriptor
        plain = PlainParam(desc.parameter_info, desc.annotation, desc)
        typed = build_runtime_param(desc)
        ctx = Context(command)
        for value in SAMPLES[desc.annotation]:
            assert _outcome(plain, value, param, ctx) == _outcome(typed, value, param, ctx), (
                command.name,
                param.name,
                value,
            )
            checked += 1
    assert checked > 500  # every str, int, float and Path parameter of the CLI


def test_one_command_app_answers_as_the_whole_app(cohort_root: Path) -> None:
    from typer.testing import CliRunner

    from cohort.cli import app, app_for

    assert app_for(["nosuch"]) is app and app_for(["--version"]) is app
    listing = app_for(["--help"])  # every command, none of their parameters
    assert len(listing.registered_commands) == len(app.registered_commands) > 20
    assert all(
        c.callback is not None and not c.callback.__code__.co_varnames
        for c in listing.registered_commands
    )
    only = app_for(["--root", ".", "--db=sqlite://", "validate", "-w", "1", "f.csv"])
    assert [c.name for c in only.registered_commands] == ["validate"]
    assert not only.registered_groups
    assert [g.name for g in app_for(["members", "import"]).registered_groups] == ["members"]
    runner = CliRunner()
    for args in (
        [],
        ["--help"],
        ["validate", "--help"],
        ["submit", "--help"],
        ["leaderboard", "1", "--bogus"],
        ["members", "imprt"],
        ["--root", str(cohort_root), "validate", "-w", "1", "sub.csv"],
        ["--root", str(cohort_root), "validate", "-w", "9", "sub.csv"],
        ["--root", str(cohort_root), "validate", "-w", "1", "no-such.csv"],
    ):
        whole = runner.invoke(app, args, env={"COLUMNS": "100"})
        one = runner.invoke(app_for(args), args, env={"COLUMNS": "100"})
        assert (one.exit_code, one.output) == (whole.exit_code, whole.output), args


def test_arrow_kernels_by_name_match_pyarrow_compute() -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from cohort.scoring import arrow

    texts = pa.chunked_array([[" a", "b ", "b", None, ""], ["c", "\tb\n"]])
    for name in ("binary_length", "utf8_trim_whitespace", "count_distinct", "dictionary_encode"):
        assert getattr(arrow, name)(texts).equals(getattr(pc, name)(texts)), name
    lookup = arrow.SetLookupOptions(value_set=pa.array(["b", "c"]))
    assert arrow.index_in(texts, options=lookup).equals(pc.index_in(texts, options=lookup))
    numbers = pa.array(["1.5", "-2", "1e3", None])
    assert arrow.cast(numbers, pa.float64()).equals(pc.cast(numbers, pa.float64()))
    for bad in (pa.array(["x"]), pa.array([1.5])):
        target = pa.float64() if bad.type == pa.string() else pa.int64()
        with pytest.raises(pa.ArrowInvalid):
            pc.cast(bad, target)
        with pytest.raises(pa.ArrowInvalid):
            arrow.cast(bad, target)  # lossy casts refused as pyarrow.compute.cast refuses them


HELP_WITH_REAL_RICH = """
import sys
from cohort.cli import app_for
sys.argv = ["cohort", *sys.argv[1:]]
try:
    app_for(sys.argv[1:])(prog_name="cohort")
except SystemExit:
    pass
"""


def test_help_defers_the_rich_modules_it_never_uses_and_reads_the_same(cohort_root: Path) -> None:
    for args, code in (([], 2), (["--help"], 0)):  # no command: the listing, as a usage error
        result = _run(cohort_root, *args)
        assert (result["code"] or 0) == code, result["stderr"]
        assert not {"markdown_it", "rich.pretty"} & set(result["modules"])
        real = subprocess.run(
            [sys.executable, "-c", HELP_WITH_REAL_RICH, *args],
            cwd=cohort_root,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (result["stdout"] + result["stderr"]).strip() == (real.stdout + real.stderr).strip()
        assert "Usage: cohort" in real.stdout + real.stderr


def test_a_deferred_rich_module_loads_for_real_on_first_use() -> None:
    probe = (
        "import sys; from cohort.cli import _defer_unused_rich; _defer_unused_rich(); "
        "from rich.markdown import Markdown; from rich.traceback import Traceback; "
        "import rich.markdown, rich.traceback; "
        "md = Markdown('# hi'); "
        "exc = ValueError('x'); tb = Traceback.from_exception(ValueError, exc, None); "
        "print(type(md).__module__, type(tb).__module__, "
        "isinstance(md, sys.modules['rich.markdown'].Markdown))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["rich.markdown", "rich.traceback", "True"], out.stderr
