"""The `cohort` command line.

Each area registers its commands on `app` from its own module; this module only
holds the app, the global options, and the one place where a CohortError
becomes `Error: ...` on stderr with exit status 1. Heavy libraries are imported
inside commands so `cohort --help` stays instant.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from cohort.errors import CohortError


class _Group(TyperGroup):
    """Turns every CohortError below it into one line on stderr and exit status 1."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        from cohort.cli.plain_params import install

        install(self.get_params(ctx))  # the group's own options, then the command it resolves
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        from cohort.cli.plain_params import install

        name, command, rest = super().resolve_command(ctx, args)
        if command is not None and not isinstance(command, TyperGroup):
            # Its context will inherit this one's help option names (no command sets its own).
            install(command.get_params(ctx) if not command.context_settings else command.params)
        return name, command, rest

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CohortError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("Error: interrupted; nothing half-written was kept.", err=True)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, TyperException):  # usage errors, --help, exits
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
            if os.environ.get("COHORT_DEBUG"):
                raise
            typer.echo(
                f"Error: unexpected {type(exc).__name__}: {exc}. "
                "Run again with COHORT_DEBUG=1 for details and report it.",
                err=True,
            )
            raise typer.Exit(1) from None


def sub_app(help_text: str) -> typer.Typer:
    """A command group sharing the root's error handling and settings."""
    return typer.Typer(
        help=help_text, cls=_Group, no_args_is_help=True, pretty_exceptions_enable=False
    )


app = typer.Typer(
    name="cohort",
    help="Run a deep-learning study cohort: weekly competitions, scoring, contributions, top-8 selection.",
    cls=_Group,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    root: Annotated[
        Path | None,
        typer.Option(
            help="Cohort directory (holds cohort.toml); default: here or a parent.",
            envvar="COHORT_ROOT",
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy database URL; default: sqlite file cohort.db in the cohort.",
            envvar="COHORT_DATABASE_URL",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print cohort's version and exit.",
            is_eager=True,
            callback=lambda value: _print_version() if value else None,
        ),
    ] = False,
) -> None:
    ctx.obj = {"root": root, "db": db}


def _print_version() -> None:
    from cohort import __version__
    from cohort.scoring.solution import SCORER_VERSION

    typer.echo(f"cohort {__version__} (scorer version {SCORER_VERSION})")
    raise typer.Exit()


def open_cohort(ctx: typer.Context) -> Any:
    """Open the cohort the global options point at (config first, then the store)."""
    from cohort.workspace import Cohort

    obj = ctx.find_root().obj or {}
    cohort = Cohort.open(obj.get("root"), obj.get("db"))
    ctx.call_on_close(cohort.store.dispose)  # pooled connections closed when the command ends
    return cohort


def open_config(ctx: typer.Context) -> Any:
    """The cohort's configuration alone, for commands that need no database (validate)."""
    from cohort import config

    obj = ctx.find_root().obj or {}
    return config.load(config.find_root(obj.get("root")))


def store_url(ctx: typer.Context, config: Any) -> str:
    """The database URL the global options point at (as `open_cohort` reads it)."""
    from cohort.rawstore import default_url

    obj = ctx.find_root().obj or {}
    return str(obj.get("db") or default_url(config.root))


def print_json(data: Any) -> None:
    """Write machine-readable output for --json."""
    import json

    # Non-finite numbers become null: NaN and Infinity are not JSON.
    typer.echo(
        json.dumps(_finite(data), indent=2, default=str, ensure_ascii=False, allow_nan=False)
    )


def _finite(data: Any) -> Any:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    if hasattr(data, "item") and callable(data.item) and getattr(data, "ndim", None) == 0:
        return _finite(data.item())  # numpy scalars
    return data


def print_table(title: str, columns: list[str], rows: list[list[Any]], caption: str = "") -> None:
    """A rich table on stdout."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Text, not str: members' names and links are data, never Rich markup ("[/]" breaks markup).
    table = Table(title=Text(title), caption=Text(caption) if caption else None)
    for col in columns:
        table.add_column(Text(col), overflow="fold")  # long cells wrap within the width
    for row in rows:
        table.add_row(*[Text("" if v is None else str(v)) for v in row])
    Console(width=_console_width()).print(table)


def _console_width() -> int:
    """The terminal's width (tables fold to fit it); COLUMNS wins; piped output gets 200."""
    # Piped output (CI logs, `make demo | tee`) gets room for wide tables instead of wrapped cells.
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) >= 40:
        return int(columns)
    if sys.stdout.isatty():
        return max(40, os.get_terminal_size().columns)
    return 200


