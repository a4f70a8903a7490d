"""`cohort submit / validate / score / leaderboard / reveal / select-final / history / override-score`: the scorer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cohort.cli import (
    ActorOption,
    JsonOption,
    WeekOption,
    app,
    open_cohort,
    open_config,
    print_json,
    print_table,
    store_url,
)

MemberOption = Annotated[str, typer.Option("--member", "-m", help="The member's handle.")]


def _fmt(score: float | None) -> str:
    return "" if score is None or score != score else f"{score:.6g}"


@app.command("submit")
def submit(
    ctx: typer.Context,
    member: MemberOption,
    week: WeekOption,
    file: Annotated[
        Path | None, typer.Argument(help="Predictions CSV (.csv, .csv.gz or .zip with one CSV).")
    ] = None,
    notebook: Annotated[
        str | None,
        typer.Option("--notebook", help="Link to the notebook that made the predictions."),
    ] = None,
) -> None:
    """Submit a predictions file and/or a notebook link for a member; prints the public score."""
    from cohort.scoring.intake import submit_at

    config = open_config(ctx)  # first, as open_cohort loads it: a bad cohort.toml is named first
    result = submit_at(
        config, store_url(ctx, config), member, week, file, notebook, lambda: open_cohort(ctx)
    )
    for warning in result.warnings:
        typer.echo(f"Warning: {warning}", err=True)
    what = (
        "notebook link recorded"
        if result.status == "notebook"
        else (
            f"public score {_fmt(result.public_score)}"
            if result.public_score is not None
            else "stored, not scored yet"
        )
    )
    left = (
        f"late submission: {result.remaining_today} late submission(s) left today; "
        "late files never count on a board."
        if result.late
        else f"{result.remaining_today} submission(s) left today."
    )
    typer.echo(
        f"Submission {result.submission_id} for week {result.week} by {result.handle}: {what}. "
        + left
    )


@app.command("validate")
def validate(
    ctx: typer.Context,
    week: WeekOption,
    file: Annotated[Path, typer.Argument(help="Predictions file to check; nothing is stored.")],
) -> None:
    """Check a predictions file against the week's format without submitting it."""
    from cohort.scoring.validation import check_file

    parsed = check_file(open_config(ctx), week, file)  # no database: nothing is stored
    typer.echo(f"{file.name} is valid: {parsed.rows} rows, columns {','.join(parsed.columns)}.")


@app.command("score")
def score(
    ctx: typer.Context,
    rescore: Annotated[
        bool,
        typer.Option("--rescore", help="Score every file again (after a solution or metric fix)."),
    ] = False,
    json: JsonOption = False,
) -> None:
    """Score unscored submissions (all with --rescore) and report rank changes."""
    from cohort.scoring.runs import score_at

    config = open_config(ctx)
    report = score_at(
        config, store_url(ctx, config), lambda: open_cohort(ctx), rescore, progress=not json
    )
    changes = [
        {
            "week": c.week,
            "board": c.board,
            "handle": c.handle,
            "old_rank": c.old_rank,
            "new_rank": c.new_rank,
        }
        for c in report.rank_changes
    ]
    if json:
        print_json(
            {
                "scored": report.scored,
                "errors": report.errors,
                "weeks": report.weeks,
                "skipped": report.skipped,
                "resumed": report.resumed,
                "rank_changes": changes,
            }
        )
        return
    resumed = " (resumed an interrupted rescore)" if report.resumed else ""
    typer.echo(f"Scored {report.scored} submission(s), {report.errors} error(s){resumed}.")
    for week_id, why in report.skipped.items():
        typer.echo(f"Skipped {week_id}: {why}.")
    if changes:
        print_table(
            "Rank changes",
            ["week", "board", "member", "was", "now"],
            [
                [c["week"], c["board"], c["handle"], c["old_rank"] or "-", c["new_rank"] or "-"]
                for c in changes
            ],
        )


def _board_json(board: Any) -> dict[str, Any]:
    rows = []
    for r in board.rows:
        row = {
            "rank": r.rank,
            "handle": r.handle,
            "name": r.name,
            "score": r.score,
            "entries": r.entries,
            "last_submitted_at": r.last_submitted_at.isoformat(),
            "submission_id": r.submission_id,
        }
        if board.private:
            row.update(public_rank=r.public_rank, rank_change=r.rank_change)
        rows.append(row)
    return {
        "week": board.week,
        "board": "private" if board.private else "public",
        "revealed": board.revealed,
        "metric": board.metric,
        "direction": board.direction,
        "rows": rows,
    }


