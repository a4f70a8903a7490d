"""Preparing a week's competition data, and the fast baseline the demo submits.

Each weekly module holds a `prepare.py` with two loaders (the real Kaggle files
under data/raw/<week>/, or the embedded default that needs no network) and one
writer they share. This module runs it into a scratch folder, adds what every
week has (solution.csv with its seeded Public/Private split, sample_submission.csv),
applies the refuse-overwrite rule, and only then swaps the folder into place, so
a failed prepare leaves data/<week>/ as it was.

The seed a week's build receives is not week.toml's `[data] seed` alone (that file is
public: anyone with the template could rebuild the hidden ids, split and answers), but
that seed mixed with the cohort's secret, data/.cohort-secret: random, written once at
the first prepare, kept in the season backup. Two cohorts from the same template get
different hidden data; re-preparing one cohort gives the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from cohort.errors import CohortError, ConfigError, Conflict, NotFound, ValidationError
from cohort.weeks.contract import Built, call, load_module

if TYPE_CHECKING:
    import pandas as pd

    from cohort.config import Week
    from cohort.workspace import Cohort
CLASSIFICATION_METRICS = {"accuracy", "error_rate", "macro_f1", "log_loss", "roc_auc"}
# numpy and scikit-learn take seeds in [0, 2**32); outside it they fail with their own internals.
MAX_SEED = 2**32 - 1
# The cohort's secret, under data/ (git-ignored, in the season backup); see the module text.
SECRET_FILE = ".cohort-secret"


@dataclass(frozen=True)
class PrepareReport:
    """The outcome of `prepare`: where the data is and what it holds."""

    week: str
    directory: Path
    source: str
    seed: int
    train_rows: int
    test_rows: int
    public_rows: int
    files: tuple[str, ...]
    solution_sha256: str
    changed: bool  # the solution differs from the one it replaced (or there was none)
    warnings: list[str] = field(default_factory=list)


def is_classification(week: Week) -> bool:
    """True when the week's metric scores labels rather than numbers."""
    return week.competition.metric in CLASSIFICATION_METRICS


def raw_dir_for(cohort: Cohort, week: Week, raw_dir: Path | None = None) -> Path | None:
    """The real data to build from: `raw_dir`, else data/raw/<week>/ if it holds files, else None."""
    if raw_dir is not None:
        if not raw_dir.is_dir():
            raise NotFound(
                f"Raw data folder {raw_dir} does not exist; check the path or leave it out."
            )
        return raw_dir
    default = cohort.config.data_dir / "raw" / week.id
    if default.is_dir() and any(default.iterdir()):
        return default
    return None


def prepare(
    cohort: Cohort,
    week_ref: str,
    force: bool = False,
    seed: int | None = None,
    raw_dir: Path | None = None,
) -> PrepareReport:
    """Build data/<week>/ from the real data when present, else the embedded default."""
    week = cohort.config.week(week_ref)
    seed = week.data.seed if seed is None else seed
    if not 0 <= seed <= MAX_SEED:
        raise ValidationError(
            f"Seed {seed} is out of range; use a whole number from 0 to {MAX_SEED}."
        )
    module = load_module(week)
    raw = raw_dir_for(cohort, week, raw_dir)
    target = cohort.config.week_data_dir(week)
    target.parent.mkdir(parents=True, exist_ok=True)
    secret_seed = build_seed(cohort_secret(cohort), week.id, seed)
    scratch = target.parent / f".{week.id}.building-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    try:
        built = _run_build(week, module, raw, scratch, secret_seed)
        check_built(week, built)
        public = write_answers(week, built, scratch, secret_seed)
        sha = _sha256(scratch / "solution.csv")
        scored, warnings = _overwrite_check(cohort, week, sha, force)
        changed = _current_sha(cohort, week) != sha
        _swap_in(scratch, target)
        if changed:
            _audit(cohort, week, built.source, seed, sha, scored)
        if changed or stored_baseline(cohort, week.id) is None:
            record_baseline(cohort, week.id)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return PrepareReport(
        week=week.id,
        directory=target,
        source=built.source,
        seed=seed,
        train_rows=len(built.train_targets),
        test_rows=len(built.solution),
        public_rows=public,
        files=(*built.files, "sample_submission.csv"),
        solution_sha256=sha,
        changed=changed,
        warnings=warnings,
    )


