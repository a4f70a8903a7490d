"""The final: the real competition's leaderboard, the finalists' late submissions, the final board.

`cohort kaggle final` imports the competition's public leaderboard and our teams'
public submissions. LANL closed in 2019, so late submissions never reach its
leaderboard: their scores come from each finalist's own submission list (the API's
submission objects carry privateScore; `cohort kaggle late-submissions` with the
finalist's token) or from the CSV they export with
`kaggle competitions submissions -c LANL-Earthquake-Prediction --csv` (`cohort final --csv`).
`final_board` ranks the finalists on the cohort's own hidden LANL board and shows
their Kaggle scores beside it.

Teams are matched to members by Kaggle user name (the leaderboard's member list,
when Kaggle gives it) or by team name equal to a member's kaggle_username, handle
or name. Each import replaces the previous snapshot in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cohort.store import final_entries
from cohort.store import members as member_store

if TYPE_CHECKING:
    from cohort.kaggle.client import KaggleClient, LeaderboardEntry
    from cohort.store.members import Member
    from cohort.workspace import Cohort

DEFAULT_COMPETITION = "LANL-Earthquake-Prediction"


@dataclass(frozen=True)
class FinalReport:
    """What one import brought in."""

    competition: str
    teams: int
    matched: dict[str, str]  # handle -> team name
    unmatched_members: tuple[
        str, ...
    ]  # the members looked for (the frozen selection, else all) without a team
    submissions: int
    from_selection: bool  # True when only the frozen top-N selection was matched


def competition_name(cohort: Cohort) -> str:
    """The final week's kaggle_competition, else the LANL Earthquake competition."""
    final = cohort.config.final_week
    if final is not None and final.data.kaggle_competition:
        return final.data.kaggle_competition
    return DEFAULT_COMPETITION


def selected_handles(cohort: Cohort) -> set[str] | None:
    """The handles of the current frozen selection, or None before `cohort freeze`."""
    from cohort.season.selection import frozen

    current = next((f for f in frozen(cohort) if not f.superseded), None)
    if current is None:
        return None
    return {str(s["handle"]) for s in current.result.get("selected", [])}


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def match_teams(
    entries: list[LeaderboardEntry], members: list[Member]
) -> dict[str, LeaderboardEntry]:
    """handle -> the member's team: by Kaggle user in the team, else by team name."""
    matched: dict[str, LeaderboardEntry] = {}
    for member in members:
        names = {_key(n) for n in (member.kaggle_username, member.handle, member.name) if n}
        user = _key(member.kaggle_username)
        for entry in entries:
            in_team = bool(user) and user in {_key(m) for m in entry.members}
            if in_team or _key(entry.team_name) in names:
                matched[member.handle] = entry
                break
    return matched


def import_final(
    cohort: Cohort,
    client: KaggleClient | None = None,
    competition: str | None = None,
    now: datetime | None = None,
) -> FinalReport:
    """Fetch the leaderboard and the matched teams' submissions; replace the stored snapshot."""
    from cohort.workspace import utcnow

    if client is None:
        from cohort.kaggle.client import KaggleClient

        client = KaggleClient()
    name = competition or competition_name(cohort)
    now = now or utcnow()
    entries = client.leaderboard(name)
    with cohort.store.transaction() as tx:
        members = member_store.all_members(tx)
    selected = selected_handles(cohort)
    if selected is not None:  # the final project is the selected members' business
        members = [m for m in members if m.handle in selected]
    matched = match_teams(entries, members)
    team_of = {e.team_id: h for h, e in matched.items()}
    rows = [
        final_entries.FinalEntry(
            e.team_name,
            team_of.get(e.team_id),
            e.score,
            e.rank,
            e.submitted_at,
            "leaderboard",
            {"team_id": e.team_id, "members": list(e.members)},
            now,
        )
        for e in entries
    ]
    submissions = 0
    for handle, entry in matched.items():
        for sub in client.team_submissions(entry.team_id):
            rows.append(
                final_entries.FinalEntry(
                    entry.team_name,
                    handle,
                    sub.public_score,
                    None,
                    sub.submitted_at,
                    "submission",
                    {"team_id": entry.team_id, "submission_id": sub.id},
                    now,
                )
            )
            submissions += 1
    with cohort.store.transaction() as tx:
        final_entries.replace_final_entries(tx, rows)
    unmatched = tuple(sorted(m.handle for m in members if m.handle not in matched))
    return FinalReport(
        name,
        len(entries),
        {h: e.team_name for h, e in matched.items()},
        unmatched,
        submissions,
        selected is not None,
    )


