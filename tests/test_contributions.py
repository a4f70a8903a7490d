"""Contribution events: recording, corrections that supersede, CSV imports, derived on-time kernels."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cohort.errors import NotFound, ValidationError
from cohort.scoring import intake
from cohort.season import contributions
from cohort.sheets.reader import parse_timestamp
from cohort.sheets.roster import import_roster
from cohort.store import audit
from cohort.workspace import Cohort

from .conftest import write_roster

DATA = Path(__file__).parent / "data"


@pytest.fixture
def cohort(make_cohort) -> Cohort:
    root = make_cohort({"01-a": {}, "02-b": {"opens": 7, "closes": 14}})
    write_roster(
        root,
        [("ann", "Ann Lee", "ann@example.org", "annk"), ("bob", "Bob Ray", "bob@example.org", "")],
    )
    c = Cohort.open(root)
    import_roster(c.store, root / "members.csv")
    return c


def _current(c: Cohort, **kw) -> list[tuple]:
    frame = contributions.events(c, **kw)
    return [
        tuple(r)
        for r in frame[["handle", "week", "kind", "value", "source"]].itertuples(index=False)
    ]


def test_add_and_list_events(cohort: Cohort) -> None:
    first = contributions.add(cohort, "ann", "attended", week_ref="1", note="was there")
    contributions.add(cohort, "ann", "helped", value=2, note="answered two questions on the forum")
    contributions.add(cohort, "bob", "challenge_rank", value=1, week_ref="a")
    assert first == 1
    assert _current(cohort) == [
        ("ann", "01-a", "attended", 1.0, "manual"),
        ("ann", "", "helped", 2.0, "manual"),
        ("bob", "01-a", "challenge_rank", 1.0, "manual"),
    ]
    assert _current(cohort, handle="bob") == [("bob", "01-a", "challenge_rank", 1.0, "manual")]
    with cohort.store.transaction() as tx:
        # The oldest entry is the roster import; the first contribution follows it.
        entry = [e for e in audit.entries(tx) if e.action == "contribution.add"][-1]
    assert (entry.action, entry.target, entry.detail["kind"]) == (
        "contribution.add",
        "ann",
        "attended",
    )


def test_a_second_weekly_event_must_supersede_the_first(cohort: Cohort) -> None:
    contributions.add(cohort, "ann", "attended", week_ref="1")
    with pytest.raises(
        ValidationError,
        match=r"^Member 'ann' already has a 'attended' event for week 01-a \(#1\); "
        r"to correct it, add the new one with --supersedes 1\.$",
    ):
        contributions.add(cohort, "ann", "attended", week_ref="1")
    contributions.add(cohort, "ann", "helped", week_ref="1")
    contributions.add(cohort, "ann", "helped", week_ref="1")  # help may repeat
    assert [k for _, _, k, _, _ in _current(cohort)] == ["attended", "helped", "helped"]


def test_a_correction_supersedes_and_nothing_is_deleted(cohort: Cohort) -> None:
    old = contributions.add(cohort, "ann", "presented", week_ref="1")
    new = contributions.add(
        cohort, "ann", "presented", value=0, week_ref="1", supersedes=old, note="was Bob"
    )
    contributions.add(cohort, "bob", "presented", week_ref="1")
    assert _current(cohort) == [
        ("ann", "01-a", "presented", 0.0, "manual"),
        ("bob", "01-a", "presented", 1.0, "manual"),
    ]
    with pytest.raises(
        ValidationError,
        match=rf"^Contribution event #{old} was already superseded by #{new}; supersede #{new} instead\.$",
    ):
        contributions.add(cohort, "ann", "presented", week_ref="1", supersedes=old)
    with pytest.raises(
        NotFound, match=r"^No contribution event #99; check `cohort contrib list`\.$"
    ):
        contributions.add(cohort, "ann", "presented", week_ref="1", supersedes=99)
    everything = contributions.events(cohort, derived=False)
    assert len(everything) == 2  # the superseded one is hidden from the current list, not deleted
    from cohort.store import contributions as store

    with cohort.store.transaction() as tx:
        assert store.get(tx, old).superseded_by == new


@pytest.mark.parametrize(
    ("kind", "value", "week", "message"),
    [
        (
            "cheered",
            1.0,
            "1",
            r"^Unknown contribution kind 'cheered'; use one of: attended, presented, on_time_kernel, beyond_minimum, challenge_rank, helped\.$",
        ),
        (
            "attended",
            -1.0,
            "1",
            r"^Contribution value -1\.0 for 'attended' is negative; use a number from 0 to 1000\.$",
        ),
        (
            "helped",
            1e308,
            None,
            r"^Contribution value 1e\+308 for 'helped' is too large; use a number from 0 to 1000\.$",
        ),
        (
            "helped",
            1000.5,
            None,
            r"^Contribution value 1000\.5 for 'helped' is too large; use a number from 0 to 1000\.$",
        ),
        (
            "helped",
            float("inf"),
            None,
            r"^Contribution value inf for 'helped' is not a finite number; use a number from 0 to 1000\.$",
        ),
        (
            "attended",
            float("nan"),
            "1",
            r"^Contribution value nan for 'attended' is not a finite number; use a number from 0 to 1000\.$",
        ),
        (
            "challenge_rank",
            0.5,
            "1",
            r"^A challenge_rank value is the member's rank \(1 = winner\), not 0\.5; pass --value 1, 2, 3, \.\.\.$",
        ),
        ("attended", 1.0, None, r"^A 'attended' event belongs to a week; pass --week W\.$"),
        ("attended", 1.0, "9", r"^No week '9' in this cohort; use one of: 01-a, 02-b\.$"),
    ],
)
def test_bad_events_are_refused_with_the_fix(
    cohort: Cohort, kind: str, value: float, week: str | None, message: str
) -> None:
    with pytest.raises((ValidationError, NotFound), match=message):
        contributions.add(cohort, "ann", kind, value=value, week_ref=week)
    assert contributions.events(cohort).empty


def test_the_largest_allowed_value_is_recorded(cohort: Cohort) -> None:
    contributions.add(cohort, "ann", "helped", value=1000)
    assert _current(cohort) == [("ann", "", "helped", 1000.0, "manual")]


@pytest.mark.parametrize(
    ("handle", "kind", "week", "differs"),
    [
        ("bob", "attended", "1", "member 'ann', not member 'bob'"),
        ("ann", "presented", "1", "kind 'attended', not kind 'presented'"),
        ("ann", "attended", "2", "week '01-a', not week '02-b'"),
        (
            "bob",
            "helped",
            None,
            "member 'ann', kind 'attended' and week '01-a', not member 'bob', kind 'helped' and no week",
        ),
    ],
)
def test_a_correction_must_supersede_an_event_of_the_same_member_kind_and_week(
    cohort: Cohort, handle: str, kind: str, week: str | None, differs: str
) -> None:
    old = contributions.add(cohort, "ann", "attended", week_ref="1")
    with pytest.raises(ValidationError) as err:
        contributions.add(cohort, handle, kind, week_ref=week, supersedes=old)
    assert str(err.value) == (
        f"Contribution event #{old} has {differs}; a correction must have the same member, kind and week "
        "as the event it supersedes (see `cohort contrib list`)."
    )
    assert _current(cohort) == [("ann", "01-a", "attended", 1.0, "manual")]


def test_a_help_event_without_a_week_can_be_corrected(cohort: Cohort) -> None:
    old = contributions.add(cohort, "ann", "helped", value=2)
    contributions.add(cohort, "ann", "helped", value=1, supersedes=old, note="one was a duplicate")
    assert _current(cohort) == [("ann", "", "helped", 1.0, "manual")]


def test_an_imported_value_out_of_range_is_reported_not_recorded(
    cohort: Cohort, tmp_path: Path
) -> None:
    sheet = tmp_path / "help.csv"
    sheet.write_text("handle,week,value\nann,1,1e308\nbob,1,2\n")
    report = contributions.import_csv(cohort, sheet, "helped")
    assert report.unmatched == [
        "line 2: Contribution value 1e+308 for 'helped' is too large; use a number from 0 to 1000"
    ]
    assert _current(cohort) == [("bob", "01-a", "helped", 2.0, "import")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "1/14/2027 19:02:11",
            "2027-01-14T18:02:11+00:00",
        ),  # Google Forms, US locale, cohort time (UTC+1)
        (
            "2027/01/21 7:03:10 PM GMT+1",
            "2027-01-21T18:03:10+00:00",
        ),  # Google Forms responses download
        ("2027-01-14T19:02:11+00:00", "2027-01-14T19:02:11+00:00"),
        ("14/01/2027 19:02:11", "2027-01-14T18:02:11+00:00"),  # day first, when the day is past 12
    ],
)
def test_form_timestamps_parse_in_the_cohort_timezone(
    cohort: Cohort, text: str, expected: str
) -> None:
    assert parse_timestamp(text, cohort.config.tz).isoformat() == expected


def test_google_form_import_matches_members_and_reports_the_rest(cohort: Cohort) -> None:
    report = contributions.import_csv(cohort, DATA / "contrib_google_form.csv", "attended")
    assert (report.added, report.already_recorded) == (3, 1)
    assert report.unmatched == [
        "line 4: no member matches 'carl@example.org', 'Carl'",
        "line 7: Timestamp 'not a date' is not a date and time",
        "line 8: Timestamp '3/1/2027 10:00:00' falls in no season week; pass --week W",
    ]
    assert _current(cohort) == [
        ("ann", "01-a", "attended", 1.0, "import"),
        ("bob", "01-a", "attended", 1.0, "import"),
        ("bob", "02-b", "attended", 1.0, "import"),
    ]
    evidence = contributions.events(cohort)["evidence"].iloc[0]
    assert evidence == {
        "file": "contrib_google_form.csv",
        "line": 2,
        "timestamp": "2027-01-14T18:02:11+00:00",
    }


def test_reimporting_the_same_export_adds_nothing(cohort: Cohort) -> None:
    contributions.import_csv(cohort, DATA / "contrib_google_form.csv", "attended")
    again = contributions.import_csv(cohort, DATA / "contrib_google_form.csv", "attended")
    assert (again.added, again.already_recorded, len(again.unmatched)) == (0, 4, 3)
    assert len(contributions.events(cohort)) == 3


def test_challenge_ranks_import_with_a_fixed_week(cohort: Cohort) -> None:
    report = contributions.import_csv(
        cohort, DATA / "contrib_challenge.csv", "challenge_rank", week_ref="2"
    )
    assert (report.added, report.unmatched) == (2, ["line 4: no member matches 'zed'"])
    assert _current(cohort) == [
        ("ann", "02-b", "challenge_rank", 1.0, "import"),
        ("bob", "02-b", "challenge_rank", 2.0, "import"),
    ]


def test_a_sheet_without_member_or_week_columns_is_refused(cohort: Cohort, tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text("who,when\nann,today\n")
    with pytest.raises(
        ValidationError,
        match=r"sheet\.csv: no column names a member; add one of the columns handle, email, name or kaggle_username\.$",
    ):
        contributions.import_csv(cohort, path, "attended")
    path.write_text("handle\nann\n")
    with pytest.raises(
        ValidationError,
        match=r"sheet\.csv: no Timestamp or week column; pass --week W to say which week it records\.$",
    ):
        contributions.import_csv(cohort, path, "attended")
    shutil.copy(path, tmp_path / "copy.csv")
    assert (
        contributions.import_csv(cohort, tmp_path / "copy.csv", "attended", week_ref="1").added == 1
    )


def test_on_time_kernels_are_derived_from_notebook_links(cohort: Cohort) -> None:
    link = "https://www.kaggle.com/code/ANNK/week-1"  # ann's own Kaggle account, any case
    intake.submit(cohort, "ann", "1", None, link, at=datetime(2027, 1, 12, 10, tzinfo=UTC))
    assert _current(cohort) == [("ann", "01-a", "on_time_kernel", 1.0, "derived")]
    assert _current(cohort, handle="bob") == []
    # An organizer's event for the same week replaces the derived one (value 0 withdraws it).
    contributions.add(
        cohort, "ann", "on_time_kernel", value=0, week_ref="1", note="link was private"
    )
    assert _current(cohort) == [("ann", "01-a", "on_time_kernel", 0.0, "manual")]


def test_a_kaggle_kernel_earns_on_time_credit_only_for_its_owner(cohort: Cohort) -> None:
    at = datetime(2027, 1, 12, 10, tzinfo=UTC)
    # bob sends ann's kernel, then the starter's address; he has no kaggle_username at all
    sent = intake.submit(cohort, "bob", "1", None, "https://www.kaggle.com/code/annk/my-reg", at=at)
    assert sent.warnings[-1].startswith(
        "the notebook belongs to Kaggle user 'annk' and your kaggle_username is blank"
    )
    starter = "https://www.kaggle.com/code/your-kaggle-username/cohort-01-a"
    intake.submit(cohort, "bob", "1", None, starter, at=at)
    # ann sends the starter's address: accepted, with a warning, and no credit
    sent = intake.submit(cohort, "ann", "1", None, starter, at=at)
    assert sent.warnings == [
        "the notebook belongs to Kaggle user 'your-kaggle-username', not to you ('annk'); "
        "it earns no on-time credit."
    ]
    assert _current(cohort) == []


def test_help_rows_repeat_but_reimporting_them_does_not(cohort: Cohort, tmp_path: Path) -> None:
    path = tmp_path / "help.csv"
    path.write_text("Timestamp,handle,count\n1/12/2027 10:00:00,ann,1\n1/13/2027 10:00:00,ann,2\n")
    assert contributions.import_csv(cohort, path, "helped").added == 2
    assert contributions.import_csv(cohort, path, "helped").added == 0
    assert _current(cohort) == [
        ("ann", "01-a", "helped", 1.0, "import"),
        ("ann", "01-a", "helped", 2.0, "import"),
    ]