@app.command("leaderboard")
def leaderboard(
    ctx: typer.Context,
    week: Annotated[str, typer.Argument(help="Week id, number or slug.")],
    private: Annotated[
        bool,
        typer.Option(
            "--private", help="The private leaderboard (after reveal), with the shake-up."
        ),
    ] = False,
    json: JsonOption = False,
) -> None:
    """Show a week's leaderboard: one row per member, ties to the earlier submission."""
    from cohort import present
    from cohort.scoring.board_rows import leaderboard_at

    config = open_config(ctx)

    def through_store() -> Any:  # a store to migrate, a hidden board, a large week
        from cohort.scoring.boards import leaderboard

        return leaderboard(open_cohort(ctx), week, private=private)

    board = leaderboard_at(config, store_url(ctx, config), week, private, through_store)
    if json:
        print_json(_board_json(board))
        return
    tz = config.tz
    cols = ["#", "member", "name", f"score ({board.metric})", "entries", "last"] + (
        ["public #", "shake-up"] if private else []
    )
    rows = [
        [
            r.rank,
            r.handle,
            r.name,
            _fmt(r.score),
            r.entries,
            present.when_full(r.last_submitted_at, tz),
        ]
        + ([r.public_rank, f"{r.rank_change:+d}" if r.rank_change else "0"] if private else [])
        for r in board.rows
    ]
    kind = "private" if private else "public"
    print_table(
        f"{board.week} {kind} leaderboard",
        cols,
        rows,
        caption="" if board.rows else "No scored submissions yet.",
    )


@app.command("reveal")
def reveal(
    ctx: typer.Context,
    week: Annotated[str, typer.Argument(help="Week id, number or slug.")],
    actor: ActorOption = "organizer",
    close_now: Annotated[
        bool,
        typer.Option(
            "--close-now",
            help="Needed to reveal a week that is still open: it closes now, and later "
            "submissions are late (scored, counted on no board).",
        ),
    ] = False,
) -> None:
    """Reveal a week's private leaderboard now (it is revealed automatically at close)."""
    from cohort.scoring.boards import reveal as do_reveal

    cohort = open_cohort(ctx)
    week_id = cohort.config.week(week).id
    at = do_reveal(cohort, week, actor, close_now=close_now)
    closed = at < cohort.config.week(week).closes_at
    when = at.astimezone(cohort.config.tz).strftime("%Y-%m-%d %H:%M %Z")
    typer.echo(
        f"Week {week_id} revealed: private scores are now visible"
        + (f"; it closed at {when}, later submissions are late." if closed else ".")
    )


@app.command("select-final")
def select_final(
    ctx: typer.Context,
    member: MemberOption,
    week: WeekOption,
    ids: Annotated[
        list[int],
        typer.Argument(help="Submission ids that should count on the private leaderboard."),
    ],
) -> None:
    """Choose a member's final submissions (up to the week's limit; default: best public ones)."""
    from cohort.scoring.boards import select_final as do_select

    do_select(open_cohort(ctx), member, week, ids)
    typer.echo(f"Final selection for {member}: {', '.join(str(i) for i in sorted(set(ids)))}.")


@app.command("history")
def history(
    ctx: typer.Context,
    member: MemberOption,
    json: JsonOption = False,
) -> None:
    """A member's submissions (`history -m ann`); private scores only for revealed weeks;
    late ones (after the member's deadline: on no board) are marked in the late column."""
    from cohort import present
    from cohort.scoring.boards import member_history

    cohort = open_cohort(ctx)
    frame = member_history(cohort, member, include_private=False)
    if json:
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        for record in records:  # ISO 8601, as the leaderboard's JSON
            record["submitted_at"] = record["submitted_at"].isoformat()
        print_json(records)
        return
    tz = cohort.config.tz
    rows = [
        [
            r.submission_id,
            r.week,
            present.when_full(r.submitted_at, tz),
            _fmt(r.public_score),
            _fmt(r.private_score),
            r.status,
            "late" if r.late else "",
            "yes" if r.selected else "",
        ]
        for r in _records(frame)
    ]
    print_table(
        f"Submissions of {member}",
        ["id", "week", "submitted", "public", "private", "status", "late", "final"],
        rows,
        caption="late: sent after the deadline; scored, but on no board."
        if any(row[6] for row in rows)
        else "",
    )


def _records(frame: Any) -> list[Any]:
    """Rows as attribute tuples (typed loosely: pandas-stubs cannot type itertuples fields)."""
    return list(frame.itertuples())


@app.command("override-score")
def override_score(
    ctx: typer.Context,
    submission_id: Annotated[int, typer.Argument(help="The submission to correct.")],
    reason: Annotated[str, typer.Option(help="Why the score is corrected (audit-logged).")],
    public: Annotated[
        float | None, typer.Option(help="Corrected public score, on the metric's scale.")
    ] = None,
    private: Annotated[
        float | None, typer.Option(help="Corrected private score, on the metric's scale.")
    ] = None,
    clear: Annotated[
        bool,
        typer.Option("--clear", help="Remove the override: the computed scores count again."),
    ] = False,
    actor: ActorOption = "organizer",
) -> None:
    """Correct a submission's scores by hand, with a reason; prints old -> new."""
    from cohort.scoring.boards import override_score as do_override

    result = do_override(open_cohort(ctx), submission_id, public, private, reason, actor, clear)
    what = "override cleared" if clear else "score overridden"
    typer.echo(f"Submission {submission_id}: {what}, {result.describe()} ({reason}).")
