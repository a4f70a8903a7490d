"""`cohort bundle`: exactly what members get of a week's data, ready to publish as a Kaggle dataset.

A bundle is data/<week>/ without the organizer's files (solution.csv, and the stored
baseline: baseline.json with its private score, baseline.csv, a ready-made strong
submission): the public files prepare wrote (train, test, images, segments) and
sample_submission.csv, plus cohort-week.json,
the marker the starter kernels look for under /kaggle/input (cohort, week id,
solution hash, the files; nothing secret). Before anything is written the files are
checked by their bytes, not their names: no file may hold solution.csv's bytes or
the hidden labels of every test row.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cohort.errors import Conflict, NotFound, ValidationError

if TYPE_CHECKING:
    from cohort.config import Week
    from cohort.workspace import Cohort

MARKER = "cohort-week.json"
SOLUTION = "solution.csv"
# What prepare writes for the organizer only: the answers and the stored baseline (its
# private score, and predictions that would be a strong submission handed to everyone).
ORGANIZER_FILES = frozenset({SOLUTION, "baseline.json", "baseline.csv"})
# Files above this size are not scanned for labels: a CSV of test labels is small, and
# LANL's train.csv (gigabytes) is the training signal, published on purpose.
SCAN_LIMIT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Bundle:
    """A written bundle: where, what, and the marker's content."""

    week: str
    directory: Path
    files: tuple[str, ...]  # relative to directory, the marker included
    solution_sha256: str
    total_bytes: int


def default_dir(cohort: Cohort, week: Week) -> Path:
    """data/bundle/<week>/: where `cohort bundle` writes when no folder is given."""
    return cohort.config.data_dir / "bundle" / week.id


def member_files(data: Path) -> list[Path]:
    """Every file of a prepared week's folder that members get: all but the organizer's files
    (solution.csv, baseline.json, baseline.csv) and dot-files."""
    return sorted(
        p
        for p in data.rglob("*")
        if p.is_file()
        and p.relative_to(data).as_posix() not in ORGANIZER_FILES
        and not any(part.startswith(".") for part in p.relative_to(data).parts)
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _answers(solution: Path, week: Week) -> dict[str, tuple[str, ...]]:
    """id -> the hidden target values, as text."""
    comp = week.competition
    with solution.open(newline="", encoding="utf-8") as handle:
        return {
            row[comp.id_column]: tuple(row[c] for c in comp.target_columns)
            for row in csv.DictReader(handle)
        }


def _holds_labels(path: Path, week: Week, answers: dict[str, tuple[str, ...]]) -> bool:
    """True when a CSV gives the hidden target of every test row (a copy of the answers)."""
    comp = week.competition
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields = set(reader.fieldnames or [])
            if comp.id_column not in fields or not set(comp.target_columns) <= fields:
                return False
            found = {
                row[comp.id_column]: tuple(row[c] for c in comp.target_columns) for row in reader
            }
    except (UnicodeDecodeError, csv.Error):
        return False
    return all(_same(found.get(i), v) for i, v in answers.items())


def _same(found: tuple[str, ...] | None, hidden: tuple[str, ...]) -> bool:
    if found is None:
        return False
    for a, b in zip(found, hidden, strict=True):
        if a != b:
            try:
                if float(a) != float(b):
                    return False
            except ValueError:
                return False
    return True


def check_no_answers(files: list[Path], solution: Path, week: Week) -> None:
    """Refuse, in one line, a file that holds solution.csv's bytes or every hidden label."""
    secret = solution.read_bytes()
    answers = _answers(solution, week)
    for path in files:
        if path.stat().st_size > SCAN_LIMIT_BYTES:
            continue
        data = path.read_bytes()
        if secret in data or (path.suffix.lower() == ".csv" and _holds_labels(path, week, answers)):
            raise Conflict(
                f"Week '{week.id}': {path} holds the hidden answers of solution.csv; remove it from "
                f"{path.parent} (or run `cohort prepare {week.id}` again) before bundling."
            )


def _place(source: Path, target: Path) -> None:
    """A hard link where the file system allows (prepared files are never rewritten), else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def bundle(
    cohort: Cohort, week_ref: str, directory: Path | None = None, actor: str = "organizer"
) -> Bundle:
    """Write the week's member files and its marker into `directory` (replaced as a whole; audited)."""
    week = cohort.config.week(week_ref)
    data = cohort.config.week_data_dir(week)
    solution = data / SOLUTION
    if not solution.is_file() or not (data / "sample_submission.csv").is_file():
        raise NotFound(
            f"Week '{week.id}' has no prepared data in {data}; run `cohort prepare {week.id}` first."
        )
    target = directory or default_dir(cohort, week)
    if target.resolve() == data.resolve() or data.resolve() in target.resolve().parents:
        raise ValidationError(
            f"Bundle folder {target} is inside the week's data {data}; choose another folder."
        )
    if target.exists() and not target.is_dir():
        raise ValidationError(f"Bundle folder {target} is a file; give a folder.")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise Conflict(
            f"Bundle folder {target} holds other files; give an empty or new folder "
            "(an earlier bundle there is replaced)."
        )
    files = member_files(data)
    check_no_answers(files, solution, week)
    sha = _sha256(solution)
    names = [p.relative_to(data).as_posix() for p in files]
    marker = {"cohort": cohort.config.name, "week": week.id, "solution_sha256": sha, "files": names}
    scratch = target.parent / f".{target.name}.bundling-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        for path, name in zip(files, names, strict=True):
            _place(path, scratch / name)
        scratch.mkdir(parents=True, exist_ok=True)
        (scratch / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    total = sum(p.stat().st_size for p in files) + (target / MARKER).stat().st_size
    from cohort.store import audit
    from cohort.workspace import utcnow

    with cohort.store.transaction() as tx:
        detail = {"directory": str(target), "files": len(names) + 1, "solution_sha256": sha}
        audit.record(tx, utcnow(), actor, "bundle", week.id, **detail)
    return Bundle(week.id, target, (*names, MARKER), sha, total)
