"""`cohort init` and `cohort demo`: creating cohorts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cohort.cli import app


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the cohort.")] = Path("."),
    name: Annotated[str, typer.Option(help="The cohort's name.")] = "Deep Learning Study Cohort",
    start: Annotated[
        str | None,
        typer.Option(help="First day of week 1 (YYYY-MM-DD); default: the template's."),
    ] = None,
) -> None:
    """Create a new cohort: cohort.toml, members.csv, the weekly modules, a Makefile, the store."""
    from datetime import date

    from cohort.errors import ConfigError
    from cohort.template import init_cohort

    try:
        first = date.fromisoformat(start).isoformat() if start else None
    except ValueError:
        raise ConfigError(f"--start {start!r} is not a date; write it like 2027-01-11.") from None
    created = init_cohort(directory, name, start=first) if first else init_cohort(directory, name)
    typer.echo(
        f"Created cohort '{name}' in {created}. Next: edit members.csv, then "
        "`cohort members import members.csv` there (`make help` lists the habits)."
    )


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Argument(help="Where to build the demo cohort (replaced if it is a demo).")
    ] = Path("demo-cohort"),
    members: Annotated[int, typer.Option(help="How many simulated members.")] = 24,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same season.")
    ] = 7,
    finished: Annotated[
        bool,
        typer.Option(
            "--finished",
            help="A whole season in the past, with the final project, instead of a live one.",
        ),
    ] = False,
) -> None:
    """Simulate a season on the embedded data: live around today (week 3 open), or --finished."""
    from cohort.demo import demo_db_url, demo_token, run_demo
    from cohort.scoring.boards import is_revealed
    from cohort.workspace import utcnow

    cohort = run_demo(directory, members=members, seed=seed, echo=typer.echo, finished=finished)
    # The same commands an organizer would type, so the demo shows the real output.
    base = ["--root", str(cohort.root), "--db", demo_db_url(cohort.root)]
    for week in cohort.config.weeks:
        if week.opens_at > utcnow():
            continue  # nothing to show before a week opens
        # Closed weeks are revealed: show the private board with its shake-up.
        board = ["--private"] if is_revealed(cohort, week.id) else []
        app([*base, "leaderboard", week.id, *board], standalone_mode=False, prog_name="cohort")
    app([*base, "standings"], standalone_mode=False, prog_name="cohort")
    app([*base, "select"], standalone_mode=False, prog_name="cohort")
    handle, token = demo_token(cohort)
    typer.echo(
        f"Demo token for the app's Submit page: {token} (member {handle}); "
        "it replaces any earlier token of that member."
    )
    typer.echo(
        "All members above are simulated. Open the leaderboard app on this demo with "
        f"`make app DEMO=1` (or: cohort --root {cohort.root} app)."
    )


@app.command("app")
def serve_app(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="TCP port to serve on.")] = 8501,
    host: Annotated[
        str,
        typer.Option(help="Address to listen on; 0.0.0.0 lets laptops on a workshop LAN connect."),
    ] = "127.0.0.1",
) -> None:
    """Start the Streamlit leaderboard app on this cohort (Ctrl-C stops it)."""
    import os
    import subprocess
    import sys

    from cohort.appserver import app_command, app_environment
    from cohort.cli import open_cohort

    cohort = open_cohort(ctx)  # a bad cohort.toml is one error line, before Streamlit starts
    cohort.store.dispose()
    command = app_command(port, host)
    db = (ctx.find_root().obj or {}).get("db")
    typer.echo(f"Serving {cohort.config.name} on http://{host}:{port} (Ctrl-C stops it).")
    env = app_environment(cohort.root, db)
    if os.name == "posix":
        # Become Streamlit rather than wait on it: a `kill` (or a supervisor's SIGTERM) of a
        # waiting `cohort app` ended cohort alone and left Streamlit serving, the port taken,
        # so the next `cohort app` could not start (tests/test_browser_demo.py stops it so).
        sys.stdout.flush()
        sys.stderr.flush()
        os.chdir(cohort.root)
        os.execve(command[0], command, env)
    try:
        code = subprocess.call(command, cwd=cohort.root, env=env)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
