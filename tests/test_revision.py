"""The change stamp: every kind of write moves it; so do solution files on disk and the clock."""

from __future__ import annotations

import ast
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from cohort import revision
from cohort.sheets.roster import import_roster
from cohort.store import (
    Store,
    Tx,
    audit,
    bulk,
    challenges,
    contributions,
    extensions,
    final_entries,
    kernel_runs,
    members,
    scores,
    selections,
    submissions,
)
from cohort.store import revision as store_revision
from cohort.workspace import Cohort
from tests.conftest import write_roster

AT = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
STORE = Path(__file__).resolve().parents[1] / "src" / "cohort" / "store"


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[Store, dict[str, int]]:
    """A store with one member, one file submission, one challenge and one freeze."""
    # The Postgres lane (pytest --store=postgres) sets COHORT_DATABASE_URL to a fresh database.
    store = Store(os.environ.get("COHORT_DATABASE_URL") or f"sqlite:///{tmp_path / 'c.db'}")
    with store.transaction() as tx:
        members.upsert(tx, "ann", "Ann", "ann@example.org", "annk", AT)
        tx.flush()
        member = members.by_handle(tx, "ann").id
        sub = submissions.add(
            tx,
            member_id=member,
            week="01-test",
            submitted_at=AT,
            file_sha256="ab" * 32,
            file_name="p.csv",
            notebook_url="https://www.kaggle.com/code/annk/w1",
        )
        challenge = challenges.add(tx, "01-test", AT, AT + timedelta(minutes=30), "org").id
        freeze = selections.add_freeze(tx, AT, "org", 8, {}, "0" * 64, {}, {})
    return store, {"member": member, "sub": sub, "challenge": challenge, "freeze": freeze}


def new_event(ids: dict[str, int]) -> contributions.NewEvent:
    return contributions.NewEvent(
        member_id=ids["member"],
        week="01-test",
        kind="attended",
        value=1,
        note="",
        evidence={},
        source="cli",
        recorded_by="org",
        recorded_at=AT,
    )


def score_row(ids: dict[str, int], public: float) -> dict[str, Any]:
    return {
        "submission_id": ids["sub"],
        "solution_sha256": "cd" * 32,
        "scorer_version": "1",
        "public_score": public,
        "private_score": 0.5,
        "scored_at": AT,
    }


def final_entry(score: float) -> final_entries.FinalEntry:
    return final_entries.FinalEntry("Team Ann", "ann", score, 1, AT, "leaderboard", {}, AT)


# Every kind of write the store offers: (module.function, a call that writes).
WRITES: dict[str, Callable[[Tx, dict[str, int]], Any]] = {
    "members.upsert (import)": lambda tx, ids: members.upsert(tx, "bob", "Bob", "", "", AT),
    "members.upsert (rename)": lambda tx, ids: members.upsert(
        tx, "ann", "Ann Smith", "ann@example.org", "annk", AT
    ),
    "members.set_token_hash": lambda tx, ids: members.set_token_hash(tx, "ann", "f" * 64),
    "members.update": lambda tx, ids: members.update(tx, "ann", email="ann@new.example.org"),
    "members.set_active": lambda tx, ids: members.set_active(tx, "ann", False),
    "extensions.put": lambda tx, ids: extensions.put(
        tx, ids["member"], "01-test", AT + timedelta(days=9), "ill", "org", AT
    ),
    "submissions.add": lambda tx, ids: submissions.add(
        tx, member_id=ids["member"], week="01-test", submitted_at=AT
    ),
    "submissions.bulk_add": lambda tx, ids: submissions.bulk_add(
        tx, [{"member_id": ids["member"], "week": "01-test", "submitted_at": AT}]
    ),
    "submissions.set_status": lambda tx, ids: submissions.set_status(
        tx, {ids["sub"]: ("invalid", "bad file")}
    ),
    "submissions.set_selected": lambda tx, ids: submissions.set_selected(
        tx, ids["member"], "01-test", [ids["sub"]]
    ),
    "scores.upsert_many (new)": lambda tx, ids: scores.upsert_many(tx, [score_row(ids, 0.7)]),
    "scores.add_override": lambda tx, ids: scores.add_override(
        tx, ids["sub"], 0.9, None, "typo in the solution", "org", AT
    ),
    "scores.set_revealed (reveal)": lambda tx, ids: scores.set_revealed(tx, "01-test", AT, "org"),
    "scores.set_scored_sha (week state)": lambda tx, ids: scores.set_scored_sha(
        tx, "01-test", "ee" * 32
    ),
    "contributions.add": lambda tx, ids: contributions.add(tx, new_event(ids)),
    "contributions.add_notebook": lambda tx, ids: contributions.add_notebook(
        tx, ids["member"], "01-test", "https://x/nb", "12" * 32, "{}", {}, AT
    ),
    "kernel_runs.record_run": lambda tx, ids: kernel_runs.record_run(
        tx, ids["member"], "01-test", "annk/w1", "complete", AT
    ),
    "final_entries.replace_final_entries": lambda tx, ids: final_entries.replace_final_entries(
        tx, [final_entry(1.5)]
    ),
    "final_entries.replace_member_entries": lambda tx, ids: final_entries.replace_member_entries(
        tx, "ann", "late_submission", [final_entry(2.5)]
    ),
    "challenges.add": lambda tx, ids: challenges.add(tx, "01-test", AT, AT, "org"),
    "challenges.close": lambda tx, ids: challenges.close(tx, ids["challenge"], AT),
    "selections.add_freeze": lambda tx, ids: selections.add_freeze(
        tx, AT, "org", 8, {}, "1" * 64, {}, {}
    ),
    "selections.supersede_freeze": lambda tx, ids: selections.supersede_freeze(tx, ids["freeze"]),
    "audit.record": lambda tx, ids: audit.record(tx, AT, "org", "reveal", "01-test"),
    "bulk.insert_rows": lambda tx, ids: bulk.insert_rows(
        tx, "contributions", [{**new_event(ids).__dict__, "supersedes_id": None}]
    ),
}