# --- the finalists' late submissions and the final board -----------------------------

LATE = "late_submission"
CSV_COLUMNS = ("ref", "fileName", "date", "description", "status", "publicScore", "privateScore")


@dataclass(frozen=True)
class LateImport:
    """What one import of a finalist's own Kaggle submissions brought in."""

    handle: str
    competition: str
    submissions: int
    scored: int  # those with a private score
    best_private: float | None


def _member(cohort: Cohort, handle: str) -> Member:
    from cohort.errors import NotFound

    with cohort.store.transaction() as tx:
        found = next((m for m in member_store.all_members(tx) if m.handle == handle), None)
    if found is None:
        raise NotFound(f"No member '{handle}'; check the handle in members.csv.")
    return found


def _store_late(
    cohort: Cohort, member: Member, competition: str, rows: list[dict[str, Any]], now: datetime
) -> LateImport:
    """Replace the member's late submissions with `rows` (id, date, scores, file, status)."""
    entries = [
        final_entries.FinalEntry(
            member.kaggle_username or member.handle,
            member.handle,
            r["private_score"],
            None,
            r["submitted_at"],
            LATE,
            {
                "competition": competition,
                "submission_id": r["id"],
                "public_score": r["public_score"],
                "file_name": r["file_name"],
                "status": r["status"],
            },
            now,
        )
        for r in rows
    ]
    with cohort.store.transaction() as tx:
        final_entries.replace_member_entries(tx, member.handle, LATE, entries)
    scores = [float(e.score) for e in entries if e.score is not None]
    direction = _direction(cohort)
    best = (min(scores) if direction == "min" else max(scores)) if scores else None
    return LateImport(member.handle, competition, len(entries), len(scores), best)


def _direction(cohort: Cohort) -> str:
    final = cohort.config.final_week
    return final.competition.direction if final is not None else "min"


def import_late_csv(
    cohort: Cohort, handle: str, path: Path, now: datetime | None = None
) -> LateImport:
    """A finalist's `kaggle competitions submissions -c <competition> --csv` output, stored."""
    import csv as csv_module

    from cohort.errors import NotFound, ValidationError
    from cohort.kaggle.client import _float, _parse_time
    from cohort.workspace import utcnow

    member = _member(cohort, handle)
    if not path.is_file():
        raise NotFound(f"Submissions CSV {path} does not exist; check the path.")
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.startswith("ref,")), None)
    if start is None:
        raise ValidationError(
            f"{path} is not the output of `kaggle competitions submissions -c "
            f"{competition_name(cohort)} --csv`: no header {','.join(CSV_COLUMNS)}; export it again."
        )
    reader = csv_module.DictReader(lines[start:])
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(f"{path} has no column '{missing[0]}'; export it again with --csv.")
    rows = [
        {
            "id": int(r["ref"]) if r["ref"].isdigit() else r["ref"],
            "submitted_at": _parse_time(r["date"]),
            "file_name": r["fileName"],
            "status": r["status"].lower().removeprefix("submissionstatus."),
            "public_score": _float(r["publicScore"]),
            "private_score": _float(r["privateScore"]),
        }
        for r in reader
    ]
    return _store_late(cohort, member, competition_name(cohort), rows, now or utcnow())


