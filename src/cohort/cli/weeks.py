"""`cohort prepare` and `cohort kernels build`: the weekly modules' data and starter kernels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cohort.cli import JsonOption, app, open_cohort, print_json, print_table, sub_app
from cohort.errors import ValidationError

kernels_app = sub_app(
    "The weeks' starter Kaggle kernels: build kernel.ipynb and kernel-metadata.json."
)
app.add_typer(kernels_app, name="kernels")
weeks_app = sub_app("The weekly modules: measure each week's baselines on its embedded data.")
app.add_typer(weeks_app, name="weeks")


def _week_ids(cohort: object, week: str | None) -> list[str]:
    config = cohort.config  # type: ignore[attr-defined]
    if week in (None, "all"):
        return [w.id for w in config.weeks]
    return [config.week(week).id]


@app.command()
def prepare(
    ctx: typer.Context,
    week: Annotated[
        str, typer.Argument(help="Week id, number or slug ('01-pets', '1', 'final'), or 'all'.")
    ],
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a solution that already has scored submissions."),
    ] = False,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Seed for the split and simulated data; default: week.toml's [data] seed."
        ),
    ] = None,
    raw: Annotated[
        Path | None,
        typer.Option(
            help="Folder with the real Kaggle files; default: data/raw/<week>/ when present."
        ),
    ] = None,
) -> None:
    """Build data/<week>/: train and test files, sample_submission.csv and the hidden solution.csv."""
    from cohort.weeks.prepare import prepare as prepare_week

    if raw is not None and week == "all":
        raise ValidationError("--raw names one week's files; use it with one week, not 'all'.")
    cohort = open_cohort(ctx)
    for week_id in _week_ids(cohort, week):
        report = prepare_week(cohort, week_id, force=force, seed=seed, raw_dir=raw)
        state = "" if report.changed else " (solution unchanged)"
        typer.echo(
            f"Prepared {report.week} from {report.source}: {report.train_rows} training rows, "
            f"{report.test_rows} test rows ({report.public_rows} public), seed {report.seed}{state} -> {report.directory}"
        )
        for warning in report.warnings:
            typer.echo(f"Warning: {warning}", err=True)


@kernels_app.command("build")
def build(
    ctx: typer.Context,
    week: Annotated[
        str | None, typer.Argument(help="Week id, number or slug; default: every week.")
    ] = None,
) -> None:
    """Turn each week's kernel.py into build/kernel.ipynb plus kernel-metadata.json."""
    from cohort.weeks.kernels import build as build_kernel

    cohort = open_cohort(ctx)
    for week_id in _week_ids(cohort, week):
        result = build_kernel(cohort, week_id)
        typer.echo(
            f"Built {week_id}: {result.notebook_path} and {result.metadata_path.name} ({result.kernel_id})"
        )


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValidationError(
            f"--seeds {text!r} is not a comma-separated list of whole numbers; use e.g. 0,1,2."
        ) from None
    if not seeds or any(s < 0 or s >= 2**32 for s in seeds):
        raise ValidationError(f"--seeds {text!r} needs seeds from 0 to 2**32-1, e.g. 0,1,2.")
    return seeds


def _parameters(settings: list[str]) -> dict[str, object]:
    """`--set NAME=VALUE` options as a dict; VALUE is a Python literal (True, 3, 0.5, 'x')."""
    import ast

    parameters: dict[str, object] = {}
    for setting in settings:
        name, sep, value = setting.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ValidationError(
                f"--set {setting!r} is not NAME=VALUE; use e.g. --set AUGMENT=False."
            )
        try:
            parameters[name.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            raise ValidationError(
                f"--set {setting!r}: {value.strip()!r} is not a Python literal; "
                "use e.g. False, 3, 0.5 or 'text' (quoted)."
            ) from None
    return parameters


@weeks_app.command("report")
def report(
    ctx: typer.Context,
    week: Annotated[
        str | None, typer.Argument(help="Week id, number or slug; default: every week.")
    ] = None,
    seeds: Annotated[
        str, typer.Option(help="Training seeds for the starter kernel, comma-separated.")
    ] = "0,1,2",
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the table as the README writes it.")
    ] = False,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="NAME=VALUE for the kernel's parameters cell, a Python literal "
            "(e.g. --set AUGMENT=False); repeat for more. The table's week column names them.",
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Run each starter kernel over seeds on the embedded data; print it beside the baselines."""
    from cohort.weeks.report import report as measure
    from cohort.weeks.report import table_rows

    chosen = _seeds(seeds)
    parameters = _parameters(settings or [])
    cohort = open_cohort(ctx)

    def progress(line: str) -> None:
        typer.echo(line, err=True)

    reports = [measure(cohort, w, chosen, progress, parameters) for w in _week_ids(cohort, week)]
    rows = table_rows(reports)
    if json:
        print_json([{**r.__dict__, "mean": r.mean, "sd": r.sd} for r in reports])
    elif markdown:
        columns = list(rows[0])
        typer.echo("| " + " | ".join(columns) + " |")
        typer.echo("|" + "---|" * len(columns))
        for row in rows:
            typer.echo("| " + " | ".join(row.values()) + " |")
    else:
        print_table(
            "Baselines on the embedded data", list(rows[0]), [list(r.values()) for r in rows]
        )
