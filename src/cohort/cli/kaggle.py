"""`cohort kaggle ...`: data downloads, starter kernels, members' kernels, the final leaderboard.

The `kaggle` client is imported only inside these commands (through
cohort.kaggle.client), so every other command runs without Kaggle credentials.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cohort.cli import (
    ActorOption,
    JsonOption,
    app,
    open_cohort,
    print_json,
    print_table,
    sub_app,
)

if TYPE_CHECKING:
    from cohort.kaggle.final import LateImport

kaggle_app = sub_app(
    "Kaggle as the engine: download week data, push starter kernels, collect members' kernels, "
    "import the final leaderboard."
)
app.add_typer(kaggle_app, name="kaggle")

WeekArg = Annotated[str, typer.Argument(help="Week id, number or slug, e.g. 01-pets, 1 or pets.")]


@kaggle_app.command("download")
def download(
    ctx: typer.Context,
    week: WeekArg,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even if the week already has scores.")
    ] = False,
) -> None:
    """Download the week's Kaggle dataset or competition files into data/raw/<week>/, unzip, and prepare."""
    from cohort.kaggle.week import download as download_week

    report = download_week(open_cohort(ctx), week, force=force)
    count = len(report.files)
    typer.echo(
        f"Downloaded {report.source}: {count} file{'' if count == 1 else 's'} into {report.raw_dir}."
    )
    prep = report.prepare
    typer.echo(
        f"Prepared {report.week}: {prep.train_rows} train rows, {prep.test_rows} test rows "
        f"({prep.public_rows} public) in {prep.directory}."
    )
    for warning in prep.warnings:
        typer.echo(f"Warning: {warning}", err=True)


@app.command("bundle")
def bundle(
    ctx: typer.Context,
    week: WeekArg,
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="Folder to write; default data/bundle/<week>/. An earlier bundle there is replaced."
        ),
    ] = None,
    actor: ActorOption = "organizer",
) -> None:
    """Write what members get of a week's data (no solution.csv) plus its cohort-week.json marker."""
    from cohort.kaggle.bundle import bundle as make_bundle

    made = make_bundle(open_cohort(ctx), week, directory, actor)
    typer.echo(
        f"Bundled {made.week}: {len(made.files)} files ({made.total_bytes:,} bytes) in {made.directory}; "
        f"solution {made.solution_sha256[:12]} stays in data/."
    )


@kaggle_app.command("publish-data")
def publish_data(
    ctx: typer.Context,
    week: WeekArg,
    notes: Annotated[
        str, typer.Option(help="Version notes; default: the week and solution hash.")
    ] = "",
) -> None:
    """Publish the week's bundle as a Kaggle dataset under kaggle_owner (private unless week.toml says public)."""
    from cohort.kaggle.week import publish_data as publish

    report = publish(open_cohort(ctx), week, notes=notes)
    action = "Created" if report.created else "New version of"
    visibility = "public" if report.public else "private: share it with the members on Kaggle"
    typer.echo(
        f"{action} dataset {report.ref} ({visibility}): {report.files} files, "
        f"{report.total_bytes:,} bytes. {report.url}"
    )


@kaggle_app.command("push")
def push(ctx: typer.Context, week: WeekArg) -> None:
    """Build the week's starter kernel and push it to Kaggle (GPU and internet as in week.toml)."""
    from cohort.kaggle.week import push as push_week

    result = push_week(open_cohort(ctx), week)
    version = f" version {result.version}" if result.version else ""
    typer.echo(
        f"Pushed kernel{version}: {result.url}; Kaggle runs it now (see `cohort kaggle status {week}`)."
    )


@kaggle_app.command("status")
def status(ctx: typer.Context, week: WeekArg, json: JsonOption = False) -> None:
    """Show the status of the week's starter kernel on Kaggle."""
    from cohort.kaggle.week import status as week_status

    state = week_status(open_cohort(ctx), week)
    if json:
        print_json(asdict(state))
        return
    tail = f": {state.failure_message}" if state.failure_message else ""
    typer.echo(f"Kernel {state.ref} is {state.status}{tail}.")


