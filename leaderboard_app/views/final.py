"""The final project's board: the finalists ranked on the cohort's LANL board, with their Kaggle scores."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import cohort_ui as ui
from cohort.errors import CohortError
from cohort.kaggle.final import final_board


def _table(board) -> pd.DataFrame:  # noqa: ANN001 - a cohort.kaggle.final.FinalBoard
    return pd.DataFrame(
        {
            "Rank": [r.rank for r in board.rows],
            "Member": [r.name for r in board.rows],
            "Cohort board": [r.cohort_score for r in board.rows],
            "Kaggle private": [r.kaggle_private for r in board.rows],
            "Kaggle rank": [r.kaggle_rank for r in board.rows],
            "Late submissions": [r.kaggle_submissions for r in board.rows],
        }
    )


def main() -> None:
    """Render the page."""
    c = ui.cohort()
    st.title("Final project")
    try:
        board = final_board(c)
    except CohortError as exc:
        st.info(f"No final board yet: {exc}")
        return
    which = "private" if board.private else "public (the private board after the reveal)"
    st.caption(
        f"{board.week} · {len(board.rows)} finalists ({board.finalists_from}) · ranked on the "
        f"cohort's hidden {board.metric.upper()} board, {which} · Kaggle's private scores of the "
        "finalists' late submissions beside it, where they sent them."
    )
    fmt = {"Cohort board": "%.4f", "Kaggle private": "%.4f"}
    st.dataframe(
        _table(board),
        hide_index=True,
        width="stretch",
        column_config={k: st.column_config.NumberColumn(k, format=v) for k, v in fmt.items()},
    )


main()
