"""`make bench`: speed and memory targets, each a ratio against a baseline timed in the same run."""
