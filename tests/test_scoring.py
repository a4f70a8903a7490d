"""Scoring runs, leaderboards, reveal, final selections, overrides and history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from cohort.errors import CohortError, IntakeRefused, ValidationError
from cohort.scoring import boards, intake, runs, solution
from cohort.sheets.roster import import_roster
from cohort.store import audit
from cohort.workspace import Cohort
from tests.conftest import write_roster

IDS = [f"s{i}" for i in range(8)]
TRUTH = np.arange(8.0)
PUBLIC = ["Public"] * 4 + ["Private"] * 4
T0 = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)


def _write_solution(c: Cohort, truth: np.ndarray) -> None:
    path = c.root / "data/01-reg/solution.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": IDS, "target": truth, "Usage": PUBLIC}).to_csv(path, index=False)


@pytest.fixture
def cohort(make_cohort) -> Cohort:
    root = make_cohort({"01-reg": {"metric": "mae", "targets": ("target",), "daily_limit": 20}})
    write_roster(
        root,
        [
            ("ann", "Ann Lee", "ann@example.org", ""),
            ("bob", "Bob Ray", "bob@example.org", ""),
            ("cy", "Cy Dee", "cy@example.org", ""),
        ],
    )
    c = Cohort.open(root)
    import_roster(c.store, root / "members.csv")
    _write_solution(c, TRUTH)
    return c


def _reveal(c: Cohort) -> None:
    """An early reveal a day after T0 (the week is open then): it closes the week."""
    boards.reveal(c, "1", "organizer", close_now=True, at=T0 + timedelta(days=1))


def _submit(
    c: Cohort,
    handle: str,
    public_err: float,
    private_err: float,
    minutes: int = 0,
    score: bool = True,
) -> int:
    values = TRUTH + np.array([public_err] * 4 + [private_err] * 4)
    data = (
        "id,target\n" + "\n".join(f"{i},{float(v)!r}" for i, v in zip(IDS, values, strict=True))
    ).encode()
    at = T0 + timedelta(minutes=minutes)
    return intake.submit_bytes(c, handle, "1", data, "s.csv", at=at, score=score).submission_id


def _board(c: Cohort, private: bool = False) -> list[tuple[int, str, float]]:
    return [
        (r.rank, r.handle, round(r.score, 6))
        for r in boards.leaderboard(c, "1", private=private).rows
    ]


def test_public_board_has_one_row_per_member_with_best_score(cohort: Cohort) -> None:
    _submit(cohort, "ann", 2.0, 0.0, 0)
    _submit(cohort, "ann", 0.5, 3.0, 1)
    _submit(cohort, "bob", 1.0, 1.0, 2)
    board = boards.leaderboard(cohort, "1")
    assert [(r.rank, r.handle, r.score, r.entries) for r in board.rows] == [
        (1, "ann", 0.5, 2),
        (2, "bob", 1.0, 1),
    ]
    assert board.rows[0].last_submitted_at == T0 + timedelta(minutes=1)
    assert (board.metric, board.direction, board.revealed) == ("mae", "min", False)


def test_ties_rank_the_earlier_submission_higher(cohort: Cohort) -> None:
    _submit(cohort, "bob", 1.0, 1.0, 5)
    _submit(cohort, "ann", 1.0, 1.0, 7)
    _submit(cohort, "cy", 1.0, 1.0, 3)
    assert [h for _, h, _ in _board(cohort)] == ["cy", "bob", "ann"]


def test_private_board_is_hidden_before_reveal(cohort: Cohort) -> None:
    _submit(cohort, "ann", 1.0, 1.0)
    with pytest.raises(CohortError) as info:
        boards.leaderboard(cohort, "1", private=True)
    assert str(info.value) == (
        "Week '01-reg' private leaderboard is hidden until the week is revealed "
        "(it closes 2027-01-18 00:00 CET); the organizer can run `cohort reveal 01-reg`."
    )


def test_week_is_revealed_after_close_or_explicitly(cohort: Cohort) -> None:
    assert not boards.is_revealed(cohort, "1", now=T0)
    assert boards.is_revealed(cohort, "1", now=datetime(2027, 1, 18, tzinfo=UTC))
    _reveal(cohort)
    assert boards.is_revealed(cohort, "1", now=T0)
    with cohort.store.transaction() as tx:
        entries = [(e.action, e.target) for e in audit.entries(tx) if e.action != "roster_import"]
        assert entries == [("reveal", "01-reg")]


def test_private_board_uses_best_public_n_and_shows_shake_up(cohort: Cohort) -> None:
    _submit(cohort, "ann", 0.1, 5.0, 0)  # best public, worst private
    _submit(cohort, "ann", 0.2, 4.0, 1)
    _submit(cohort, "ann", 0.9, 0.0, 2)  # not among ann's best 2 public: does not count
    _submit(cohort, "bob", 0.5, 1.0, 3)
    _reveal(cohort)
    board = boards.leaderboard(cohort, "1", private=True)
    assert [(r.rank, r.handle, r.score, r.public_rank, r.rank_change) for r in board.rows] == [
        (1, "bob", 1.0, 2, 1),
        (2, "ann", 4.0, 1, -1),
    ]
    assert boards.counted_submissions(cohort, "1") == {"ann": [1, 2], "bob": [4]}


def test_select_final_changes_what_counts(cohort: Cohort) -> None:
    _submit(cohort, "ann", 0.1, 5.0, 0)
    third = _submit(cohort, "ann", 0.9, 0.0, 2)
    boards.select_final(cohort, "ann", "1", [third])
    assert boards.counted_submissions(cohort, "1") == {"ann": [third]}
    _reveal(cohort)
    assert _board(cohort, private=True) == [(1, "ann", 0.0)]


def test_select_final_limits(cohort: Cohort) -> None:
    ids = [_submit(cohort, "ann", e, e, i) for i, e in enumerate((0.1, 0.2, 0.3))]
    bobs = _submit(cohort, "bob", 0.1, 0.1, 9)
    with pytest.raises(ValidationError) as info:
        boards.select_final(cohort, "ann", "1", ids)
    assert str(info.value) == "Week '01-reg' allows 1 to 2 final selections, got 3; pass fewer ids."
    with pytest.raises(ValidationError) as info:
        boards.select_final(cohort, "ann", "1", [bobs])
    assert str(info.value) == (
        "Submission 4 is not a file submission of 'ann' for week '01-reg'; "
        "pick ids from the member's history."
    )
    _reveal(cohort)
    with pytest.raises(IntakeRefused) as info:
        boards.select_final(cohort, "ann", "1", ids[:1])
    assert (
        str(info.value)
        == "Week '01-reg' is already revealed; final selections can no longer change."
    )


def test_score_pending_scores_what_intake_left(cohort: Cohort) -> None:
    _submit(cohort, "ann", 1.0, 2.0, score=False)
    _submit(cohort, "bob", 0.5, 2.0, 1, score=False)
    assert _board(cohort) == []
    assert not boards.week_has_scores(cohort, "1")
    report = runs.score_pending(cohort, progress=False)
    assert (report.scored, report.errors, report.weeks) == (2, 0, {"01-reg": 2})
    assert _board(cohort) == [(1, "bob", 0.5), (2, "ann", 1.0)]
    assert boards.week_has_scores(cohort, "1")
    assert runs.score_pending(cohort, progress=False).scored == 0


def test_rescore_is_idempotent(cohort: Cohort) -> None:
    for i in range(3):
        _submit(cohort, "ann", 0.1 * (i + 1), 0.2, i)
    before = _board(cohort)
    for _ in range(2):
        report = runs.score_pending(cohort, rescore=True, progress=False)
        assert (report.scored, report.rank_changes) == (3, [])
    assert _board(cohort) == before
    with cohort.store.transaction() as tx:
        from cohort.store.tables import Score

        assert tx.query(Score).count() == 3


def test_changed_solution_is_never_mixed_and_reports_rank_changes(cohort: Cohort) -> None:
    _submit(cohort, "ann", 1.0, 0.0, 0)
    _submit(cohort, "bob", 2.0, 0.0, 1)
    _write_solution(cohort, TRUTH + np.array([2.0] * 4 + [0.0] * 4))  # a fixed solution
    # Until rescored, the board still shows the old solution's scores only.
    _submit(cohort, "cy", 3.0, 0.0, 2)
    assert _board(cohort) == [(1, "ann", 1.0), (2, "bob", 2.0)]
    report = runs.score_pending(cohort, progress=False)
    assert report.scored == 2
    assert _board(cohort) == [(1, "bob", 0.0), (2, "ann", 1.0), (3, "cy", 1.0)]
    changes = {(c.handle, c.old_rank, c.new_rank) for c in report.rank_changes}
    assert changes == {("ann", 1, 2), ("bob", 2, 1), ("cy", None, 3)}


def test_rank_changes_are_the_boards_read_from_the_store_before_and_after(
    cohort: Cohort,
) -> None:
    # The report is computed from the board before the run and this run's scores (one read
    # of the week); it must say what reading both boards from the store says, overrides too.
    _submit(cohort, "ann", 0.5, 0.5, 0)
    _submit(cohort, "ann", 2.0, 2.0, 1)
    bob = _submit(cohort, "bob", 1.0, 1.5, 2)
    _submit(cohort, "cy", 1.5, 3.0, 3)
    boards.override_score(cohort, bob, 0.05, 2.5, "a mislabeled row", "organizer")
    _reveal(cohort)

    def ranks() -> dict[str, dict[str, int]]:  # the boards members see
        return {
            board: {r.handle: r.rank for r in boards.leaderboard(cohort, "1", private=p).rows}
            for board, p in (("public", False), ("private", True))
        }

    before = ranks()
    _write_solution(cohort, TRUTH + 2.0)
    report = runs.score_pending(cohort, progress=False)
    expected = list(runs._diff("01-reg", before, ranks()))
    assert {c.board for c in expected} == {"public", "private"}
    assert report.rank_changes == expected


def test_a_fixed_metric_makes_old_scores_stale_like_a_fixed_solution(cohort: Cohort) -> None:
    _submit(cohort, "ann", 1.0, 0.0, 0)
    _submit(cohort, "bob", 2.0, 0.0, 1)
    week_toml = cohort.root / "weeks/01-reg/week.toml"
    week_toml.write_text(week_toml.read_text().replace('metric = "mae"', 'metric = "rmse"'))
    fixed = Cohort.open(cohort.root)
    assert solution.load_solution(fixed, "1").sha256 != solution.load_solution(cohort, "1").sha256
    assert runs.score_pending(fixed, progress=False).scored == 2
    assert runs.score_pending(fixed, progress=False).scored == 0


def test_killed_rescore_resumes_where_it_stopped(cohort: Cohort, monkeypatch) -> None:
    for i in range(4):
        _submit(cohort, "ann" if i % 2 else "bob", 0.1 * (i + 1), 0.2, i)
    real_values, real_batch = runs.score_values, runs._score_batch
    # A metric fix: every score changes, so the rescore has to write every row.
    monkeypatch.setattr(
        runs, "score_values", lambda sol, stack: tuple(x + 1 for x in real_values(sol, stack))
    )
    monkeypatch.setattr(runs, "BATCH", 1)
    calls = []

    def dies_on_third(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_batch(*args)

    monkeypatch.setattr(runs, "_score_batch", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        runs.score_pending(cohort, rescore=True, progress=False)
    monkeypatch.setattr(runs, "_score_batch", real_batch)
    report = runs.score_pending(cohort, rescore=True, progress=False)
    assert (report.resumed, report.scored) == (True, 2)
    assert _board(cohort) == [(1, "bob", 1.1), (2, "ann", 1.2)]
    assert runs.score_pending(cohort, rescore=True, progress=False).resumed is False


@pytest.mark.parametrize(
    "values",
    [
        np.arange(5, dtype=np.float64) / 3,
        np.array([3, 0, 36], dtype=np.int16),
        np.arange(12, dtype=np.float64).reshape(4, 3),
        np.empty(0, dtype=np.float64),
    ],
)
def test_parsed_copies_are_written_byte_for_byte_as_np_save_writes_them(values) -> None:
    import io

    from cohort.scoring import parsed

    ours, numpy_s = io.BytesIO(), io.BytesIO()
    parsed.write_npy(ours, values)
    np.save(numpy_s, values)
    assert ours.getvalue() == numpy_s.getvalue()


def test_override_score_wins_and_is_audited(cohort: Cohort) -> None:
    sid = _submit(cohort, "ann", 1.0, 1.0)
    _submit(cohort, "bob", 0.5, 1.0, 1)
    boards.override_score(cohort, sid, 0.1, 0.2, "solution row 3 was mislabeled", "organizer")
    assert _board(cohort) == [(1, "ann", 0.1), (2, "bob", 0.5)]
    with cohort.store.transaction() as tx:
        entry = audit.entries(tx)[0]
    assert (entry.action, entry.target, entry.detail["reason"]) == (
        "override_score",
        "1",
        "solution row 3 was mislabeled",
    )
    with pytest.raises(ValidationError) as info:
        boards.override_score(cohort, sid, 0.1, 0.2, " ", "organizer")
    assert str(info.value) == "Override of submission 1 needs a reason; pass --reason."


@pytest.mark.parametrize(
    ("public", "private", "message"),
    [
        (None, None, "Override of submission 1 sets no score; pass --public, --private or both."),
        (
            float("inf"),
            None,
            "Override of submission 1: --public inf is not a finite number; "
            "pass the corrected score as an ordinary number.",
        ),
        (
            0.1,
            float("nan"),
            "Override of submission 1: --private nan is not a finite number; "
            "pass the corrected score as an ordinary number.",
        ),
    ],
)
def test_a_bad_override_is_refused_and_nothing_is_recorded(
    cohort: Cohort, public: float | None, private: float | None, message: str
) -> None:
    sid = _submit(cohort, "ann", 1.0, 1.0)
    with pytest.raises(ValidationError) as info:
        boards.override_score(cohort, sid, public, private, "row 3 was mislabeled", "organizer")
    assert str(info.value) == message
    assert _board(cohort) == [(1, "ann", 1.0)]
    with cohort.store.transaction() as tx:
        assert [e.action for e in audit.entries(tx) if e.action != "roster_import"] == []


def test_an_override_of_one_score_is_enough(cohort: Cohort) -> None:
    sid = _submit(cohort, "ann", 1.0, 1.0)
    boards.override_score(cohort, sid, 0.4, None, "row 3 was mislabeled", "organizer")
    assert _board(cohort) == [(1, "ann", 0.4)]


def test_member_history_hides_private_until_reveal(cohort: Cohort) -> None:
    _submit(cohort, "ann", 1.0, 2.0, 0)
    intake.submit(
        cohort, "ann", "1", None, "https://www.kaggle.com/code/ann/x", at=T0 + timedelta(minutes=5)
    )
    hist = boards.member_history(cohort, "ann", include_private=False)
    assert list(hist.columns) == boards.HISTORY_COLUMNS
    assert hist["status"].tolist() == ["notebook", "scored"]
    assert hist["public_score"].iloc[1] == 1.0 and hist["private_score"].isna().all()
    assert (
        boards.member_history(cohort, "ann", include_private=True)["private_score"].iloc[1] == 2.0
    )
    _reveal(cohort)
    assert (
        boards.member_history(cohort, "ann", include_private=False)["private_score"].iloc[1] == 2.0
    )


def test_classification_week_scores_labels(make_cohort) -> None:
    root = make_cohort({"02-cls": {"metric": "macro_f1", "targets": ("label",)}})
    write_roster(root, [("ann", "Ann Lee", "", "")])
    c = Cohort.open(root)
    import_roster(c.store, root / "members.csv")
    (root / "data/02-cls").mkdir(parents=True)
    truth = ["cat", "dog", "cat", "bird", "dog", "cat"]
    pd.DataFrame({"id": range(6), "label": truth, "Usage": ["Public"] * 6}).to_csv(
        root / "data/02-cls/solution.csv", index=False
    )
    pred = ["cat", "dog", "dog", "bird", "dog", "cat"]
    data = ("id,label\n" + "\n".join(f"{i},{p}" for i, p in enumerate(pred))).encode()
    result = intake.submit_bytes(c, "ann", "2", data, "s.csv", at=T0)
    from sklearn.metrics import f1_score

    assert result.public_score == pytest.approx(f1_score(truth, pred, average="macro"))


def test_progress_bar_is_quiet_in_ci_and_off_a_terminal(monkeypatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(runs.sys.stderr, "isatty", lambda: True)
    assert not runs._quiet()
    monkeypatch.setenv("CI", "true")
    assert runs._quiet()
    monkeypatch.delenv("CI")
    monkeypatch.setattr(runs.sys.stderr, "isatty", lambda: False)
    assert runs._quiet()


def test_rescore_rebuilds_missing_parsed_files_and_flags_lost_ones(cohort: Cohort) -> None:
    keep = _submit(cohort, "ann", 0.5, 0.5, 0)
    lost = _submit(cohort, "bob", 1.0, 1.0, 1)
    for npy in cohort.config.submissions_dir.rglob("*.npy"):
        npy.unlink()
    with cohort.store.transaction() as tx:
        from cohort.store import submissions as store_subs

        lost_sha = store_subs.get(tx, lost).file_sha256
    (cohort.config.submissions_dir / f"01-reg/{lost_sha}.csv").unlink()
    report = runs.score_pending(cohort, rescore=True, progress=False)
    assert (report.scored, report.errors) == (1, 1)
    history = boards.member_history(cohort, "bob", include_private=True)
    assert history["status"].tolist() == ["error"]
    assert (
        history["error"]
        .iloc[0]
        .startswith(f"Stored file {lost_sha[:12]} of week '01-reg' is missing from ")
    )
    assert len(list(cohort.config.submissions_dir.rglob("*.npy"))) == 1
    assert keep == 1


def test_a_rescore_refused_up_front_leaves_no_trace(cohort: Cohort) -> None:
    _submit(cohort, "ann", 1.0, 0.0, 0)
    with cohort.store.transaction() as tx:
        before = audit.entries(tx)
    (cohort.root / "data/01-reg/solution.csv").write_text(
        "id,Usage\ns0,Public\n"
    )  # the target column lost
    with pytest.raises(CohortError, match=r"solution\.csv has no column 'target'"):
        runs.score_pending(cohort, rescore=True, progress=False)
    with cohort.store.transaction() as tx:
        assert audit.entries(tx) == before
