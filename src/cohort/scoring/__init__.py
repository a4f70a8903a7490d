"""The scorer: solution, metrics, validation, the parsed-file cache, intake, scoring runs, boards."""