@kaggle_app.command("collect")
def collect(
    ctx: typer.Context,
    week: Annotated[
        str | None,
        typer.Option("--week", "-w", help="Only this week's links; default: every week."),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Collect members' Kaggle kernels: submit finished outputs, store notebooks, report the rest."""
    from cohort.kaggle.collect import collect as collect_kernels

    report = collect_kernels(open_cohort(ctx), week)
    if json:
        print_json({"summary": report.summary(), "items": [asdict(i) for i in report.items]})
        return
    rows = [
        [i.handle, i.week, i.kernel_ref or i.url, i.outcome, i.status, i.reason]
        for i in report.items
    ]
    print_table(
        "Members' notebook links",
        ["member", "week", "kernel / link", "outcome", "status", "reason"],
        rows,
    )
    typer.echo(report.summary())
    if report.count("not_fetched"):
        typer.echo(
            f"Links that are not Kaggle kernels ({report.count('not_fetched')}) are recorded, not fetched."
        )


@kaggle_app.command("final")
def final(
    ctx: typer.Context,
    competition: Annotated[
        str | None,
        typer.Option(
            help="Kaggle competition to import; default: the final week's kaggle_competition, else LANL."
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Import the final Kaggle competition's leaderboard and our members' team submissions."""
    from cohort.kaggle.final import import_final

    report = import_final(open_cohort(ctx), competition=competition)
    if json:
        print_json(asdict(report))
        return
    typer.echo(
        f"Imported {report.teams} teams of {report.competition}; "
        f"{len(report.matched)} matched to members, {report.submissions} team submissions."
    )
    for handle, team in sorted(report.matched.items()):
        typer.echo(f"  {handle}: team '{team}'")
    if report.unmatched_members:
        who = "selected members" if report.from_selection else "members"
        typer.echo(
            f"No team found for {who}: {', '.join(report.unmatched_members)} "
            "(set their kaggle_username in members.csv, or name the team after it)."
        )


@kaggle_app.command("late-submissions")
def late_submissions(
    ctx: typer.Context,
    member: Annotated[
        str,
        typer.Option(
            "--member", "-m", help="The finalist whose Kaggle token is in the environment."
        ),
    ],
) -> None:
    """Import a finalist's own late submissions to the final competition (run with their Kaggle token)."""
    from cohort.kaggle.final import import_own_submissions

    done = import_own_submissions(open_cohort(ctx), member)
    _echo_late(done)


def _echo_late(done: LateImport) -> None:
    best = (
        "no private score yet"
        if done.best_private is None
        else f"best private {done.best_private:.4f}"
    )
    typer.echo(
        f"Imported {done.submissions} late submissions of {done.handle} to {done.competition} "
        f"({done.scored} with a private score; {best})."
    )


@app.command("final")
def final_board(
    ctx: typer.Context,
    csv: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            help="First import this finalist's `kaggle competitions submissions -c <competition> --csv` export.",
        ),
    ] = None,
    member: Annotated[
        str | None,
        typer.Option("--member", "-m", help="The finalist the --csv export belongs to."),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Show the final board: the finalists ranked on the cohort's LANL board, with their Kaggle scores."""
    from cohort.errors import ValidationError
    from cohort.kaggle.final import final_board as board_of
    from cohort.kaggle.final import import_late_csv

    cohort = open_cohort(ctx)
    if (csv is None) != (member is None):
        raise ValidationError("Give --csv and --member together: the export and whose it is.")
    if csv is not None and member is not None:
        _echo_late(import_late_csv(cohort, member, csv))
    board = board_of(cohort)
    if json:
        print_json(asdict(board))
        return
    which = "private" if board.private else "public (private after reveal)"
    rows = [
        [
            r.rank,
            r.name,
            r.handle,
            "no entry" if r.cohort_score is None else f"{r.cohort_score:.4f}",
            "" if r.kaggle_private is None else f"{r.kaggle_private:.4f}",
            r.kaggle_rank or "",
            r.kaggle_submissions,
        ]
        for r in board.rows
    ]
    print_table(
        f"Final {board.week}: {len(board.rows)} finalists ({board.finalists_from}), "
        f"cohort board {which}, {board.metric}",
        ["rank", "member", "handle", "cohort score", "Kaggle private", "Kaggle rank", "late subs"],
        rows,
    )
