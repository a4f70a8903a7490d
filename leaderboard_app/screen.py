"""The workshop screen's drawing: pure functions from board rows to projector-sized HTML.

Nothing here ranks or scores; rows come from the same board functions the CLI
uses. What is computed here is presentation only: how many rows fit a column
at 1920x1080, which rows moved since the screen's last refresh, and which are
new enough to highlight. Every member-supplied text is escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from cohort import present

# At 1920x1080 the board gets about this many pixels of height (title, countdown and the strip
# of latest submissions take the rest).
BOARD_PX = 780
ONE_COLUMN = 12  # up to this many members, one column of large rows
PAGE_ROWS = 48  # above this, timed pages of two columns of 24
ROW_PX_MAX = 54
ROW_PX_MIN = 26
HIGHLIGHT_SECONDS = 8.0

STYLE = """
<style>
header[data-testid="stHeader"] { display: none; }
[data-testid="stMainBlockContainer"], .block-container {
  padding-top: 0.6rem !important; padding-bottom: 0 !important; max-width: 100% !important; }
.ws { font-family: "Source Sans Pro", "Source Sans 3", sans-serif; color: #1a1a1a; }
.ws .top { display: flex; justify-content: space-between; align-items: flex-end; gap: 2rem; }
.ws h1 { font-size: 3rem; line-height: 1.1; margin: 0; padding: 0; }
.ws .sub { font-size: 1.5rem; color: #555; margin: 0.2rem 0 0.6rem 0; }
.ws .clock { font-size: 2.2rem; font-weight: 700; color: #0b5394; text-align: right;
  white-space: nowrap; font-variant-numeric: tabular-nums; }
.ws .clock.big { font-size: 7rem; line-height: 1; }
.ws .clock.last { color: #c62828; }
.ws .cols { display: flex; gap: 2.5rem; align-items: flex-start; }
.ws .cols > table { flex: 1 1 0; min-width: 0; }
.ws table { border-collapse: collapse; width: 100%; table-layout: fixed; }
.ws td, .ws th { padding: 0 0.6rem; border-bottom: 1px solid #ddd; text-align: left;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ws th { font-size: 1.1rem; color: #666; font-weight: 600; height: 2rem; }
.ws td.num, .ws th.num { text-align: right; font-variant-numeric: tabular-nums; }
.ws td.rank { font-weight: 700; }
.ws td small { color: #666; font-size: 0.7em; }
.ws tr.fresh td { background: #fff3b0; }
.ws tr.cut td { border-top: 5px solid #d62728; color: #d62728; font-weight: 700;
  text-align: center; font-size: 1.2rem; height: 2rem; }
.ws tr.selected td { background: #eef7ee; }
.ws .up { color: #1b7f2a; font-weight: 700; }
.ws .down { color: #c62828; font-weight: 700; }
.ws .new { color: #0b5394; font-weight: 700; }
.ws .strip { display: flex; gap: 1.2rem; font-size: 1.25rem; margin-top: 0.7rem; color: #333;
  white-space: nowrap; overflow: hidden; border-top: 2px solid #ccc; padding-top: 0.4rem; }
.ws .strip b { color: #0b5394; }
.ws .movers { font-size: 1.5rem; margin: 0.2rem 0 0.5rem 0; }
.ws .warn { background: #fff4e5; border-left: 8px solid #ef6c00; font-size: 1.4rem;
  padding: 0.4rem 0.8rem; margin-bottom: 0.6rem; }
.ws .empty { font-size: 2.2rem; color: #666; padding: 2rem 0; }
.ws .join { display: flex; gap: 1.5rem; align-items: center; font-size: 1.6rem; }
.ws .join img { width: 220px; height: 220px; }
.ws .join .url { font-size: 2rem; font-weight: 700; word-break: break-all; }
.ws .podium { display: flex; justify-content: center; align-items: flex-end; gap: 2rem;
  margin: 1.5rem 0; }
.ws .podium div { width: 26%; text-align: center; border-radius: 0.6rem 0.6rem 0 0;
  padding: 1rem 0.5rem; font-size: 2rem; }
.ws .podium .p1 { background: #ffd54f; height: 380px; }
.ws .podium .p2 { background: #cfd8dc; height: 300px; }
.ws .podium .p3 { background: #ffab91; height: 240px; }
.ws .podium .place { font-size: 4rem; font-weight: 800; }
.ws .foot { font-size: 1rem; color: #777; margin-top: 0.3rem; }
/* A phone opening the projector's URL: one column, phone-sized type, no entries column. */
@media (max-width: 700px) {
  .ws h1 { font-size: 1.8rem; }
  .ws .sub { font-size: 1rem; }
  .ws .top { flex-wrap: wrap; gap: 0.3rem; }
  .ws .clock { font-size: 1.2rem; text-align: left; white-space: normal; }
  .ws .clock.big { font-size: 3rem; }
  .ws .cols { flex-direction: column; gap: 0; }
  .ws .cols > table { width: 100%; }
  .ws table { font-size: 1rem !important; }
  .ws tr { height: 2.2rem !important; }
  .ws td, .ws th { padding: 0 0.3rem; }
  .ws .opt { display: none; }
  .ws .strip { flex-wrap: wrap; font-size: 0.9rem; white-space: normal; }
  .ws .movers, .ws .warn { font-size: 1rem; }
  .ws .join { font-size: 1rem; flex-wrap: wrap; }
  .ws .join img { width: 140px; height: 140px; }
  .ws .join .url { font-size: 1.1rem; }
  .ws .podium { gap: 0.5rem; }
  .ws .podium div { font-size: 1rem; width: 32%; }
  .ws .podium .place { font-size: 2rem; }
  .ws .podium .p1 { height: 200px; } .ws .podium .p2 { height: 160px; } .ws .podium .p3 { height: 130px; }
}
</style>
"""


def esc(value: Any) -> str:
    """Member-supplied text, escaped for HTML."""
    return html.escape(str(value))


# ---------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    """How a board of n rows is laid out on the projector."""

    columns: int
    rows_per_column: int
    pages: int
    row_px: int

    @property
    def per_page(self) -> int:
        """Rows on one page."""
        return self.columns * self.rows_per_column


def layout(n: int, board_px: int = BOARD_PX) -> Layout:
    """One column up to 12 rows, two columns up to 48, timed pages of 48 above; rows never cut."""
    if n <= ONE_COLUMN:
        columns, per_column, pages = 1, max(n, 1), 1
    else:
        pages = math.ceil(n / PAGE_ROWS)
        per_page = math.ceil(n / pages)
        columns, per_column = 2, math.ceil(per_page / 2)
    # One header row per column; rows share what is left, between a readable minimum and maximum.
    row_px = int(max(ROW_PX_MIN, min(ROW_PX_MAX, board_px // (per_column + 1))))
    return Layout(columns, per_column, pages, row_px)


def page_of(rows: Sequence[dict[str, Any]], lay: Layout, page: int) -> list[list[dict[str, Any]]]:
    """The rows of one page, split into its columns."""
    start = (page % lay.pages) * lay.per_page
    shown = list(rows[start : start + lay.per_page])
    return [
        shown[i * lay.rows_per_column : (i + 1) * lay.rows_per_column] for i in range(lay.columns)
    ]


# ---------------------------------------------------------------- what moved


@dataclass
class Tracker:
    """Ranks as of the screen's last refresh, to draw arrows and highlight new or better rows."""

    ranks: dict[str, int] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    arrows: dict[str, int | None] = field(default_factory=dict)
    fresh_at: dict[str, float] = field(default_factory=dict)
    started: bool = False

    def update(self, rows: Sequence[dict[str, Any]], now: float) -> None:
        """Compare with the last refresh; arrows stay until the next change of the board."""
        ranks = {str(r["handle"]): int(r["rank"]) for r in rows}
        scores = {str(r["handle"]): float(r["score"]) for r in rows}
        if not self.started:
            self.ranks, self.scores, self.started = ranks, scores, True
            return
        if ranks == self.ranks and scores == self.scores:
            return
        self.arrows = {
            h: (self.ranks[h] - rank) if h in self.ranks else None for h, rank in ranks.items()
        }
        for h, value in scores.items():
            if h not in self.scores or value != self.scores[h]:
                self.fresh_at[h] = now
        self.ranks, self.scores = ranks, scores

    def arrow(self, handle: str) -> str:
        """'▲ 2' in green, '▼ 1' in red, 'new' for a member new on the board; '' otherwise."""
        if handle not in self.arrows:
            return ""
        change = self.arrows[handle]
        if change is None:
            return "<span class='new'>new</span>"
        return _change_html(change)

    def is_fresh(self, handle: str, now: float) -> bool:
        """True for a few seconds after a member's row is new or changed score."""
        at = self.fresh_at.get(handle)
        return at is not None and now - at < HIGHLIGHT_SECONDS


def _change_html(change: Any) -> str:
    if present.missing(change) or int(change) == 0:
        return ""
    n = int(change)
    return f"<span class='{'up' if n > 0 else 'down'}'>{esc(present.rank_change(n))}</span>"


# ---------------------------------------------------------------- boards


def _who(r: dict[str, Any]) -> str:
    return f"{esc(r['name'])} <small>({esc(r['handle'])})</small>"


def board_table(
    rows: Sequence[dict[str, Any]],
    metric: str,
    lay: Layout,
    tracker: Tracker | None = None,
    now: float = 0.0,
    private: bool = False,
) -> str:
    """One column of the board: rank, movement, member, score (and public rank after reveal)."""
    font = round(lay.row_px * 0.55)
    if private:
        head = (
            "<tr><th style='width:9%'>#</th><th style='width:11%' class='num'>public</th>"
            "<th style='width:12%'>change</th><th>Member</th>"
            "<th style='width:22%' class='num'>Private score</th></tr>"
        )
    else:
        head = (
            "<tr><th style='width:9%'>#</th><th style='width:11%'></th><th>Member</th>"
            "<th style='width:22%' class='num'>Score</th>"
            "<th style='width:11%' class='num opt'>Entries</th></tr>"
        )
    body = []
    for r in rows:
        handle = str(r["handle"])
        fresh = tracker is not None and tracker.is_fresh(handle, now)
        klass = " class='fresh'" if fresh else ""
        rank = f"<td class='rank'>{int(r['rank'])}</td>"
        score = f"<td class='num'>{esc(present.score(r['score'], metric))}</td>"
        if private:
            public = "" if present.missing(r.get("public_rank")) else int(r["public_rank"])
            cells = (
                f"{rank}<td class='num'>{public}</td><td>{_change_html(r.get('rank_change'))}</td>"
                f"<td>{_who(r)}</td>{score}"
            )
        else:
            arrow = tracker.arrow(handle) if tracker is not None else ""
            cells = (
                f"{rank}<td>{arrow}</td><td>{_who(r)}</td>{score}"
                f"<td class='num opt'>{int(r.get('entries') or 0)}</td>"
            )
        body.append(f"<tr{klass} style='height:{lay.row_px}px'>{cells}</tr>")
    return f"<table style='font-size:{font}px'>{head}{''.join(body)}</table>"


def board_html(
    rows: Sequence[dict[str, Any]],
    metric: str,
    page: int = 0,
    tracker: Tracker | None = None,
    now: float = 0.0,
    private: bool = False,
    board_px: int = BOARD_PX,
) -> str:
    """The whole board at projector size: every row of the page visible, none cut."""
    lay = layout(len(rows), board_px)
    columns = page_of(rows, lay, page)
    tables = "".join(
        board_table(col, metric, lay, tracker, now, private) for col in columns if col or page == 0
    )
    pages = (
        f"<div class='foot'>page {page % lay.pages + 1} of {lay.pages}</div>"
        if lay.pages > 1
        else ""
    )
    return f"<div class='cols'>{tables}</div>{pages}"


def movers(rows: Sequence[dict[str, Any]], n: int = 3) -> str:
    """The biggest movers from the public to the private board, coloured."""
    moved = [r for r in rows if not present.missing(r.get("rank_change")) and r["rank_change"]]
    if not moved:
        return "<div class='movers'>No one moved between the public and the private board.</div>"
    up = sorted((r for r in moved if r["rank_change"] > 0), key=lambda r: -r["rank_change"])[:n]
    down = sorted((r for r in moved if r["rank_change"] < 0), key=lambda r: r["rank_change"])[:n]
    parts = [f"{_change_html(r['rank_change'])} {esc(r['name'])}" for r in up + down]
    return "<div class='movers'>Biggest movers: " + " · ".join(parts) + "</div>"


def strip(recent: Sequence[dict[str, Any]], metric: str, tz: tzinfo) -> str:
    """The latest scored submissions, newest first (public scores only)."""
    if not recent:
        return "<div class='strip'>No submissions yet.</div>"
    items = [
        f"<span>{esc(present.when(r['submitted_at'], tz, with_day=False))} "
        f"{esc(r['name'])} <b>{esc(present.score(r['public_score'], metric))}</b></span>"
        for r in recent
    ]
    return "<div class='strip'><span>Latest:</span>" + "".join(items) + "</div>"


def header(title: str, subtitle: str, clock: str, big: bool = False, last: bool = False) -> str:
    """Title and subtitle on the left, the countdown on the right."""
    klass = "clock" + (" big" if big else "") + (" last" if last else "")
    return (
        f"<div class='top'><div><h1>{esc(title)}</h1><div class='sub'>{esc(subtitle)}</div></div>"
        f"<div class='{klass}'>{esc(clock)}</div></div>"
    )


def screen(*parts: str) -> str:
    """The screen's one HTML block."""
    return "<div class='ws'>" + "".join(parts) + "</div>"


def empty(text: str) -> str:
    """A large notice where the board would be."""
    return f"<div class='empty'>{esc(text)}</div>"


def warning(lines: Sequence[str]) -> str:
    """The tie warning, projector-sized."""
    items = "<br>".join(esc(line) for line in lines)
    return f"<div class='warn'><b>Statistical tie at the cut</b>: the order may be luck.<br>{items}</div>"


# ---------------------------------------------------------------- season standings


def standings_html(
    table: Sequence[dict[str, Any]], cut: int, tied: set[str], board_px: int = BOARD_PX
) -> str:
    """The season standings around the cut in two columns, the cut drawn as a red row."""
    lay = layout(len(table) + 1, board_px)
    font = round(lay.row_px * 0.55)
    rows: list[str] = []
    for i, r in enumerate(table):
        if i == cut:
            rows.append(
                f"<tr class='cut'><td colspan='3'>cut line: the top {cut} go to the final</td></tr>"
            )
        klass = "selected" if i < cut else "below"
        tie = " <span class='down'>⚠ tie</span>" if r["handle"] in tied else ""
        rows.append(
            f"<tr class='{klass}' style='height:{lay.row_px}px'><td class='rank' "
            f"style='width:12%'>{int(r['rank'])}</td><td>{_who(r)}{tie}</td>"
            f"<td class='num' style='width:22%'>{esc(present.points(r['total']))}</td></tr>"
        )
    head = "<tr><th style='width:12%'>#</th><th>Member</th><th class='num'>Points</th></tr>"
    per = lay.rows_per_column
    columns = [rows[i * per : (i + 1) * per] for i in range(lay.columns)]
    tables = "".join(
        f"<table style='font-size:{font}px'>{head}{''.join(col)}</table>" for col in columns if col
    )
    return f"<div class='cols'>{tables}</div>"


# ---------------------------------------------------------------- challenges


def join_box(url: str, qr_data_uri: str) -> str:
    """Where to submit: the URL in large type beside its QR code."""
    image = f"<img alt='QR code of {esc(url)}' src='{esc(qr_data_uri)}'>" if qr_data_uri else ""
    return f"<div class='join'>{image}<div>Submit at<br><span class='url'>{esc(url)}</span></div></div>"


def podium(rows: Sequence[dict[str, Any]], metric: str) -> str:
    """The top three of a finished challenge: 2nd, 1st, 3rd."""
    by_rank = {int(r["rank"]): r for r in rows}
    blocks = []
    for place in (2, 1, 3):
        r = by_rank.get(place)
        if r is None:
            continue
        blocks.append(
            f"<div class='p{place}'><div class='place'>{present.ordinal(place)}</div>"
            f"{esc(r['name'])}<br><small>{esc(present.score(r['score'], metric))}</small></div>"
        )
    return "<div class='podium'>" + "".join(blocks) + "</div>"


def clock_text(until: datetime, now: datetime) -> tuple[str, bool]:
    """A challenge's countdown ('12:05' or '1 h 4 min') and whether it is in its last minute."""
    left = until - now
    return present.duration(left), left.total_seconds() < 60
