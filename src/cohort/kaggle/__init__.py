"""Kaggle: the client (the only network code), a week's data and kernel, collect, the final."""
