"""Creating a cohort directory from the repository's template."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from cohort.config import COHORT_FILE
from cohort.errors import Conflict, NotFound, StorageError, ValidationError

# The repository is the template: editable installs find it two levels above the package.
REPO = Path(__file__).resolve().parents[2]

MEMBERS_HEADER = "handle,name,email,kaggle_username\n"


def template_weeks() -> Path:
    """The weeks/ directory the tool ships with."""
    weeks = REPO / "weeks"
    if not weeks.is_dir():
        raise NotFound(f"No weeks/ template at {weeks}; run cohort from a clone of its repository.")
    return weeks


def init_cohort(
    directory: Path, name: str, start: str = "2027-01-11", db: str | None = None
) -> Path:
    """Write cohort.toml, members.csv, weeks/ and submissions/ into `directory`."""
    directory = directory.resolve()
    if (directory / COHORT_FILE).exists():
        raise Conflict(f"{directory / COHORT_FILE} already exists; choose an empty directory.")
    template = (REPO / COHORT_FILE).read_text(encoding="utf-8")
    lines = [
        f'name = "{_toml_escape(name)}"'
        if line.startswith("name = ")
        else f"start = {start}"
        if line.startswith("start = ")
        else line
        for line in template.splitlines()
    ]
    if directory.exists() and not directory.is_dir():
        raise ValidationError(
            f"{directory} is a file, not a directory; choose a new or empty directory for the cohort."
        )
    _write_files(directory, template_weeks(), "\n".join(lines) + "\n")
    from cohort.workspace import Cohort

    Cohort.open(directory, db).store.dispose()  # validates the config and creates the store
    return directory


def _write_files(directory: Path, weeks: Path, cohort_toml: str) -> None:
    """Write the cohort's files; on an OS error, say where and remove a directory made here."""
    created = not directory.exists()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copytree(
            weeks,
            directory / "weeks",
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "build"),
        )
        (directory / "submissions").mkdir(exist_ok=True)
        if not (directory / "members.csv").exists():
            (directory / "members.csv").write_text(MEMBERS_HEADER, encoding="utf-8")
        (directory / COHORT_FILE).write_text(cohort_toml, encoding="utf-8")
        if not (directory / "Makefile").exists():
            (directory / "Makefile").write_text(cohort_makefile(), encoding="utf-8")
    except OSError as exc:  # shutil.Error, from copytree, is an OSError too
        if created:
            shutil.rmtree(directory, ignore_errors=True)
        why = exc.strerror or "copying the weeks failed"
        raise StorageError(
            f"Cannot create the cohort in {directory} ({why}); choose a directory you can write to."
        ) from None


def _toml_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def cohort_makefile() -> str:
    """A cohort's own habit sheet: the organizer's commands, run with the cohort that made it."""
    cohort = Path(sys.executable).with_name("cohort")
    return MAKEFILE.replace("@COHORT@", str(cohort))


MAKEFILE = """\
# This cohort's habits (written by `cohort init`). COHORT is the cohort command that made it.
COHORT ?= @COHORT@
PORT ?= 8501
HOST ?= 127.0.0.1

.PHONY: help score status app backup

help:
\t@echo "make score   score every new submission"
\t@echo "make status  the current week at a glance"
\t@echo "make app     the leaderboard app (PORT=8501, HOST=0.0.0.0 for a workshop LAN)"
\t@echo "make backup  the whole season into backups/season-<time>.tar.gz (keep it secret)"

score:
\t$(COHORT) --root . score

status:
\t$(COHORT) --root . status

app:
\t$(COHORT) --root . app --port $(PORT) --host $(HOST)

backup:
\tmkdir -p backups
\t$(COHORT) --root . backup backups/season-$$(date +%Y%m%d-%H%M%S).tar.gz
"""
