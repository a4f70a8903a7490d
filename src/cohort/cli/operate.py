"""Running a season day to day: `cohort audit`, `status`, `week set`, `extend`, `announce`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cohort.cli import ActorOption, JsonOption, app, open_cohort, print_json, print_table, sub_app

if TYPE_CHECKING:
    from cohort.scoring.deadlines import CloseChange
    from cohort.workspace import Cohort


@app.command("audit")
def audit_log(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many entries, newest first.")] = 50,
    action: Annotated[
        str | None, typer.Option(help="Only this action (e.g. reveal, week_set, extend).")
    ] = None,
    json: JsonOption = False,
) -> None:
    """List the audit log: every organizer action that changed what members see."""
    from cohort import present
    from cohort.audit import recent_actions
    from cohort.errors import ConfigError

    if limit < 1:
        raise ConfigError(f"--limit {limit} is below 1; pass how many entries to show.")
    cohort = open_cohort(ctx)
    frame = recent_actions(cohort, limit if action is None else 100_000)
    if action is not None:
        frame = frame[frame["action"] == action].head(limit)
    if json:
        print_json([{**r, "at": r["at"].isoformat()} for r in frame.to_dict(orient="records")])
        return
    tz = cohort.config.tz
    rows = [
        [
            present.when_full(r["at"], tz),
            r["actor"],
            present.action_label(str(r["action"])),
            r["target"],
            present.detail_text(r["detail"]),
        ]
        for r in frame.to_dict("records")
    ]
    print_table(
        f"Audit log ({len(rows)} newest entries, times in {cohort.config.timezone})",
        ["when", "who", "action", "on", "details"],
        rows,
    )


week_app = sub_app("One week's schedule: `cohort week set WEEK --closes ...` moves its close.")
app.add_typer(week_app, name="week")

WeekArgument = Annotated[
    str, typer.Argument(help="Week id, number or slug (e.g. 01-pets, 1, pets).")
]
TimeHelp = "a date (2027-01-20) or a time ('2027-01-20 18:00'), in the cohort's zone unless an offset is given"


def _change_lines(cohort: Cohort, c: CloseChange) -> list[str]:
    from cohort import present

    tz = cohort.config.tz
    lines = [
        f"Week {c.week} would close {present.when_full(c.new, tz)} "
        f"instead of {present.when_full(c.old, tz)}."
    ]
    if c.gains_credit or c.loses_credit:
        gained = ", ".join(c.gains_credit) or "nobody"
        lost = ", ".join(c.loses_credit) or "nobody"
        lines.append(f"  On-time kernel credit: gained by {gained}; lost by {lost}.")
    for label, moved in (("stop", c.stop_counting), ("start", c.start_counting)):
        if moved:
            who = ", ".join(f"{h} ({n})" for h, n in sorted(moved.items()))
            lines.append(f"  Board entries that {label} counting: {who}.")
    if c.reveal:
        lines.append(f"  It {c.reveal}.")
    if not c.changes_anything:
        lines.append("  No credit and no board changes.")
    return lines


@week_app.command("set")
def week_set(
    ctx: typer.Context,
    week: WeekArgument,
    closes: Annotated[str, typer.Option(help=f"The new close: {TimeHelp}.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Apply it; without --yes only the changes are shown.")
    ] = False,
    actor: ActorOption = "organizer",
) -> None:
    """Move a week's close: shows whose credit and which boards change, applies with --yes."""
    from cohort.scoring import deadlines

    cohort = open_cohort(ctx)
    new = deadlines.parse_time(cohort, closes)
    change = deadlines.preview_close(cohort, week, new)
    for line in _change_lines(cohort, change):
        typer.echo(line)
    if not yes:
        typer.echo("Nothing applied; run again with --yes to apply it.")
        return
    deadlines.set_close(cohort, week, new, actor)
    typer.echo(f"Applied: weeks/{change.week}/week.toml now says so (audit-logged).")


