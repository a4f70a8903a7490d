"""The one error hierarchy: the core raises these, the CLI prints them as one line."""

from __future__ import annotations


class CohortError(Exception):
    """A problem the user can fix; its message names the object, the problem and the fix."""


class ConfigError(CohortError):
    """cohort.toml, a week.toml or members.csv is malformed."""


class NotFound(CohortError):
    """A member, week or submission that does not exist."""


class ValidationError(CohortError):
    """An input is malformed: a submission file, a sheet, a data file, an option's value."""


class IntakeRefused(CohortError):
    """A valid submission refused by an intake rule: deadline or daily limit."""


class KaggleError(CohortError):
    """A Kaggle API call failed; the message says why in one line."""


class AccessDenied(CohortError):
    """A wrong member token or organizer password, or a private board asked for before reveal."""


class Conflict(CohortError):
    """Something already exists, is frozen, is still open, or is busy: the request clashes with it."""


class StorageError(CohortError):
    """A database or file could not be read or written; the message names it and the fix."""
