"""`cohort members ...`, `import-form`, `export`, `backup`, `restore`: sheets in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cohort.cli import (
    ActorOption,
    JsonOption,
    WeekOption,
    app,
    open_cohort,
    print_json,
    print_table,
    sub_app,
)

members_app = sub_app(
    "The roster: import members.csv, list, edit, deactivate and reactivate members, issue tokens."
)
app.add_typer(members_app, name="members")


@members_app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Roster CSV: handle,name,email,kaggle_username.")],
    actor: ActorOption = "organizer",
) -> None:
    """Import or update members from a roster CSV (audited; re-importing changes no member)."""
    from cohort.sheets.roster import import_roster

    report = import_roster(open_cohort(ctx).store, file, actor)
    typer.echo(
        f"Members: {report.added} added, {report.updated} updated, {report.unchanged} unchanged."
    )
    if report.missing:
        shown = ", ".join(report.missing[:10]) + (" ..." if len(report.missing) > 10 else "")
        typer.echo(
            f"{len(report.missing)} active member(s) are not in {file}: {shown}. They were kept; "
            "`cohort members deactivate HANDLE` takes one off the boards.",
            err=True,
        )


@members_app.command("list")
def list_(
    ctx: typer.Context,
    inactive: Annotated[bool, typer.Option("--all", help="Include deactivated members.")] = False,
    json: JsonOption = False,
) -> None:
    """List members with their emails (organizer only); flags a blank Kaggle username."""
    from cohort.sheets.roster import list_members

    members = list_members(open_cohort(ctx).store, include_inactive=inactive)
    if json:
        print_json(
            [
                {
                    "handle": m.handle,
                    "name": m.name,
                    "email": m.email,
                    "kaggle_username": m.kaggle_username,
                    "has_token": m.has_token,
                    "active": m.active,
                }
                for m in members
            ]
        )
        return
    rows = [
        [
            m.handle,
            m.name,
            m.email,
            m.kaggle_username or "(blank: `cohort kaggle collect` cannot find them)",
            "yes" if m.has_token else "",
            "" if m.active else "deactivated",
        ]
        for m in members
    ]
    blank = sum(1 for m in members if not m.kaggle_username)
    print_table(
        f"{len(members)} members",
        ["handle", "name", "email", "kaggle", "token", "status"],
        rows,
        caption=f"{blank} without a Kaggle username." if blank else "",
    )


MemberArgument = Annotated[str, typer.Argument(help="The member's handle.")]


@members_app.command("edit")
def edit(
    ctx: typer.Context,
    handle: MemberArgument,
    name: Annotated[str | None, typer.Option(help="New display name.")] = None,
    email: Annotated[str | None, typer.Option(help="New email address.")] = None,
    kaggle: Annotated[str | None, typer.Option(help="New Kaggle username.")] = None,
    actor: ActorOption = "organizer",
) -> None:
    """Change a member's name, email or Kaggle username, here and in members.csv (audited)."""
    from cohort.sheets.roster import edit_member

    cohort = open_cohort(ctx)
    changed = edit_member(
        cohort.store,
        handle,
        actor,
        cohort.root / "members.csv",
        name=name,
        email=email,
        kaggle_username=kaggle,
    )
    if not changed:
        typer.echo(f"Member {handle}: nothing changed.")
        return
    typer.echo(f"Member {handle}: changed {', '.join(sorted(changed))}.")


@members_app.command("deactivate")
def deactivate(
    ctx: typer.Context, handle: MemberArgument, actor: ActorOption = "organizer"
) -> None:
    """Take a member off the boards, standings and exports; their history is kept (reversible)."""
    from cohort.sheets.roster import set_active

    changed = set_active(open_cohort(ctx).store, handle, False, actor)
    typer.echo(
        f"Deactivated {handle}: gone from boards, standings and exports; history kept. "
        f"`cohort members reactivate {handle}` undoes it."
        if changed
        else f"Member {handle} was already deactivated."
    )


@members_app.command("reactivate")
def reactivate(
    ctx: typer.Context, handle: MemberArgument, actor: ActorOption = "organizer"
) -> None:
    """Bring a deactivated member back onto the boards, with all their history."""
    from cohort.sheets.roster import set_active

    changed = set_active(open_cohort(ctx).store, handle, True, actor)
    typer.echo(f"Reactivated {handle}." if changed else f"Member {handle} is already active.")


@members_app.command("tokens")
def tokens(
    ctx: typer.Context,
    handles: Annotated[
        list[str] | None, typer.Argument(help="Members to issue tokens to; default: all active.")
    ] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            help="Write handle,name,email,token to this new file (for a mail merge) instead of the screen.",
        ),
    ] = None,
    json: JsonOption = False,
    actor: ActorOption = "organizer",
) -> None:
    """Issue new personal tokens for the Submit page; each is shown once and stored only as a hash."""
    from cohort.sheets.roster import issue_tokens, write_tokens_csv

    cohort = open_cohort(ctx)
    if csv_file is not None:
        written = write_tokens_csv(cohort.store, csv_file, handles or None, actor)
        typer.echo(
            f"Wrote {written} new tokens to {csv_file} (readable only by you); "
            "mail-merge it, then delete it."
        )
        return
    issued = issue_tokens(cohort.store, handles or None, actor)
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
    actor: ActorOption = "organizer",
) -> None:
    """Back up the whole season into one archive: database, submissions, data, config, weeks.

    The archive holds the hidden solutions: keep it as secret as the cohort itself."""
    from cohort.sheets.backup import backup as run_backup

    report = run_backup(open_cohort(ctx), file, force, actor)
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
    actor: ActorOption = "organizer",
) -> None:
    """Restore a season archive, after checking every file and row against its hashes."""
    from cohort.sheets.backup import restore_into, restore_over

    if into is not None:
        db = (ctx.find_root().obj or {}).get("db")
        report = restore_into(file, into, db, actor)
        where = str(into)
    else:
        cohort = open_cohort(ctx)
        report = restore_over(cohort, file, force, actor)
        where = str(cohort.root)
    for warning in report.warnings:
        typer.echo(f"Warning: {warning}", err=True)
    typer.echo(
        f"Restored {sum(report.rows.values())} rows and {report.files} files from {report.path} "
        f"into {where}. Next: `cohort score --rescore` to check every score."
    )
