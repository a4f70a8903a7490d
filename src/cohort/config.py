"""Loading and validating cohort.toml and weeks/NN-slug/week.toml.

Every setting is declared once, here, with its default and help text. Errors name
the file, the key and the fix, so an organizer never has to read a traceback.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cohort.errors import ConfigError, NotFound

COHORT_FILE = "cohort.toml"
WEEK_FILE = "week.toml"
WEEK_DIR_RE = re.compile(r"^(\d{2})-([a-z0-9][a-z0-9-]*)$")

# Metric names the scorer knows; kept here so config validation needs no numpy import.
METRICS = {
    "accuracy": "max",
    "error_rate": "min",
    "macro_f1": "max",
    "log_loss": "min",
    "roc_auc": "max",
    "mae": "min",
    "rmse": "min",
    "rmsle": "min",
}

CONTRIBUTION_KINDS = {
    "attended": "attended the workshop",
    "presented": "presented their code at the workshop",
    "on_time_kernel": "kernel submitted on time (derived from submissions)",
    "beyond_minimum": "went beyond the minimum requirement",
    "challenge_rank": "workshop coding-challenge rank",
    "helped": "helped others, e.g. answered a question",
}

TIE_BREAKS = ("performance", "contributions", "earliest_submission", "handle")

# Each resample re-ranks the whole season; beyond this the standings take minutes for no gain.
MAX_BOOTSTRAP_SAMPLES = 100_000
MAX_SEED = 2**32 - 1

# ------------------------------------------------------------------ every setting, declared once
# A check takes the value and returns (problem, fix) when it is wrong, else None.
Check = Callable[[Any], "tuple[str, str] | None"]


class Required:
    """The default of a key the file must set."""

    def __repr__(self) -> str:
        return "(required)"


class Derived:
    """A default computed at load from other settings; `text` says from what (for the docs)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


REQUIRED = Required()


@dataclass(frozen=True)
class Setting:
    """One key of cohort.toml or week.toml: its type, default, check and help text."""

    file: str  # COHORT_FILE or WEEK_FILE
    key: str  # dotted within the file: "final_size", "competition.daily_limit"
    kind: str  # string, integer, number, boolean, date, strings, numbers, when
    default: Any
    help: str
    check: Check | None = None
    fix_missing: str = ""  # how to add the key, for a required one


def at_least(low: float, fix: str) -> Check:
    """Values below `low` are refused with `fix`."""
    return lambda v: None if v >= low else (f"is {v}", fix)


def between(low: float, high: float, fix: str, *, open_ends: bool = False) -> Check:
    """Values outside [low, high] (or (low, high) with open_ends) are refused with `fix`."""
    if open_ends:
        return lambda v: None if low < v < high else (f"is {v}", fix)
    return lambda v: None if low <= v <= high else (f"is {v}", fix)


def _one_of(values: Any, fix: str) -> Check:
    return lambda v: None if v in values else (f"is {v!r}", fix)


def _timezone(value: str) -> tuple[str, str] | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"is {value!r}, not a timezone", 'use an IANA name such as "Europe/Amsterdam"'
    return None


def _non_empty(fix: str) -> Check:
    return lambda v: None if v else ("is empty", fix)


def _tie_rules(value: tuple[str, ...]) -> tuple[str, str] | None:
    bad = [t for t in value if t not in TIE_BREAKS]
    if bad:
        return f"names unknown rule {bad[0]!r}", "use rules from: " + ", ".join(TIE_BREAKS)
    return None


def _samples(value: int) -> tuple[str, str] | None:
    if value < 10:
        return f"is {value}", "use at least 10 resamples"
    if value > MAX_BOOTSTRAP_SAMPLES:
        return f"is {value}", f"use at most {MAX_BOOTSTRAP_SAMPLES:,} resamples (200 is plenty)"
    return None


