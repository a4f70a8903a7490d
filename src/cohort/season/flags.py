"""Suspicious results, listed for the organizer with their evidence; nothing here changes
a score, a board or a contribution (the organizer decides, e.g. with `override-score`).

Per week, over the submissions that count (late ones count nowhere, so are left out):

- implausible: a public or private score better than the week's `plausible_best`;
- same file: one file (the same sha256) submitted by two or more members;
- near-identical: two members' best public submissions predict alike on at least
  SAME_ROWS of the rows and share at least SAME_ERRORS of their wrong answers (labels),
  or differ on average by under NUMERIC_CLOSE of the answers' spread (numbers);
- copied notebook: two members' latest notebooks share at least COPIED_LINES of the
  lines neither took from the week's starter (each with at least MIN_OWN_LINES of them);
- foreign notebook: a Kaggle code link, sent before the member's deadline, owned by another
  member, by the organizer (the starter) or by anyone not the member's kaggle_username.

Times are shown in the cohort's zone, as in every other table.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, tzinfo
from itertools import combinations
from typing import TYPE_CHECKING, Any

from cohort.config import Week
from cohort.workspace import Cohort

if TYPE_CHECKING:
    import pandas as pd

SAME_ROWS = 0.99
SAME_ERRORS = 0.9
MIN_ERRORS = 3
NUMERIC_CLOSE = 0.001
COPIED_LINES = 0.9
MIN_OWN_LINES = 10
KINDS = ("implausible", "same_file", "near_identical", "copied_notebook", "foreign_notebook")


@dataclass(frozen=True)
class Flag:
    """One suspicious result: which week, what kind, who, which submissions, and why."""

    week: str
    kind: str
    handles: tuple[str, ...]
    submissions: tuple[int, ...]
    evidence: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        data = asdict(self)
        data["handles"], data["submissions"] = list(self.handles), list(self.submissions)
        return data


def flags(cohort: Cohort, week_ref: str | None = None) -> list[Flag]:
    """Every flag of one week (or of every week), in week order, then by kind."""
    from cohort.scoring import boards

    weeks = [cohort.config.week(week_ref)] if week_ref else list(cohort.config.weeks)
    out: list[Flag] = []
    for week in weeks:
        frame = boards.week_frame(cohort, week)
        files = frame[frame["file_sha256"] != ""]
        tz = cohort.config.tz
        out += implausible(week, files, tz)
        out += same_files(week, files, tz)
        out += near_identical(cohort, week, files)
        out += copied_notebooks(cohort, week)
        out += foreign_notebooks(cohort, week)
    return out


def _ref(row: Any, tz: tzinfo = UTC) -> str:
    from cohort.present import when_full

    return f"{row.handle} (#{int(row.submission_id)}, {when_full(row.submitted_at, tz)})"


def implausible(week: Week, files: pd.DataFrame, tz: tzinfo = UTC) -> list[Flag]:
    """Scores better than the week's plausible best."""
    comp = week.competition
    if comp.plausible_best is None:
        return []
    ceiling = comp.plausible_best
    better = "higher" if comp.direction == "max" else "lower"
    out = []
    rows: list[Any] = list(files.itertuples())
    for row in rows:
        for board in ("public", "private"):
            score = getattr(row, f"{board}_score")
            if score == score and (score > ceiling if comp.direction == "max" else score < ceiling):
                out.append(
                    Flag(
                        week.id,
                        "implausible",
                        (row.handle,),
                        (int(row.submission_id),),
                        f"{board} {comp.metric} {score:.6g} of {_ref(row, tz)} is beyond the week's "
                        f"plausible best {ceiling:g} ({better} is better)",
                    )
                )
    return out


def same_files(week: Week, files: pd.DataFrame, tz: tzinfo = UTC) -> list[Flag]:
    """One stored file submitted by more than one member."""
    out = []
    for sha, group in files.groupby("file_sha256", sort=True):
        if group["handle"].nunique() < 2:
            continue
        group = group.sort_values(["submitted_at", "submission_id"])
        out.append(
            Flag(
                week.id,
                "same_file",
                tuple(sorted(group["handle"].unique())),
                tuple(int(i) for i in group["submission_id"]),
                f"the same file (sha256 {str(sha)[:12]}) from "
                + ", ".join(_ref(r, tz) for r in group.itertuples()),
            )
        )
    return out


def near_identical(cohort: Cohort, week: Week, files: pd.DataFrame) -> list[Flag]:
    """Two members' best public submissions that predict (almost) alike, in different files."""
    import numpy as np

    from cohort.errors import CohortError
    from cohort.scoring.boards import best_per_member
    from cohort.scoring.parsed import stored_values
    from cohort.scoring.solution import load_solution

    best = best_per_member(files, "public_score", week.competition.direction)
    if len(best) < 2:
        return []
    try:
        solution = load_solution(cohort, week.id)
        values = [stored_values(cohort, solution, sha) for sha in best["file_sha256"]]
    except CohortError:  # no solution or a missing file: nothing to compare
        return []
    rows: list[Any] = list(best.itertuples())
    out = []
    for (a, va), (b, vb) in combinations(zip(rows, values, strict=True), 2):
        if a.file_sha256 == b.file_sha256:
            continue  # a same_file flag already
        if solution.kind == "label":
            why = _labels_alike(np.asarray(va), np.asarray(vb), np.asarray(solution.truth))
        else:
            why = _numbers_alike(np.asarray(va, float), np.asarray(vb, float), solution.truth)
        if why:
            out.append(
                Flag(
                    week.id,
                    "near_identical",
                    (a.handle, b.handle),
                    (int(a.submission_id), int(b.submission_id)),
                    f"{_ref(a, cohort.config.tz)} and {_ref(b, cohort.config.tz)}: {why}",
                )
            )
    return out


