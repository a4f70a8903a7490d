"""The Submit page: token sign-in, the validator's message at once, submissions left today."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cohort.scoring import boards
from cohort.workspace import Cohort
from tests.test_app_helpers import app_test, copy_cohort, populated_source, texts, write_cohort

WRONG_TOKEN = (
    "That token matches no member; check it, or ask the organizer for a new one "
    "(`cohort members tokens`)."
)


@pytest.fixture
def populated(tmp_path_factory, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    source, tokens = populated_source(tmp_path_factory)
    return copy_cohort(source, tmp_path / "cohort"), tokens


def sign_in(root: Path, monkeypatch, token: str):  # noqa: ANN201
    at = app_test(root, monkeypatch, "submit")
    at.text_input[0].input(token).run()
    return at


def history(root: Path, handle: str) -> pd.DataFrame:
    return boards.member_history(Cohort.open(root), handle, include_private=False)


def upload(at, data: bytes, name: str = "predictions.csv", link: str = ""):  # noqa: ANN001, ANN201
    assert at.selectbox(key="submit_week").value.id == "02-beta"  # the week open now
    if link:
        at.text_input[1].input(link)
    at.file_uploader[0].set_value((name, data, "text/csv"))
    at.button[0].click().run()
    return at


def test_an_empty_cohort_asks_for_a_token_and_refuses_any(tmp_path: Path, monkeypatch) -> None:
    root = write_cohort(tmp_path / "empty", members=False)
    at = app_test(root, monkeypatch, "submit")
    assert at.info[0].value == "Enter the personal token the organizer gave you to submit."
    at.text_input[0].input("anything").run()
    assert at.error[0].value == WRONG_TOKEN
    assert not at.file_uploader


def test_a_wrong_token_shows_no_form(populated, monkeypatch) -> None:
    root, _ = populated
    at = sign_in(root, monkeypatch, "not-a-token")
    assert [e.value for e in at.error] == [WRONG_TOKEN]
    assert not at.file_uploader


def test_a_valid_upload_is_scored_and_uses_one_of_todays_submissions(
    populated, monkeypatch
) -> None:
    root, tokens = populated
    at = sign_in(root, monkeypatch, tokens["m03"])
    assert at.success[0].value == "Signed in as **Member 03** (m03)."
    solution = pd.read_csv(root / "data" / "02-beta" / "solution.csv")
    before = len(history(root, "m03"))
    upload(at, solution[["id", "label"]].to_csv(index=False).encode())
    after = history(root, "m03")
    assert len(after) == before + 1
    new = after.sort_values("submission_id").iloc[-1]
    assert new["week"] == "02-beta"
    assert new["public_score"] == pytest.approx(1.0)
    board = boards.leaderboard(Cohort.open(root), "02-beta")
    rank = next(r.rank for r in board.rows if r.handle == "m03")
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(rank, "th")
    assert at.success[1].value.startswith(
        f"Submission {new['submission_id']} scored: public score **1.0000** "
        f"(Accuracy, higher is better). You are {rank}{suffix} of {len(board.rows)} on the "
        "public board; it beats your best so far ("
    )
    assert at.metric[0].value == "4 of 5"


def test_an_invalid_upload_shows_the_validators_message_and_stores_nothing(
    populated, monkeypatch
) -> None:
    root, tokens = populated
    at = sign_in(root, monkeypatch, tokens["m03"])
    before = history(root, "m03")
    stored = sorted(p.name for p in (root / "submissions").rglob("*"))
    upload(at, b"id,label\nr000,cat\n")
    assert [e.value for e in at.error] == [
        "Not submitted: Submission must have 40 rows, found 1; missing ids: 'r001', 'r002', "
        "'r003', 'r004', 'r005' (and 34 more)."
    ]
    assert history(root, "m03").equals(before)
    assert sorted(p.name for p in (root / "submissions").rglob("*")) == stored
    assert at.metric[0].value == "5 of 5"
    # The refused file stays attached, to be fixed and sent again.
    assert at.file_uploader[0].value is not None


def test_a_notebook_link_alone_is_a_submission(populated, monkeypatch) -> None:
    root, tokens = populated
    at = sign_in(root, monkeypatch, tokens["m04"])
    at.text_input[1].input("https://www.kaggle.com/code/m04/beta-notebook")
    at.button[0].click().run()
    assert at.success[1].value.endswith("received (Notebook link only).")
    assert (
        "https://www.kaggle.com/code/m04/beta-notebook"
        in history(root, "m04")["notebook_url"].tolist()
    )


def test_submitting_nothing_says_what_to_attach(populated, monkeypatch) -> None:
    root, tokens = populated
    at = sign_in(root, monkeypatch, tokens["m04"])
    at.button[0].click().run()
    assert [e.value for e in at.error] == [
        "Attach a predictions file or give a notebook link, then submit again."
    ]


def test_the_page_never_shows_a_token_or_an_email(populated, monkeypatch) -> None:
    root, tokens = populated
    at = sign_in(root, monkeypatch, tokens["m05"])
    shown = texts(at)
    assert "@example.org" not in shown
    assert not any(token in shown for token in tokens.values())


def test_the_member_sees_their_own_submissions_to_the_week(populated, monkeypatch) -> None:
    root, tokens = populated
    at = sign_in(root, monkeypatch, tokens["m03"])
    mine = history(root, "m03")
    mine = mine[mine["week"] == "02-beta"]
    shown = at.dataframe[0].value
    assert shown["Id"].tolist() == mine["submission_id"].tolist()
    assert shown["Public score"].tolist() == mine["public_score"].tolist()


def test_the_token_is_kept_when_the_member_comes_back(populated, monkeypatch) -> None:
    root, tokens = populated
    at = sign_in(root, monkeypatch, tokens["m03"])
    at.switch_page("views/leaderboard.py").run()
    at.switch_page("views/submit.py").run()
    assert at.success[0].value == "Signed in as **Member 03** (m03)."


def test_only_open_weeks_are_offered(populated, monkeypatch) -> None:
    root, tokens = populated
    at = sign_in(root, monkeypatch, tokens["m03"])
    # Week 1 closed three days ago: it is not offered.
    assert at.selectbox(key="submit_week").options == ["Week 2 · Beta"]


def test_final_selections_are_chosen_in_the_app(populated, monkeypatch) -> None:
    root, tokens = populated
    at = sign_in(root, monkeypatch, tokens["m03"])
    mine = history(root, "m03")
    ids = mine[mine["week"] == "02-beta"]["submission_id"].tolist()
    at.multiselect(key="final_pick_02-beta").set_value(ids[:1]).run()
    at.button(key="final_save").click().run()
    assert [s.value for s in at.success][-1] == f"Saved: #{ids[0]} count."
    assert boards.counted_submissions(Cohort.open(root), "02-beta")["m03"] == ids[:1]


def test_the_final_project_is_offered_only_to_the_frozen_finalists(
    tmp_path: Path, monkeypatch
) -> None:
    from cohort.season import selection
    from cohort.sheets import roster as members
    from tests.conftest import write_week

    root = write_cohort(tmp_path / "final")
    write_week(root, "03-final", title="Final project: Lab quakes", opens=7, closes=14)
    toml = root / "cohort.toml"
    toml.write_text(toml.read_text() + 'final = "03-final"\n')
    c = Cohort.open(root)
    members.import_roster(c.store, root / "members.csv")
    tokens = members.issue_tokens(c.store)
    c.store.dispose()
    at = sign_in(root, monkeypatch, tokens["m01"])
    assert at.selectbox(key="submit_week").options == ["Week 2 · Beta"]  # nobody is frozen yet
    frozen = selection.freeze(Cohort.open(root), "ada")
    chosen = {s["handle"] for s in selection.frozen(Cohort.open(root))[0].result["selected"]}
    assert frozen and len(chosen) == 8
    finalist = sorted(chosen)[0]
    outsider = sorted(set(tokens) - chosen)[0]
    at = sign_in(root, monkeypatch, tokens[finalist])
    assert at.selectbox(key="submit_week").options == [
        "Week 2 · Beta",
        "Final project: Lab quakes",
    ]
    at = sign_in(root, monkeypatch, tokens[outsider])
    assert at.selectbox(key="submit_week").options == ["Week 2 · Beta"]
