"""Human presentation, in one place for the CLI and the app.

Everything a person reads goes through here: week and contribution-kind labels
(no snake_case or slug on any screen), scores as numbers with the metric's own
number of decimals and its direction ("lower is better"), and every time in the
cohort's timezone with the zone's label. Pure functions, no pandas or Streamlit
import, so the CLI's `--help` stays instant.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from cohort.config import CONTRIBUTION_KINDS, CohortConfig, Competition, Week

MISSING = "–"

KIND_LABELS = {
    "attended": "Attended",
    "presented": "Presented",
    "on_time_kernel": "On-time kernel",
    "beyond_minimum": "Beyond the minimum",
    "challenge_rank": "Challenge rank",
    "helped": "Helped others",
}
# A kind added to config.CONTRIBUTION_KINDS without a label here still reads as words.

METRIC_LABELS = {
    "accuracy": "Accuracy",
    "error_rate": "Error rate",
    "macro_f1": "Macro F1",
    "log_loss": "Log loss",
    "roc_auc": "ROC AUC",
    "mae": "MAE",
    "rmse": "RMSE",
    "rmsle": "RMSLE",
}

# Decimals per metric: enough to tell apart two files differing by one row of a
# 2,624-row test set (1/2624 = 0.00038), few enough to read from the back of a room.
METRIC_DECIMALS = {
    "accuracy": 4,
    "error_rate": 4,
    "macro_f1": 4,
    "log_loss": 4,
    "roc_auc": 4,
    "mae": 3,
    "rmse": 3,
    "rmsle": 4,
}

STATUS_LABELS = {
    "scored": "Scored",
    "pending": "Waiting to be scored",
    "error": "Refused by the scorer",
    "notebook": "Notebook link only",
}

ACTION_LABELS = {
    "reveal": "Revealed the private leaderboard",
    "select_final": "Chose final submissions",
    "override_score": "Overrode a score",
    "rescore_started": "Started a rescore",
    "rescore_finished": "Finished a rescore",
    "contribution.add": "Recorded a contribution",
    "contribution.import": "Imported contributions",
    "selection.freeze": "Froze the final selection",
    "challenge_open": "Opened a live challenge",
    "challenge_close": "Closed a live challenge",
    "prepare": "Prepared a week",
    "roster_import": "Imported the roster",
    "tokens_issue": "Issued member tokens",
    "bundle": "Bundled a week's member data",
    "backup": "Backed up the season",
    "restore": "Restored the season",
}

# Audit-detail keys as words; unknown keys fall back to `words()`.
DETAIL_LABELS = {
    "submission_ids": "submissions",
    "challenge_id": "challenge",
    "minutes": "minutes",
    "event": "event",
    "freeze": "freeze",
    "kind": "kind",
    "public": "public score",
    "private": "private score",
    "reason": "reason",
    "source": "source",
    "seed": "seed",
}


# ---------------------------------------------------------------- words


def words(name: str) -> str:
    """'on_time_kernel' or '02-regularization' -> 'On time kernel' / 'Regularization'."""
    text = str(name).strip()
    if len(text) > 3 and text[:2].isdigit() and text[2] == "-":
        text = text[3:]
    text = text.replace("_", " ").replace("-", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:] if text else text


def kind_label(kind: str) -> str:
    """A contribution kind as people say it: 'beyond_minimum' -> 'Beyond the minimum'."""
    return KIND_LABELS.get(kind) or words(kind)


def kind_help(kind: str) -> str:
    """One sentence on what a contribution kind is for."""
    return CONTRIBUTION_KINDS.get(kind, "")


def status_label(status: str) -> str:
    """A submission status as words."""
    return STATUS_LABELS.get(status) or words(status)


def action_label(action: str) -> str:
    """An audit-log action as a sentence fragment."""
    return ACTION_LABELS.get(action) or words(action)


def detail_text(detail: Mapping[str, Any] | str | None) -> str:
    """Audit-log details as 'reason: typo · public score: 0.91', never raw JSON."""
    if detail is None or detail == "":
        return ""
    if isinstance(detail, str):
        try:
            parsed = json.loads(detail)
        except ValueError:
            return detail
        if not isinstance(parsed, Mapping):
            return str(parsed)
        detail = parsed
    parts = []
    for k, v in detail.items():
        if v is None or v == "" or v == []:
            continue
        shown = ", ".join(str(x) for x in v) if isinstance(v, list | tuple) else str(v)
        parts.append(f"{DETAIL_LABELS.get(k) or words(k).lower()}: {shown}")
    return " · ".join(parts)


# ---------------------------------------------------------------- weeks


def week_label(week: Week) -> str:
    """'Week 1 · Pets'; the final is 'Final project · ...' without saying 'Final' twice."""
    if week.final:
        title = week.title
        if title.lower().startswith("final"):
            return title
        return f"Final project · {title}"
    return f"Week {week.number} · {week.title}"


def week_short(week: Week) -> str:
    """'Week 1', or 'Final' for the final project: a narrow column head."""
    return "Final" if week.final else f"Week {week.number}"


def week_name(config: CohortConfig, week_ref: str, short: bool = False) -> str:
    """The label of a week given its id, number or slug; an unknown reference as words."""
    try:
        week = config.week(week_ref)
    except Exception:  # noqa: BLE001 - a label must never fail; an id from an old season reads as words
        return words(week_ref)
    return week_short(week) if short else week_label(week)


def column_label(config: CohortConfig, name: str) -> str:
    """A standings column head: a week id becomes 'Week 1', a kind 'Attended', else words."""
    if name in CONTRIBUTION_KINDS or name in KIND_LABELS:
        return kind_label(name)
    if any(w.id == name for w in config.weeks):
        return week_name(config, name, short=True)
    return words(name)


# ---------------------------------------------------------------- scores


def metric_label(metric: str) -> str:
    """'mae' -> 'MAE', 'macro_f1' -> 'Macro F1'."""
    return METRIC_LABELS.get(metric) or words(metric)


def direction_text(direction: str) -> str:
    """'max' -> 'higher is better', 'min' -> 'lower is better'."""
    return "higher is better" if direction == "max" else "lower is better"


def metric_caption(competition: Competition) -> str:
    """'MAE, lower is better': the metric and its direction, as every board states them."""
    return f"{metric_label(competition.metric)}, {direction_text(competition.direction)}"


def decimals(metric: str) -> int:
    """How many decimals a score of this metric is shown with."""
    return METRIC_DECIMALS.get(metric, 4)


def number_format(metric: str) -> str:
    """A printf format for the metric's scores (Streamlit's NumberColumn takes it)."""
    return f"%.{decimals(metric)}f"


def missing(value: Any) -> bool:
    """True for None, NaN and NaT (anything that is not equal to itself)."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def score(value: Any, metric: str) -> str:
    """A score with the metric's decimals ('0.9162', '1.296'); '–' when there is none."""
    if missing(value):
        return MISSING
    number = float(value)
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    return f"{number:.{decimals(metric)}f}"


