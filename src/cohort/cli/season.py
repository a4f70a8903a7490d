"""`cohort standings`, `select`, `freezes`, `contrib ...`, `notebook analyze`, `flags`: the season."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cohort.cli import (
    ActorOption,
    JsonOption,
    app,
    open_cohort,
    open_config,
    print_json,
    print_table,
    sub_app,
)

if TYPE_CHECKING:
    from cohort.season.selection import Selection

contrib_app = sub_app("Contribution events: add, correct, import from CSV, list.")
app.add_typer(contrib_app, name="contrib")
notebook_app = sub_app(
    "Members' notebooks: frameworks, explanations, plots; awards 'beyond the minimum'."
)
app.add_typer(notebook_app, name="notebook")


def _points(value: float) -> str:
    return f"{value:g}"


BELOW_CUT = 5  # members shown under the cut line when the table is cut short


@app.command("standings")
def standings_(
    ctx: typer.Context,
    json: JsonOption = False,
    show_all: Annotated[
        bool,
        typer.Option("--all", help="List every member (default: the top N and 5 below the cut)."),
    ] = False,
) -> None:
    """The season standings: each member's total and every component of it."""
    from cohort.season.standings import standings

    cohort = open_cohort(ctx)
    table = standings(cohort)
    if json:
        print_json(
            {"weeks": list(table.weeks), "revealed": table.revealed, "rows": table.as_dicts()}
        )
        return
    rows = [
        [
            r.rank,
            r.handle,
            r.name,
            _points(r.total),
            _points(r.performance),
            _points(r.contributions),
            *[_points(r.components[w]) for w in table.weeks],
            r.tie_note,
        ]
        for r in table.rows[: None if show_all else cohort.config.final_size + BELOW_CUT]
    ]
    hidden = [w for w, shown in table.revealed.items() if not shown]
    caption = f"Public scores for weeks not revealed yet: {', '.join(hidden)}." if hidden else ""
    if len(rows) < len(table.rows):
        more = (
            f"The top {cohort.config.final_size} make the cut; {len(table.rows) - len(rows)} "
            "more members below (--all lists everyone)."
        )
        caption = f"{caption} {more}".strip()
    print_table(
        "Season standings",
        ["#", "handle", "name", "total", "performance", "contributions", *table.weeks, "tie-break"],
        rows,
        caption,
    )


def _print_selection(sel: Selection) -> None:
    typer.echo(f"Selected (top {sel.top}):")
    for s in sel.selected:
        parts = " + ".join(f"{k} {_points(v)}" for k, v in s.reason.items()) or "no points"
        typer.echo(f"  {s.rank:>2}. {s.handle} ({s.name}): {_points(s.total)} = {parts}")
    if sel.below_cut:
        typer.echo("Just below the cut:")
    for b in sel.below_cut:
        typer.echo(f"  {b.rank:>2}. {b.handle} ({b.name}): {_points(b.total)}; {b.note}")
    for t in sel.ties:
        verdict = "a statistical tie" if t.flagged else "stable"
        typer.echo(
            f"Cut check: {t.above} stays ahead of {t.below} in {t.probability:.0%} of "
            f"{sel.samples} resamples of the test rows ({verdict})."
        )
    for note in sel.notes:
        typer.echo(f"Note: {note}")
    if sel.unrevealed:
        one = len(sel.unrevealed) == 1
        typer.echo(
            f"Warning: {'week' if one else 'weeks'} {', '.join(sel.unrevealed)} "
            f"{'is' if one else 'are'} not revealed; {'its' if one else 'their'} public scores "
            "were used."
        )


