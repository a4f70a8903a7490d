"""`cohort members ...`, `import-form`, `export`, `backup`, `restore`: sheets in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cohort.cli import (
    JsonOption,
    WeekOption,
    app,
    open_cohort,
    print_json,
    print_table,
    sub_app,
)

members_app = sub_app("The roster: import members.csv, list members, issue tokens.")
app.add_typer(members_app, name="members")


@members_app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Roster CSV: handle,name,email,kaggle_username.")],
) -> None:
    """Import or update members from a roster CSV (re-importing is a no-op)."""
    from cohort.sheets.roster import import_roster

    report = import_roster(open_cohort(ctx).store, file)
    typer.echo(
        f"Members: {report.added} added, {report.updated} updated, {report.unchanged} unchanged."
    )


@members_app.command("list")
def list_(ctx: typer.Context, json: JsonOption = False) -> None:
    """List members (handle, name, Kaggle username)."""
    from cohort.sheets.roster import list_members

    members = list_members(open_cohort(ctx).store)
    if json:
        print_json(
            [
                {"handle": m.handle, "name": m.name, "kaggle_username": m.kaggle_username}
                for m in members
            ]
        )
        return
    rows = [[m.handle, m.name, m.kaggle_username, "yes" if m.has_token else ""] for m in members]
    print_table(f"{len(members)} members", ["handle", "name", "kaggle", "token"], rows)


@members_app.command("tokens")
def tokens(
    ctx: typer.Context,
    handles: Annotated[
        list[str] | None, typer.Argument(help="Members to issue tokens to; default: all.")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Issue new personal tokens for the Submit page; each is shown once and stored only as a hash."""
    from cohort.sheets.roster import issue_tokens

    issued = issue_tokens(open_cohort(ctx).store, handles or None)
    if json:
        print_json(issued)
        return
    print_table(
        "New tokens (shown once; send each member theirs)",
        ["handle", "token"],
        [[h, t] for h, t in issued.items()],
    )


@app.command("import-form")
def import_form(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Google Forms responses export (CSV).")],
    week: WeekOption,
) -> None:
    """Import notebook links from a Google Forms export; re-importing adds nothing."""
    from cohort.sheets.forms import import_form as do_import

    report = do_import(open_cohort(ctx), file, week)
    typer.echo(
        f"Imported {len(report.imported)} response(s); {report.already} already imported; "
        f"{len(report.problems)} skipped."
    )
    for line, why in report.problems:
        typer.echo(f"line {line}: {why}", err=True)


@app.command("export")
def export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="standings.csv, standings.xlsx or standings.md.")],
    top: Annotated[
        int | None, typer.Option(help="Mark this many as selected; default: final_size.")
    ] = None,
) -> None:
    """Export the standings as CSV, Excel or Markdown (spreadsheet formulas neutralized)."""
    from cohort.sheets.export import export_standings

    path = export_standings(open_cohort(ctx), file, top)
    typer.echo(f"Wrote {path}.")


@app.command("backup")
def backup(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Where to write the season archive (e.g. season.tar.gz).")
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
) -> None:
    """Back up the whole season into one archive: database, submissions, data, config, weeks.

    The archive holds the hidden solutions: keep it as secret as the cohort itself."""
    from cohort.sheets.backup import backup as run_backup

    report = run_backup(open_cohort(ctx), file, force)
    typer.echo(
        f"Backed up {sum(report.rows.values())} rows and {report.files} files to {report.path} "
        f"({report.bytes} bytes). It holds the hidden solutions: keep it secret."
    )


@app.command("restore")
def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="An archive written by `cohort backup`.")],
    into: Annotated[
        Path | None,
        typer.Option(
            "--into", help="Restore as a new cohort in this new or empty directory (a new machine)."
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace a cohort that holds data, or one whose name, season or solutions differ.",
        ),
    ] = False,
) -> None:
    """Restore a season archive, after checking every file and row against its hashes."""
    from cohort.sheets.backup import restore_into, restore_over

    if into is not None:
        db = (ctx.find_root().obj or {}).get("db")
        report = restore_into(file, into, db)
        where = str(into)
    else:
        cohort = open_cohort(ctx)
        report = restore_over(cohort, file, force)
        where = str(cohort.root)
    for warning in report.warnings:
        typer.echo(f"Warning: {warning}", err=True)
    typer.echo(
        f"Restored {sum(report.rows.values())} rows and {report.files} files from {report.path} "
        f"into {where}. Next: `cohort score --rescore` to check every score."
    )
