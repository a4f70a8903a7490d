"""What a member's notebook shows: frameworks used, explanation cells, plots; and "beyond the minimum".

`analyze` and `judge` are pure (notebook text in, counts and a verdict out).
`record_notebook` stores the notebook and, when it goes beyond the week's minimum,
awards a `beyond_minimum` event with the evidence. It never awards on-time credit:
that comes from a submission's checked notebook link (season/contributions.py). The
rules (documented in docs/standings.md):

- frameworks: `import x` / `from x import` of fastai, torch/torchvision (torch),
  keras, tensorflow, scikit-learn (sklearn), in code cells; a framework is *used* only
  when it builds or trains a model (see MODEL_USE below): a keras/tf.keras layer, model,
  optimizer or GradientTape; a torch.nn module (or a subclass of it), a torch.optim
  optimizer, a torchvision model, or a torch.nn.functional loss with .backward(); a
  fastai learner; a scikit-learn estimator with a .fit call. A bare import, or any
  other call (`tf.constant(1)`), is not use;
- an explanation cell is a markdown cell with at least EXPLANATION_WORDS words
  outside its headings;
- a plot is an image output of a code cell, or, in a cell without image output,
  each call of matplotlib/seaborn/plotly or of fastai's show/plot helpers;
- beyond the minimum is judged against the week's starter (weeks/NN/kernel.py, as
  `cohort kernels build` builds it): a framework used that is not the week's, not one
  the week's framework is built on (torch under fastai) and not used by the starter;
  or at least BEYOND_EXPLANATIONS explanation cells, or BEYOND_PLOTS plots, in cells
  the starter does not have. The starter itself earns nothing. The verdict has a line
  for each rule, met or not.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime, tzinfo
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
    "tensorflow": "tensorflow",
    "tf_keras": "keras",
    "sklearn": "sklearn",
}
# How week.toml may spell a framework, mapped to the names above.
FRAMEWORK_ALIASES = {
    "pytorch": "torch",
    "tf": "tensorflow",
    "scikit-learn": "sklearn",
    "tf.keras": "tensorflow",
}
# What a framework is built on (or ships with): using it is not "another framework".
BUILT_ON = {
    "fastai": frozenset({"torch"}),
    "keras": frozenset({"tensorflow"}),
    "tensorflow": frozenset({"keras"}),
}
# Dotted-name parts that build or train a model, per framework (see framework_use).
KERAS_MODEL_PARTS = frozenset(
    {"layers", "models", "Sequential", "Model", "optimizers", "applications", "GradientTape"}
)
SKLEARN_MODEL_MODULES = frozenset(
    {
        "linear_model",
        "ensemble",
        "tree",
        "svm",
        "neighbors",
        "naive_bayes",
        "neural_network",
        "discriminant_analysis",
        "gaussian_process",
        "kernel_ridge",
    }
)
FIT_METHODS = frozenset({"fit", "fit_transform", "fit_predict", "partial_fit"})
CALL_RE = re.compile(r"(?<![\w.])([A-Za-z_][\w.]*)\s*\(")
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

    frameworks: tuple[str, ...]  # imported
    markdown_cells: int
    plots: int
    code_cells: int
    reasons: tuple[str, ...] = ()  # why it goes beyond the minimum (empty: it does not)
    event_id: int | None = None
    used: tuple[str, ...] = ()  # frameworks actually used, not only imported
    verdict: tuple[str, ...] = ()  # one line per rule, met or not (filled by judge)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for --json and the stored evidence)."""
        data = asdict(self)
        for key in ("frameworks", "reasons", "used", "verdict"):
            data[key] = list(getattr(self, key))
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
    """Frameworks imported and used, explanation (markdown) cells and plots of one .ipynb."""
    return _analyze_cells(_load(ipynb_text))


def _analyze_cells(cells: list[dict[str, Any]]) -> NotebookAnalysis:
    code = [c for c in cells if c.get("cell_type") == "code"]
    imported, used = framework_use(code)
    explanations = sum(
        1 for c in cells if c.get("cell_type") == "markdown" and is_explanation(_source(c))
    )
    plots = sum(_plots_in(c) for c in code)
    return NotebookAnalysis(
        tuple(sorted(imported)), explanations, plots, len(code), used=tuple(sorted(used))
    )


