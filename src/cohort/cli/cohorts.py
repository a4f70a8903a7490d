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
) -> None:
    """Create a new cohort: cohort.toml, members.csv, the weekly modules and the store."""
    from cohort.template import init_cohort

    created = init_cohort(directory, name)
    typer.echo(
        f"Created cohort '{name}' in {created}. Next: edit members.csv, then `cohort members import members.csv`."
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
) -> None:
    """Run a whole simulated season on the embedded data: prepare, submit, score, select."""
    from cohort.demo import demo_db_url, run_demo
    from cohort.scoring.boards import is_revealed

    cohort = run_demo(directory, members=members, seed=seed, echo=typer.echo)
    # The same commands an organizer would type, so the demo shows the real output.
    base = ["--root", str(cohort.root), "--db", demo_db_url(cohort.root)]
    for week in cohort.config.weeks:
        # Closed weeks are revealed: show the private board with its shake-up.
        board = ["--private"] if is_revealed(cohort, week.id) else []
        app([*base, "leaderboard", week.id, *board], standalone_mode=False, prog_name="cohort")
    app([*base, "standings"], standalone_mode=False, prog_name="cohort")
    app([*base, "select"], standalone_mode=False, prog_name="cohort")
    typer.echo(
        "All members above are simulated. Open the leaderboard app on this demo with "
        f"`make app DEMO=1` (or: COHORT_ROOT={cohort.root} COHORT_DATABASE_URL={demo_db_url(cohort.root)} "
        ".venv/bin/streamlit run leaderboard_app/app.py)."
    )
