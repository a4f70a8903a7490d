"""Settings declared once: the loader reads every declared key, and the README's reference
is the one generated from the declaration."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import pytest

from cohort import config
from cohort.config import COHORT_FILE, SETTINGS, WEEK_FILE, Derived, Required
from cohort.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
SAMPLES = {
    "name": "c",
    "start": date(2027, 1, 11),
    "weeks": ["01-a"],
    "title": "A",
    "final": "",
    "competition.plausible_best": 0.99,
}


def tool():
    spec = importlib.util.spec_from_file_location(
        "config_reference", REPO / "tools/config_reference.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_reference_is_the_generated_one():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert tool().with_reference(text) == text, "run .venv/bin/python tools/config_reference.py"


def test_the_reference_names_every_setting_with_its_help():
    ref = config.reference()
    for s in SETTINGS:
        assert f"| `{s.key}` | {s.kind} |" in ref and s.help in ref


def test_a_stale_reference_is_noticed():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    stale = text.replace("| `final_size` |", "| `final_sizes` |", 1)
    assert stale != text and tool().with_reference(stale) != stale


def test_each_key_is_declared_once_with_help():
    keys = [(s.file, s.key) for s in SETTINGS]
    assert len(keys) == len(set(keys))
    assert all(
        s.help
        and s.kind
        in {"string", "integer", "number", "boolean", "date", "strings", "numbers", "when"}
        for s in SETTINGS
    )


def toml_value(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def write_every_key(root: Path, file: str) -> str:
    """The file with every declared key set (to its default, or a sample for required ones)."""
    tables: dict[str, list[str]] = {}
    for s in SETTINGS:
        if s.file != file:
            continue
        value = SAMPLES.get(s.key)
        if value is None:
            value = "x" if isinstance(s.default, Derived) else s.default
        if s.key == "competition.metric":
            value = "accuracy"
        if s.key == "competition.direction":
            value = "max"
        assert not isinstance(value, Required), s.key
        table, _, key = s.key.rpartition(".")
        tables.setdefault(table, []).append(f"{key} = {toml_value(value)}")
    text = "\n".join(tables.pop(""))
    for table, lines in tables.items():
        text += f"\n\n[{table}]\n" + "\n".join(lines)
    return text + "\n"


def test_the_loader_reads_every_declared_key(tmp_path: Path):
    # The loader refuses keys it does not read, so a declared key it forgot fails here.
    (tmp_path / COHORT_FILE).write_text(write_every_key(tmp_path, COHORT_FILE))
    week = tmp_path / "weeks" / "01-a"
    week.mkdir(parents=True)
    (week / WEEK_FILE).write_text(write_every_key(tmp_path, WEEK_FILE))
    loaded = config.load(tmp_path)
    assert loaded.weeks[0].competition.daily_limit == config.default(
        WEEK_FILE, "competition.daily_limit"
    )
    assert loaded.formula == config.Formula(tie_break=loaded.formula.tie_break)


def test_the_dataclass_defaults_are_the_declared_ones():
    assert config.Competition("mae").daily_limit == config.default(
        WEEK_FILE, "competition.daily_limit"
    )
    assert config.Formula().bootstrap_samples == config.default(
        COHORT_FILE, "formula.bootstrap_samples"
    )
    assert config.DataSources().seed == config.default(WEEK_FILE, "data.seed")


def test_a_declared_check_refuses_with_the_key_named(make_cohort):
    root = make_cohort({"01-a": {"daily_limit": 0}})
    with pytest.raises(ConfigError, match=r"key 'competition.daily_limit' is 0; allow at least 1"):
        config.load(root)


def test_every_contribution_kind_has_a_declared_weight():
    assert set(config.WEIGHT_DEFAULTS) == set(config.CONTRIBUTION_KINDS)
