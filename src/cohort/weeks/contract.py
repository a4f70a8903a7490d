"""The week contract: what a weekly module's prepare.py offers and may use.

A week's prepare.py defines `build(raw, out, seed) -> Built` and `baseline(directory)`;
`load_module` imports it and checks that both are there, so a broken module is one line
naming its file. The helpers below are what prepare.py files share.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from cohort.errors import ConfigError, NotFound, ValidationError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cohort.config import Week

PREPARE_FILE = "prepare.py"
# What every week's prepare.py must define, with the signature its error message shows.
CONTRACT = {"build": "(raw, out, seed)", "baseline": "(directory)"}


@dataclass(frozen=True)
class Built:
    """What a week's prepare.py wrote: the hidden answers and the training targets."""

    solution: pd.DataFrame  # id column + target columns, one row per test item, in test order
    train_targets: (
        pd.DataFrame
    )  # the target columns of the training rows (for the trivial baseline)
    source: str  # "real: <path>" or "embedded: <what>"
    files: tuple[str, ...]  # what members get, relative to data/<week>/


def load_module(week: Week) -> ModuleType:
    """Import weeks/NN-slug/prepare.py of this cohort (its own copy, not the template's)."""
    path = week.path / PREPARE_FILE
    if not path.is_file():
        raise ConfigError(f"Week '{week.id}' has no {path}; add a prepare.py to the week's folder.")
    name = f"cohort_week_{week.id.replace('-', '_')}_prepare"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(
            f"Week '{week.id}': {path} cannot be imported; check that it is a Python file."
        )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        raise ConfigError(
            f"Week '{week.id}': {path} line {exc.lineno} has a syntax error ({exc.msg}); fix it."
        ) from None
    except ImportError as exc:
        sys.modules.pop(name, None)
        missing = exc.name or str(exc)
        raise ConfigError(
            f"Week '{week.id}': {path} imports {missing!r}, which cannot be imported ({exc}); "
            "install it (add it to pyproject.toml) or fix the import."
        ) from None
    except Exception as exc:  # noqa: BLE001 - a week's own code failing on import: name its file
        sys.modules.pop(name, None)
        raise ConfigError(
            f"Week '{week.id}': {path} fails on import ({type(exc).__name__}: {exc}); fix that file."
        ) from None
    for function, signature in CONTRACT.items():
        if not callable(getattr(module, function, None)):
            sys.modules.pop(name, None)
            raise ConfigError(
                f"Week '{week.id}': {path} defines no {function}{signature}; add it "
                "(see docs/weeks.md, or copy it from another week's prepare.py)."
            )
    return module


def call(week: Week, module: ModuleType, function: str, *args: Any) -> Any:
    """Run prepare.py's `function`; when the week's own code is broken, one line naming it."""
    path = week.path / PREPARE_FILE
    try:
        return getattr(module, function)(*args)
    except ImportError as exc:
        raise ConfigError(
            f"Week '{week.id}': {function}() in {path} imports {exc.name or str(exc)!r}, which "
            f"cannot be imported ({exc}); install it (add it to pyproject.toml) or fix the import."
        ) from None
    except (NameError, AttributeError, TypeError) as exc:
        raise ConfigError(
            f"Week '{week.id}': {function}() in {path} is broken ({type(exc).__name__}: {exc}); "
            "fix that file."
        ) from None


# Helpers the weeks' prepare.py files share.


def split_indices(
    n: int, test_share: float, seed: int, stratify: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/test row indices, stratified by `stratify` when every class can be split."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    index = np.arange(n)
    if stratify is not None:
        counts = np.unique(np.asarray(stratify).astype(str), return_counts=True)[1]
        n_test = int(np.ceil(test_share * n))
        # Tiny data (a test fixture, a small real sample) may not allow a stratified split.
        if counts.min() < 2 or min(n_test, n - n_test) < len(counts):
            stratify = None
    train, test = train_test_split(
        index, test_size=test_share, random_state=seed, stratify=stratify
    )
    return np.asarray(train), np.asarray(test)


def csv_frame(path: Path, what: str, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV of the real data, turning parser errors into one line that names the file."""
    import pandas as pd

    if not path.is_file():
        raise NotFound(
            f"{what}: {path} is missing; download the week's data again or remove {path.parent}."
        )
    try:
        return pd.read_csv(path, **kwargs)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"{what}: cannot read {path} ({str(exc).splitlines()[0]}); check the file."
        ) from None


def require_columns(frame: pd.DataFrame, columns: list[str], where: Path) -> None:
    """Raise a one-line error naming the first missing column."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"{where} has no column '{missing[0]}'; it should be laid out as the Kaggle file is."
        )


def fresh_ids(n: int, rng: np.random.Generator, prefix: str = "", avoid: Any = ()) -> list[Any]:
    """n distinct random ids that say nothing about the source rows (fair-competition rule).

    With a prefix: prefix + 8 hex digits (strings); without: 8-digit integers. `avoid` holds
    the source's own ids, so a fresh id can never join to a row of the public data.
    """
    taken = {str(a) for a in avoid}
    out: list[Any] = []
    while len(out) < n:
        for value in rng.integers(10_000_000, 99_999_999, size=2 * (n - len(out)) + 8):
            key = f"{prefix}{int(value):08x}" if prefix else int(value)
            if str(key) not in taken:
                taken.add(str(key))
                out.append(key)
                if len(out) == n:
                    break
    return out
