"""Building each week's starter Kaggle kernel: kernel.py -> kernel.ipynb + kernel-metadata.json.

kernel.py (jupytext percent format) is the source of truth in the week's folder;
the notebook and its metadata go to weeks/NN-slug/build/, which git ignores. The
tests execute exactly this built notebook, so what `cohort kaggle push` uploads is
what was tested.

The metadata attaches what the starter reads on Kaggle: the cohort's data dataset
for the week (`cohort kaggle publish-data`, found by its cohort-week.json marker)
and the week's competition where it has one. Starters are public (members fork
them); the GPU is asked for only when week.toml asks and the code can use one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cohort.errors import ConfigError

if TYPE_CHECKING:
    from cohort.config import Week
    from cohort.workspace import Cohort

KERNEL_SOURCE = "kernel.py"
NOTEBOOK = "kernel.ipynb"
METADATA = "kernel-metadata.json"
BUILD_DIR = "build"
PLACEHOLDER_OWNER = "your-kaggle-username"  # the template's kaggle_owner
# Code that can use a GPU: torch's CUDA calls, or fastai (which moves to the GPU itself).
GPU_CODE = re.compile(r"\bcuda\b|\bfastai\b")


def slugify(title: str) -> str:
    """The slug Kaggle derives from a title: lower case, runs of other characters as '-'."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def data_title(cohort_name: str, week: Week) -> str:
    """The title of the week's data dataset on Kaggle (6 to 50 characters, as Kaggle wants)."""
    title = f"{cohort_name} {week.id} data"
    if len(title) > 50:
        title = f"{cohort_name[: 50 - len(week.id) - 6].rstrip()} {week.id} data"
    return title


def data_ref(owner: str, cohort_name: str, week: Week) -> str:
    """'owner/slug' of the week's data dataset: the slug Kaggle derives from its title."""
    return f"{owner}/{slugify(data_title(cohort_name, week))}"


def uses_gpu(notebook: Any) -> bool:
    """True when a code cell mentions CUDA or uses fastai."""
    return any(
        cell.get("cell_type") == "code" and GPU_CODE.search(str(cell.get("source", "")))
        for cell in notebook.get("cells", [])
    )


@dataclass(frozen=True)
class KernelBuild:
    """Where a week's built kernel lies, and its Kaggle id."""

    week: str
    directory: Path
    notebook_path: Path
    metadata_path: Path
    kernel_id: str


def metadata(
    owner: str, week: Week, cohort_name: str = "cohort", gpu: bool = True
) -> dict[str, Any]:
    """kernel-metadata.json as the Kaggle API reads it; `gpu`: whether the code can use one."""
    if not owner:
        raise ConfigError(
            "cohort.toml has no kaggle_owner; set it to the Kaggle account that owns the kernels."
        )
    if slugify(week.kernel.title) != week.kernel.slug:
        raise ConfigError(
            f"Week '{week.id}': [kernel] title '{week.kernel.title}' gives the Kaggle slug "
            f"'{slugify(week.kernel.title)}', not slug '{week.kernel.slug}'; Kaggle derives the slug "
            f"from the title, so set both in {week.path / 'week.toml'} to agree."
        )
    return {
        "id": f"{owner}/{week.kernel.slug}",
        "title": week.kernel.title,
        "code_file": NOTEBOOK,
        "language": "python",
        "kernel_type": "notebook",
        "is_private": False,  # members fork the starter
        "enable_gpu": week.kernel.enable_gpu and gpu,
        "enable_internet": week.kernel.enable_internet,
        "dataset_sources": [data_ref(owner, cohort_name, week)],
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
        raise ConfigError(
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
    notebook = to_notebook(source)
    meta = metadata(cohort.config.kaggle_owner, week, cohort.config.name, uses_gpu(notebook))
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