def _points(value: list[Any]) -> tuple[str, str] | None:
    ok = all(
        isinstance(p, int | float) and not isinstance(p, bool) and math.isfinite(p) and p >= 0
        for p in value
    )
    return None if ok else (f"is {value!r}", "list zero-or-positive numbers, e.g. [3, 2, 1]")


def _webhook(value: str) -> tuple[str, str] | None:
    if value and not value.startswith(("https://", "http://")):
        return (
            f"is {value!r}",
            "use the https:// URL of a Slack or Discord incoming webhook, or leave it empty",
        )
    return None


WEEKS_FIX = 'list the week directories, e.g. weeks = ["01-pets"]'
WHEN = "days after the cohort start (7), a date (2027-01-18) or a datetime (2027-01-18T18:00)"
WEIGHT_DEFAULTS = {
    "attended": 1.0,
    "presented": 3.0,
    "on_time_kernel": 2.0,
    "beyond_minimum": 2.0,
    "challenge_rank": 1.0,
    "helped": 1.0,
}

# To add a setting: add one line here, then read it in the loader below with r.setting(key)
# and run `.venv/bin/python tools/config_reference.py` to refresh the README's reference.
# fmt: off
SETTINGS: tuple[Setting, ...] = (
    Setting(COHORT_FILE, "name", "string", REQUIRED, "the cohort's name"),
    Setting(COHORT_FILE, "timezone", "string", "UTC", "IANA zone in which deadlines and daily limits are counted", _timezone),
    Setting(COHORT_FILE, "start", "date", REQUIRED, "first day of week 1; week dates count from it", fix_missing="write it as start = 2027-01-11"),
    Setting(COHORT_FILE, "weeks", "strings", REQUIRED, "the season's week directories (NN-slug), in order", _non_empty(WEEKS_FIX), WEEKS_FIX),
    Setting(COHORT_FILE, "final", "string", "", "the final project's week directory (none when empty)"),
    Setting(COHORT_FILE, "final_size", "integer", 8, "how many members `cohort select` picks for the final", at_least(1, "use a positive number of members")),
    Setting(COHORT_FILE, "kaggle_owner", "string", "", "Kaggle account owning the starter kernels (else the signed-in user)"),
    Setting(COHORT_FILE, "webhook_url", "string", "", "Slack or Discord incoming-webhook URL that `cohort announce --post` posts to (none when empty)", _webhook),
    Setting(COHORT_FILE, "formula.performance_weight", "number", 10.0, "a week's points = weight x percentile rank (private after reveal)", at_least(0, "use zero or a positive number")),
    Setting(COHORT_FILE, "formula.drop_lowest_week", "boolean", False, "leave out each member's lowest week"),
    Setting(COHORT_FILE, "formula.tie_break", "strings", TIE_BREAKS, "order of rules for equal totals ('handle' is always appended last)", _tie_rules),
    Setting(COHORT_FILE, "formula.bootstrap_samples", "integer", 200, f"resamples of the private test rows for the tie check (10 to {MAX_BOOTSTRAP_SAMPLES:,})", _samples),
    Setting(COHORT_FILE, "formula.stable_probability", "number", 0.9, "a pair at the cut is a statistical tie below this probability of keeping its order", between(0.5, 1.0, "use a probability between 0.5 and 1")),
    Setting(COHORT_FILE, "formula.challenge_points", "numbers", (3.0, 2.0, 1.0), "units a coding-challenge rank earns: rank 1 the first, and so on; later ranks 0", _points),
    *(
        Setting(COHORT_FILE, f"formula.weights.{kind}", "number", weight, f"points per event: {CONTRIBUTION_KINDS[kind]}", at_least(0, "weights must be zero or positive"))
        for kind, weight in WEIGHT_DEFAULTS.items()
    ),
    Setting(WEEK_FILE, "title", "string", REQUIRED, "the week's title"),
    Setting(WEEK_FILE, "opens", "when", 0, f"when submissions open: {WHEN}"),
    Setting(WEEK_FILE, "closes", "when", 7, "when submissions close (exclusive: a file at that instant is refused); after opens"),
    Setting(WEEK_FILE, "framework", "string", "", "the framework the starter kernel uses (fastai, pytorch, ...)"),
    Setting(WEEK_FILE, "objectives", "strings", (), "what members learn this week"),
    Setting(WEEK_FILE, "minimum", "string", "", "the assignment's minimum"),
    Setting(WEEK_FILE, "beyond", "strings", (), "ways to go beyond the minimum"),
    Setting(WEEK_FILE, "competition.metric", "string", REQUIRED, "the metric: " + ", ".join(METRICS), _one_of(METRICS, "use one of: " + ", ".join(METRICS)), 'add metric = "accuracy" (or mae, rmse, ...)'),
    Setting(WEEK_FILE, "competition.id_column", "string", "id", "the id column of solution and submission files"),
    Setting(WEEK_FILE, "competition.target_columns", "strings", ("target",), "the predicted columns", _non_empty("name at least one target column")),
    Setting(WEEK_FILE, "competition.direction", "string", Derived("the metric's"), '"max" or "min": which scores are better', _one_of(("max", "min"), 'use "max" or "min"')),
    Setting(WEEK_FILE, "competition.daily_limit", "integer", 5, "files a member may submit per day, counted in the cohort's timezone", at_least(1, "allow at least 1 submission a day")),
    Setting(WEEK_FILE, "competition.final_selections", "integer", 2, "submissions a member may select for the private board", at_least(1, "allow at least 1 final selection")),
    Setting(WEEK_FILE, "competition.public_share", "number", 0.3, "share of the test rows on the public board", between(0.0, 1.0, "use a fraction between 0 and 1, e.g. 0.3", open_ends=True)),
    Setting(WEEK_FILE, "competition.max_file_mb", "number", 20.0, "largest submission file accepted, in MB", lambda v: None if v > 0 else (f"is {v}", "use a positive size in MB")),
    Setting(WEEK_FILE, "competition.classes", "strings", (), "allowed labels of a classification week (empty: those in solution.csv)"),
    Setting(WEEK_FILE, "competition.plausible_best", "number", None, "the best score the organizers think possible (e.g. a little better than the best model they know); `cohort flags` lists better scores (none: no ceiling)"),
    Setting(WEEK_FILE, "data.kaggle_dataset", "string", "", "the Kaggle dataset holding the real data (owner/slug)"),
    Setting(WEEK_FILE, "data.kaggle_competition", "string", "", "the Kaggle competition holding the real data"),
    Setting(WEEK_FILE, "data.embedded", "string", "", "what the embedded default is built from (for the README)"),
    Setting(WEEK_FILE, "data.seed", "integer", 42, "seed of the train/test split and the public/private split", lambda v: None if 0 <= v <= MAX_SEED else (f"is {v}, out of range", "use a whole number from 0 to 4294967295")),
    Setting(WEEK_FILE, "data.publish_public", "boolean", False, "`cohort kaggle publish-data` makes the week's dataset public (default private)"),
    Setting(WEEK_FILE, "kernel.slug", "string", Derived("`cohort-<week id>`"), "the starter kernel's Kaggle slug"),
    Setting(WEEK_FILE, "kernel.title", "string", Derived("the week's title"), "the starter kernel's Kaggle title"),
    Setting(WEEK_FILE, "kernel.enable_gpu", "boolean", False, "run the starter kernel on a GPU"),
    Setting(WEEK_FILE, "kernel.enable_internet", "boolean", False, "give the starter kernel internet access"),
)
# fmt: on
DECLARED = {(s.file, s.key): s for s in SETTINGS}


