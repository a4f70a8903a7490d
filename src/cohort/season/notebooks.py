"""What a member's notebook shows: frameworks used, explanation cells, plots; and "beyond the minimum".

`analyze` is pure (notebook JSON in, counts out). `record_notebook` stores the
notebook and, when it goes beyond the week's minimum, awards a `beyond_minimum`
event with the evidence. The rules (documented in docs/standings.md):

- frameworks: `import x` / `from x import` of fastai, torch/torchvision (torch),
  keras/tensorflow (keras), in code cells;
- an explanation cell is a markdown cell with at least EXPLANATION_WORDS words
  outside its headings;
- a plot is an image output of a code cell, or, in a cell without image output,
  each call of matplotlib/seaborn/plotly or of fastai's show/plot helpers;
- beyond the minimum: a framework other than the week's `framework`, or at least
  BEYOND_EXPLANATIONS explanation cells, or at least BEYOND_PLOTS plots.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from cohort.errors import ValidationError
from cohort.store import audit
from cohort.store import contributions as store
from cohort.store import members as store_members
from cohort.workspace import Cohort, utcnow

EXPLANATION_WORDS = 12
BEYOND_EXPLANATIONS = 3
BEYOND_PLOTS = 2

FRAMEWORK_MODULES = {
    "fastai": "fastai",
    "torch": "torch",
    "torchvision": "torch",
    "torchaudio": "torch",
    "torchtext": "torch",
    "keras": "keras",
    "tensorflow": "keras",
    "tf_keras": "keras",
}
# How week.toml may spell a framework, mapped to the names above.
FRAMEWORK_ALIASES = {"pytorch": "torch", "tensorflow": "keras", "tf": "keras"}
IMPORT_RE = re.compile(r"^\s*(?:import|from)\s+([A-Za-z_][\w.]*)", re.MULTILINE)
PLOT_CALL_RE = re.compile(
    r"\b(?:plt|pyplot|ax\w*|axes\[[^\]]*\])\.(?:plot|scatter|hist|bar|barh|imshow|boxplot|pie|errorbar"
    r"|fill_between|matshow|contourf?|hexbin|violinplot|stem|step)\s*\("
    r"|\b(?:sns|seaborn)\.(?:\w*plot|heatmap|clustermap)\s*\("
    r"|\bpx\.\w+\s*\(|\bgo\.Figure\s*\("
    r"|\.(?:plot(?:\.\w+)?|hist|show_batch|show_results|plot_top_losses|plot_confusion_matrix"
    r"|plot_loss|plot_sched|plot_metrics|lr_find)\s*\("
)


@dataclass(frozen=True)
class NotebookAnalysis:
    """Counts from one notebook; `reasons` and `event_id` are filled by record_notebook."""

    frameworks: tuple[str, ...]
    markdown_cells: int
    plots: int
    code_cells: int
    reasons: tuple[str, ...] = ()
    event_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for --json and the stored evidence)."""
        data = asdict(self)
        data["frameworks"] = list(self.frameworks)
        data["reasons"] = list(self.reasons)
        return data


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _load(ipynb_text: str) -> list[dict[str, Any]]:
    """The cells of a notebook (or of a Kaggle script kernel), or a ValidationError saying what is wrong."""
    if not ipynb_text.lstrip().startswith("{"):
        return _script_cells(ipynb_text)
    try:
        data = json.loads(ipynb_text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"The notebook is not valid JSON ({exc.msg} at line {exc.lineno}); upload the .ipynb file itself."
        ) from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise ValidationError(
            "The file is JSON but not a notebook (no 'cells' list); upload the .ipynb file itself."
        )
    return [c for c in cells if isinstance(c, dict)]


def _script_cells(text: str) -> list[dict[str, Any]]:
    """A Python script kernel read as cells (`# %%` percent cells, comment blocks as markdown)."""
    import jupytext

    try:
        notebook = jupytext.reads(text, fmt="py:percent" if "# %%" in text else "py:light")
    except Exception as exc:  # noqa: BLE001 - jupytext raises many kinds; all mean "not readable"
        raise ValidationError(
            f"The file is neither a notebook nor a Python script ({exc}); upload the .ipynb file itself."
        ) from None
    return [{"cell_type": c.cell_type, "source": c.source, "outputs": []} for c in notebook.cells]


