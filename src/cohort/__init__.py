"""cohort: a self-hosted runner for a deep-learning study cohort."""

__version__ = "0.1.0"
