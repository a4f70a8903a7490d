"""The one error hierarchy: the core raises these, the CLI prints them as one line."""

from __future__ import annotations


class CohortError(Exception):
    """A problem the user can fix; its message names the object, the problem and the fix."""


class ConfigError(CohortError):
    """cohort.toml, a week.toml or members.csv is malformed."""


class NotFound(CohortError):
    """A member, week or submission that does not exist."""


class ValidationError(CohortError):
    """A submission file does not match the week's format."""


class IntakeRefused(CohortError):
    """A valid submission refused by an intake rule: deadline or daily limit."""


class KaggleError(CohortError):
    """A Kaggle API call failed; the message says why in one line."""


class AccessDenied(CohortError):
    """A wrong member token or organizer password."""