def default(file: str, key: str) -> Any:
    """The declared default of one setting (the dataclasses below take theirs from here)."""
    return DECLARED[(file, key)].default


def _shown(value: Any) -> str:
    """A default as it would be written in TOML, for the reference."""
    if isinstance(value, Required | Derived):
        return repr(value)
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple | list):
        return "`[" + ", ".join(_shown(v).strip("`") for v in value) + "]`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{value}`"


def reference() -> str:
    """The README's configuration reference, generated from SETTINGS (tools/config_reference.py)."""
    out = []
    for file in (COHORT_FILE, WEEK_FILE):
        where = "the cohort root" if file == COHORT_FILE else "each `weeks/NN-slug/`"
        out += [
            f"`{file}` ({where}):",
            "",
            "| key | type | default | meaning |",
            "|---|---|---|---|",
        ]
        for s in SETTINGS:
            if s.file == file:
                out.append(f"| `{s.key}` | {s.kind} | {_shown(s.default)} | {s.help} |")
        out.append("")
    return "\n".join(out)


def _week_default(key: str) -> Any:
    return field(default=default(WEEK_FILE, key))


@dataclass(frozen=True)
class Competition:
    """A week's competition settings ([competition] in week.toml)."""

    metric: str
    id_column: str = _week_default("competition.id_column")
    target_columns: tuple[str, ...] = _week_default("competition.target_columns")
    direction: str = "max"  # derived from the metric at load
    daily_limit: int = _week_default("competition.daily_limit")
    final_selections: int = _week_default("competition.final_selections")
    public_share: float = _week_default("competition.public_share")
    max_file_mb: float = _week_default("competition.max_file_mb")
    # For classification metrics: the allowed labels (strings). Empty means "from solution.csv".
    classes: tuple[str, ...] = _week_default("competition.classes")
    # A score better than this is flagged for the organizer (`cohort flags`); None: no ceiling.
    plausible_best: float | None = _week_default("competition.plausible_best")


