"""present.py: the one place labels, scores and times are formatted for people."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cohort import present
from cohort.config import CONTRIBUTION_KINDS, METRICS

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def test_every_kind_and_metric_has_a_human_label() -> None:
    for kind in CONTRIBUTION_KINDS:
        assert not SNAKE.search(present.kind_label(kind)), kind
    for metric in METRICS:
        assert not SNAKE.search(present.metric_label(metric)), metric
    assert present.kind_label("beyond_minimum") == "Beyond the minimum"
    assert present.kind_label("new_kind_here") == "New kind here"


@pytest.mark.parametrize(
    ("value", "metric", "shown"),
    [
        (1.296, "mae", "1.296"),
        (1.25144, "mae", "1.251"),
        (0.91623, "accuracy", "0.9162"),
        (1.0, "accuracy", "1.0000"),
        (None, "mae", "–"),
        (float("nan"), "mae", "–"),
    ],
)
def test_scores_have_the_metrics_decimals(value: float | None, metric: str, shown: str) -> None:
    assert present.score(value, metric) == shown


def test_direction_is_said_in_words() -> None:
    assert present.direction_text("min") == "lower is better"
    assert present.direction_text("max") == "higher is better"


def test_times_are_in_the_zone_with_its_label() -> None:
    at = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)
    assert present.when(at, ZoneInfo("Europe/Berlin")) == "Wed 02 Dec 14:05 CET"
    assert present.when(at.replace(tzinfo=None), ZoneInfo("UTC")) == "Wed 02 Dec 13:05 UTC"
    assert present.when_full(at, ZoneInfo("Asia/Kolkata")) == "2026-12-02 18:35 IST"
    assert present.when(None, ZoneInfo("UTC")) == "–"
    # A zone whose abbreviation is only an offset gets 'UTC+N'.
    assert present.when(at, ZoneInfo("Asia/Dubai")).endswith("UTC+4")


def test_countdown_before_during_after() -> None:
    tz = ZoneInfo("UTC")
    opens = datetime(2026, 12, 1, tzinfo=UTC)
    closes = opens + timedelta(days=7)
    assert present.countdown(opens, closes, opens - timedelta(hours=3), tz).startswith(
        "opens in 3 h 0 min"
    )
    assert present.countdown(opens, closes, opens + timedelta(days=5, hours=1), tz).startswith(
        "closes in 1 d 23 h"
    )
    assert present.countdown(opens, closes, closes + timedelta(seconds=1), tz).startswith(
        "closed Tue 08 Dec"
    )
    assert present.duration(timedelta(minutes=4, seconds=7)) == "04:07"


def test_audit_details_are_words_not_json() -> None:
    text = present.detail_text('{"public": 0.5, "reason": "typo", "submission_ids": [3, 4]}')
    assert "{" not in text and '"' not in text
    assert "reason: typo" in text and "submissions: 3, 4" in text
    assert present.action_label("selection.freeze") == "Froze the final selection"


def test_rank_change_arrows() -> None:
    assert [present.rank_change(v) for v in (2, -1, 0, None)] == ["▲ 2", "▼ 1", "=", ""]
    assert [present.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 21)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "21st",
    ]


def test_words_drops_week_numbers_and_underscores() -> None:
    assert present.words("02-regularization") == "Regularization"
    assert present.words("on_time_kernel") == "On time kernel"
