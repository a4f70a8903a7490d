"""Running a season day to day: `cohort audit`, `status`, `week set`, `extend`, `announce`."""

from __future__ import annotations

from typing import Annotated

import typer

from cohort.cli import JsonOption, app, open_cohort, print_json, print_table


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
            present.when_full(r.at, tz),
            r.actor,
            present.action_label(r.action),
            r.target,
            present.detail_text(r.detail),
        ]
        for r in frame.itertuples()
    ]
    print_table(
        f"Audit log ({len(rows)} newest entries, times in {cohort.config.timezone})",
        ["when", "who", "action", "on", "details"],
        rows,
    )
