"""Loading and validating cohort.toml and weeks/NN-slug/week.toml.

Every setting is declared once, here, with its default and help text. Errors name
the file, the key and the fix, so an organizer never has to read a traceback.
"""

from __future__ import annotations

import math
import re
import tomllib
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


@dataclass(frozen=True)
class Competition:
    """A week's competition settings ([competition] in week.toml)."""

    metric: str
    id_column: str = "id"
    target_columns: tuple[str, ...] = ("target",)
    direction: str = "max"
    daily_limit: int = 5
    final_selections: int = 2
    public_share: float = 0.3
    max_file_mb: float = 20.0
    # For classification metrics: the allowed labels (strings). Empty means "from solution.csv".
    classes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataSources:
    """Where a week's data comes from ([data] in week.toml)."""

    kaggle_dataset: str = ""
    kaggle_competition: str = ""
    embedded: str = ""
    seed: int = 42
    # `cohort kaggle publish-data` makes the week's data dataset public (default: private).
    publish_public: bool = False


@dataclass(frozen=True)
class KernelSettings:
    """How the week's starter kernel is published on Kaggle ([kernel] in week.toml)."""

    slug: str = ""
    title: str = ""
    enable_gpu: bool = False
    enable_internet: bool = False


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

    performance_weight: float = 10.0
    contribution_weights: dict[str, float] = field(
        default_factory=lambda: {
            "attended": 1.0,
            "presented": 3.0,
            "on_time_kernel": 2.0,
            "beyond_minimum": 2.0,
            "challenge_rank": 1.0,
            "helped": 1.0,
        }
    )
    drop_lowest_week: bool = False
    tie_break: tuple[str, ...] = TIE_BREAKS
    bootstrap_samples: int = 200
    stable_probability: float = 0.9
    # Units a workshop coding-challenge rank earns: rank 1 gets the first, and so on; later ranks 0.
    challenge_points: tuple[float, ...] = (3.0, 2.0, 1.0)


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
        """Members' files, stored by content hash."""
        return self.root / "submissions"

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
    name = r.get("name", str)
    tz_name = r.get("timezone", str, "UTC")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail(
            "timezone",
            f"is {tz_name!r}, not a timezone",
            'use an IANA name such as "Europe/Amsterdam"',
        ) from None
    start = r.get("start", date, fix="write it as start = 2027-01-11")
    if isinstance(start, datetime):
        start = start.date()
    if "weeks" not in r.table:
        raise r.fail("weeks", "is missing", 'list the week directories, e.g. weeks = ["01-pets"]')
    week_ids = r.strings("weeks")
    if not week_ids:
        raise r.fail("weeks", "is empty", 'list the week directories, e.g. weeks = ["01-pets"]')
    final_id = r.get("final", str, "") or None
    final_size = r.get("final_size", int, 8)
    if final_size < 1:
        raise r.fail("final_size", f"is {final_size}", "use a positive number of members")
    owner = r.get("kaggle_owner", str, "")
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
    )


def _load_formula(r: _Reader) -> Formula:
    defaults = Formula()
    weights_r = r.table_of("weights")
    weights = dict(defaults.contribution_weights)
    for kind in list(weights_r.table):
        if kind not in CONTRIBUTION_KINDS:
            raise weights_r.fail(
                kind, "is not a contribution kind", "use one of: " + ", ".join(CONTRIBUTION_KINDS)
            )
        value = weights_r.get(kind, float)
        if value < 0:
            raise weights_r.fail(kind, f"is {value}", "weights must be zero or positive")
        weights[kind] = value
    perf = r.get("performance_weight", float, defaults.performance_weight)
    if perf < 0:
        raise r.fail("performance_weight", f"is {perf}", "use zero or a positive number")
    tie_break = r.strings("tie_break", defaults.tie_break)
    bad = [t for t in tie_break if t not in TIE_BREAKS]
    if bad:
        raise r.fail(
            "tie_break",
            f"names unknown rule {bad[0]!r}",
            "use rules from: " + ", ".join(TIE_BREAKS),
        )
    if "handle" not in tie_break:
        # The handle is unique, so ending on it makes every ordering total and reproducible.
        tie_break = (*tie_break, "handle")
    samples = r.get("bootstrap_samples", int, defaults.bootstrap_samples)
    if samples < 10:
        raise r.fail("bootstrap_samples", f"is {samples}", "use at least 10 resamples")
    if samples > MAX_BOOTSTRAP_SAMPLES:
        raise r.fail(
            "bootstrap_samples",
            f"is {samples}",
            f"use at most {MAX_BOOTSTRAP_SAMPLES:,} resamples (200 is plenty)",
        )
    stable = r.get("stable_probability", float, defaults.stable_probability)
    if not 0.5 <= stable <= 1.0:
        raise r.fail("stable_probability", f"is {stable}", "use a probability between 0.5 and 1")
    points = r.get("challenge_points", list, list(defaults.challenge_points))
    if not all(
        isinstance(p, int | float) and not isinstance(p, bool) and math.isfinite(p) and p >= 0
        for p in points
    ):
        raise r.fail(
            "challenge_points", f"is {points!r}", "list zero-or-positive numbers, e.g. [3, 2, 1]"
        )
    formula = Formula(
        performance_weight=perf,
        contribution_weights=weights,
        drop_lowest_week=r.get("drop_lowest_week", bool, False),
        tie_break=tie_break,
        bootstrap_samples=samples,
        stable_probability=stable,
        challenge_points=tuple(float(p) for p in points),
    )
    r.reject_unknown()
    return formula


