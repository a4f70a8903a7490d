"""Building each week's starter Kaggle kernel: kernel.py -> kernel.ipynb + kernel-metadata.json.

kernel.py (jupytext percent format) is the source of truth in the week's folder;
the notebook and its metadata go to weeks/NN-slug/build/, which git ignores. The
tests execute exactly this built notebook, so what `cohort kaggle push` uploads is
what was tested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cohort.errors import CohortError, ConfigError

if TYPE_CHECKING:
    from cohort.config import Week
    from cohort.workspace import Cohort

KERNEL_SOURCE = "kernel.py"
NOTEBOOK = "kernel.ipynb"
METADATA = "kernel-metadata.json"
BUILD_DIR = "build"


@dataclass(frozen=True)
class KernelBuild:
    """Where a week's built kernel lies, and its Kaggle id."""

    week: str
    directory: Path
    notebook_path: Path
    metadata_path: Path
    kernel_id: str


def metadata(owner: str, week: Week) -> dict[str, Any]:
    """kernel-metadata.json as the Kaggle API reads it."""
    if not owner:
        raise ConfigError(
            "cohort.toml has no kaggle_owner; set it to the Kaggle account that owns the kernels."
        )
    return {
        "id": f"{owner}/{week.kernel.slug}",
        "title": week.kernel.title,
        "code_file": NOTEBOOK,
        "language": "python",
        "kernel_type": "notebook",
        "is_private": True,
        "enable_gpu": week.kernel.enable_gpu,
        "enable_internet": week.kernel.enable_internet,
        "dataset_sources": [week.data.kaggle_dataset] if week.data.kaggle_dataset else [],
        "competition_sources": [week.data.kaggle_competition]
        if week.data.kaggle_competition
        else [],
        "kernel_sources": [],
    }


def to_notebook(source: Path) -> Any:
    """Read a jupytext percent-format script as a notebook with a Python 3 kernelspec."""
    import jupytext

    try:
        notebook = jupytext.read(source, fmt="py:percent")
    except Exception as exc:  # noqa: BLE001 - jupytext raises many kinds; the user needs one line
        raise CohortError(
            f"{source} is not a jupytext percent script ({exc}); fix its # %% cells."
        ) from None
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.metadata.pop("jupytext", None)
    return notebook


def build(cohort: Cohort, week_ref: str) -> KernelBuild:
    """Write build/kernel.ipynb and build/kernel-metadata.json for one week."""
    import nbformat

    week = cohort.config.week(week_ref)
    source = week.path / KERNEL_SOURCE
    if not source.is_file():
        raise ConfigError(f"Week '{week.id}' has no {source}; add the week's starter kernel.")
    meta = metadata(cohort.config.kaggle_owner, week)
    notebook = to_notebook(source)
    directory = week.path / BUILD_DIR
    directory.mkdir(exist_ok=True)
    notebook_path = directory / NOTEBOOK
    nbformat.write(notebook, str(notebook_path))
    metadata_path = directory / METADATA
    metadata_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return KernelBuild(
        week=week.id,
        directory=directory,
        notebook_path=notebook_path,
        metadata_path=metadata_path,
        kernel_id=meta["id"],
    )
