"""Season standings: every member's total and its components, with the top-N cut drawn."""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

import charts
import cohort_ui as ui
from cohort import present
from cohort.errors import CohortError

REFRESH_SECONDS = 30


def _table(view: dict) -> pd.DataFrame:
    table = view["table"]
    out = pd.DataFrame(
        {
            "Rank": table["rank"],
            "Member": table["name"],
            "Handle": table["handle"],
            "Total": table["total"].round(2),
        }
    )
    for comp in view["components"]:
        out[view["labels"][comp]] = table[comp].round(2)
    out["Selected"] = table["selected"].map(lambda s: "✓ selected" if s else "")
    return out


def _columns(view: dict) -> dict:
    points = {
        label: st.column_config.NumberColumn(label, format="%.2f")
        for label in ["Total", *view["labels"].values()]
    }
    return {
        "Rank": st.column_config.NumberColumn("Rank", format="%d", width="small"),
        "Member": st.column_config.TextColumn("Member", pinned=True),
        **points,
    }


STYLE = """
<style>
table.standings { border-collapse: collapse; width: 100%; font-size: 1.05rem; }
table.standings th, table.standings td { padding: 0.2rem 0.5rem; border-bottom: 1px solid #e6e6e6; }
table.standings td.who, table.standings td.tie { white-space: nowrap; }
table.standings th.num { font-weight: 600; font-size: 0.95rem; }
/* A phone keeps rank, member, total and the tie mark; the parts are in the table below. */
@media (max-width: 640px) { table.standings .comp { display: none; } }
table.standings td.num, table.standings th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.standings tr.selected td { background: #eef7ee; }
table.standings tr.cut td { border-top: 4px solid #d62728; color: #d62728; font-weight: 600;
  text-align: center; padding: 0.1rem; font-size: 0.85rem; }
</style>
"""
AROUND_CUT = 8  # members shown below the cut in the drawn table; the full list is below it


def _html_table(view: dict) -> str:
    """The top of the standings as HTML, with the cut drawn as its own row; text escaped."""
    table, comps, cut = view["table"], view["components"], view["cut"]
    labels = view["labels"]
    head = "".join(f"<th class='num comp'>{html.escape(labels[k])}</th>" for k in comps)
    rows = [f"<tr><th>#</th><th>Member</th><th class='num'>Total</th>{head}<th>Tie</th></tr>"]
    for i, r in enumerate(table.head(cut + AROUND_CUT).to_dict("records")):
        if i == cut:
            rows.append(
                f"<tr class='cut'><td colspan='{4 + len(comps)}'>cut line: the top {cut} "
                "above go to the final project</td></tr>"
            )
        cells = "".join(f"<td class='num comp'>{r[k]:.2f}</td>" for k in comps)
        klass = "selected" if r["selected"] else "below"
        tie = "⚠ tie" if r["tied"] else ""
        rows.append(
            f"<tr class='{klass}'><td>{int(r['rank'])}</td><td class='who'>{html.escape(str(r['name']))} "
            f"<small>({html.escape(str(r['handle']))})</small></td>"
            f"<td class='num'><b>{r['total']:.2f}</b></td>{cells}<td class='tie'>{tie}</td></tr>"
        )
    return f"<table class='standings'>{''.join(rows)}</table>"


def _ties(view: dict) -> None:
    if view["ties"]:
        st.warning(
            "**Statistical tie at the cut** (⚠ below): the order may be luck.\n\n"
            + "\n".join(f"- {line}" for line in view["ties"])
        )


@st.fragment(run_every=REFRESH_SECONDS)
def _live() -> None:
    c = ui.cohort()
    root, stamp = ui.key(c)
    try:
        view = ui.standings_view(root, stamp)
    except CohortError as exc:
        ui.show_error(exc)
        return
    table = view["table"]
    if table.empty or not (table["total"] > 0).any():
        st.info(
            "No standings yet: they appear once submissions are scored or contributions recorded."
        )
        return
    cut = view["cut"]
    st.subheader(f"Top {cut} go to the final project")
    st.caption(
        f"{len(view['selected'])} selected · the red line is the cut · "
        "totals follow the formula in cohort.toml"
    )
    if view["frozen"]:
        st.info(f"{view['frozen']}; the live standings below may have moved since.")
    if view["unrevealed"]:
        st.caption(
            "Not yet revealed, so counted on their public scores: "
            + ", ".join(present.week_name(c.config, w) for w in view["unrevealed"])
        )
    _ties(view)
    st.html(STYLE + _html_table(view))
    ui.updated(c, REFRESH_SECONDS)
    with st.expander(f"All {len(table)} members", key="standings_all"):
        st.dataframe(
            _table(view),
            hide_index=True,
            placeholder="–",
            width="stretch",
            height=ui.grid_height(len(table)),
            column_config=_columns(view),
        )
    st.subheader("What each total is made of")
    # The members around the cut: a bar per member of a 1,000-member cohort would say nothing.
    shown = table.head(cut + AROUND_CUT)
    st.altair_chart(
        charts.standings_composition(shown, view["components"], cut, view["labels"]),
        width="stretch",
    )
    if view["below_cut"]:
        st.subheader("Just below the cut")
        st.dataframe(pd.DataFrame(view["below_cut"]), hide_index=True, width="stretch")


def main() -> None:
    """Render the page."""
    st.title("Season standings")
    _live()


main()
