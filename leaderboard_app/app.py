"""The cohort leaderboard: `streamlit run leaderboard_app/app.py` from a cohort directory.

Pages live one module per page in views/. `?mode=workshop` shows only the
workshop screen (for the projector), without the navigation.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # so pages can import cohort_ui and charts however they are run
    sys.path.insert(0, str(HERE))

PAGES = {
    "leaderboard": ("Leaderboard", "views/leaderboard.py", ":material/leaderboard:"),
    "standings": ("Season standings", "views/standings.py", ":material/social_leaderboard:"),
    "final": ("Final project", "views/final.py", ":material/emoji_events:"),
    "member": ("Member", "views/member.py", ":material/person:"),
    "submit": ("Submit", "views/submit.py", ":material/upload:"),
    "workshop": ("Workshop screen", "views/workshop.py", ":material/co_present:"),
    "organizer": ("Organizer", "views/organizer.py", ":material/admin_panel_settings:"),
}


def _page(slug: str, default: bool = False) -> st.Page:
    title, path, icon = PAGES[slug]
    return st.Page(str(HERE / path), title=title, icon=icon, url_path=slug, default=default)


st.set_page_config(page_title="Cohort leaderboard", page_icon=":trophy:", layout="wide")
if st.query_params.get("mode") == "workshop":
    page = st.navigation([_page("workshop", default=True)], position="hidden")
else:
    page = st.navigation([_page(s, default=(s == "leaderboard")) for s in PAGES])
page.run()