@dataclass(frozen=True)
class DataSources:
    """Where a week's data comes from ([data] in week.toml)."""

    kaggle_dataset: str = _week_default("data.kaggle_dataset")
    kaggle_competition: str = _week_default("data.kaggle_competition")
    embedded: str = _week_default("data.embedded")
    seed: int = _week_default("data.seed")
    publish_public: bool = _week_default("data.publish_public")


@dataclass(frozen=True)
class KernelSettings:
    """How the week's starter kernel is published on Kaggle ([kernel] in week.toml)."""

    slug: str = ""  # derived from the week id at load
    title: str = ""  # derived from the week's title at load
    enable_gpu: bool = _week_default("kernel.enable_gpu")
    enable_internet: bool = _week_default("kernel.enable_internet")


@dataclass(frozen=True)
class Week:
    """One weekly module, loaded from weeks/NN-slug/week.toml."""

    id: str
    number: int
    slug: str
    title: str
    path: Path
    opens_at: datetime
    closes_at: datetime
    competition: Competition
    data: DataSources
    kernel: KernelSettings
    objectives: tuple[str, ...] = ()
    framework: str = ""
    minimum: str = ""
    beyond: tuple[str, ...] = ()
    final: bool = False

    def is_closed(self, now: datetime) -> bool:
        """True once the submission window has closed."""
        return now >= self.closes_at


@dataclass(frozen=True)
class Formula:
    """The published season formula ([formula] in cohort.toml)."""

    performance_weight: float = default(COHORT_FILE, "formula.performance_weight")
    contribution_weights: dict[str, float] = field(
        default_factory=lambda: {
            kind: default(COHORT_FILE, f"formula.weights.{kind}") for kind in WEIGHT_DEFAULTS
        }
    )
    drop_lowest_week: bool = default(COHORT_FILE, "formula.drop_lowest_week")
    tie_break: tuple[str, ...] = default(COHORT_FILE, "formula.tie_break")
    bootstrap_samples: int = default(COHORT_FILE, "formula.bootstrap_samples")
    stable_probability: float = default(COHORT_FILE, "formula.stable_probability")
    challenge_points: tuple[float, ...] = default(COHORT_FILE, "formula.challenge_points")


SUBMISSIONS_ENV = "COHORT_SUBMISSIONS_DIR"


