"""A fake Kaggle API server for the tests of the real kaggle client."""
