"""Cohorts and AppTest runners shared by the app's tests (tests/test_app_*.py).

`populated_cohort` builds, once per test session, a small real cohort: two
weeks (the first closed and so revealed, the second open now), twelve members
with tokens, a solution.csv per week, real submissions through
`cohort.submissions.submit`, scores from `cohort.scoring.score_pending`, and
contribution events. Each test gets its own copy of the directory.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from cohort.workspace import Cohort, utcnow
from tests.conftest import COHORT_TOML, REPO, write_roster, write_week

APP = REPO / "leaderboard_app" / "app.py"
PASSWORD = "let-me-in-42"
N_ROWS = 40


def roster_of(n: int) -> list[tuple[str, str, str, str]]:
    """n members m01, m02, ... named 'Member 01', ..."""
    return [(f"m{i:02d}", f"Member {i:02d}", f"m{i:02d}@example.org", "") for i in range(1, n + 1)]


MEMBERS = roster_of(12)
WEEKS = ("01-alpha", "02-beta")


def write_cohort(root: Path, members: bool = True, n_members: int = 12) -> Path:
    """cohort.toml, two weeks (the first closed three days ago, the second open), a roster."""
    root.mkdir(parents=True)
    start = (utcnow().date() - timedelta(days=10)).isoformat()
    write_week(root, WEEKS[0], title="Alpha", opens=0, closes=7)
    write_week(root, WEEKS[1], title="Beta", opens=7, closes=14)
    (root / "cohort.toml").write_text(
        COHORT_TOML.format(start=start, weeks=", ".join(f'"{w}"' for w in WEEKS), final_size=8)
    )
    (root / "submissions").mkdir()
    write_roster(root, roster_of(n_members) if members else [])
    return root


def write_solution(c: Cohort, week_id: str, seed: int) -> pd.DataFrame:
    """A binary-label solution.csv (id, label, Usage) for a week; returns it."""
    rng = np.random.default_rng(seed)
    week = c.config.week(week_id)
    frame = pd.DataFrame(
        {
            "id": [f"r{i:03d}" for i in range(N_ROWS)],
            "label": rng.choice(["cat", "dog"], N_ROWS),
            "Usage": ["Public" if i % 3 == 0 else "Private" for i in range(N_ROWS)],
        }
    )
    path = c.config.solution_path(week)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    frame[["id"]].assign(label="cat").to_csv(path.parent / "sample_submission.csv", index=False)
    return frame


def predictions(solution: pd.DataFrame, accuracy: float, rng: np.random.Generator) -> bytes:
    """A valid submission file that gets roughly `accuracy` right."""
    flip = rng.random(len(solution)) > accuracy
    labels = np.where(flip, np.where(solution["label"] == "cat", "dog", "cat"), solution["label"])
    return pd.DataFrame({"id": solution["id"], "label": labels}).to_csv(index=False).encode()


def build_populated(root: Path, n_members: int = 12, db: str | None = None) -> dict[str, str]:
    """Fill a cohort with members, submissions, scores and contributions; returns the tokens."""
    from cohort.scoring import intake, runs
    from cohort.season import contributions
    from cohort.sheets import roster as members

    write_cohort(root, n_members=n_members)
    roster = roster_of(n_members)
    c = Cohort.open(root, db)
    members.import_roster(c.store, root / "members.csv")
    tokens = members.issue_tokens(c.store)
    rng = np.random.default_rng(7)
    for n, week_id in enumerate(WEEKS):
        solution = write_solution(c, week_id, seed=n)
        week = c.config.week(week_id)
        for i, (handle, *_rest) in enumerate(roster):
            for attempt in range(1 + i % 3):
                at = week.opens_at + timedelta(hours=1 + i % 24 + 12 * attempt)
                data = predictions(solution, 0.5 + 0.48 * i / n_members + 0.02 * attempt, rng)
                intake.submit_bytes(
                    c,
                    handle,
                    week_id,
                    data,
                    f"{handle}.csv",
                    notebook_url=f"https://www.kaggle.com/code/{handle}/w{n}",
                    at=at,
                    source="cli",
                    score=False,
                )
        for handle, *_rest in roster[::2]:
            contributions.add(c, handle, "attended", week_ref=week_id, actor="test")
    runs.score_pending(c, progress=False)
    c.store.dispose()
    return tokens


_BUILT: dict[str, tuple[Path, dict[str, str]]] = {}


def populated_source(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The session's one built populated cohort and its members' tokens (do not modify it)."""
    if "populated" not in _BUILT:
        root = tmp_path_factory.mktemp("populated") / "cohort"
        # Always its own SQLite file: in the Postgres lane each test's database is dropped
        # after it, and copy_cohort moves this one into the next test's database.
        _BUILT["populated"] = (root, build_populated(root, db=f"sqlite:///{root / 'cohort.db'}"))
    return _BUILT["populated"]


def copy_cohort(source: Path, target: Path) -> Path:
    """A private copy of a built cohort, so a test may change it (in the Postgres lane, its
    rows copied into the test's own database)."""
    import os

    shutil.copytree(source, target)
    lane_url = os.environ.get("COHORT_DATABASE_URL")
    if lane_url:
        from cohort.store import Store
        from cohort.store.transfer import copy_store

        source_store = Store(f"sqlite:///{target / 'cohort.db'}")
        target_store = Store(lane_url)
        copy_store(source_store, target_store)
        source_store.dispose()
        target_store.dispose()
    return target


def app_test(
    root: Path,
    monkeypatch,
    page: str | None = None,
    password: str | None = PASSWORD,
    query: dict[str, str] | None = None,
) -> AppTest:
    """Run the app on `root` (optionally switched to views/<page>.py) and return the AppTest."""
    monkeypatch.setenv("COHORT_ROOT", str(root))
    monkeypatch.delenv("COHORT_ORGANIZER_PASSWORD", raising=False)
    if password is not None:
        monkeypatch.setenv("COHORT_ORGANIZER_PASSWORD", password)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query or {})
    at.run()
    if page is not None:
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """Every piece of text the page shows, joined, for 'is X shown anywhere' checks."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "success",
        "warning",
        "error",
        "metric",
    ):
        for element in getattr(at, kind):
            parts.append(str(getattr(element, "value", "")))
            parts.append(str(getattr(element, "label", "")))
    parts.extend(str(h.proto.body) for h in at.get("html"))
    for frame in at.dataframe:
        parts.append(frame.value.to_csv(index=False))
    return "\n".join(parts)


def today() -> date:
    """The UTC date now."""
    return utcnow().date()