@dataclass(frozen=True)
class CohortConfig:
    """The season, loaded from cohort.toml at the cohort root."""

    root: Path
    name: str
    timezone: str
    start: date
    week_ids: tuple[str, ...]
    final_week_id: str | None
    final_size: int
    kaggle_owner: str
    formula: Formula
    weeks: tuple[Week, ...]
    webhook_url: str = ""

    @property
    def tz(self) -> ZoneInfo:
        """The cohort's timezone, in which deadlines and daily limits are counted."""
        return ZoneInfo(self.timezone)

    @property
    def season_weeks(self) -> tuple[Week, ...]:
        """The weeks that count in the season standings (not the final project)."""
        return tuple(w for w in self.weeks if not w.final)

    @property
    def final_week(self) -> Week | None:
        """The final-project week, if the season has one."""
        return next((w for w in self.weeks if w.final), None)

    def week(self, ref: str) -> Week:
        """Find a week by id ('01-pets'), number ('1') or slug ('pets')."""
        ref = str(ref).strip()
        for w in self.weeks:
            if ref in (w.id, w.slug, str(w.number), f"{w.number:02d}") or (
                w.final and ref == "final"
            ):
                return w
        known = ", ".join(w.id for w in self.weeks)
        raise NotFound(f"No week '{ref}' in this cohort; use one of: {known}.")

    @property
    def data_dir(self) -> Path:
        """Built competition data, hidden solutions included."""
        return self.root / "data"

    @property
    def submissions_dir(self) -> Path:
        """Members' files, stored by content hash: COHORT_SUBMISSIONS_DIR if set (a persistent
        path on a hosted app, docs/hosting.md), else submissions/ in the cohort."""
        import os

        return Path(os.environ.get(SUBMISSIONS_ENV) or self.root / "submissions")

    def week_data_dir(self, week: Week) -> Path:
        """data/<week>/ for one week."""
        return self.data_dir / week.id

    def solution_path(self, week: Week) -> Path:
        """The hidden solution file of one week."""
        return self.week_data_dir(week) / "solution.csv"


class _Reader:
    """Reads typed keys from one TOML table and names the file and key in every error."""

    def __init__(self, path: Path, table: dict[str, Any], prefix: str = "") -> None:
        self.path = path
        self.table = table
        self.prefix = prefix
        self.seen: set[str] = set()

    def _where(self, key: str) -> str:
        return f"{self.path}: key '{self.prefix}{key}'"

    def fail(self, key: str, problem: str, fix: str) -> ConfigError:
        """Build the one-line error for a bad key."""
        return ConfigError(f"{self._where(key)} {problem}; {fix}.")

    def get(
        self, key: str, kind: type | tuple[type, ...], default: Any = ..., fix: str = ""
    ) -> Any:
        """Return the key's value, checked against `kind`, or the default."""
        self.seen.add(key)
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "is missing", fix or f"add {key} = ... to the file")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        name = _kind_name(kind)
        if isinstance(value, bool) and kind is not bool and bool not in _as_tuple(kind):
            raise self.fail(
                key, f"is {value!r}, not {_article(name)} {name}", fix or "fix its type"
            )
        if not isinstance(value, kind):
            raise self.fail(
                key, f"is {value!r}, not {_article(name)} {name}", fix or "fix its type"
            )
        if isinstance(value, float) and not math.isfinite(value):
            # nan/inf are valid TOML floats but poison every total (and JSON output) downstream.
            raise self.fail(
                key, f"is {value!r}, not a finite number", fix or "use an ordinary number"
            )
        return value

    def setting(self, key: str, derived: Any = ...) -> Any:
        """A declared setting (see SETTINGS): its kind, default and check; `derived` is the
        default of a key whose default comes from other settings."""
        declared = DECLARED[(self.path.name, self.prefix + key)]
        base = derived if isinstance(declared.default, Derived) else declared.default
        base = ... if base is REQUIRED else base
        if declared.kind in ("strings", "numbers"):
            value = self.get(key, list, ... if base is ... else list(base), declared.fix_missing)
            if declared.kind == "strings" and not all(isinstance(v, str) for v in value):
                raise self.fail(key, "must be a list of strings", 'write it as ["a", "b"]')
            value = tuple(value) if declared.kind == "strings" else value
        else:
            value = self.get(key, _KINDS[declared.kind], base, declared.fix_missing)
        if declared.check is not None and (problem := declared.check(value)):
            raise self.fail(key, *problem)
        return value

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A list of strings."""
        value = self.get(key, list, list(default))
        if not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings", 'write it as ["a", "b"]')
        return tuple(value)

    def table_of(self, key: str) -> _Reader:
        """A nested table as its own reader."""
        value = self.get(key, dict, {})
        return _Reader(self.path, value, f"{self.prefix}{key}.")

    def reject_unknown(self) -> None:
        """Unknown keys are usually typos; name them rather than ignore them."""
        unknown = sorted(set(self.table) - self.seen)
        if unknown:
            key = unknown[0]
            raise self.fail(key, "is not a known setting", "remove it or check its spelling")


_KINDS: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "date": date,
    "when": (int, date, datetime, str),
}


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        list: "list",
        dict: "table",
        date: "date",
        datetime: "datetime",
    }
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def _article(word: str) -> str:
    """'a' or 'an' by the word's first letter, for messages like 'not an integer'."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path} not found; run `cohort init` or check the cohort directory.")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix the syntax there.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text; save it as UTF-8.") from None