def is_explanation(markdown: str) -> bool:
    """A markdown cell that explains: enough words outside heading lines."""
    body = [line for line in markdown.splitlines() if not line.lstrip().startswith("#")]
    words = re.findall(r"[^\W\d_]{2,}", " ".join(body))
    return len(words) >= EXPLANATION_WORDS


def _plots_in(cell: dict[str, Any]) -> int:
    images = sum(
        1
        for out in cell.get("outputs", []) or []
        if isinstance(out, dict) and any(k.startswith("image/") for k in (out.get("data") or {}))
    )
    if images:
        return images
    code = "\n".join(line.split("#", 1)[0] for line in _source(cell).splitlines())
    return len(PLOT_CALL_RE.findall(code))


def analyze(ipynb_text: str) -> NotebookAnalysis:
    """Frameworks imported, explanation (markdown) cells and plots of one .ipynb."""
    cells = _load(ipynb_text)
    code = [c for c in cells if c.get("cell_type") == "code"]
    frameworks = set()
    for cell in code:
        for module in IMPORT_RE.findall(_source(cell)):
            top = module.split(".")[0]
            if top in FRAMEWORK_MODULES:
                frameworks.add(FRAMEWORK_MODULES[top])
    explanations = sum(
        1 for c in cells if c.get("cell_type") == "markdown" and is_explanation(_source(c))
    )
    plots = sum(_plots_in(c) for c in code)
    return NotebookAnalysis(tuple(sorted(frameworks)), explanations, plots, len(code))


def minimum_framework(week_framework: str) -> str:
    """The week's framework in analyze()'s names ('pytorch' -> 'torch')."""
    name = week_framework.strip().lower()
    return FRAMEWORK_ALIASES.get(name, name)


def beyond_reasons(analysis: NotebookAnalysis, week_framework: str) -> tuple[str, ...]:
    """Why a notebook goes beyond the week's minimum; empty when it does not."""
    minimum = minimum_framework(week_framework)
    reasons = [
        f"uses {fw} beyond the week's {minimum or 'minimum'}"
        for fw in analysis.frameworks
        if fw != minimum
    ]
    if analysis.markdown_cells >= BEYOND_EXPLANATIONS:
        reasons.append(f"{analysis.markdown_cells} explanation cells")
    if analysis.plots >= BEYOND_PLOTS:
        reasons.append(f"{analysis.plots} plots")
    return tuple(reasons)


def record_notebook(
    cohort: Cohort,
    handle: str,
    week_ref: str,
    content: str,
    url: str = "",
    actor: str = "cohort",
    at: datetime | None = None,
) -> NotebookAnalysis:
    """Store a member's notebook and award `beyond_minimum` (once a week) when it qualifies."""
    week = cohort.config.week(week_ref)
    analysis = analyze(content)
    reasons = beyond_reasons(analysis, week.framework)
    analysis = replace(analysis, reasons=reasons)
    sha = hashlib.sha256(content.encode()).hexdigest()
    at = at or utcnow()
    with cohort.store.transaction() as tx:
        member = store_members.by_handle(tx, handle)
        stored = store.add_notebook(
            tx, member.id, week.id, url, sha, content, analysis.as_dict(), at
        )
        now = store.current(tx, handle)
        has = ((now["kind"] == "beyond_minimum") & (now["week"] == week.id)).any()
        if not reasons or has:
            return analysis
        evidence = {"notebook_id": stored.id, "sha256": sha, "url": url, **analysis.as_dict()}
        evidence.pop("event_id")
        event_id = store.add(
            tx,
            store.NewEvent(
                member.id,
                week.id,
                "beyond_minimum",
                1.0,
                "; ".join(reasons),
                evidence,
                "derived",
                actor,
                at,
            ),
        )
        audit.record(
            tx,
            at,
            actor,
            "contribution.add",
            handle,
            event=event_id,
            kind="beyond_minimum",
            week=week.id,
            value=1.0,
            notebook=stored.id,
        )
    return replace(analysis, event_id=event_id)