def cohort_secret(cohort: Cohort) -> str:
    """The cohort's secret from data/.cohort-secret, created (random, owner-only) if absent."""
    path = cohort.config.data_dir / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another prepare wrote it a moment ago
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"Cannot read the cohort's secret {path} ({exc}); restore it from the season backup."
        ) from None
    if not text:
        raise ConfigError(
            f"The cohort's secret {path} is empty; restore it from the season backup "
            "(or delete it before the first prepare to draw a new one)."
        )
    return text


def write_secret(cohort: Cohort, secret: str) -> None:
    """Set the cohort's secret (the demo writes a fixed one so its data is reproducible)."""
    path = cohort.config.data_dir / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secret + "\n", encoding="utf-8")
    path.chmod(0o600)


def build_seed(secret: str, week_id: str, seed: int) -> int:
    """The seed a week's build and split receive: week.toml's seed mixed with the secret."""
    digest = hashlib.sha256(f"{secret}\0{week_id}\0{seed}".encode()).digest()
    return int.from_bytes(digest[:4], "big")  # in [0, 2**32), as numpy needs


def _run_build(week: Week, module: ModuleType, raw: Path | None, out: Path, seed: int) -> Built:
    """Run the week's build, turning a library error on bad input into one line."""
    try:
        built: Built = call(week, module, "build", raw, out, seed)
    except CohortError:
        raise
    except (OSError, ValueError, KeyError, IndexError) as exc:
        source = raw or "the embedded data"
        raise ValidationError(
            f"Week '{week.id}' could not be prepared from {source} ({type(exc).__name__}: {exc}); "
            "check that the files are laid out as Kaggle ships them."
        ) from None
    return built


def check_built(week: Week, built: Built) -> None:
    """A prepare.py must return the week's id and target columns, with unique ids."""
    comp = week.competition
    expected = [comp.id_column, *comp.target_columns]
    if list(built.solution.columns) != expected:
        raise ConfigError(
            f"Week '{week.id}' prepare.py returned solution columns {list(built.solution.columns)}, "
            f"not {expected}; make prepare.py match week.toml's id_column and target_columns."
        )
    if built.solution[comp.id_column].duplicated().any() or built.solution.empty:
        raise ConfigError(
            f"Week '{week.id}' prepare.py returned an empty or duplicated test set; fix prepare.py."
        )


def trivial_values(week: Week, train_targets: pd.DataFrame) -> dict[str, Any]:
    """The trivial baseline: the majority class, or the median target, of the training rows."""
    if is_classification(week):
        # Ties go to the smallest label, so the choice does not depend on row order.
        return {
            c: sorted(
                train_targets[c].astype(str).value_counts().loc[lambda s: s == s.max()].index
            )[0]
            for c in week.competition.target_columns
        }
    return {
        c: float(train_targets[c].astype(float).median()) for c in week.competition.target_columns
    }


def write_answers(week: Week, built: Built, out: Path, seed: int) -> int:
    """Write solution.csv (with the seeded Usage split) and sample_submission.csv; return the public count."""
    import numpy as np

    comp = week.competition
    n = len(built.solution)
    rng = np.random.default_rng([seed, 20270111])
    n_public = min(max(1, round(comp.public_share * n)), n - 1) if n > 1 else n
    usage = np.full(n, "Private", dtype=object)
    usage[rng.permutation(n)[:n_public]] = "Public"
    solution = built.solution.copy()
    solution["Usage"] = usage
    solution.to_csv(out / "solution.csv", index=False)
    sample = built.solution[[comp.id_column]].copy()
    for column, value in trivial_values(week, built.train_targets).items():
        sample[column] = value
    sample.to_csv(out / "sample_submission.csv", index=False)
    return n_public


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _current_sha(cohort: Cohort, week: Week) -> str | None:
    path = cohort.config.solution_path(week)
    return _sha256(path) if path.is_file() else None