def current(store: Store) -> int:
    with store.transaction() as tx:
        return store_revision.current(tx)


@pytest.mark.parametrize("write", sorted(WRITES))
def test_every_kind_of_write_moves_the_revision(seeded, write):
    store, ids = seeded
    before = current(store)
    with store.transaction() as tx:
        WRITES[write](tx, ids)
    assert current(store) > before


def test_an_update_in_place_moves_the_revision(seeded):
    # The bug this replaced: a rescore or rename changed rows without a new id.
    store, ids = seeded
    with store.transaction() as tx:
        scores.upsert_many(tx, [score_row(ids, 0.7)])
    before = current(store)
    with store.transaction() as tx:
        scores.upsert_many(tx, [score_row(ids, 0.8)])
    assert current(store) > before


def test_a_core_execute_moves_the_revision(seeded):
    store, _ = seeded
    before = current(store)
    with store.transaction() as tx:
        tx.execute(text("UPDATE members SET name = 'Ann B' WHERE handle = 'ann'"))
    assert current(store) == before + 1


def test_reads_and_rolled_back_writes_leave_it(seeded):
    store, ids = seeded
    before = current(store)
    with store.transaction() as tx:
        members.all_members(tx)
        submissions.get(tx, ids["sub"])
    with pytest.raises(RuntimeError), store.transaction() as tx:
        members.upsert(tx, "cid", "Cid", "", "", AT)
        raise RuntimeError("boom")
    assert current(store) == before


def writes_something(node: ast.FunctionDef) -> bool:
    """Whether a store function's body writes: insert/update/delete, tx.add, or a row's field."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            name = getattr(func, "attr", getattr(func, "id", ""))
            if name in {"insert", "update", "delete", "setattr"}:
                return True
            on_tx = isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "tx"
            if on_tx and func.attr in {"add", "add_all", "merge", "delete"}:
                return True
        if isinstance(sub, ast.Assign | ast.AugAssign):
            targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
            for target in targets:
                elts = target.elts if isinstance(target, ast.Tuple) else [target]
                if any(isinstance(e, ast.Attribute) for e in elts):
                    return True
    return False


def test_the_table_lists_every_writer_of_the_store():
    skip = {"__init__.py", "tables.py", "revision.py"}
    writers = set()
    for path in sorted(STORE.glob("*.py")):
        if path.name in skip:
            continue
        for node in ast.parse(path.read_text()).body:
            # Writers take the transaction first; whole-store copies (transfer) work on engines.
            public = isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
            takes_tx = public and [a.arg for a in node.args.args[:1]] == ["tx"]
            if takes_tx and writes_something(node):
                writers.add(f"{path.stem}.{node.name}")
    listed = {name.split(" ")[0] for name in WRITES}
    assert "members.upsert" in writers  # the scan sees writes
    assert sorted(writers - listed) == [], "add a case for each new writer to WRITES"


# ------------------------------------------------------------- the stamp on a real cohort


@pytest.fixture
def cohort(make_cohort) -> Cohort:
    return Cohort.open(make_cohort({"01-test": {"opens": 0, "closes": 7}}))


def write_solution(cohort: Cohort, body: str) -> None:
    path = cohort.config.solution_path(cohort.config.weeks[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    time.sleep(0.02)  # past the file system's timestamp granularity
    path.write_text(body)


def test_a_reverted_solution_file_moves_the_stamp(cohort):
    now = cohort.config.weeks[0].opens_at
    original = "id,label,Usage\n1,a,Public\n2,b,Private\n"
    write_solution(cohort, original)
    first = revision.stamp(cohort, now)
    write_solution(cohort, original.replace("2,b", "2,c"))
    edited = revision.stamp(cohort, now)
    write_solution(cohort, original)  # e.g. `git checkout` of the old file
    reverted = revision.stamp(cohort, now)
    assert first != edited != reverted


def test_a_week_closing_moves_the_stamp(cohort):
    week = cohort.config.weeks[0]
    assert revision.stamp(cohort, week.closes_at - timedelta(seconds=1)) != revision.stamp(
        cohort, week.closes_at
    )


def test_renaming_a_member_by_reimporting_the_roster_moves_the_stamp(cohort):
    now = cohort.config.weeks[0].opens_at
    import_roster(cohort.store, write_roster(cohort.root, [("ann", "Ann", "a@x.org", "")]))
    before = revision.stamp(cohort, now)
    import_roster(cohort.store, write_roster(cohort.root, [("ann", "Ann Smith", "a@x.org", "")]))
    assert revision.stamp(cohort, now) != before


def test_an_unchanged_reimport_and_reads_leave_the_stamp(cohort):
    now = cohort.config.weeks[0].opens_at
    roster = write_roster(cohort.root, [("ann", "Ann", "a@x.org", "")])
    import_roster(cohort.store, roster)
    before = revision.stamp(cohort, now)
    import_roster(cohort.store, roster)
    assert revision.stamp(cohort, now) == before
