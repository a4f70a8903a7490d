"""The Organizer page: the password gate, and each action through the core functions."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohort import audit
from cohort.scoring import boards
from cohort.season import challenges, contributions, selection
from cohort.workspace import Cohort
from tests.test_app_helpers import (
    PASSWORD,
    app_test,
    copy_cohort,
    populated_source,
    texts,
    write_cohort,
)

NO_PASSWORD = (
    "The Organizer page is off: set COHORT_ORGANIZER_PASSWORD, or organizer_password "
    "in .streamlit/secrets.toml, and restart the app."
)
WRONG_PASSWORD = "Wrong organizer password; try again, or ask whoever runs the app."


@pytest.fixture
def populated(tmp_path_factory, tmp_path: Path) -> Path:
    source, _ = populated_source(tmp_path_factory)
    return copy_cohort(source, tmp_path / "cohort")


def signed_in(root: Path, monkeypatch):  # noqa: ANN201
    at = app_test(root, monkeypatch, "organizer")
    at.text_input[0].input(PASSWORD)
    at.button[0].click().run()
    assert not at.error
    return at


def section(at, label: str):  # noqa: ANN001, ANN201
    at.radio(key="organizer_section").set_value(label).run()
    return at


def test_without_a_configured_password_the_page_is_off(tmp_path: Path, monkeypatch) -> None:
    root = write_cohort(tmp_path / "empty", members=False)
    at = app_test(root, monkeypatch, "organizer", password=None)
    assert [w.value for w in at.warning] == [NO_PASSWORD]
    assert not at.text_input and not at.radio


def test_a_wrong_password_shows_nothing_else(populated: Path, monkeypatch) -> None:
    at = app_test(populated, monkeypatch, "organizer")
    at.text_input[0].input("guess")
    at.button[0].click().run()
    assert [e.value for e in at.error] == [WRONG_PASSWORD]
    assert not at.radio


def test_query_parameters_do_not_sign_anyone_in(populated: Path, monkeypatch) -> None:
    at = app_test(
        populated,
        monkeypatch,
        "organizer",
        query={"organizer_signed_in": "true", "password": PASSWORD, "admin": "1"},
    )
    assert not at.radio
    assert at.text_input[0].label == "Organizer password"


def test_the_password_may_come_from_streamlit_secrets(populated: Path, monkeypatch) -> None:
    monkeypatch.setenv("COHORT_ROOT", str(populated))
    monkeypatch.delenv("COHORT_ORGANIZER_PASSWORD", raising=False)
    from streamlit.testing.v1 import AppTest

    from tests.test_app_helpers import APP

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["organizer_password"] = "from-secrets"
    at.run()
    at.switch_page("views/organizer.py").run()
    at.text_input[0].input("from-secrets")
    at.button[0].click().run()
    assert at.radio(key="organizer_section").options[0] == "Weeks"


def test_an_empty_cohort_signs_in_and_shows_an_empty_audit_log(tmp_path: Path, monkeypatch) -> None:
    root = write_cohort(tmp_path / "empty", members=False)
    at = section(signed_in(root, monkeypatch), "Audit log")
    assert "No organizer actions yet." in texts(at)


def test_reveal_shows_the_private_board(populated: Path, monkeypatch) -> None:
    c = Cohort.open(populated)
    assert not boards.is_revealed(c, "02-beta")
    at = section(signed_in(populated, monkeypatch), "Reveal")
    assert at.button(key="reveal").disabled  # the week is open: closing it must be chosen
    at.checkbox(key="reveal_close_now").check().run()
    at.button(key="reveal").click().run()
    assert "Week 2 · Beta is revealed." in [s.value for s in at.success]
    assert boards.is_revealed(c, "02-beta")
    board = app_test(populated, monkeypatch, "leaderboard")
    assert [t.label for t in board.tabs] == ["Private (final)", "Public", "Shake-up"]


def test_attendance_is_recorded_for_each_chosen_member(populated: Path, monkeypatch) -> None:
    at = section(signed_in(populated, monkeypatch), "Contributions")
    at.multiselect(key="contrib_members").set_value(["m02", "m04"])
    at.text_input(key="contrib_note").input("workshop 2").run()
    at.button(key="record").click().run()
    assert "Recorded Attended for 2 member(s) in Week 2 · Beta." in [s.value for s in at.success]
    # The page holds its place: the next change still happens in Contributions.
    assert at.radio(key="organizer_section").value == "Contributions"
    at.multiselect(key="contrib_members").set_value(["m06"]).run()
    assert at.radio(key="organizer_section").value == "Contributions"
    events = contributions.events(Cohort.open(populated))
    mine = events[
        (events["kind"] == "attended")
        & (events["week"] == "02-beta")
        & (events["note"] == "workshop 2")
    ]
    assert sorted(mine["handle"]) == ["m02", "m04"]


def test_an_override_needs_a_reason_and_lands_in_the_audit_log(
    populated: Path, monkeypatch
) -> None:
    at = section(signed_in(populated, monkeypatch), "Override a score")
    at.number_input(key="override_id").set_value(3)
    at.number_input(key="override_public").set_value(0.25).run()
    assert at.button(key="override").disabled  # no reason yet
    at.text_input(key="override_reason").input("wrong file uploaded by the organizer").run()
    at.button(key="override").click().run()
    assert "Submission 3 overridden; the reason is in the audit log." in [
        s.value for s in at.success
    ]
    log = audit.recent_actions(Cohort.open(populated))
    assert log.iloc[0]["action"] == "override_score"
    assert "wrong file uploaded by the organizer" in log.iloc[0]["detail"]


def test_an_unknown_submission_is_one_error_line(populated: Path, monkeypatch) -> None:
    at = section(signed_in(populated, monkeypatch), "Override a score")
    at.number_input(key="override_id").set_value(9999)
    at.text_input(key="override_reason").input("typo").run()
    at.button(key="override").click().run()
    assert [e.value for e in at.error] == [
        "No submission 9999; see `cohort leaderboard` or the member's history."
    ]


def test_a_challenge_window_opens_and_closes(populated: Path, monkeypatch) -> None:
    at = section(signed_in(populated, monkeypatch), "Live challenge")
    at.button(key="challenge_open").click().run()
    c = Cohort.open(populated)
    running = challenges.current(c)
    assert running is not None and running.week == "02-beta"
    assert "Challenge on Week 2 · Beta open for 30 minutes." in [s.value for s in at.success]
    at.button(key="challenge_close").click().run()
    assert challenges.current(c) is None


def test_freezing_twice_needs_replace(populated: Path, monkeypatch) -> None:
    at = section(signed_in(populated, monkeypatch), "Freeze")
    preview = at.dataframe[0].value
    chosen = selection.select(Cohort.open(populated)).selected
    assert preview["Handle"].tolist() == [s.handle for s in chosen]  # the 8, before freezing
    at.button(key="freeze").click().run()
    assert "Selection frozen." in [s.value for s in at.success]
    assert at.radio(key="organizer_section").value == "Freeze"
    at.button(key="freeze").click().run()
    assert at.error[0].value.startswith("The selection was already frozen (#1, ")
    assert at.error[0].value.endswith(
        "tick 'Replace the earlier freeze' to freeze again (the old freeze is kept, marked "
        "superseded)."
    )
    assert "--force" not in at.error[0].value
    at.checkbox(key="freeze_force").check()
    at.button(key="freeze").click().run()
    assert len(selection.frozen(Cohort.open(populated))) == 2


def test_a_closed_challenge_s_ranks_become_contributions_once(populated: Path, monkeypatch) -> None:
    import pandas as pd

    from cohort.scoring import intake

    c = Cohort.open(populated)
    challenges.open_window(c, "02-beta", 10, "ada")
    solution = pd.read_csv(populated / "data" / "02-beta" / "solution.csv")
    perfect = solution[["id", "label"]].to_csv(index=False).encode()
    intake.submit_bytes(c, "m07", "02-beta", perfect, "p.csv", source="app")
    first = challenges.close_window(c, "ada")
    at = section(signed_in(populated, monkeypatch), "Live challenge")
    at.button(key="challenge_record").click().run()
    assert not at.error, [e.value for e in at.error]
    assert not at.exception, [e.value for e in at.exception]
    assert f"Challenge {first.id} credited: ranks recorded for Week 2 · Beta." in [
        s.value for s in at.success
    ]
    events = contributions.events(c)
    ranks = events[events["kind"] == "challenge_rank"]
    assert ranks[["handle", "week", "value"]].values.tolist() == [["m07", "02-beta", 1.0]]
    at.button(key="challenge_record").click().run()
    assert [e.value for e in at.error] == [
        f"Challenge {first.id} is already credited (1 ranks recorded); nothing was recorded again."
    ]
    # A second challenge in the same week is credited on its own.
    challenges.open_window(c, "02-beta", 10, "ada")
    intake.submit_bytes(c, "m07", "02-beta", perfect, "p.csv", source="app")
    challenges.close_window(c, "ada")
    at.button(key="challenge_record").click().run()
    events = contributions.events(c)
    ranks = events[events["kind"] == "challenge_rank"]
    assert ranks[["handle", "week", "value"]].values.tolist() == [["m07", "02-beta", 1.0]] * 2


def test_a_refused_contribution_names_who_was_recorded_before_it(
    populated: Path, monkeypatch
) -> None:
    at = section(signed_in(populated, monkeypatch), "Contributions")
    # m01 already attended 02-beta (the fixture records attendance for every other member).
    at.multiselect(key="contrib_members").set_value(["m02", "m01", "m04"]).run()
    at.button(key="record").click().run()
    message = at.error[0].value
    assert message.startswith("Recorded Attended for m02; then m01: ")
    assert message.endswith("The members after m01 were not recorded.")
    events = contributions.events(Cohort.open(populated))
    beta = events[(events["kind"] == "attended") & (events["week"] == "02-beta")]
    assert "m02" in set(beta["handle"]) and "m04" not in set(beta["handle"])


def test_once_signed_in_the_password_form_is_gone(populated: Path, monkeypatch) -> None:
    at = signed_in(populated, monkeypatch)
    assert "Organizer password" not in [t.label for t in at.text_input]
    assert at.radio(key="organizer_section").value == "Weeks"
    weeks = at.dataframe[0].value
    assert weeks["Week"].tolist() == ["Week 1 · Alpha", "Week 2 · Beta"]
    assert weeks["Board"].tolist() == ["revealed", "public only"]


def test_the_audit_log_reads_as_words_not_json(populated: Path, monkeypatch) -> None:
    boards.override_score(Cohort.open(populated), 3, 0.25, None, "typo", "ada")
    at = section(signed_in(populated, monkeypatch), "Audit log")
    log = at.dataframe[0].value
    assert log.iloc[0]["What"] == "Overrode a score"
    assert "reason: typo" in log.iloc[0]["Details"]
    assert not any("{" in d or '"' in d for d in log["Details"])