def _code_text(cell: dict[str, Any]) -> str:
    """A code cell's Python, without notebook magics and shell lines."""
    lines = _source(cell).splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith(("!", "%", "?")))


def framework_use(code_cells: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """(frameworks imported, frameworks used for a model: one builds or trains a model)."""
    bound: dict[str, str] = {}  # name in the notebook -> dotted module path it stands for
    stars: list[str] = []  # modules star-imported
    imported: set[str] = set()
    calls: list[str] = []  # dotted names called (or subclassed), as written
    methods: set[str] = set()  # attribute names called: fit, backward, ...
    for cell in code_cells:
        code = _code_text(cell)
        try:
            tree = ast.parse(code)
        except SyntaxError:
            _scan_text(code, bound, imported, calls, methods)
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if FRAMEWORK_MODULES.get(alias.name.split(".")[0]):
                        imported.add(FRAMEWORK_MODULES[alias.name.split(".")[0]])
                        if alias.asname:
                            bound[alias.asname] = alias.name
                        else:
                            top = alias.name.split(".")[0]
                            bound[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                if FRAMEWORK_MODULES.get(node.module.split(".")[0]):
                    imported.add(FRAMEWORK_MODULES[node.module.split(".")[0]])
                    for alias in node.names:
                        if alias.name == "*":
                            stars.append(node.module)
                        else:
                            bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Call):
                name = _dotted(node.func)
                if name:
                    calls.append(name)
                if isinstance(node.func, ast.Attribute):
                    methods.add(node.func.attr)
            elif isinstance(node, ast.ClassDef):
                calls += [n for n in map(_dotted, node.bases) if n]
    used: set[str] = set()
    for name in calls:
        head, _, rest = name.partition(".")
        if head in bound:
            paths = [bound[head] + (f".{rest}" if rest else "")]
        else:
            paths = [f"{star}.{name}" for star in stars]
        for path in paths:
            framework = _model_use(path, methods)
            if framework:
                used.add(framework)
    return imported, used


def _dotted(node: ast.expr) -> str:
    """'a.b.c' for a name or attribute chain ('' for anything else)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    return ".".join([node.id, *reversed(parts)])


def _model_use(path: str, methods: set[str]) -> str:
    """The framework a call of this dotted module path uses for a model ('' when it does not
    build or train one): what "actually used" means for "beyond the minimum"."""
    parts = path.split(".")
    framework = FRAMEWORK_MODULES.get(parts[0], "")
    last = parts[-1]
    if framework in ("keras", "tensorflow"):
        return framework if KERAS_MODEL_PARTS & set(parts[1:]) else ""
    if framework == "torch":
        if parts[0] == "torchvision" and "models" in parts:
            return "torch"
        if "optim" in parts[1:]:
            return "torch"
        if "nn" in parts[1:] and "functional" not in parts and last[:1].isupper():
            return "torch"  # a layer or module: nn.Linear, nn.Module subclass
        if "functional" in parts and "backward" in methods:
            return "torch"  # a loss, back-propagated
        return ""
    if framework == "fastai":
        return "fastai" if last == "Learner" or last.endswith("_learner") else ""
    if framework == "sklearn":
        estimator = len(parts) > 2 and parts[1] in SKLEARN_MODEL_MODULES and last[:1].isupper()
        return "sklearn" if estimator and FIT_METHODS & methods else ""
    return ""


def _scan_text(
    code: str,
    bound: dict[str, str],
    imported: set[str],
    calls: list[str],
    methods: set[str],
) -> None:
    """framework_use for a cell Python cannot parse: imports and calls by pattern."""
    for module in IMPORT_RE.findall(code):
        top = module.split(".")[0]
        if FRAMEWORK_MODULES.get(top):
            imported.add(FRAMEWORK_MODULES[top])
            bound[top] = top
    rest = "\n".join(line for line in code.splitlines() if not IMPORT_RE.match(line))
    calls += CALL_RE.findall(rest)
    methods.update(re.findall(r"\.(\w+)\s*\(", rest))


def minimum_framework(week_framework: str) -> str:
    """The week's framework in analyze()'s names ('pytorch' -> 'torch')."""
    name = week_framework.strip().lower()
    return FRAMEWORK_ALIASES.get(name, name)


def starter_text(week: Any) -> str | None:
    """The week's starter as `cohort kernels build` builds it (notebook JSON), if it has one."""
    path = week.path / "kernel.py"
    if not path.is_file():
        return None
    import nbformat

    from cohort.weeks.kernels import to_notebook

    return str(nbformat.writes(to_notebook(path)))


def judge(content: str, week_framework: str, starter: str | None) -> NotebookAnalysis:
    """The notebook's counts, and whether (and why, or why not) it goes beyond the minimum."""
    cells = _load(content)
    analysis = _analyze_cells(cells)
    starter_cells = _load(starter) if starter else []
    reasons, verdict = _verdict(cells, starter_cells, analysis, week_framework)
    return replace(analysis, reasons=reasons, verdict=verdict)


def _key(cell: dict[str, Any]) -> tuple[str, str]:
    return str(cell.get("cell_type", "")), re.sub(r"\s+", " ", _source(cell)).strip()


def _verdict(
    cells: list[dict[str, Any]],
    starter: list[dict[str, Any]],
    analysis: NotebookAnalysis,
    week_framework: str,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the rules met, one line per rule) for a notebook against the week's starter."""
    minimum = minimum_framework(week_framework)
    base = BUILT_ON.get(minimum, frozenset())
    starter_used = framework_use([c for c in starter if c.get("cell_type") == "code"])[1]
    known = {_key(c) for c in starter}
    new = [c for c in cells if _key(c) not in known]
    if starter and not new:
        line = "the week's starter, unchanged: it earns nothing beyond the minimum"
        return (), (line,)
    lines: list[tuple[bool, str]] = [_framework_line(analysis, minimum, base, starter_used)]
    explained = sum(
        1 for c in new if c.get("cell_type") == "markdown" and is_explanation(_source(c))
    )
    plots = sum(_plots_in(c) for c in new if c.get("cell_type") == "code")
    than = " beyond the starter's" if starter else ""
    lines.append(
        (
            explained >= BEYOND_EXPLANATIONS,
            f"{explained} explanation cell(s){than} ({BEYOND_EXPLANATIONS} needed)",
        )
    )
    lines.append((plots >= BEYOND_PLOTS, f"{plots} plot(s){than} ({BEYOND_PLOTS} needed)"))
    return tuple(text for met, text in lines if met), tuple(
        ("met: " if met else "not met: ") + text for met, text in lines
    )


def _framework_line(
    analysis: NotebookAnalysis, minimum: str, base: frozenset[str], starter_used: set[str]
) -> tuple[bool, str]:
    week = minimum or "minimum"
    other = [f for f in analysis.used if f != minimum and f not in base and f not in starter_used]
    if other:
        return True, f"uses {', '.join(other)} beyond the week's {week}"
    why = [f"{f} is what {minimum} is built on" for f in analysis.frameworks if f in base]
    why += [
        f"{f} is imported but builds or trains no model"
        for f in analysis.frameworks
        if f not in analysis.used and f != minimum and f not in base
    ]
    why += [
        f"{f} is used by the starter too"
        for f in sorted(starter_used)
        if f != minimum and f not in base and f in analysis.used
    ]
    detail = f" ({'; '.join(why)})" if why else ""
    return False, f"no framework beyond the week's {week}{detail}"


def require_open(week: Any, at: datetime, tz: tzinfo) -> None:
    """ValidationError when `week` has not opened at `at`: nobody can have worked on it yet."""
    if at < week.opens_at:
        from cohort.present import when_full

        raise ValidationError(
            f"Week '{week.id}' opens {when_full(week.opens_at, tz)}; "
            "analyse its notebooks once it is open."
        )


def record_notebook(
    cohort: Cohort,
    handle: str,
    week_ref: str,
    content: str,
    url: str = "",
    actor: str = "cohort",
    at: datetime | None = None,
) -> NotebookAnalysis:
    """Store a member's notebook and award `beyond_minimum` (once a week) when it qualifies;
    refused for a week that has not opened yet."""
    week = cohort.config.week(week_ref)
    at = at or utcnow()
    require_open(week, at, cohort.config.tz)
    analysis = judge(content, week.framework, starter_text(week))
    reasons = analysis.reasons
    sha = hashlib.sha256(content.encode()).hexdigest()
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


def cells_of(text: str) -> list[dict[str, Any]]:
    """The cells of a stored notebook or script kernel (for comparing notebooks)."""
    return _load(text)
