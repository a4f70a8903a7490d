"""The season: formula, standings, selection and its freeze, contributions, notebooks, challenges."""
