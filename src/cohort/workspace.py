"""A cohort on disk: its validated configuration and its store, opened together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cohort import config as config_mod
from cohort.config import CohortConfig

if TYPE_CHECKING:  # imported in open(): utcnow and the type need no SQLAlchemy
    from cohort.store import Store


@dataclass
class Cohort:
    """What every command works on: the cohort's config and its migrated store."""

    config: CohortConfig
    store: Store

    @classmethod
    def open(cls, root: Path | None = None, db: str | None = None) -> Cohort:
        """Load the config first, so a bad cohort.toml never touches the database."""
        from cohort.store import Store

        found = config_mod.find_root(root)
        cfg = config_mod.load(found)
        return cls(cfg, Store.open(found, db))

    @property
    def root(self) -> Path:
        """The cohort directory."""
        return self.config.root


def utcnow() -> datetime:
    """The current time, aware, in UTC; the one clock the core reads."""
    return datetime.now(UTC)