def _when(r: _Reader, key: str, start: date, tz: ZoneInfo, default_days: int) -> datetime:
    """A date, a datetime, or an offset in days after the cohort start; midnight-based, local time."""
    value = r.get(
        key,
        (int, date, datetime, str),
        default_days,
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
    title = r.get("title", str)
    opens = _when(r, "opens", start, tz, 0)
    closes = _when(r, "closes", start, tz, 7)
    if closes <= opens:
        raise r.fail("closes", "is not after 'opens'", "make the week close after it opens")
    comp = _load_competition(r.table_of("competition"))
    data_r = r.table_of("data")
    data = DataSources(
        kaggle_dataset=data_r.get("kaggle_dataset", str, ""),
        kaggle_competition=data_r.get("kaggle_competition", str, ""),
        embedded=data_r.get("embedded", str, ""),
        seed=data_r.get("seed", int, 42),
        publish_public=data_r.get("publish_public", bool, False),
    )
    if not 0 <= data.seed < 2**32:
        raise data_r.fail(
            "seed", f"is {data.seed}, out of range", "use a whole number from 0 to 4294967295"
        )
    data_r.reject_unknown()
    kr = r.table_of("kernel")
    kernel = KernelSettings(
        slug=kr.get("slug", str, f"cohort-{week_id}"),
        title=kr.get("title", str, title),
        enable_gpu=kr.get("enable_gpu", bool, False),
        enable_internet=kr.get("enable_internet", bool, False),
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
        objectives=r.strings("objectives"),
        framework=r.get("framework", str, ""),
        minimum=r.get("minimum", str, ""),
        beyond=r.strings("beyond"),
        final=final,
    )
    r.reject_unknown()
    return week


def _load_competition(r: _Reader) -> Competition:
    metric = r.get("metric", str, fix='add metric = "accuracy" (or mae, rmse, ...)')
    if metric not in METRICS:
        raise r.fail("metric", f"is {metric!r}", "use one of: " + ", ".join(METRICS))
    targets = r.strings("target_columns", ("target",))
    if not targets:
        raise r.fail("target_columns", "is empty", "name at least one target column")
    direction = r.get("direction", str, METRICS[metric])
    if direction not in ("max", "min"):
        raise r.fail("direction", f"is {direction!r}", 'use "max" or "min"')
    limit = r.get("daily_limit", int, 5)
    if limit < 1:
        raise r.fail("daily_limit", f"is {limit}", "allow at least 1 submission a day")
    selections = r.get("final_selections", int, 2)
    if selections < 1:
        raise r.fail("final_selections", f"is {selections}", "allow at least 1 final selection")
    share = r.get("public_share", float, 0.3)
    if not 0.0 < share < 1.0:
        raise r.fail("public_share", f"is {share}", "use a fraction between 0 and 1, e.g. 0.3")
    size = r.get("max_file_mb", float, 20.0)
    if size <= 0:
        raise r.fail("max_file_mb", f"is {size}", "use a positive size in MB")
    comp = Competition(
        metric=metric,
        id_column=r.get("id_column", str, "id"),
        target_columns=targets,
        direction=direction,
        daily_limit=limit,
        final_selections=selections,
        public_share=share,
        max_file_mb=size,
        classes=r.strings("classes"),
    )
    r.reject_unknown()
    return comp
