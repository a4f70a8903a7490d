"""The scorer: solution, metrics, validation, the parsed-file cache, intake, scoring runs, boards."""

# Stamped on every stored score beside the solution's; a new one makes every score stale.
# Here, not in solution.py, so that reading a board imports no numeric library.
SCORER_VERSION = "1"
