"""`cohort kaggle final`: the real final competition's leaderboard and our teams' submissions.

Teams are matched to members by Kaggle user name (the leaderboard's member list,
when Kaggle gives it) or by team name equal to a member's kaggle_username, handle
or name. Each import replaces the previous snapshot in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

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
