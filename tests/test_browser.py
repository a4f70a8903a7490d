"""One real-browser test: `streamlit run` on the demo cohort, driven by Debian's Chromium."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STREAMLIT = Path(sys.executable).with_name("streamlit")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="no Chromium at /usr/bin/chromium; install it: apt-get install -y chromium",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"streamlit exited with {server.returncode}: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"streamlit did not answer on {url} within {timeout} s")


def serve(directory: Path) -> tuple[subprocess.Popen, str]:
    """`streamlit run` headless on a cohort, on a free localhost port; returns it and its URL."""
    port = free_port()
    env = {**os.environ, "COHORT_ROOT": str(directory), "COHORT_ORGANIZER_PASSWORD": PASSWORD}
    env.pop("COHORT_DATABASE_URL", None)
    log = directory.parent / f"streamlit-{port}.log"
    out = log.open("w")  # the child keeps its own copy of the descriptor
    server = subprocess.Popen(
        [
            str(STREAMLIT),
            "run",
            str(REPO / "leaderboard_app" / "app.py"),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            "--client.toolbarMode",
            "minimal",
        ],
        cwd=directory,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    out.close()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server, log)
    except AssertionError:
        stop(server)
        raise
    return server, url


def stop(server: subprocess.Popen) -> None:
    """End the server and close its log file."""
    server.terminate()
    server.wait(timeout=20)


PASSWORD = "browser-test-password"
SHOTS_ENV = "COHORT_SCREENSHOTS"  # keep the screenshots there (default: the test's tmp dir)


@pytest.fixture(scope="module", params=[24, 40], ids=lambda n: f"{n}-members")
def cohort_server(request, tmp_path_factory) -> Iterator[tuple[str, int]]:
    """The app on a real cohort of 24 or 40 scored members (week 1 revealed, week 2 open)."""
    from tests.test_app_helpers import build_populated

    n = int(request.param)
    directory = tmp_path_factory.mktemp(f"browser-{n}") / "cohort"
    build_populated(directory, n_members=n)
    server, url = serve(directory)
    try:
        yield url, n
    finally:
        stop(server)


@pytest.fixture(scope="module")
def server(cohort_server: tuple[str, int]) -> str:
    """The app's URL (any of the cohorts)."""
    return cohort_server[0]


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def settle(page, text: str) -> None:  # noqa: ANN001
    """Wait for a Streamlit page to show `text` and finish running.

    A page that has not drawn after 60 s is loaded once more before the test fails (a
    loaded CI machine). What looked like a frontend stall for months was the standings'
    grid inside its collapsed "All N members" expander, which never draws a canvas until
    opened: GRIDS_DRAWN_JS now leaves grids in a collapsed expander out. A second miss
    fails with each grid's state, so a real regression still fails and says where.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in (1, 2):
        try:
            page.get_by_text(text, exact=False).first.wait_for(timeout=60_000)
            # Grids draw after the script ends: wait until each has its rows' height.
            page.wait_for_function(GRIDS_DRAWN_JS, timeout=60_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                state = page.evaluate(GRIDS_STATE_JS)
                pytest.fail(f"{page.url} did not finish drawing {text!r} twice: grids {state}")
            page.reload()
    page.evaluate(TO_TOP_JS)
    page.wait_for_timeout(1000)


# A grid still without its canvas is scrolled into view while the wait polls (settle()
# scrolls back to the top afterwards). The tall grid CI saw without one (878 px, the
# standings page) sat in a collapsed expander: such grids are left out.
GRIDS_DRAWN_JS = """() => {
  const missing = Array.from(document.querySelectorAll('[data-testid="stDataFrame"]'))
    .filter(g => g.offsetParent !== null && g.getClientRects().length)  // not in a hidden tab
    // Nor in a collapsed expander: Streamlit keeps its content laid out (878 px for the
    // standings' "All N members" grid) but the grid draws no canvas until it is opened.
    .filter(g => !g.closest('details:not([open])'))
    .filter(g => !(g.offsetHeight > 30 && g.querySelector('canvas')));  // header-only: ~35 px
  if (missing.length) missing[0].scrollIntoView({block: 'center'});
  return missing.length === 0;
}"""
TO_TOP_JS = """() => { for (const el of [document.scrollingElement,
  ...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')])
  { if (el) el.scrollTop = 0; } }"""
GRIDS_STATE_JS = """() => Array.from(document.querySelectorAll('[data-testid="stDataFrame"]'))
  .map(g => ({visible: g.offsetParent !== null, height: g.offsetHeight,
              canvas: !!g.querySelector('canvas'),
              collapsed: !!g.closest('details:not([open])')}))"""
WIDE = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
PHONE_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")
# Pages and a text each shows once it has run.
PAGES = [
    ("/", "Public leaderboard"),
    ("/?week=1", "Final standings of the week"),
    ("/standings", "Top 8 go to the final project"),
    ("/member?member=m03", "Contributions"),
    ("/submit", "Enter the personal token"),
    ("/organizer", "Organizer password"),
    ("/?mode=workshop", "Refreshes every"),
    ("/?mode=workshop&view=standings", "Refreshes every"),
]
# Any element wider than the phone or sticking out on its right, unless a box that scrolls (a
# grid) and itself fits holds it: that is the grid's own scrolling, not the page's.
OVERFLOW_JS = """() => {
  const w = window.innerWidth;
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    // A collapsed sidebar waits off-canvas on the left; it makes nothing pan (scrollWidth says).
    if (r.right <= w + 1 && r.width <= w + 1) continue;
    let p = e.parentElement, held = false;
    while (p && p !== document.body) {
      const s = getComputedStyle(p);
      const pr = p.getBoundingClientRect();
      if (/(auto|scroll)/.test(s.overflowX) && pr.right <= w + 1 && pr.left >= -1) {
        held = true; break;
      }
      p = p.parentElement;
    }
    if (!held) out.push(e.tagName + '.' + String(e.className).slice(0, 40) + ' right=' + Math.round(r.right));
  }
  return out.slice(0, 10);
}"""


# The page's text as read, without icon ligatures (":material/upload:" is drawn as an icon).
VISIBLE_TEXT_JS = """() => {
  const hide = document.createElement('style');
  hide.textContent = '[data-testid="stIconMaterial"], [class*="material"] { display: none !important; }';
  document.head.appendChild(hide);
  const text = document.body.innerText;
  hide.remove();
  return text;
}"""


def launch(p):  # noqa: ANN001, ANN201
    return p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def test_the_standings_show_the_cut_line_and_eight_selected_members(
    server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1900})
            page.goto(f"{server}/standings")
            page.wait_for_selector("table.standings", timeout=60_000)
            cut = page.locator("table.standings tr.cut")
            assert cut.count() == 1
            assert "cut line: the top 8 above go to the final project" in cut.inner_text()
            assert page.locator("table.standings tr.selected").count() == 8
            assert page.get_by_text("Top 8 go to the final project").is_visible()
            page.screenshot(path=str(tmp_path / "standings.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "standings.png").stat().st_size > 10_000


def test_the_workshop_screen_shows_every_member_at_1080p(
    cohort_server: tuple[str, int], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    url, n = cohort_server
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport=WIDE)
            page.goto(f"{url}/?mode=workshop")
            settle(page, "Refreshes every")
            page.screenshot(path=str(shots(tmp_path) / f"workshop-{n}-1920x1080.png"))
            outside = []
            for i in range(1, n + 1):
                box = page.locator(".ws td small", has_text=f"(m{i:02d})").first.bounding_box()
                inside = (
                    box is not None
                    and box["y"] >= 0
                    and box["y"] + box["height"] <= WIDE["height"]
                    and box["x"] >= 0
                    and box["x"] + box["width"] <= WIDE["width"]
                )
                if not inside:
                    outside.append((f"m{i:02d}", box))
            assert not outside, f"rows outside the 1920x1080 viewport: {outside}"
            assert page.evaluate("document.documentElement.scrollWidth") <= WIDE["width"]
        finally:
            browser.close()


def test_every_page_at_projector_and_phone_size(
    cohort_server: tuple[str, int], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    url, n = cohort_server
    if n != 24:
        pytest.skip("every page is photographed on the 24-member cohort")
    problems: list[str] = []
    with sync_playwright() as p:
        browser = launch(p)
        try:
            for size, agent in ((WIDE, None), (PHONE, PHONE_AGENT)):
                context = browser.new_context(
                    viewport=size, user_agent=agent, is_mobile=agent is not None
                )
                page = context.new_page()
                for path, text in PAGES:
                    page.goto(f"{url}{path}")
                    settle(page, text)
                    name = path.strip("/?").replace("/", "-").replace("&", "-").replace("=", "-")
                    page.screenshot(
                        path=str(shots(tmp_path) / f"{name or 'leaderboard'}-{size['width']}.png")
                    )
                    shown = page.evaluate(VISIBLE_TEXT_JS)
                    problems += [f"{path}: snake_case {m!r}" for m in SNAKE.findall(shown)]
                    if '{"' in shown or '": ' in shown:
                        problems.append(f"{path}: raw JSON on the page")
                    if size is PHONE:
                        wide = page.evaluate("document.documentElement.scrollWidth")
                        if wide > PHONE["width"]:
                            problems.append(f"{path}: the page pans sideways ({wide} px)")
                        problems += [
                            f"{path}: wider than the phone: {e}" for e in page.evaluate(OVERFLOW_JS)
                        ]
                context.close()
        finally:
            browser.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "path",
    [
        "data/01-pets/solution.csv",
        "app/static/data/01-pets/solution.csv",
        "cohort.db",
        "members.csv",
        "media/../data/01-pets/solution.csv",
    ],
)
def test_no_url_serves_a_cohort_file(server: str, path: str) -> None:
    try:
        with urllib.request.urlopen(f"{server}/{path}", timeout=10) as answer:
            body = answer.read()
    except urllib.error.HTTPError as exc:
        assert exc.code in (400, 403, 404)
        return
    # Streamlit answers unknown paths with its page shell, never with the file.
    assert b"<!doctype html>" in body[:2000].lower()
    assert b"Usage" not in body and b"@demo.invalid" not in body and b"SQLite" not in body
