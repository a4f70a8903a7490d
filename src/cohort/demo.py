"""Building the demo cohort: a simulated season on the embedded data.

By default the season is live, placed relative to today: weeks 1-2 have closed
(their private boards revealed), week 3 is open with its public board filling
up, week 4 and the final have not opened. `finished=True` builds the whole
season in the past instead, ending with the final project of the 8 selected.

Every member here is simulated. Their predictions start from a real baseline
model trained on each week's embedded data (`prepare.baseline_predictions`) and are
degraded according to each member's "skill", so the leaderboards look like a
real cohort's: a few strong members, a long tail, and a public/private shake-up.
Everything is seeded, so the same seed gives the same season.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from cohort.config import Week
from cohort.errors import Conflict, ValidationError
from cohort.scoring import intake, runs, solution
from cohort.season import contributions, selection
from cohort.sheets.roster import import_roster, issue_tokens, list_members
from cohort.template import init_cohort
from cohort.weeks import prepare
from cohort.workspace import Cohort

MARKER = ".cohort-demo"
# The finished demo: a fixed past start, so every week has closed and every board is final.
DEMO_START = "2026-03-02"
# The live demo: today is this day of the season (week 3 opened 3 days ago, week 4 opens in 4).
LIVE_DAY = 17
DEMO_NAME = "Demo cohort (simulated members)"
# The demo cohort's secret (see cohort.weeks.prepare): public on purpose, it hides nothing real.
DEMO_SECRET = "cohort-demo-public-secret"

FIRST_NAMES = [
    "Ada",
    "Ben",
    "Chen",
    "Dara",
    "Eli",
    "Fatima",
    "Goran",
    "Hana",
    "Ivan",
    "Jia",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Vera",
    "Wen",
    "Yusuf",
    "Zoe",
    "Arjun",
    "Bea",
    "Caio",
    "Dmitri",
    "Esme",
    "Farah",
    "Gus",
]


@dataclass(frozen=True)
class Profile:
    """A simulated member: how good they are and how often they show up."""

    handle: str
    skill: float
    activity: float


def run_demo(
    directory: Path,
    members: int = 24,
    seed: int = 7,
    echo: Callable[[str], object] = print,
    *,
    finished: bool = False,
    today: date | None = None,
) -> Cohort:
    """Build the demo cohort in `directory` and simulate its season; returns the open cohort."""
    if not 1 <= members <= len(FIRST_NAMES):
        raise ValidationError(
            f"The demo simulates 1 to {len(FIRST_NAMES)} members, not {members}; pass --members in that range."
        )
    directory = _fresh_directory(directory)
    # The demo keeps its own SQLite file even when COHORT_DATABASE_URL points elsewhere.
    db = demo_db_url(directory)
    start = DEMO_START if finished else live_start(today).isoformat()
    init_cohort(directory, DEMO_NAME, start=start, db=db)
    (directory / MARKER).write_text("Built by `cohort demo`; safe to delete.\n")
    rng = np.random.default_rng(seed)
    profiles = _roster(directory, members, rng)
    cohort = Cohort.open(directory, db)
    # A fixed secret (not a random one): the demo's hidden data is the same on every machine.
    prepare.write_secret(cohort, DEMO_SECRET)
    import_roster(cohort.store, directory / "members.csv")
    echo(f"Demo cohort in {directory}: {members} SIMULATED members (not real people), seed {seed}.")
    # Live: nothing is simulated from today on, so a rerun on the same day is the same season.
    cutoff = None if finished else demo_cutoff(cohort)
    with tempfile.TemporaryDirectory() as scratch:
        for week in cohort.config.season_weeks:
            if cutoff is not None and week.opens_at > cutoff:
                prepare.prepare(cohort, week.id)
                echo(f"  {week.id}: prepared from the embedded data; not open yet.")
                continue
            count = _simulate_week(cohort, week, profiles, rng, Path(scratch), cutoff)
            _simulate_contributions(cohort, week, profiles, rng)
            state = "open now" if cutoff is not None and cutoff < week.closes_at else "closed"
            echo(
                f"  {week.id}: prepared from the embedded data, {count} simulated submissions ({state})."
            )
        runs.score_pending(cohort, progress=False)
        final = cohort.config.final_week
        if final is not None and cutoff is None:
            chosen = [row.handle for row in selection.select(cohort).selected]
            finalists = [p for p in profiles if p.handle in chosen]
            count = _simulate_week(cohort, final, finalists, rng, Path(scratch))
            runs.score_pending(cohort, progress=False)
            echo(
                f"  {final.id}: the {len(finalists)} selected members made {count} simulated submissions."
            )
        elif final is not None:
            prepare.prepare(cohort, final.id)
            echo(f"  {final.id}: prepared from the embedded data; opens after the season.")
    return cohort


def live_start(today: date | None = None) -> date:
    """The live demo's season start: `LIVE_DAY` days before today."""
    # Today in UTC, not the machine's zone: the template's zone (Amsterdam) is never behind it,
    # so the demo's "now" (day LIVE_DAY, midnight in the cohort's zone) is never in the future.
    return (today or datetime.now(UTC).date()) - timedelta(days=LIVE_DAY)


