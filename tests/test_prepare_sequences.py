"""Week 3's real-data path on a tiny daily temperature CSV (the Melbourne layout, "?" typos included)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cohort.template import init_cohort
from cohort.weeks.prepare import prepare
from cohort.workspace import Cohort

RAW = Path(__file__).parent / "data" / "weeks" / "03-sequences"


def test_daily_temperatures_become_non_overlapping_windows(tmp_path: Path) -> None:
    init_cohort(tmp_path / "c", "Temps")
    cohort = Cohort.open(tmp_path / "c")
    report = prepare(cohort, "3", raw_dir=RAW)
    assert report.source.startswith("real: ") and report.train_rows == 45
    data = cohort.config.data_dir / "03-sequences"
    train, test = pd.read_csv(data / "train.csv"), pd.read_csv(data / "test.csv")
    solution = pd.read_csv(data / "solution.csv")
    # No dates in test.csv, fresh ids (fair-competition rule; tests/test_leaks.py audits it).
    # 45 test days hold too few rows of 14 + 1 days for a cohort, so the window is a week.
    window = 7
    assert list(test.columns) == [
        "id",
        *[f"lag_{k}" for k in range(window, 0, -1)],
    ]
    raw = pd.read_csv(RAW / "daily-minimum-temperatures-in-me.csv")
    values = pd.to_numeric(raw.iloc[:, 1].astype(str).str.lstrip("?")).to_numpy()
    dates = raw["Date"].tolist()
    assert train["date"].tolist() == dates[:45]
    assert solution["id"].tolist() == test["id"].tolist() and not set(test["id"]) & set(dates)
    # Each window is the series' values before its date, each moved 0.02-0.08 (under a tenth of
    # a degree, never onto a value the file can hold), and the answer is that date's value.
    positions = []
    for row, answer in zip(
        test.itertuples(index=False), solution.itertuples(index=False), strict=True
    ):
        lags = np.array(list(row)[1:], dtype=float)
        starts = [
            k
            for k in range(window, len(values))
            if np.allclose(lags, values[k - window : k], atol=0.081)
        ]
        assert len(starts) == 1 and np.isclose(answer.temperature, values[starts[0]])
        assert np.abs(lags - values[starts[0] - window : starts[0]]).min() >= 0.019
        positions.append(starts[0])
    # No test row's window holds another test row's answer.
    positions.sort()
    assert all(b - a > window for a, b in zip(positions, positions[1:], strict=False))


def test_a_melbourne_sized_file_gives_enough_test_rows_to_rank_a_cohort(tmp_path: Path) -> None:
    """Ten years of days (Melbourne's 3,650) leave 1,825 test days: 121 rows of 14 + 1 days,
    too few to rank a cohort, so the window drops to a week: 228 rows (>= 200)."""
    days = pd.date_range("1981-01-01", periods=3650, freq="D")
    rng = np.random.default_rng(0)
    readings = np.round(11 + 4 * np.cos(2 * np.pi * days.day_of_year / 365.25), 1)
    readings = readings + np.round(rng.normal(0, 2, len(days)), 1)
    raw = tmp_path / "raw"
    raw.mkdir()
    pd.DataFrame({"Date": days.strftime("%Y-%m-%d"), "Temp": readings.round(1)}).to_csv(
        raw / "daily-minimum-temperatures-in-me.csv", index=False
    )
    init_cohort(tmp_path / "c", "Temps")
    cohort = Cohort.open(tmp_path / "c")
    report = prepare(cohort, "3", raw_dir=raw)
    test = pd.read_csv(cohort.config.data_dir / "03-sequences" / "test.csv")
    assert report.train_rows == 1825 and report.test_rows == len(test) == 228 >= 200
    assert [c for c in test.columns if c.startswith("lag_")] == [
        f"lag_{k}" for k in range(7, 0, -1)
    ]


def _melbourne_copy(folder: Path, footer: str = "", stray: bool = False) -> Path:
    """The fixture, with a footer line after the data and, optionally, a stray CSV sorting first."""
    folder.mkdir(parents=True)
    text = (RAW / "daily-minimum-temperatures-in-me.csv").read_text(encoding="utf-8")
    (folder / "temps.csv").write_text(text.rstrip("\n") + "\n" + footer, encoding="utf-8")
    if stray:
        (folder / "a-notes.csv").write_text("station,comment\nMelbourne,closed 1991\n")
    return folder


def test_footer_and_a_stray_csv_are_passed_over_and_question_marks_kept(tmp_path: Path) -> None:
    init_cohort(tmp_path / "c", "Temps")
    cohort = Cohort.open(tmp_path / "c")
    raw = _melbourne_copy(
        tmp_path / "raw",
        footer='"Daily minimum temperatures in Melbourne, Australia, 1981-1990"\n\n',
        stray=True,
    )
    report = prepare(cohort, "3", raw_dir=raw)
    flagged = (RAW / "daily-minimum-temperatures-in-me.csv").read_text().count(",?")
    assert flagged > 0  # the fixture carries the '?' readings of the real file
    assert report.source.endswith(f"temps.csv ({flagged} values marked '?' kept as read)")
    train = pd.read_csv(cohort.config.data_dir / "03-sequences" / "train.csv", dtype=str)
    source = pd.read_csv(RAW / "daily-minimum-temperatures-in-me.csv", dtype=str)
    # Kept as read: the number after the '?', at the source's precision.
    expected = source.iloc[:45, 1].str.lstrip("?").astype(float)
    assert np.array_equal(train["temperature"].astype(float).to_numpy(), expected.to_numpy())


def test_a_line_that_is_no_reading_is_refused_with_its_line_number(tmp_path: Path) -> None:
    import pytest

    from cohort.errors import CohortError

    init_cohort(tmp_path / "c", "Temps")
    cohort = Cohort.open(tmp_path / "c")
    raw = _melbourne_copy(tmp_path / "raw")
    lines = (raw / "temps.csv").read_text().splitlines()
    lines[10] = '"1981-01-10",1O.5'
    (raw / "temps.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(CohortError, match=r"line 11 has temperature '1O.5', not a number"):
        prepare(cohort, "3", raw_dir=raw)
    assert not (cohort.config.data_dir / "03-sequences").exists()
