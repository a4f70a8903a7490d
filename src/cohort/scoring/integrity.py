"""`cohort check`: stored files, rows and scores agree; `--repair` removes what nothing needs.

Intake never deletes a stored file (another intake of the same bytes may have committed
it); a refused or killed intake can leave an orphan file or a temp file behind. This is the
one place that removes them, holding the stored files' guard alone so no intake is midway.
Problems that only a backup can fix (a referenced file missing or corrupted) are reported,
never "repaired".
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cohort.scoring import parsed as files
from cohort.store import integrity as store_integrity
from cohort.store import scores as store_scores
from cohort.workspace import Cohort


@dataclass(frozen=True)
class Finding:
    """One thing `cohort check` found; `repairable` ones `--repair` removes."""

    kind: str  # missing_file, corrupt_file, orphan_file, orphan_parsed, temp_file, infinite_score, dangling_row
    what: str
    message: str
    repairable: bool


@dataclass
class CheckReport:
    """What `cohort check` found and, with --repair, removed."""

    findings: list[Finding] = field(default_factory=list)
    repaired: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_checked: int = 0

    @property
    def consistent(self) -> bool:
        """True when nothing is left to fix."""
        return not self.findings

    def as_dict(self) -> dict[str, object]:
        """The report for --json."""
        return {
            "consistent": self.consistent,
            "files_checked": self.files_checked,
            "findings": [asdict(f) for f in self.findings],
            "repaired": [asdict(f) for f in self.repaired],
            "notes": self.notes,
        }


def check(cohort: Cohort, repair: bool = False) -> CheckReport:
    """Compare stored files with the rows that reference them, and scores with the rules."""
    with files.files_guard(cohort, exclusive=repair, sweep=False):
        report = CheckReport()
        with cohort.store.transaction() as tx:
            wanted = store_integrity.files_by_week(tx)
            infinite = store_integrity.non_finite_scores(tx)
            dangling = store_integrity.dangling_rows(tx)
            pending = store_integrity.pending_count(tx)
            interrupted = store_scores.open_rescore(tx)
        found = _check_files(cohort, wanted, report)
        found += [
            Finding(
                "infinite_score",
                f"submission {sid}",
                f"Submission {sid} has an infinite stored score; run `cohort score --rescore`.",
                False,
            )
            for sid in infinite
        ]
        if dangling:
            found.append(
                Finding(
                    "dangling_row",
                    f"{dangling} rows",
                    f"{dangling} scores or submissions point at rows that do not exist; "
                    "restore a backup.",
                    False,
                )
            )
        if pending:
            report.notes.append(f"{pending} submission(s) not scored yet; run `cohort score`.")
        if interrupted is not None:
            report.notes.append(
                "A rescore was interrupted; run `cohort score --rescore` to resume it."
            )
        for finding in found:
            if repair and finding.repairable:
                Path(finding.what).unlink(missing_ok=True)
                report.repaired.append(finding)
            else:
                report.findings.append(finding)
        return report


def _check_files(cohort: Cohort, wanted: dict[str, set[str]], report: CheckReport) -> list[Finding]:
    found: list[Finding] = []
    root = cohort.config.submissions_dir
    known_weeks = {w.id for w in cohort.config.weeks}
    for week_id in sorted(set(wanted) | _week_dirs(root)):
        shas = wanted.get(week_id, set())
        if week_id not in known_weeks:
            if shas:
                report.notes.append(
                    f"Week '{week_id}' has {len(shas)} stored file(s) but is not in cohort.toml; "
                    "left as they are."
                )
            continue
        folder = root / week_id
        on_disk = _raw_files(folder)
        for sha in sorted(shas):
            path = on_disk.get(sha)
            report.files_checked += 1
            if path is None:
                found.append(
                    Finding(
                        "missing_file",
                        f"{week_id}/{sha[:12]}",
                        f"Stored file {sha[:12]} of week '{week_id}' is missing from {folder}; "
                        "restore it from a backup.",
                        False,
                    )
                )
            elif _sha256(path) != sha:
                found.append(
                    Finding(
                        "corrupt_file",
                        str(path),
                        f"Stored file {path} does not match its sha256 (it was changed or "
                        "damaged); restore it from a backup.",
                        False,
                    )
                )
        for sha, path in sorted(on_disk.items()):
            if sha not in shas:
                found.append(_orphan("orphan_file", path))
        for path in sorted(_entries(folder / "parsed")):
            if path.name.startswith(files.TEMP_PREFIX):
                continue
            if path.name.split("-", 1)[0] not in shas:
                found.append(_orphan("orphan_parsed", path))
    found += [
        Finding(
            "temp_file",
            str(tmp),
            f"Temp file {tmp} was left by a killed writer; `cohort check --repair` removes it.",
            True,
        )
        for tmp in _stale_temps(root)
    ]
    return found


def _orphan(kind: str, path: Path) -> Finding:
    return Finding(
        kind,
        str(path),
        f"Stored file {path} belongs to no submission (a refused or interrupted intake); "
        "`cohort check --repair` removes it.",
        True,
    )


def _stale_temps(root: Path) -> list[Path]:
    import os
    import time

    now, out = time.time(), []
    for week in _week_dirs(root):
        for place in (root / week, root / week / "parsed"):
            for path in _entries(place):
                if path.name.startswith(files.TEMP_PREFIX):
                    try:
                        mtime = os.stat(path).st_mtime
                    except FileNotFoundError:
                        continue
                    if files.writer_gone(path.name, now, mtime):
                        out.append(path)
    return sorted(out)


def _week_dirs(root: Path) -> set[str]:
    if not root.is_dir():
        return set()
    return {p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")}


def _entries(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in folder.iterdir() if p.is_file()]


def _raw_files(folder: Path) -> dict[str, Path]:
    """sha -> stored raw file (any of the stored suffixes) in a week's folder."""
    out = {}
    for path in _entries(folder):
        if path.name.startswith("."):
            continue
        for suffix in files.SUFFIXES:
            if path.name.endswith(suffix):
                out[path.name[: -len(suffix)]] = path
                break
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