@app.command("extend")
def extend(
    ctx: typer.Context,
    week: WeekArgument,
    member: Annotated[str, typer.Option("--member", "-m", help="The member's handle.")],
    until: Annotated[str, typer.Option(help=f"Their new deadline: {TimeHelp}.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
    actor: ActorOption = "organizer",
) -> None:
    """Give one member more time for one week (audited); their late-window entries count."""
    from cohort import present
    from cohort.scoring import deadlines

    cohort = open_cohort(ctx)
    when = deadlines.parse_time(cohort, until)
    old = deadlines.extend(cohort, week, member, when, actor, reason)
    wk = cohort.config.week(week)
    replaced = f" (replacing {present.when_full(old, cohort.config.tz)})" if old else ""
    typer.echo(
        f"{member} may submit to {wk.id} until {present.when_full(when, cohort.config.tz)}{replaced}."
    )


@app.command("status")
def status(
    ctx: typer.Context,
    week: Annotated[
        str | None,
        typer.Argument(help="Week id, number or slug; default: the week open now (or the latest)."),
    ] = None,
    json: JsonOption = False,
) -> None:
    """The week at a glance: its window, and per member the file and notebook, best score, flags."""
    from cohort import present
    from cohort.season.status import week_status
    from cohort.workspace import utcnow

    cohort = open_cohort(ctx)
    st = week_status(cohort, week)
    tz = cohort.config.tz
    if json:
        frame = st.members.astype(object).where(st.members.notna(), None)
        print_json(
            {
                "week": st.week.id,
                "state": st.state,
                "revealed": st.revealed,
                "opens_at": st.week.opens_at.isoformat(),
                "closes_at": st.week.closes_at.isoformat(),
                "members": frame.to_dict(orient="records"),
            }
        )
        return
    m = st.members
    typer.echo(
        f"{present.week_label(st.week)}: {st.state}, {present.week_window(st.week, utcnow(), tz)}."
    )
    typer.echo(
        f"Opens {present.when_full(st.week.opens_at, tz)}, closes {present.when_full(st.week.closes_at, tz)}; "
        f"private board {'revealed' if st.revealed else 'hidden'}."
    )
    typer.echo(
        f"{int((m['files'] > 0).sum())} of {len(m)} active members have a file, "
        f"{int((m['notebook'] != '').sum())} a notebook link."
    )
    if st.missing_file:
        typer.echo(f"No file yet: {', '.join(st.missing_file)}.")
    if st.missing_notebook:
        typer.echo(f"No notebook link yet: {', '.join(st.missing_notebook)}.")
    metric = st.week.competition.metric
    rows = [
        [
            r.handle,
            r.name,
            r.files,
            "yes" if r.notebook else present.MISSING,
            present.score(r.best_public, metric),
            "" if present.missing(r.public_rank) else f"{r.public_rank:.0f}",
            present.when(r.last_submitted_at, tz),
            r.flags,
        ]
        for r in m.itertuples()
    ]
    print_table(
        f"{st.week.id}: every active member",
        [
            "member",
            "name",
            "files",
            "notebook",
            "best public",
            "#",
            f"last ({cohort.config.timezone})",
            "flags",
        ],
        rows,
    )


@app.command("announce")
def announce(
    ctx: typer.Context,
    week: WeekArgument,
    text: Annotated[
        bool, typer.Option("--text", help="Plain text (for email) instead of Markdown.")
    ] = False,
    top: Annotated[int, typer.Option(help="How many board entries to include.")] = 10,
    post: Annotated[
        bool, typer.Option("--post", help="Also post the Markdown to webhook_url in cohort.toml.")
    ] = False,
) -> None:
    """Write a week's results for a chat channel or email (public board until the reveal)."""
    from cohort.errors import ConfigError
    from cohort.season.announce import announce as make

    if top < 1:
        raise ConfigError(f"--top {top} is below 1; pass how many board entries to include.")
    cohort = open_cohort(ctx)
    note = make(cohort, week, top)
    typer.echo(note.text if text else note.markdown, nl=False)
    if post:
        from cohort.sheets.webhook import post as send

        code = send(cohort.config.webhook_url, note.markdown)
        typer.echo(f"Posted to the webhook (HTTP {code}).", err=True)