def import_own_submissions(
    cohort: Cohort, handle: str, client: KaggleClient | None = None, now: datetime | None = None
) -> LateImport:
    """The finalist's own submission list, read with *their* Kaggle credentials, stored."""
    from cohort.errors import AccessDenied
    from cohort.workspace import utcnow

    member = _member(cohort, handle)
    if client is None:
        from cohort.kaggle.client import KaggleClient

        client = KaggleClient()
    user = client.username
    if not member.kaggle_username or _key(user) != _key(member.kaggle_username):
        raise AccessDenied(
            f"The Kaggle credentials are {user or 'unknown'}'s, not {handle}'s "
            f"(kaggle_username '{member.kaggle_username}'); Kaggle lists only your own submissions, "
            f"so run this with {handle}'s token, or import their `--csv` export with `cohort final --csv`."
        )
    name = competition_name(cohort)
    rows = [
        {
            "id": s.id,
            "submitted_at": s.submitted_at,
            "file_name": s.file_name,
            "status": s.status,
            "public_score": s.public_score,
            "private_score": s.private_score,
        }
        for s in client.own_submissions(name)
    ]
    return _store_late(cohort, member, name, rows, now or utcnow())


@dataclass(frozen=True)
class FinalRow:
    """One finalist's line on the final board."""

    rank: int
    handle: str
    name: str
    cohort_score: float | None  # best score on the cohort's hidden LANL board
    kaggle_private: float | None  # best privateScore of their late submissions on Kaggle
    kaggle_rank: int | None  # rank among the finalists by that score
    kaggle_submissions: int


@dataclass(frozen=True)
class FinalBoard:
    """The final project's board: the finalists ranked on the cohort's board, with Kaggle's scores."""

    week: str
    metric: str
    private: bool  # cohort scores are the private board's (after reveal), else the public one's
    finalists_from: str  # "frozen selection" or "current standings"
    rows: list[FinalRow]


def finalists(cohort: Cohort) -> tuple[list[str], str]:
    """The finalists' handles in selection order, and where they come from."""
    from cohort.season.selection import frozen, select

    current = next((f for f in frozen(cohort) if not f.superseded), None)
    if current is not None:
        return [str(s["handle"]) for s in current.result.get("selected", [])], "frozen selection"
    return [row.handle for row in select(cohort).selected], "current standings"


def final_board(cohort: Cohort, now: datetime | None = None) -> FinalBoard:
    """Rank the finalists by the cohort's LANL board (private once revealed); add Kaggle's scores."""
    from cohort.errors import ConfigError
    from cohort.scoring import boards

    week = cohort.config.final_week
    if week is None:
        raise ConfigError('cohort.toml has no final week; set final = "05-lanl-final".')
    handles, source = finalists(cohort)
    private = boards.is_revealed(cohort, week.id, now)
    board = {
        r.handle: r for r in boards.leaderboard(cohort, week.id, private=private, now=now).rows
    }
    with cohort.store.transaction() as tx:
        names = {m.handle: m.name for m in member_store.all_members(tx)}
        late = [e for e in final_entries.final_entries(tx, LATE) if e.handle in handles]
    sign = 1.0 if week.competition.direction == "min" else -1.0
    best: dict[str, float] = {}
    counts: dict[str, int] = {}
    for e in late:
        counts[e.handle or ""] = counts.get(e.handle or "", 0) + 1
        if e.score is not None and (e.handle not in best or sign * e.score < sign * best[e.handle]):
            best[e.handle or ""] = float(e.score)
    kaggle_order = sorted(best, key=lambda h: (sign * best[h], h))
    order = sorted(
        handles,
        key=lambda h: (
            h not in board,
            sign * board[h].score if h in board else 0.0,
            h not in best,
            sign * best.get(h, 0.0),
            h,
        ),
    )
    rows = [
        FinalRow(
            rank,
            h,
            names.get(h, h),
            board[h].score if h in board else None,
            best.get(h),
            kaggle_order.index(h) + 1 if h in best else None,
            counts.get(h, 0),
        )
        for rank, h in enumerate(order, start=1)
    ]
    return FinalBoard(week.id, week.competition.metric, private, source, rows)