WeekOption = Annotated[
    str, typer.Option("--week", "-w", help="Week id, number or slug (e.g. 01-pets, 1, pets).")
]
ActorOption = Annotated[
    str,
    typer.Option(
        "--actor", help="Who records this (kept in the audit log).", envvar="COHORT_ACTOR"
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")
]

# Registering the command modules, one per area of the domain; each adds its commands to `app`.
from cohort.cli import (  # noqa: E402,F401
    cohorts,
    kaggle,
    operate,
    scoring,
    season,
    sheets,
    stores,
    weeks,
)


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:] in ([], ["--help"]):
        _defer_unused_rich()
    app_for(sys.argv[1:])(prog_name="cohort")
    sys.exit(0)


# Rich modules typer's help renderer imports at its top and `cohort --help` never uses: Markdown
# renders help in "markdown" markup mode (cohort's is "rich"), Traceback pretty exceptions
# (off). Importing them (markdown-it, rich.pretty) was ~0.05 s of the listing's ~0.3 s.
_UNUSED_BY_HELP = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


def _defer_unused_rich() -> None:
    """Stand in for those modules until something really uses them (then the real one loads)."""
    import importlib
    import types

    for module, name in _UNUSED_BY_HELP.items():
        if module in sys.modules:
            continue
        stub = types.ModuleType(module, "Loaded on first use (cohort.cli._defer_unused_rich).")

        def real(module: str = module, name: str = name, stub: Any = stub) -> Any:
            if sys.modules.get(module) is stub:
                del sys.modules[module]
            return getattr(importlib.import_module(module), name)

        # A class, not a function: typer's annotations read `Markdown | Text`.
        stand_in = type(
            name,
            (),
            {
                "__new__": lambda cls, *a, _real=real, **k: _real()(*a, **k),
                "from_exception": classmethod(
                    lambda cls, *a, _real=real, **k: _real().from_exception(*a, **k)
                ),
            },
        )
        setattr(stub, name, stand_in)
        sys.modules[module] = stub


_ROOT_VALUES = ("--root", "--db")  # the root's options that take a value


def app_for(argv: list[str]) -> typer.Typer:
    """`app` holding only the command (or group) that argv names, when it names one.

    Typer builds every registered command (its parameters, their types and help) before
    parsing; one command is all a run uses, and building the other 47 costs 0.06 s of CPU.
    Without a known command name (`cohort --help`, a typo) it is the whole app, so the
    listing and "Did you mean" read as before."""
    import copy

    from typer.main import get_command_name

    if argv in ([], ["--help"]):
        return _listing()
    args = iter(argv)
    for arg in args:
        if arg in _ROOT_VALUES:
            next(args, None)
        elif not arg.startswith("-"):
            break
        elif arg == "--" or arg.split("=")[0] not in _ROOT_VALUES:
            return app  # --version or an option the root does not have
    else:
        return app
    commands = [
        c
        for c in app.registered_commands
        if c.callback is not None and (c.name or get_command_name(c.callback.__name__)) == arg
    ]
    groups = [g for g in app.registered_groups if g.name == arg]
    if len(commands) + len(groups) != 1:
        return app
    only = copy.copy(app)
    only.registered_commands, only.registered_groups = commands, groups
    return only


def _listing() -> typer.Typer:
    """`app` for `cohort --help`: every command and group with its help text and none of its
    parameters (the listing shows names and help only; building parameters costs 0.05 s)."""
    import copy
    import inspect

    def bare(command: Any) -> Any:
        if command.callback is None:
            return command
        light = copy.copy(command)
        light.callback = lambda: None
        light.callback.__name__ = command.callback.__name__
        light.help = command.help if command.help is not None else inspect.getdoc(command.callback)
        return light

    def empty(group: Any) -> Any:
        light = copy.copy(group)
        light.typer_instance = copy.copy(group.typer_instance)
        light.typer_instance.registered_commands = []
        light.typer_instance.registered_groups = []
        return light

    listing = copy.copy(app)
    listing.registered_commands = [bare(c) for c in app.registered_commands]
    listing.registered_groups = [empty(g) for g in app.registered_groups]
    return listing
