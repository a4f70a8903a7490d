"""Altair charts: pure functions from the frames the pages already hold to a chart."""

from __future__ import annotations

import altair as alt
import pandas as pd

CUT_COLOR = "#d62728"
# Readable from the back of a workshop room (Vega's default is 11 px).
LABEL_PX = 15
TITLE_PX = 16

# What every chart here returns: one chart, or charts layered on each other.
Chart = alt.Chart | alt.LayerChart


def readable(chart: Chart) -> Chart:
    """Axis and legend text large enough for a projector."""
    return (
        chart.configure_axis(labelFontSize=LABEL_PX, titleFontSize=TITLE_PX)
        .configure_legend(labelFontSize=LABEL_PX, titleFontSize=TITLE_PX)
        .configure_text(fontSize=LABEL_PX)
    )


def score_over_time(
    history: pd.DataFrame, baseline: float | None, metric: str, decimals: int = 4
) -> Chart:
    """A member's public (and, once revealed, private) scores over time, with the baseline."""
    long = history.melt(
        id_vars=["submitted_at", "submission_id"],
        value_vars=["public_score", "private_score"],
        var_name="board",
        value_name="score",
    ).dropna(subset=["score"])
    long["board"] = long["board"].map({"public_score": "public", "private_score": "private"})
    lines = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("submitted_at:T", title="submitted"),
            y=alt.Y("score:Q", title=metric, scale=alt.Scale(zero=False)),
            color=alt.Color("board:N", title="board"),
            tooltip=[
                "submission_id:Q",
                "board:N",
                alt.Tooltip("score:Q", format=f".{decimals}f"),
                alt.Tooltip("submitted_at:T", format="%d %b %H:%M"),
            ],
        )
    )
    if baseline is None:
        return readable(lines)
    rule = (
        alt.Chart(pd.DataFrame({"baseline": [baseline]}))
        .mark_rule(strokeDash=[6, 4], color="gray")
        .encode(y="baseline:Q", tooltip=[alt.Tooltip("baseline:Q", format=f".{decimals}f")])
    )
    return readable(lines + rule)


def standings_composition(
    table: pd.DataFrame, components: list[str], cut: int, labels: dict[str, str] | None = None
) -> Chart:
    """One stacked bar per member (points by component), in rank order, with the cut line."""
    long = table.melt(
        id_vars=["rank", "handle"], value_vars=components, var_name="component", value_name="points"
    )
    long["component"] = long["component"].map(lambda k: (labels or {}).get(k, k))
    order = table.sort_values("rank")["handle"].tolist()
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("handle:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False)),
            x=alt.X("sum(points):Q", title="points"),
            color=alt.Color("component:N", title="component"),
            tooltip=["handle:N", "component:N", alt.Tooltip("points:Q", format=".2f")],
        )
    )
    if len(order) <= cut:
        return readable(bars)
    # The cut sits between the last selected member and the first one below it.
    cut_rule = (
        alt.Chart(pd.DataFrame({"handle": [order[cut - 1]]}))
        .mark_rule(color=CUT_COLOR, strokeWidth=3, yOffset=9)
        .encode(y=alt.Y("handle:N", sort=order))
    )
    return readable((bars + cut_rule).properties(height=max(200, 28 * len(order))))


def shakeup(rows: pd.DataFrame) -> Chart:
    """Public rank -> private rank for each member: lines going down lost places."""
    ranked = rows.dropna(subset=["public_rank", "rank"])
    long = pd.concat(
        [
            pd.DataFrame(
                {"handle": ranked["handle"], "board": "public", "rank": ranked["public_rank"]}
            ),
            pd.DataFrame({"handle": ranked["handle"], "board": "private", "rank": ranked["rank"]}),
        ]
    )
    long["change"] = long["handle"].map(
        dict(zip(ranked["handle"], ranked["rank_change"], strict=True))
    )
    deepest = int(max(long["rank"].max(), 1)) if len(long) else 1
    base = alt.Chart(long).encode(
        x=alt.X("board:N", sort=["public", "private"], title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("rank:Q", scale=alt.Scale(reverse=True, domain=[1, deepest]), title="rank"),
        detail="handle:N",
        color=alt.Color(
            "change:Q", scale=alt.Scale(scheme="redyellowgreen", domainMid=0), title="places gained"
        ),
        tooltip=["handle:N", "board:N", "rank:Q", "change:Q"],
    )
    labels = (
        base.transform_filter(alt.datum.board == "private")
        .mark_text(align="left", dx=6, color="#333")
        .encode(text="handle:N", color=alt.value("#333"))
    )
    return readable(
        (base.mark_line(point=True) + labels).properties(height=max(240, 22 * len(ranked)))
    )