def _labels_alike(a: Any, b: Any, truth: Any) -> str:
    """Why two label predictions look copied ('' when they do not)."""
    same = (a == b).reshape(len(a), -1).all(axis=1)
    wrong_a = (a != truth).reshape(len(a), -1).any(axis=1)
    wrong_b = (b != truth).reshape(len(b), -1).any(axis=1)
    errors = int((wrong_a | wrong_b).sum())
    shared = int((same & wrong_a).sum())
    agree = float(same.mean())
    if agree == 1.0:
        return f"identical predictions on all {len(a)} rows, in different files"
    if agree >= SAME_ROWS and errors >= MIN_ERRORS and shared >= SAME_ERRORS * errors:
        return (
            f"alike on {agree:.1%} of {len(a)} rows, and {shared} of their {errors} "
            "wrong answers are the same"
        )
    return ""


def _numbers_alike(a: Any, b: Any, truth: Any) -> str:
    """Why two numeric predictions look copied ('' when they do not)."""
    import numpy as np

    spread = float(np.std(np.asarray(truth, float))) or 1.0
    gap = float(np.mean(np.abs(a - b)))
    if gap <= NUMERIC_CLOSE * spread:
        return (
            f"predictions differ by {gap:.3g} on average, under {NUMERIC_CLOSE:.1%} of the "
            f"answers' spread ({spread:.3g})"
        )
    return ""


def _lines(text: str) -> set[str]:
    from cohort.season.notebooks import cells_of

    out = set()
    for cell in cells_of(text):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        for line in source.splitlines():
            line = re.sub(r"\s+", " ", line).strip()
            if len(line) > 3:
                out.add(line)
    return out


def copied_notebooks(cohort: Cohort, week: Week) -> list[Flag]:
    """Two members' notebooks sharing most of what they did not take from the starter."""
    from cohort.errors import CohortError
    from cohort.season.notebooks import starter_text
    from cohort.store import contributions as store_contrib

    with cohort.store.transaction() as tx:
        notebooks = store_contrib.week_notebooks(tx, week.id)
    if len(notebooks) < 2:
        return []
    starter = starter_text(week)
    base = _lines(starter) if starter else set()
    own = {}
    for handle, _, content in notebooks:
        try:
            own[handle] = _lines(content) - base
        except CohortError:
            continue
    out = []
    for a, b in combinations(sorted(own), 2):
        la, lb = own[a], own[b]
        if min(len(la), len(lb)) < MIN_OWN_LINES:
            continue
        common = len(la & lb)
        share = common / len(la | lb)
        if share >= COPIED_LINES:
            out.append(
                Flag(
                    week.id,
                    "copied_notebook",
                    (a, b),
                    (),
                    f"the notebooks of {a} and {b} share {common} of their {len(la | lb)} lines "
                    f"beyond the starter ({share:.0%})",
                )
            )
    return out


def foreign_notebooks(cohort: Cohort, week: Week) -> list[Flag]:
    """Kaggle code links, sent in time, that the member does not own (so they earn no
    on-time credit): another member's kernel, the organizer's starter, anybody else's."""
    from cohort.errors import ValidationError
    from cohort.present import when_full
    from cohort.scoring.links import check_notebook_url, kaggle_owner, owner_warning
    from cohort.store import contributions as store_contrib
    from cohort.store import extensions as store_ext
    from cohort.store import members as store_members

    with cohort.store.transaction() as tx:
        members = store_members.all_members(tx)
        ext = store_ext.for_week(tx, week.id)
        latest = max([week.closes_at, *ext.values()])
        links = store_contrib.notebook_links(tx, week.id, latest)
    usernames = {m.handle: m.kaggle_username for m in members}
    owners = {m.kaggle_username.casefold(): m.handle for m in members if m.kaggle_username}
    organizer = cohort.config.kaggle_owner.strip().casefold()
    out: list[Flag] = []
    seen: set[tuple[str, str]] = set()
    for handle, at, url in links:
        if at >= max(week.closes_at, ext.get(handle, week.closes_at)):
            continue  # late: earns nothing anyway
        try:
            link = check_notebook_url(url)
        except ValidationError:
            continue
        owner = kaggle_owner(link)
        if not owner_warning(link, usernames.get(handle, "")) or (handle, owner) in seen:
            continue
        seen.add((handle, owner))
        if owner.casefold() in owners:
            whose = f"another member ({owners[owner.casefold()]})"
        elif owner.casefold() == organizer:
            whose = "the organizer"
        elif owner == "your-kaggle-username":
            whose = "the organizer (the starter's placeholder address)"
        else:
            whose = f"Kaggle user '{owner}'"
        mine = usernames.get(handle, "") or "blank"
        out.append(
            Flag(
                week.id,
                "foreign_notebook",
                (handle,),
                (),
                f"notebook link owned by {whose}, not by {handle} (kaggle_username {mine}): "
                f"{link.url}, sent {when_full(at, cohort.config.tz)}",
            )
        )
    return out
