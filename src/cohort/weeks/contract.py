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

from cohort.errors import CohortError, ConfigError, NotFound

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cohort.config import Week

PREPARE_FILE = "prepare.py"


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
    spec.loader.exec_module(module)
    return module


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
        raise CohortError(
            f"{what}: cannot read {path} ({str(exc).splitlines()[0]}); check the file."
        ) from None


def require_columns(frame: pd.DataFrame, columns: list[str], where: Path) -> None:
    """Raise a one-line error naming the first missing column."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CohortError(
            f"{where} has no column '{missing[0]}'; it should be laid out as the Kaggle file is."
        )
