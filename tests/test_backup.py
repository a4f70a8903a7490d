"""Backup and restore of a whole season: one archive, checked by hashes before anything is replaced."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from cohort.errors import CohortError
from cohort.scoring import boards, intake, runs
from cohort.season import contributions, selection
from cohort.sheets.backup import backup, restore_into, restore_over, sqlite_file
from cohort.sheets.roster import list_members
from cohort.workspace import Cohort

from .test_standings import IDS, build_season

pytestmark = pytest.mark.sqlite_only  # restores write SQLite files; the lane's URL is not used


@pytest.fixture
def season(make_cohort, tmp_path: Path, monkeypatch) -> Cohort:
    monkeypatch.delenv("COHORT_DATABASE_URL", raising=False)
    return build_season(make_cohort, tmp_path)


def scores(cohort: Cohort) -> pd.DataFrame:
    """Every submission's public and private score, in a stable order."""
    frames = [boards.week_frame(cohort, w) for w in cohort.config.weeks]
    frame = pd.concat(frames, ignore_index=True)
    keep = ["submission_id", "handle", "status", "scored_public", "scored_private"]
    return frame[keep].sort_values("submission_id").reset_index(drop=True)


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def files_of(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith((".", "cohort.db"))
    }


def repack(archive: Path, out: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """The archive with its members changed by `change`, the manifest's hashes made to agree."""
    with tarfile.open(archive, "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar if m.isreg()}  # type: ignore[union-attr]
    manifest = json.loads(members.pop("manifest.json"))
    change(members)
    manifest["files"] = {
        n: {"sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)} for n, b in members.items()
    }
    with tarfile.open(out, "w:gz") as tar:
        for name, data in [("manifest.json", json.dumps(manifest).encode()), *members.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def doctored_db(sql: str) -> Callable[[dict[str, bytes]], None]:
    """A change to an archive: run `sql` on its database."""

    def change(members: dict[str, bytes]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            scratch = Path(tmp) / "doctored.db"
            scratch.write_bytes(members["cohort.db"])
            conn = sqlite3.connect(scratch)
            conn.executescript(sql)
            conn.close()
            members["cohort.db"] = scratch.read_bytes()

    return change


def test_a_season_restored_into_a_new_directory_rescores_to_the_same_scores(
    season: Cohort, tmp_path: Path
) -> None:
    before = selection.select(season, top=2)
    selection.freeze(season, "lead", top=2)
    report = backup(season, tmp_path / "season.tar.gz")
    assert report.rows["members"] == 4 and report.rows["selection_freezes"] == 1
    fresh_root = tmp_path / "new-machine" / "cohort"
    restored = restore_into(tmp_path / "season.tar.gz", fresh_root)
    assert restored.rows == report.rows
    fresh = Cohort.open(fresh_root)
    assert files_of(fresh_root) == {
        k: v for k, v in files_of(season.root).items() if "/parsed/" not in k
    }
    after = selection.select(fresh, top=2)
    assert after.as_dict() == before.as_dict()
    assert selection.inputs_hash(after.standings.inputs) == selection.frozen(fresh)[0].inputs_sha256
    assert scores(fresh)["scored_private"].notna().sum() == 5
    rescored = runs.score_pending(fresh, rescore=True, progress=False)
    assert rescored.errors == 0 and rescored.scored == len(scores(season))
    pd.testing.assert_frame_equal(scores(fresh), scores(season))
    assert selection.select(fresh, top=2).as_dict() == before.as_dict()
    contributions.add(fresh, "dee", "attended", week_ref="2")  # a working cohort


def test_restoring_over_a_cohort_with_data_needs_force(season: Cohort, tmp_path: Path) -> None:
    backup(season, tmp_path / "season.tar.gz")
    contributions.add(season, "dee", "attended", week_ref="2")
    with pytest.raises(
        CohortError,
        match=r"^The database at sqlite:///.*cohort\.db already holds \d+ rows; restore into a "
        r"new directory \(--into DIR\) or pass --force to replace them\.$",
    ):
        restore_over(season, tmp_path / "season.tar.gz")
    assert len(contributions.events(season, "dee", derived=False)) == 2
    restore_over(season, tmp_path / "season.tar.gz", force=True)
    assert len(contributions.events(season, "dee", derived=False)) == 1


def test_another_cohorts_backup_is_refused_unless_forced(
    make_cohort, season: Cohort, tmp_path: Path
) -> None:
    other = build_season(make_cohort, tmp_path, name="other")
    toml = other.root / "cohort.toml"
    toml.write_text(toml.read_text().replace('name = "', 'name = "Other ', 1))
    other = Cohort.open(other.root)
    backup(other, tmp_path / "other.tar.gz")
    live = sqlite_file(season.store)
    assert live is not None
    before = dump(live)
    with pytest.raises(
        CohortError, match=r"is of cohort 'Other .*', not this cohort .* Pass --force"
    ):
        restore_over(season, tmp_path / "other.tar.gz", force=False)
    assert dump(live) == before
    report = restore_over(season, tmp_path / "other.tar.gz", force=True)
    assert report.warnings and "is of cohort 'Other" in report.warnings[0]


def test_a_backup_with_another_hidden_solution_is_refused_unless_forced(
    season: Cohort, tmp_path: Path
) -> None:
    backup(season, tmp_path / "season.tar.gz")
    solution = season.root / "data" / "01-a" / "solution.csv"
    frame = pd.read_csv(solution)
    frame.loc[0, "label"] = "zzz"
    frame.to_csv(solution, index=False)
    with pytest.raises(
        CohortError, match=r"holds a different hidden solution for week '01-a' than this cohort's"
    ):
        restore_over(season, tmp_path / "season.tar.gz", force=False)


def flip(path: Path, out: Path, at: float) -> Path:
    data = bytearray(path.read_bytes())
    i = int(len(data) * at)
    data[i : i + 4] = bytes(b ^ 0x5A for b in data[i : i + 4])
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize("at", [0.3, 0.6, 0.9])
def test_a_four_byte_corruption_is_refused_and_nothing_is_written(
    season: Cohort, tmp_path: Path, at: float
) -> None:
    good = backup(season, tmp_path / "season.tar.gz").path
    bad = flip(good, tmp_path / "bad.tar.gz", at)
    with pytest.raises(CohortError, match=r"^Backup file .*bad\.tar\.gz"):
        restore_into(bad, tmp_path / "target")
    assert not (tmp_path / "target").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            doctored_db("CREATE TABLE extra (x); CREATE VIEW everyone AS SELECT * FROM members;"),
            None,  # extra objects are simply not copied
        ),
        (
            doctored_db("ALTER TABLE contributions DROP COLUMN note;"),
            r"its database's table 'contributions' has no column 'note'; restore a complete backup\.$",
        ),
        (
            # Every head row replaced: the store has several migration heads side by side.
            doctored_db(
                "DELETE FROM alembic_version; INSERT INTO alembic_version VALUES ('ffff9999');"
            ),
            r"was written by a newer version of cohort",
        ),
        (
            lambda m: m.update({"../evil.sh": b"rm -rf ~"}),
            r"holds '\.\./evil\.sh', which is not one of the season's files",
        ),
        (
            lambda m: m.update({"data/01-a/solution.csv": b"id,label,Usage\n"}),
            r"its hidden solutions are not the ones its manifest names; the archive was altered\.$",
        ),
        (
            lambda m: m.pop(next(n for n in list(m) if n.startswith("submissions/"))),
            r"lacks the stored file .* submission; it is incomplete\.$",
        ),
    ],
)
def test_a_doctored_archive_is_refused_before_anything_is_replaced(
    season: Cohort, tmp_path: Path, change, message: str | None
) -> None:
    good = backup(season, tmp_path / "season.tar.gz").path
    bad = repack(good, tmp_path / "bad.tar.gz", change)
    live = sqlite_file(season.store)
    assert live is not None
    before, files = dump(live), files_of(season.root)
    if message is None:
        restore_over(season, bad, force=True)
        with sqlite3.connect(live) as conn:
            assert (
                conn.execute("SELECT name FROM sqlite_master WHERE name='extra'").fetchall() == []
            )
        return
    with pytest.raises(CohortError, match=message):
        restore_over(season, bad, force=True)
    assert dump(live) == before
    assert files_of(season.root) == files
    assert len(list_members(Cohort.open(season.root).store)) == 4
    assert [p.name for p in season.root.iterdir() if p.name.startswith(".restore")] == []


def test_a_trigger_in_the_backup_is_not_restored(season: Cohort, tmp_path: Path) -> None:
    good = backup(season, tmp_path / "season.tar.gz").path
    wipe = (
        "CREATE TRIGGER wipe AFTER INSERT ON submissions BEGIN "
        "DELETE FROM scores; DELETE FROM contributions; END;"
    )
    bad = repack(good, tmp_path / "bad.tar.gz", doctored_db(wipe))
    restore_over(season, bad, force=True)
    live = sqlite_file(season.store)
    with sqlite3.connect(live) as conn:  # type: ignore[arg-type]
        triggers = {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        }
    # Only the schema's own triggers (migration 0010's week revisions), rebuilt by migrating.
    assert "wipe" not in triggers and triggers
    assert all(name.startswith("week_rev_") for name in triggers)
    restored = Cohort.open(season.root)
    path = tmp_path / "again.csv"
    pd.DataFrame({"id": IDS, "label": ["cat"] * len(IDS)}).to_csv(path, index=False)
    count = len(scores(restored).dropna())
    intake.submit(restored, "dee", "1", path, at=season.config.weeks[0].opens_at)
    assert len(scores(restored).dropna()) == count + 1
    assert not contributions.events(restored, "ann", derived=False).empty


def test_a_bare_database_or_a_text_file_is_one_line(season: Cohort, tmp_path: Path) -> None:
    text = tmp_path / "notes.bak"
    text.write_text("shopping list\n" * 50)
    with pytest.raises(
        CohortError, match=r"^Backup file .*notes\.bak is corrupt or not a cohort backup \(.*\); "
    ):
        restore_into(text, tmp_path / "a")
    live = sqlite_file(season.store)
    with pytest.raises(CohortError, match=r"is a bare database \(a backup from before season"):
        restore_into(live, tmp_path / "b")  # type: ignore[arg-type]
    with pytest.raises(CohortError, match=r"missing\.bak not found; pass the file"):
        restore_into(tmp_path / "missing.bak", tmp_path / "c")
    assert not any((tmp_path / d).exists() for d in "abc")


def test_restore_into_refuses_a_directory_with_files(season: Cohort, tmp_path: Path) -> None:
    good = backup(season, tmp_path / "season.tar.gz").path
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "ch1.tex").write_text("years of work")
    with pytest.raises(CohortError, match=r"thesis is not an empty directory"):
        restore_into(good, tmp_path / "thesis")
    assert (tmp_path / "thesis" / "ch1.tex").read_text() == "years of work"


def test_backup_never_overwrites_a_file_the_live_database_or_the_season(
    season: Cohort, tmp_path: Path
) -> None:
    (tmp_path / "season.tar.gz").write_text("precious")
    with pytest.raises(
        CohortError, match=r"already exists; choose a new file name or pass --force"
    ):
        backup(season, tmp_path / "season.tar.gz")
    assert (tmp_path / "season.tar.gz").read_text() == "precious"
    live = sqlite_file(season.store)
    with pytest.raises(CohortError, match=r"is the live database itself"):
        backup(season, live, force=True)  # type: ignore[arg-type]
    with pytest.raises(CohortError, match=r"is not a regular file"):
        backup(season, tmp_path, force=True)
    with pytest.raises(CohortError, match=r"is inside the season's own files"):
        backup(season, season.root / "data" / "x.tar.gz")
    backup(season, tmp_path / "season.tar.gz", force=True)
    assert tarfile.is_tarfile(tmp_path / "season.tar.gz")


def test_a_backup_taken_after_a_bundle_restores_without_the_bundle(
    season: Cohort, tmp_path: Path
) -> None:
    """The bundle hard-links the week's files; the archive holds regular files only, leaves
    the (rebuildable) data/bundle/ out, and carries the cohort's secret."""
    from cohort.kaggle.bundle import bundle
    from cohort.weeks.prepare import SECRET_FILE, cohort_secret

    data = season.root / "data" / "01-a"
    pd.DataFrame({"id": IDS, "label": ["a"] * len(IDS)}).to_csv(
        data / "sample_submission.csv", index=False
    )
    (data / "train.csv").write_text("id,x,label\nt1,0.5,a\n")
    secret = cohort_secret(season)
    made = bundle(season, "1")
    assert (made.directory / "train.csv").stat().st_nlink == 2  # a hard link, as tar sees it
    archive = backup(season, tmp_path / "season.tar.gz").path
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
    assert all(m.isreg() for m in members)
    assert not [m.name for m in members if m.name.startswith("data/bundle/")]
    assert f"data/{SECRET_FILE}" in {m.name for m in members}
    fresh_root = tmp_path / "new-machine" / "cohort"
    restore_into(archive, fresh_root)
    restored = fresh_root / "data" / "01-a" / "train.csv"
    assert restored.read_bytes() == (data / "train.csv").read_bytes()
    assert not (fresh_root / "data" / "bundle").exists()
    assert (fresh_root / "data" / SECRET_FILE).read_text().strip() == secret