def demo_cutoff(cohort: Cohort) -> datetime:
    """The live demo's simulated 'now': the start of day `LIVE_DAY`, in the cohort's zone."""
    day = cohort.config.start + timedelta(days=LIVE_DAY)
    return datetime.combine(day, time(0, 0), tzinfo=cohort.config.tz)


def demo_token(cohort: Cohort) -> tuple[str, str]:
    """A fresh personal token for the demo's first member (for the app's Submit page)."""
    handle = list_members(cohort.store)[0].handle
    return handle, issue_tokens(cohort.store, [handle])[handle]


def demo_db_url(directory: Path) -> str:
    """The demo's own database file."""
    return f"sqlite:///{directory.resolve() / 'cohort.db'}"


def _fresh_directory(directory: Path) -> Path:
    """Replace an earlier demo, but never a directory the demo did not build."""
    directory = directory.resolve()
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).is_file():
            raise Conflict(
                f"{directory} exists and is not a demo cohort; choose another directory."
            )
        shutil.rmtree(directory)
    return directory


def _roster(directory: Path, members: int, rng: np.random.Generator) -> list[Profile]:
    names = FIRST_NAMES[:members]
    rows = ["handle,name,email,kaggle_username"]
    profiles = []
    for name in names:
        handle = name.lower()
        rows.append(f"{handle},{name} (simulated),{handle}@demo.invalid,{handle}-kg")
        profiles.append(
            Profile(handle, skill=float(rng.beta(2.5, 2.0)), activity=float(rng.uniform(0.35, 1.0)))
        )
    (directory / "members.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return profiles


def _simulate_week(
    cohort: Cohort,
    week: Week,
    profiles: list[Profile],
    rng: np.random.Generator,
    scratch: Path,
    cutoff: datetime | None = None,
) -> int:
    """Prepare the week's data and submit each member's degraded baseline predictions.

    In a week still open at `cutoff` the attempts come a day apart, and none at or after it.
    """
    prepare.prepare(cohort, week.id)
    base = prepare.baseline_predictions(cohort, week.id)
    classes = solution.load_solution(cohort, week.id).classes
    count = 0
    for profile in profiles:
        if rng.random() > profile.activity + 0.15:
            continue  # this member skipped the week
        attempts = int(rng.integers(1, 4))
        for attempt in range(attempts):
            frame = _degrade(base, week, profile.skill, attempt, classes, rng)
            path = scratch / f"{week.id}-{profile.handle}-{attempt}.csv"
            frame.to_csv(path, index=False)
            live = cutoff is not None and cutoff < week.closes_at
            days = attempt if live else 1 + attempt * 2
            at = week.opens_at + timedelta(days=days, hours=float(rng.uniform(8, 22)))
            if cutoff is not None and at >= cutoff:
                continue  # not yet submitted on the demo's today
            link = (
                f"https://www.kaggle.com/code/{profile.handle}-kg/{week.slug}"
                if attempt == 0
                else None
            )
            intake.submit(
                cohort, profile.handle, week.id, path, link, at=at, source="demo", score=False
            )
            count += 1
    return count


def _degrade(
    base: pd.DataFrame,
    week: Week,
    skill: float,
    attempt: int,
    classes: tuple[str, ...],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The baseline made worse by (1 - skill), a little better with each attempt."""
    frame = base.copy()
    gap = max(0.0, (1.0 - skill) * (1.0 - 0.15 * attempt))
    for column in week.competition.target_columns:
        values = frame[column].to_numpy()
        if classes:
            flip = rng.random(len(values)) < 0.7 * gap
            values = values.astype(object)
            values[flip] = rng.choice(np.array(classes, dtype=object), int(flip.sum()))
        else:
            spread = float(np.std(values)) or 1.0
            values = values + rng.normal(0.0, 1.2 * gap * spread, len(values))
            values = np.clip(values, 0.0, None) if (base[column] >= 0).all() else values
        frame[column] = values
    return frame


def _simulate_contributions(
    cohort: Cohort, week: Week, profiles: list[Profile], rng: np.random.Generator
) -> None:
    """Attendance, presentations, help and challenge ranks, drawn from each member's profile."""
    note = "simulated by the demo"
    for p in profiles:
        if rng.random() < p.activity:
            contributions.add(
                cohort, p.handle, "attended", week_ref=week.id, note=note, actor="demo"
            )
        if rng.random() < 0.25 * p.activity:
            contributions.add(cohort, p.handle, "helped", week_ref=week.id, note=note, actor="demo")
        if rng.random() < 0.4 * p.skill * p.activity:
            contributions.add(
                cohort, p.handle, "beyond_minimum", week_ref=week.id, note=note, actor="demo"
            )
    weights = np.array([p.skill * p.activity for p in profiles])
    order = rng.choice(
        len(profiles), size=min(5, len(profiles)), replace=False, p=weights / weights.sum()
    )
    for position, index in enumerate(order):
        if position < 2:
            contributions.add(
                cohort,
                profiles[index].handle,
                "presented",
                week_ref=week.id,
                note=note,
                actor="demo",
            )
        contributions.add(
            cohort,
            profiles[index].handle,
            "challenge_rank",
            value=float(position + 1),
            week_ref=week.id,
            note=note,
            actor="demo",
        )