@app.command("select")
def select_(
    ctx: typer.Context,
    top: Annotated[
        int | None, typer.Option(help="How many to select; default: final_size in cohort.toml.")
    ] = None,
    json: JsonOption = False,
    freeze: Annotated[
        bool, typer.Option("--freeze", help="Record this selection, its formula and inputs.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="With --freeze: freeze again (the old freeze is kept, superseded)."
        ),
    ] = False,
    actor: ActorOption = "organizer",
) -> None:
    """The top N with reasons, the members just below the cut, and a tie check at the cut."""
    from cohort.season import selection

    cohort = open_cohort(ctx)
    sel = selection.select(cohort, top)
    frozen = selection.freeze(cohort, actor, top, force=force, selection=sel) if freeze else None
    if json:
        print_json({**sel.as_dict(), "freeze_id": frozen})
        return
    _print_selection(sel)
    if frozen is not None:
        typer.echo(f"Frozen as selection #{frozen}.")


@app.command("freezes")
def freezes(ctx: typer.Context, json: JsonOption = False) -> None:
    """Frozen selections, newest first, and whether today's inputs still match the current one."""
    from cohort import present
    from cohort.season import selection

    cohort = open_cohort(ctx)
    found = selection.frozen(cohort)
    changed = selection.inputs_changed(cohort)
    rows = [
        {
            "id": f.id,
            "frozen_at": f.frozen_at.isoformat(),
            "frozen_by": f.frozen_by,
            "top": f.top_n,
            "inputs_sha256": f.inputs_sha256,
            "superseded": f.superseded,
            "selected": [s["handle"] for s in f.result.get("selected", [])],
        }
        for f in found
    ]
    if json:
        print_json({"freezes": rows, "inputs_changed_since_current": changed})
        return
    print_table(
        f"{len(rows)} frozen selections",
        ["id", "frozen at", "by", "top", "inputs sha256", "status", "selected"],
        [
            [
                r["id"],
                present.when_full(r["frozen_at"], cohort.config.tz),
                r["frozen_by"],
                r["top"],
                r["inputs_sha256"][:12],
                "superseded" if r["superseded"] else "current",
                " ".join(r["selected"]),
            ]
            for r in rows
        ],
    )
    if changed is not None:
        typer.echo(
            "The inputs have changed since the current freeze."
            if changed
            else "Today's inputs match the current freeze."
        )


@contrib_app.command("add")
def contrib_add(
    ctx: typer.Context,
    member: Annotated[str, typer.Option("--member", "-m", help="The member's handle.")],
    kind: Annotated[
        str,
        typer.Option(
            help="attended, presented, on_time_kernel, beyond_minimum, challenge_rank or helped."
        ),
    ],
    week: Annotated[
        str | None,
        typer.Option(
            "--week", "-w", help="The week (01-pets, 1 or pets); required except for 'helped'."
        ),
    ] = None,
    value: Annotated[
        float, typer.Option(help="Units (default 1); for challenge_rank the rank, 1 = winner.")
    ] = 1.0,
    note: Annotated[str, typer.Option(help="What happened, for the record.")] = "",
    supersedes: Annotated[
        int | None, typer.Option(help="Id of the event this one corrects (value 0 withdraws it).")
    ] = None,
    actor: ActorOption = "organizer",
) -> None:
    """Record a contribution event, or correct one with --supersedes."""
    from cohort.season.contributions import add

    event_id = add(open_cohort(ctx), member, kind, value, week, note, actor, supersedes)
    fixed = f", superseding #{supersedes}" if supersedes is not None else ""
    typer.echo(
        f"Recorded event #{event_id}: {member} {kind}{' ' + week if week else ''} value {value:g}{fixed}."
    )


@contrib_app.command("import")
def contrib_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Attendance sheet or Google Forms CSV export.")],
    kind: Annotated[str, typer.Option(help="The contribution kind every row records.")],
    week: Annotated[
        str | None,
        typer.Option(
            "--week",
            "-w",
            help="The week; default: a week column, else the week of the Timestamp.",
        ),
    ] = None,
    actor: ActorOption = "organizer",
) -> None:
    """Import events from CSV; members are matched by handle, email, name or Kaggle username."""
    from cohort.season.contributions import import_csv

    report = import_csv(open_cohort(ctx), file, kind, week, actor)
    typer.echo(
        f"Contributions: {report.added} added, {report.already_recorded} already recorded, "
        f"{len(report.unmatched)} unmatched."
    )
    for line in report.unmatched:
        typer.echo(f"  unmatched {line}", err=True)