def _overwrite_check(
    cohort: Cohort, week: Week, new_sha: str, force: bool
) -> tuple[int, list[str]]:
    """Refuse to replace a solution that has scored submissions, unless forced; (scored, warnings)."""
    current = _current_sha(cohort, week)
    if current is None or current == new_sha:
        return 0, []
    from cohort.store.submissions import count_scored

    with cohort.store.transaction() as tx:
        scored = count_scored(tx, week.id)
    if scored == 0:
        return 0, []
    if not force:
        raise Conflict(
            f"Week '{week.id}' solution already has {scored} scored submissions and this prepare "
            "would change it; rerun with --force to replace it (all its submissions are then rescored)."
        )
    return scored, [
        f"Week '{week.id}' solution replaced while {scored} submissions were scored against it; "
        "run `cohort score --rescore` to rescore them."
    ]


def _audit(cohort: Cohort, week: Week, source: str, seed: int, sha: str, scored: int) -> None:
    """Leave a trace of every new solution, so a changed leaderboard can be explained."""
    from cohort.store import audit
    from cohort.workspace import utcnow

    with cohort.store.transaction() as tx:
        audit.record(
            tx,
            utcnow(),
            "organizer",
            "prepare",
            week.id,
            source=source,
            seed=seed,
            solution_sha256=sha,
            replaced_scored=scored,
        )


def _swap_in(scratch: Path, target: Path) -> None:
    """Replace target with scratch by renames, so readers never see a half-written folder."""
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        target.rename(old)
    try:
        scratch.rename(target)
    except OSError:
        if old.exists():
            old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def baseline_predictions(cohort: Cohort, week_ref: str) -> pd.DataFrame:
    """A fast scikit-learn baseline's predictions on the prepared test set, in submission format."""
    week = cohort.config.week(week_ref)
    directory = cohort.config.week_data_dir(week)
    if not (directory / "sample_submission.csv").is_file():
        raise NotFound(
            f"Week '{week.id}' has no prepared data in {directory}; run `cohort prepare {week.id}`."
        )
    cached = directory / BASELINE_PREDICTIONS
    if cached.is_file() and stored_baseline(cohort, week.id) is not None:
        import pandas as pd

        kept: pd.DataFrame = pd.read_csv(cached, dtype={week.competition.id_column: str})
        if is_classification(week):
            kept = kept.astype({c: str for c in week.competition.target_columns})
        return kept
    frame: pd.DataFrame = call(week, load_module(week), "baseline", directory)
    expected = [week.competition.id_column, *week.competition.target_columns]
    return frame[expected].reset_index(drop=True)


# The baseline model is trained once, when the week is prepared; pages read its stored score.
BASELINE_SCORE = "baseline.json"
BASELINE_PREDICTIONS = "baseline.csv"


def record_baseline(cohort: Cohort, week_ref: str) -> dict[str, Any] | None:
    """Train the week's baseline once and store its predictions and scores beside the solution.

    Returns the stored record, or None for a week whose module has no working baseline
    (its pages then show no baseline line).
    """
    import json

    from cohort.scoring import runs, validation
    from cohort.scoring.solution import load_solution

    week = cohort.config.week(week_ref)
    directory = cohort.config.week_data_dir(week)
    try:
        solution = load_solution(cohort, week.id)
        frame: pd.DataFrame = call(week, load_module(week), "baseline", directory)
        frame = frame[[week.competition.id_column, *week.competition.target_columns]]
        data = frame.to_csv(index=False).encode()
        public, private = runs.score_values(
            solution, validation.parse(data, BASELINE_PREDICTIONS, solution).values[None]
        )
    except Exception:  # noqa: BLE001 - a week without a usable baseline still prepares
        return None
    record = {
        "week": week.id,
        # The file's own hash, as the prepare report and `stored_baseline` read it.
        "solution_sha256": _current_sha(cohort, week),
        "public_score": None if public[0] != public[0] else float(public[0]),
        "private_score": None if private[0] != private[0] else float(private[0]),
    }
    (directory / BASELINE_PREDICTIONS).write_bytes(data)
    (directory / BASELINE_SCORE).write_text(json.dumps(record, indent=2) + "\n")
    return record


def stored_baseline(cohort: Cohort, week_ref: str) -> dict[str, Any] | None:
    """The baseline scores stored when the week was prepared, if they match today's solution."""
    import json

    week = cohort.config.week(week_ref)
    path = cohort.config.week_data_dir(week) / BASELINE_SCORE
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    current = _current_sha(cohort, week)
    if not isinstance(record, dict) or record.get("solution_sha256") != current:
        return None
    return record