def find_root(start: Path | None = None) -> Path:
    """The nearest directory at or above `start` that holds a cohort.toml."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / COHORT_FILE).is_file():
            return candidate
    raise ConfigError(
        f"No {COHORT_FILE} in {here} or its parents; run `cohort init` or pass --root."
    )


def load(root: Path) -> CohortConfig:
    """Load and validate the cohort at `root`, its weeks included."""
    path = root / COHORT_FILE
    r = _Reader(path, _read_toml(path))
    name = r.setting("name")
    tz_name = r.setting("timezone")
    start = r.setting("start")
    if isinstance(start, datetime):
        start = start.date()
    week_ids = r.setting("weeks")
    final_id = r.setting("final") or None
    final_size = r.setting("final_size")
    owner = r.setting("kaggle_owner")
    webhook = r.setting("webhook_url")
    formula = _load_formula(r.table_of("formula"))
    r.reject_unknown()
    tz = ZoneInfo(tz_name)
    ids = list(week_ids) + ([final_id] if final_id else [])
    if len(set(ids)) != len(ids):
        raise r.fail("weeks", "lists a week twice", "list each week directory once")
    weeks = tuple(
        _load_week(root, wid, start, tz, final=(wid == final_id), where=path) for wid in ids
    )
    return CohortConfig(
        root=root,
        name=name,
        timezone=tz_name,
        start=start,
        week_ids=tuple(week_ids),
        final_week_id=final_id,
        final_size=final_size,
        kaggle_owner=owner,
        formula=formula,
        weeks=weeks,
        webhook_url=webhook,
    )


def _load_formula(r: _Reader) -> Formula:
    weights_r = r.table_of("weights")
    for kind in weights_r.table:
        if kind not in CONTRIBUTION_KINDS:
            raise weights_r.fail(
                kind, "is not a contribution kind", "use one of: " + ", ".join(CONTRIBUTION_KINDS)
            )
    weights = {kind: weights_r.setting(kind) for kind in WEIGHT_DEFAULTS}
    tie_break = r.setting("tie_break")
    if "handle" not in tie_break:
        # The handle is unique, so ending on it makes every ordering total and reproducible.
        tie_break = (*tie_break, "handle")
    formula = Formula(
        performance_weight=r.setting("performance_weight"),
        contribution_weights=weights,
        drop_lowest_week=r.setting("drop_lowest_week"),
        tie_break=tie_break,
        bootstrap_samples=r.setting("bootstrap_samples"),
        stable_probability=r.setting("stable_probability"),
        challenge_points=tuple(float(p) for p in r.setting("challenge_points")),
    )
    r.reject_unknown()
    return formula


def _when(r: _Reader, key: str, start: date, tz: ZoneInfo) -> datetime:
    """A date, a datetime, or an offset in days after the cohort start; midnight-based, local time."""
    value = r.get(
        key,
        _KINDS["when"],
        default(WEEK_FILE, key),
        fix="use days after the cohort start (7), a date (2027-01-18) or a datetime",
    )
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise r.fail(
                key,
                f"is {value!r}",
                "use days after start (7) or an ISO date like 2027-01-18T18:00",
            ) from None
    if isinstance(value, bool):
        raise r.fail(key, "is a boolean", "use a number of days or a date")
    try:
        if isinstance(value, int):
            value = start + timedelta(days=value)
        when = value if isinstance(value, datetime) else datetime.combine(value, time(0), tz)
        when = when if when.tzinfo else when.replace(tzinfo=tz)
        when.astimezone(UTC)  # a date at the calendar's edge may not convert; fail here, not later
        return when
    except (OverflowError, ValueError):
        raise r.fail(
            key, "is out of range", "use days after the start, a date or a datetime"
        ) from None


def _load_week(
    root: Path, week_id: str, start: date, tz: ZoneInfo, final: bool, where: Path
) -> Week:
    match = WEEK_DIR_RE.match(week_id)
    if not match:
        raise ConfigError(
            f"{where}: week '{week_id}' is not a week directory name; use NN-slug, e.g. 01-pets."
        )
    path = root / "weeks" / week_id / WEEK_FILE
    if not path.is_file():
        raise ConfigError(f"{where}: week '{week_id}' has no {path}; create it or remove the week.")
    r = _Reader(path, _read_toml(path))
    title = r.setting("title")
    opens = _when(r, "opens", start, tz)
    closes = _when(r, "closes", start, tz)
    if closes <= opens:
        raise r.fail("closes", "is not after 'opens'", "make the week close after it opens")
    comp = _load_competition(r.table_of("competition"))
    data_r = r.table_of("data")
    data = DataSources(
        kaggle_dataset=data_r.setting("kaggle_dataset"),
        kaggle_competition=data_r.setting("kaggle_competition"),
        embedded=data_r.setting("embedded"),
        seed=data_r.setting("seed"),
        publish_public=data_r.setting("publish_public"),
    )
    data_r.reject_unknown()
    kr = r.table_of("kernel")
    kernel = KernelSettings(
        slug=kr.setting("slug", derived=f"cohort-{week_id}"),
        title=kr.setting("title", derived=title),
        enable_gpu=kr.setting("enable_gpu"),
        enable_internet=kr.setting("enable_internet"),
    )
    kr.reject_unknown()
    week = Week(
        id=week_id,
        number=int(match.group(1)),
        slug=match.group(2),
        title=title,
        path=path.parent,
        opens_at=opens,
        closes_at=closes,
        competition=comp,
        data=data,
        kernel=kernel,
        objectives=r.setting("objectives"),
        framework=r.setting("framework"),
        minimum=r.setting("minimum"),
        beyond=r.setting("beyond"),
        final=final,
    )
    r.reject_unknown()
    return week


def _load_competition(r: _Reader) -> Competition:
    metric = r.setting("metric")
    comp = Competition(
        metric=metric,
        id_column=r.setting("id_column"),
        target_columns=r.setting("target_columns"),
        direction=r.setting("direction", derived=METRICS[metric]),
        daily_limit=r.setting("daily_limit"),
        final_selections=r.setting("final_selections"),
        public_share=r.setting("public_share"),
        max_file_mb=r.setting("max_file_mb"),
        classes=r.setting("classes"),
        plausible_best=r.setting("plausible_best"),
    )
    r.reject_unknown()
    return comp
