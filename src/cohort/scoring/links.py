"""Checking the form of notebook links members send with their submissions.

Only the form is checked (no network): Kaggle code links (new and old style),
Colab, GitHub or gist .ipynb, and Dropbox .ipynb. Unknown or private-looking
hosts are accepted with a warning, since the organizer may still open them.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit, urlunsplit

from cohort.errors import ValidationError

# First path segments of kaggle.com that are not user names (so not old-style notebook links).
KAGGLE_SECTIONS = {
    "code",
    "competitions",
    "c",
    "datasets",
    "d",
    "discussions",
    "discussion",
    "models",
    "learn",
    "docs",
    "settings",
    "account",
    "organizations",
    "search",
    "work",
    "benchmarks",
    "kernels",
}
SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
KNOWN = "Kaggle, Colab, GitHub, gist or Dropbox"


@dataclass(frozen=True)
class NotebookLink:
    """A checked notebook link: its host kind, the Kaggle kernel ref if any, and warnings."""

    url: str
    host_kind: str
    kaggle_ref: str | None
    warnings: tuple[str, ...] = ()


MAX_URL = 2000  # browsers and Kaggle keep links far shorter; longer is not a notebook link


def check_notebook_url(url: str) -> NotebookLink:
    """Classify a notebook link, normalized (scheme and host in lower case); ValidationError
    when it is not a web address, is absurdly long, or carries control characters or a login."""
    url = url.strip()
    if len(url) > MAX_URL:
        raise ValidationError(
            f"Notebook link is {len(url):,} characters long; at most {MAX_URL} are accepted. "
            "Paste the notebook's page link."
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in url):
        raise ValidationError(
            "Notebook link contains control characters (a line break, escape code or "
            "direction mark); paste the link again on one line."
        )
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in url:
        raise ValidationError(
            f"Notebook link '{url[:100]}' is not a web address; paste the full link starting with https://."
        )
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "Notebook link carries a user name or password (user:password@host); "
            "remove them and share a link anyone can open."
        )
    url = urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment)
    )
    host = parts.hostname.lower().removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    private = _private_warning(host, parts.port, parts.query)
    if private:
        return NotebookLink(url, "private", None, (private,))
    if host == "kaggle.com":
        return _kaggle(url, segments)
    if host == "colab.research.google.com":
        return _colab(url, segments)
    if host in (
        "github.com",
        "raw.githubusercontent.com",
        "gist.github.com",
        "gist.githubusercontent.com",
    ):
        return _github(url, host, segments)
    if host in ("dropbox.com", "dl.dropboxusercontent.com"):
        return _ipynb(url, "dropbox", segments, "Dropbox")
    return NotebookLink(
        url,
        "unknown",
        None,
        (
            f"Host '{host}' is not a known notebook host ({KNOWN}); make sure others can open the link.",
        ),
    )


def _private_warning(host: str, port: int | None, query: str) -> str:
    """A warning when the link can only work on the member's own machine or with their login."""
    if host in ("localhost",) or host.endswith((".local", ".internal", ".lan")):
        return f"Link host '{host}' is on your own machine or network; share a public link instead."
    try:
        if not ipaddress.ip_address(host).is_global:
            return f"Link host '{host}' is a private address; share a public link instead."
    except ValueError:
        pass
    if "token" in parse_qs(query) or port in (8888, 8889, 8890):
        return "Link looks like a running Jupyter server (token or port 8888); share the saved notebook instead."
    return ""


def _kaggle(url: str, segments: list[str]) -> NotebookLink:
    if len(segments) >= 3 and segments[0] == "code":
        user, slug, rest = segments[1], segments[2], segments[3:]
    elif len(segments) >= 2 and segments[0].lower() not in KAGGLE_SECTIONS:
        user, slug, rest = segments[0], segments[1], segments[2:]
    else:
        return NotebookLink(
            url,
            "kaggle",
            None,
            ("Kaggle link is not a notebook; use kaggle.com/code/<user>/<notebook>.",),
        )
    if not (SLUG_RE.match(user) and SLUG_RE.match(slug)):
        return NotebookLink(
            url, "kaggle", None, ("Kaggle link has an unusual user or notebook name; check it.",)
        )
    warnings: tuple[str, ...] = ()
    if rest and rest[0] == "edit":
        warnings = (
            "Kaggle link opens the notebook editor, which only you can see; "
            "share the notebook's own page and make it public.",
        )
    return NotebookLink(url, "kaggle", f"{user}/{slug}", warnings)


def _colab(url: str, segments: list[str]) -> NotebookLink:
    if segments[:1] == ["drive"] and len(segments) >= 2:
        return NotebookLink(
            url,
            "colab",
            None,
            (
                "Colab notebooks in Drive are private by default; set sharing to 'Anyone with the link'.",
            ),
        )
    if segments[:1] in (["github"], ["gist"]):
        return NotebookLink(url, "colab", None)
    return NotebookLink(
        url, "colab", None, ("Colab link does not name a notebook; copy the link from Share.",)
    )


def _github(url: str, host: str, segments: list[str]) -> NotebookLink:
    if host.startswith("gist."):
        ok = len(segments) >= 2 or (segments and segments[-1].endswith(".ipynb"))
        return NotebookLink(
            url,
            "gist",
            None,
            () if ok else ("Gist link does not name a gist; copy its page link.",),
        )
    return _ipynb(url, "github", segments, "GitHub")


def _ipynb(url: str, kind: str, segments: list[str], label: str) -> NotebookLink:
    if segments and segments[-1].lower().endswith(".ipynb"):
        return NotebookLink(url, kind, None)
    return NotebookLink(
        url,
        kind,
        None,
        (f"{label} link does not point to an .ipynb file; link the notebook itself.",),
    )


def kaggle_owner(link: NotebookLink) -> str:
    """The Kaggle user owning a Kaggle code link ('' for other links)."""
    return link.kaggle_ref.split("/", 1)[0] if link.kaggle_ref else ""


def owner_warning(link: NotebookLink, kaggle_username: str) -> str:
    """Why a Kaggle code link earns no on-time credit for a member with this kaggle_username
    ('' when they own it, or when it is no Kaggle code link): only the member's own kernel counts,
    not another member's, nor the organizer's starter."""
    owner = kaggle_owner(link)
    if not owner:
        return ""
    mine = kaggle_username.strip()
    if not mine:
        return (
            f"the notebook belongs to Kaggle user '{owner}' and your kaggle_username is blank, "
            "so it earns no on-time credit; ask the organizer to set your kaggle_username in members.csv."
        )
    if owner.casefold() != mine.casefold():
        return (
            f"the notebook belongs to Kaggle user '{owner}', not to you ('{mine}'); "
            "it earns no on-time credit."
        )
    return ""