@contrib_app.command("list")
def contrib_list(
    ctx: typer.Context,
    member: Annotated[
        str | None, typer.Option("--member", "-m", help="Only this member's events.")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Current events (superseded ones hidden), derived on-time kernels included."""
    from cohort.season.contributions import events

    frame = events(open_cohort(ctx), member)
    records = [
        {
            "id": None if r["id"] is None else int(r["id"]),
            "handle": r["handle"],
            "week": r["week"],
            "kind": r["kind"],
            "value": float(r["value"]),
            "note": r["note"],
            "source": r["source"],
            "recorded_by": r["recorded_by"],
            "supersedes": None if r["supersedes_id"] is None else int(r["supersedes_id"]),
        }
        for r in frame.astype(object).where(frame.notna(), None).to_dict("records")
    ]
    if json:
        print_json(records)
        return
    rows = [
        [
            r["id"] if r["id"] is not None else "-",
            r["handle"],
            r["week"],
            r["kind"],
            _points(r["value"]),
            r["source"],
            r["note"],
        ]
        for r in records
    ]
    print_table(
        f"{len(rows)} contribution events",
        ["id", "handle", "week", "kind", "value", "source", "note"],
        rows,
    )


@notebook_app.command("analyze")
def notebook_analyze(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The .ipynb file.")],
    member: Annotated[
        str | None,
        typer.Option("--member", "-m", help="Record it for this member (awards beyond_minimum)."),
    ] = None,
    week: Annotated[
        str | None,
        typer.Option(
            "--week",
            "-w",
            help="The week it belongs to (needed with --member); judged against its starter.",
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Frameworks, explanation cells and plots of a notebook, and the verdict against the
    week's starter; with --member, record it (awards beyond_minimum, never on-time credit)."""
    from cohort.errors import ValidationError
    from cohort.season.notebooks import analyze, judge, record_notebook, starter_text

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"Cannot read notebook {file} ({exc}); pass an .ipynb file."
        ) from None
    if member and not week:
        raise ValidationError("Recording a notebook needs its week; pass --week W with --member.")
    if member:
        result = record_notebook(open_cohort(ctx), member, week or "", text, url=file.name)
    elif week:
        from cohort.season.notebooks import require_open
        from cohort.workspace import utcnow

        config = open_config(ctx)
        spec = config.week(week)
        require_open(spec, utcnow(), config.tz)
        result = judge(text, spec.framework, starter_text(spec))
    else:
        result = analyze(text)
    if json:
        print_json(result.as_dict())
        return
    typer.echo(
        f"Frameworks: {', '.join(result.frameworks) or 'none'}; explanation cells: "
        f"{result.markdown_cells}; plots: {result.plots}; code cells: {result.code_cells}."
    )
    for line in result.verdict:
        typer.echo(f"  {line}")
    if result.verdict:
        verdict = "; ".join(result.reasons) if result.reasons else "no (see the rules above)"
        typer.echo(f"Beyond the minimum: {verdict}.")
    if result.event_id is not None:
        typer.echo(f"Awarded beyond_minimum to {member} (event #{result.event_id}).")


@app.command("flags")
def flags_(
    ctx: typer.Context,
    week: Annotated[
        str | None, typer.Argument(help="Week id, number or slug (default: every week).")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Suspicious results with their evidence: implausible scores, one file from two members,
    near-identical predictions, copied notebooks, notebook links the member does not own.
    Times are in the cohort's zone. Nothing is changed."""
    from cohort.season.flags import flags

    found = flags(open_cohort(ctx), week)
    if json:
        print_json([f.as_dict() for f in found])
        return
    print_table(
        "Flags",
        ["week", "kind", "members", "submissions", "evidence"],
        [
            [f.week, f.kind, ", ".join(f.handles), ", ".join(map(str, f.submissions)), f.evidence]
            for f in found
        ],
        caption="Nothing was changed; check the evidence, then act (override-score, contrib add)."
        if found
        else "No suspicious results.",
    )
