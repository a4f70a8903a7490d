"""Notebook link checks: known hosts, Kaggle refs, warnings for unknown or private-looking links."""

from __future__ import annotations

import pytest

from cohort.errors import ValidationError
from cohort.scoring.links import check_notebook_url


@pytest.mark.parametrize(
    ("url", "kind", "ref"),
    [
        ("https://www.kaggle.com/code/ann/pets-baseline", "kaggle", "ann/pets-baseline"),
        (
            "https://kaggle.com/code/ann/pets-baseline?scriptVersionId=123",
            "kaggle",
            "ann/pets-baseline",
        ),
        ("https://www.kaggle.com/ann/pets-baseline", "kaggle", "ann/pets-baseline"),
        ("https://colab.research.google.com/github/ann/repo/blob/main/nb.ipynb", "colab", None),
        ("https://github.com/ann/dl/blob/main/week1/pets.ipynb", "github", None),
        ("https://raw.githubusercontent.com/ann/dl/main/pets.ipynb", "github", None),
        ("https://gist.github.com/ann/0123abcd", "gist", None),
        ("https://www.dropbox.com/s/abc123/pets.ipynb?dl=0", "dropbox", None),
    ],
)
def test_known_notebook_links_have_no_warnings(url: str, kind: str, ref: str | None) -> None:
    link = check_notebook_url(url)
    assert (link.host_kind, link.kaggle_ref, link.warnings) == (kind, ref, ())


@pytest.mark.parametrize(
    ("url", "warning"),
    [
        (
            "https://www.kaggle.com/code/ann/pets/edit",
            "Kaggle link opens the notebook editor, which only you can see; "
            "share the notebook's own page and make it public.",
        ),
        (
            "https://www.kaggle.com/competitions/titanic",
            "Kaggle link is not a notebook; use kaggle.com/code/<user>/<notebook>.",
        ),
        (
            "https://colab.research.google.com/drive/1AbCdEf",
            "Colab notebooks in Drive are private by default; "
            "set sharing to 'Anyone with the link'.",
        ),
        (
            "https://github.com/ann/dl",
            "GitHub link does not point to an .ipynb file; link the notebook itself.",
        ),
        (
            "https://www.dropbox.com/s/abc/pets.py",
            "Dropbox link does not point to an .ipynb file; link the notebook itself.",
        ),
        (
            "https://example.org/pets.ipynb",
            "Host 'example.org' is not a known notebook host (Kaggle, Colab, GitHub, gist "
            "or Dropbox); make sure others can open the link.",
        ),
        (
            "http://localhost:8888/notebooks/pets.ipynb",
            "Link host 'localhost' is on your own machine or network; share a public link instead.",
        ),
        (
            "http://192.168.1.20/pets.ipynb",
            "Link host '192.168.1.20' is a private address; share a public link instead.",
        ),
        (
            "https://hub.example.org/user/ann/notebooks/x.ipynb?token=abc",
            "Link looks like a running Jupyter server "
            "(token or port 8888); share the saved notebook instead.",
        ),
    ],
)
def test_doubtful_links_are_accepted_with_a_warning(url: str, warning: str) -> None:
    assert check_notebook_url(url).warnings == (warning,)


@pytest.mark.parametrize(
    "url", ["kaggle.com/code/ann/pets", "ftp://example.org/x.ipynb", "https://", "not a link"]
)
def test_malformed_links_are_refused(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_notebook_url(url)
    assert (
        str(info.value)
        == f"Notebook link '{url}' is not a web address; paste the full link starting with https://."
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "https://www.kaggle.com/code/ann/pets\nInjected: line",
            "Notebook link contains control characters (a line break, escape code or "
            "direction mark); paste the link again on one line.",
        ),
        (
            "https://www.kaggle.com/code/ann/\x1b[31mpets",
            "Notebook link contains control characters (a line break, escape code or "
            "direction mark); paste the link again on one line.",
        ),
        (
            "https://www.kaggle.com/code/ann/\u202epets",
            "Notebook link contains control characters (a line break, escape code or "
            "direction mark); paste the link again on one line.",
        ),
        (
            "https://ann:hunter2@github.com/ann/dl/blob/main/pets.ipynb",
            "Notebook link carries a user name or password (user:password@host); "
            "remove them and share a link anyone can open.",
        ),
        (
            "https://www.kaggle.com/code/ann/" + "p" * 2_000_000,
            "Notebook link is 2,000,032 characters long; at most 2000 are accepted. "
            "Paste the notebook's page link.",
        ),
    ],
)
def test_hostile_links_are_refused_in_one_bounded_line(url: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_notebook_url(url)
    assert str(caught.value) == message


def test_links_are_normalized_before_they_are_stored() -> None:
    link = check_notebook_url("  HTTPS://WWW.Kaggle.COM/code/Ann/Pets-Baseline  ")
    assert link.url == "https://www.kaggle.com/code/Ann/Pets-Baseline"
    assert link.kaggle_ref == "Ann/Pets-Baseline"
