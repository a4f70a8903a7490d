"""Fair competitions in the app: the Organizer page's Flags section (`cohort flags` with its
evidence) and the honour rule on the Submit page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from cohort.scoring import intake
from cohort.workspace import Cohort
from tests.test_app_helpers import WEEKS, copy_cohort, populated_source
from tests.test_app_organizer import section, signed_in


@pytest.fixture
def populated(tmp_path_factory, tmp_path: Path) -> Path:
    source, _ = populated_source(tmp_path_factory)
    return copy_cohort(source, tmp_path / "cohort")


def test_flags_show_one_file_from_two_members_with_the_evidence(
    populated: Path, monkeypatch
) -> None:
    c = Cohort.open(populated)
    week = c.config.week(WEEKS[1])
    solution = pd.read_csv(c.config.solution_path(week))
    data = solution[["id", "label"]][::-1].to_csv(index=False).encode()  # bytes nobody sent
    later = week.opens_at + timedelta(days=2)
    for handle in ("m01", "m02"):
        intake.submit_bytes(c, handle, week.id, data, "copy.csv", at=later)
    at = section(signed_in(populated, monkeypatch), "Flags")
    at.selectbox(key="flags_week").set_value(week).run()
    assert not at.exception
    table = at.dataframe[0].value
    same = table[table["Kind"] == "same file"]
    assert same["Members"].tolist() == ["m01, m02"]
    assert "the same file (sha256 " in same["Evidence"].iloc[0]
    assert "nothing is changed" in at.caption[0].value


def test_the_submit_page_states_the_honour_rule(tmp_path_factory, monkeypatch) -> None:
    from tests.test_app_helpers import app_test

    source, tokens = populated_source(tmp_path_factory)
    at = app_test(source, monkeypatch, "submit")
    at.text_input[0].input(tokens["m01"]).run()
    captions = [c.value for c in at.caption]
    assert any(
        c.startswith("Honour rule: the test data come from public datasets.") for c in captions
    )
