"""Pytest fixtures: the fake Kaggle server and an environment that points the real client at it.

Import them into a test module: `from tests.fake_kaggle.fixtures import fake_kaggle, kaggle_server`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_kaggle.server import TOKEN, FakeKaggle, FakeKaggleServer


@pytest.fixture(scope="module")
def kaggle_server() -> Iterator[FakeKaggleServer]:
    """One server per test module; port 7777 is fixed by the SDK, so it is held under a
    cross-process lock (another test run on this host waits for it); always shut down."""
    try:
        server = FakeKaggleServer().start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kaggle_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home directory with no Kaggle credentials, so a developer's own are never read."""
    home = tmp_path / "home"
    (home / ".kaggle").mkdir(parents=True)
    for var in (
        "KAGGLE_API_TOKEN",
        "KAGGLE_USERNAME",
        "KAGGLE_KEY",
        "KAGGLE_CONFIG_DIR",
        "KAGGLE_API_ENVIRONMENT",
        "XDG_CONFIG_HOME",
        "KAGGLE_KERNEL_RUN_TYPE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / ".kaggle"))
    monkeypatch.setenv("KAGGLE_API_ENVIRONMENT", "TEST")
    monkeypatch.setenv("COHORT_KAGGLE_BACKOFF_S", "0")
    return home


@pytest.fixture
def fake_kaggle(
    kaggle_server: FakeKaggleServer, kaggle_home: Path, monkeypatch: pytest.MonkeyPatch
) -> FakeKaggle:
    """A clean fake Kaggle and a valid KAGGLE_API_TOKEN for it."""
    monkeypatch.setenv("KAGGLE_API_TOKEN", TOKEN)
    return kaggle_server.reset()
