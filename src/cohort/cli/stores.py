"""`cohort check` and `cohort migrate-store`: the store's integrity and moving a season."""

from __future__ import annotations

from typing import Annotated

import typer

from cohort.cli import JsonOption, app, open_cohort, print_json, print_table
from cohort.errors import StorageError


@app.command("check")
def check(
    ctx: typer.Context,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Remove orphan stored files and temp files left by refused or killed intakes.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check that stored files, submission rows and scores agree; exit 1 if not."""
    from cohort.scoring.integrity import check as run_check

    report = run_check(open_cohort(ctx), repair=repair)
    if as_json:
        print_json(report.as_dict())
    else:
        for f in report.repaired:
            typer.echo(f"Repaired: removed {f.what} ({f.kind}).")
        for note in report.notes:
            typer.echo(f"Note: {note}")
        for f in report.findings:
            typer.echo(f"Problem: {f.message}")
    if not report.consistent:
        fixable = sum(f.repairable for f in report.findings)
        hint = "run `cohort check --repair`" if fixable else "see the problems above"
        raise StorageError(f"{len(report.findings)} problem(s) in the store; {hint}.")
    if not as_json:
        typer.echo(
            f"Consistent: {report.files_checked} stored file(s) match their rows and sha256."
        )


@app.command("migrate-store")
def migrate_store(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="SQLAlchemy URL of an empty database to copy the season into, e.g. "
            "postgresql+psycopg://user:pass@host/cohort or sqlite:///path/cohort.db.",
        ),
    ],
) -> None:
    """Copy the whole season into another store (SQLite <-> PostgreSQL), verified table by table."""
    from cohort.store import Store
    from cohort.store.transfer import copy_store

    cohort = open_cohort(ctx)
    report = copy_store(cohort.store, Store(to))
    print_table(
        "Copied and compared",
        ["table", "rows", "identical"],
        [[r.table, r.rows, "yes" if r.identical else "NO"] for r in report],
    )
    typer.echo(
        "Every table matches. Point the cohort at it with --db or COHORT_DATABASE_URL; "
        "stored files stay in submissions/."
    )
