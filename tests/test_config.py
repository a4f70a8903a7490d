"""cohort.toml and week.toml: validated at load, errors name the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohort import config
from cohort.errors import ConfigError, NotFound

from .conftest import REPO


def test_the_repository_cohort_loads() -> None:
    cfg = config.load(REPO)
    assert [w.id for w in cfg.season_weeks] == [
        "01-pets",
        "02-regularization",
        "03-sequences",
        "04-optimizers",
    ]
    assert cfg.final_week is not None and cfg.final_week.id == "05-lanl-final"
    assert cfg.final_size == 8


def test_week_dates_are_offsets_from_start_in_the_cohort_timezone(make_cohort) -> None:
    root = make_cohort({"01-a": {"opens": 0, "closes": 7}}, start="2027-01-11")
    week = config.load(root).week("1")
    assert week.closes_at.isoformat() == "2027-01-18T00:00:00+01:00"


@pytest.mark.parametrize("ref", ["01-a", "1", "01", "a"])
def test_a_week_is_found_by_id_number_or_slug(make_cohort, ref: str) -> None:
    root = make_cohort({"01-a": {}})
    assert config.load(root).week(ref).id == "01-a"


def test_an_unknown_week_names_the_known_ones(make_cohort) -> None:
    root = make_cohort({"01-a": {}})
    with pytest.raises(NotFound, match=r"^No week '9' in this cohort; use one of: 01-a\.$"):
        config.load(root).week("9")


def _break(root: Path, old: str, new: str, file: str = "cohort.toml") -> Path:
    path = root / file
    path.write_text(path.read_text().replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'timezone = "Europe/Amsterdam"',
            'timezone = "Mars/Base"',
            "key 'timezone' is 'Mars/Base', not a timezone; use an IANA name",
        ),
        (
            "final_size = 8",
            "final_size = 0",
            "key 'final_size' is 0; use a positive number of members",
        ),
        (
            "final_size = 8",
            'final_size = "eight"',
            "key 'final_size' is 'eight', not an integer; fix its type.",
        ),
        (
            "final_size = 8",
            'final_size = ["8"]',
            "key 'final_size' is ['8'], not an integer; fix its type.",
        ),
        (
            'weeks = ["01-a"]\n',
            "",
            "key 'weeks' is missing; list the week directories, e.g. weeks = [\"01-pets\"].",
        ),
        (
            'weeks = ["01-a"]',
            "weeks = []",
            "key 'weeks' is empty; list the week directories, e.g. weeks = [\"01-pets\"].",
        ),
        (
            'name = "Test Cohort"',
            'name = "Test Cohort"\ncolour = "red"',
            "key 'colour' is not a known setting; remove it or check its spelling",
        ),
        ("start = 2027-01-11", "start = ", "is not valid TOML"),
        (
            'weeks = ["01-a"]',
            'weeks = ["week one"]',
            "week 'week one' is not a week directory name",
        ),
        ('weeks = ["01-a"]', 'weeks = ["02-b"]', "week '02-b' has no"),
    ],
)
def test_bad_cohort_toml_names_file_key_and_fix(
    make_cohort, old: str, new: str, message: str
) -> None:
    root = make_cohort({"01-a": {}})
    path = _break(root, old, new)
    with pytest.raises(ConfigError) as err:
        config.load(root)
    assert str(path) in str(err.value)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'metric = "accuracy"',
            'metric = "acuracy"',
            "key 'competition.metric' is 'acuracy'; use one of: accuracy",
        ),
        (
            "daily_limit = 5",
            "daily_limit = 0",
            "key 'competition.daily_limit' is 0; allow at least 1",
        ),
        ("closes = 7", "closes = -1", "key 'closes' is not after 'opens'"),
        ("closes = 7", 'closes = "next friday"', "key 'closes' is 'next friday'"),
        ('title = "A week"', "", "key 'title' is missing"),
        (
            "closes = 7",
            "closes = 99999999999",
            "key 'closes' is out of range; use days after the start, a date or a datetime.",
        ),
        (
            "opens = 0",
            "opens = -700000000",
            "key 'opens' is out of range; use days after the start, a date or a datetime.",
        ),
        (
            "opens = 0",
            "opens = 0001-01-01",
            "key 'opens' is out of range; use days after the start, a date or a datetime.",
        ),
        (
            "daily_limit = 5",
            "daily_limit = 5\npublic_share = nan",
            "key 'competition.public_share' is nan, not a finite number; use an ordinary number.",
        ),
        (
            "daily_limit = 5",
            "daily_limit = 5\nmax_file_mb = inf",
            "key 'competition.max_file_mb' is inf, not a finite number; use an ordinary number.",
        ),
    ],
)
def test_bad_week_toml_names_file_key_and_fix(
    make_cohort, old: str, new: str, message: str
) -> None:
    root = make_cohort({"01-a": {}})
    path = _break(root, old, new, "weeks/01-a/week.toml")
    with pytest.raises(ConfigError) as err:
        config.load(root)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_formula_weights_must_name_known_kinds(make_cohort) -> None:
    root = make_cohort({"01-a": {}})
    (root / "cohort.toml").write_text(
        (root / "cohort.toml").read_text() + "\n[formula.weights]\nsmiled = 2\n"
    )
    with pytest.raises(
        ConfigError, match=r"key 'formula.weights.smiled' is not a contribution kind"
    ):
        config.load(root)


def test_tie_break_always_ends_on_the_unique_handle(make_cohort) -> None:
    root = make_cohort({"01-a": {}})
    (root / "cohort.toml").write_text(
        (root / "cohort.toml").read_text() + '\n[formula]\ntie_break = ["contributions"]\n'
    )
    assert config.load(root).formula.tie_break == ("contributions", "handle")


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        (
            "performance_weight = nan",
            "key 'formula.performance_weight' is nan, not a finite number; use an ordinary number.",
        ),
        (
            "performance_weight = inf",
            "key 'formula.performance_weight' is inf, not a finite number; use an ordinary number.",
        ),
        (
            "stable_probability = -nan",
            "key 'formula.stable_probability' is nan, not a finite number; use an ordinary number.",
        ),
        (
            "weights.helped = inf",
            "key 'formula.weights.helped' is inf, not a finite number; use an ordinary number.",
        ),
        (
            "challenge_points = [3, inf]",
            "key 'formula.challenge_points' is [3, inf]; list zero-or-positive numbers, e.g. [3, 2, 1].",
        ),
        (
            "bootstrap_samples = 100001",
            "key 'formula.bootstrap_samples' is 100001; use at most 100,000 resamples (200 is plenty).",
        ),
        (
            "bootstrap_samples = 9",
            "key 'formula.bootstrap_samples' is 9; use at least 10 resamples.",
        ),
    ],
)
def test_formula_numbers_must_be_finite_and_sane(make_cohort, formula: str, message: str) -> None:
    root = make_cohort({"01-a": {}})
    path = root / "cohort.toml"
    path.write_text(path.read_text() + f"\n[formula]\n{formula}\n")
    with pytest.raises(ConfigError) as err:
        config.load(root)
    assert str(err.value) == f"{path}: {message}"


def test_the_most_resamples_allowed_still_load(make_cohort) -> None:
    root = make_cohort({"01-a": {}})
    path = root / "cohort.toml"
    path.write_text(path.read_text() + "\n[formula]\nbootstrap_samples = 100000\n")
    assert config.load(root).formula.bootstrap_samples == 100_000


@pytest.mark.parametrize("seed", [-1, 4294967296])
def test_a_week_data_seed_must_fit_numpy(make_cohort, seed: int) -> None:
    root = make_cohort({"01-a": {}})
    path = root / "weeks/01-a/week.toml"
    path.write_text(path.read_text() + f"\n[data]\nseed = {seed}\n")
    with pytest.raises(ConfigError) as err:
        config.load(root)
    assert (
        str(err.value)
        == f"{path}: key 'data.seed' is {seed}, out of range; use a whole number from 0 to 4294967295."
    )
