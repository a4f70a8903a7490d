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
    app(prog_name="cohort")
    sys.exit(0)
