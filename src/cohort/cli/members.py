"""`cohort members ...`: the roster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cohort.cli import JsonOption, app, open_cohort, print_json, print_table, sub_app

members_app = sub_app("The roster: import members.csv, list members, issue tokens.")
app.add_typer(members_app, name="members")


@members_app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Roster CSV: handle,name,email,kaggle_username.")],
) -> None:
    """Import or update members from a roster CSV (re-importing is a no-op)."""
    from cohort.members import import_roster

    report = import_roster(open_cohort(ctx).store, file)
    typer.echo(f"Members: {report.added} added, {report.updated} updated, {report.unchanged} unchanged.")


@members_app.command("list")
def list_(ctx: typer.Context, json: JsonOption = False) -> None:
    """List members (handle, name, Kaggle username)."""
    from cohort.members import list_members

    members = list_members(open_cohort(ctx).store)
    if json:
        print_json([{"handle": m.handle, "name": m.name, "kaggle_username": m.kaggle_username} for m in members])
        return
    rows = [[m.handle, m.name, m.kaggle_username, "yes" if m.has_token else ""] for m in members]
    print_table(f"{len(members)} members", ["handle", "name", "kaggle", "token"], rows)


@members_app.command("tokens")
def tokens(
    ctx: typer.Context,
    handles: Annotated[list[str] | None, typer.Argument(help="Members to issue tokens to; default: all.")] = None,
    json: JsonOption = False,
) -> None:
    """Issue new personal tokens for the Submit page; each is shown once and stored only as a hash."""
    from cohort.members import issue_tokens

    issued = issue_tokens(open_cohort(ctx).store, handles or None)
    if json:
        print_json(issued)
        return
    print_table("New tokens (shown once; send each member theirs)", ["handle", "token"], [[h, t] for h, t in issued.items()])