def points(value: Any) -> str:
    """Season points, two decimals."""
    return MISSING if missing(value) else f"{float(value):.2f}"


def rank_change(change: Any) -> str:
    """Places gained as an arrow: '▲ 2', '▼ 1', '=' ; '' when unknown."""
    if missing(change):
        return ""
    n = int(change)
    return f"▲ {n}" if n > 0 else f"▼ {-n}" if n < 0 else "="


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# ---------------------------------------------------------------- times


def _aware(value: datetime) -> datetime:
    # The store keeps UTC; a naive value read back from SQLite is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def zone_label(tz: tzinfo, at: datetime | None = None) -> str:
    """The zone's short name at a moment ('CET', 'CEST', 'UTC'), else its offset."""
    moment = _aware(at or datetime.now(UTC)).astimezone(tz)
    name = moment.tzname() or ""
    if name and not name.startswith(("+", "-")):
        return name
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")


def when(value: Any, tz: tzinfo, with_day: bool = True) -> str:
    """A moment in the cohort's zone with the zone's label: 'Wed 02 Dec 14:05 CET'."""
    if missing(value):
        return MISSING
    moment = _aware(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))
    local = moment.astimezone(tz)
    shown = local.strftime("%a %d %b %H:%M" if with_day else "%H:%M")
    return f"{shown} {zone_label(tz, moment)}"


def when_full(value: Any, tz: tzinfo) -> str:
    """A moment with its year, for files and audit logs: '2026-12-02 14:05 CET'."""
    if missing(value):
        return MISSING
    moment = _aware(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M} {zone_label(tz, moment)}"


def duration(delta: timedelta) -> str:
    """A span as people read a countdown: '3 d 4 h', '5 h 12 min', '12:05' (under an hour)."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes:02d}:{secs:02d}"


def countdown(opens_at: datetime, closes_at: datetime, now: datetime, tz: tzinfo) -> str:
    """Where a window stands: 'opens in 2 d 3 h', 'closes in 5 h 12 min', 'closed Mon 04 May'."""
    now, opens_at, closes_at = _aware(now), _aware(opens_at), _aware(closes_at)
    if now < opens_at:
        return f"opens in {duration(opens_at - now)} ({when(opens_at, tz)})"
    if now < closes_at:
        return f"closes in {duration(closes_at - now)} ({when(closes_at, tz)})"
    return f"closed {when(closes_at, tz)}"


def week_window(week: Week, now: datetime, tz: tzinfo) -> str:
    """The countdown of a week's submission window."""
    return countdown(week.opens_at, week.closes_at, now, tz)


def join(items: Iterable[str]) -> str:
    """'a, b and c'."""
    seq = [str(i) for i in items]
    if len(seq) <= 1:
        return "".join(seq)
    return f"{', '.join(seq[:-1])} and {seq[-1]}"


__all__ = [
    "KIND_LABELS",
    "METRIC_DECIMALS",
    "METRIC_LABELS",
    "action_label",
    "column_label",
    "countdown",
    "decimals",
    "detail_text",
    "direction_text",
    "duration",
    "join",
    "kind_help",
    "kind_label",
    "metric_caption",
    "metric_label",
    "missing",
    "number_format",
    "ordinal",
    "points",
    "rank_change",
    "score",
    "status_label",
    "week_label",
    "week_name",
    "week_short",
    "week_window",
    "when",
    "when_full",
    "words",
    "zone_label",
]
