"""The Arrow compute kernels the scorer calls, by name, without importing pyarrow.compute.

`import pyarrow.compute` wraps each of Arrow's ~290 kernels in a Python function with a
docstring scraped from its options class: about 0.04 s of CPU, a tenth of what a
`cohort validate` process spends. The solution and the validator call the few kernels
below through `pyarrow._compute.call_function`, which is what those wrappers call, with
the options the wrappers pass (imported as `pc` there, so the calls read the same).
"""

from __future__ import annotations

from typing import Any

from pyarrow._compute import CastOptions, SetLookupOptions, call_function
from pyarrow.lib import ensure_type

__all__ = [
    "SetLookupOptions",
    "binary_length",
    "cast",
    "count_distinct",
    "dictionary_encode",
    "index_in",
    "utf8_trim_whitespace",
]


def binary_length(values: Any) -> Any:
    """Each value's length in bytes (pyarrow.compute.binary_length)."""
    return call_function("binary_length", [values])


def utf8_trim_whitespace(values: Any) -> Any:
    """Each string without leading and trailing whitespace."""
    return call_function("utf8_trim_whitespace", [values])


def count_distinct(values: Any) -> Any:
    """The number of distinct non-null values (a scalar)."""
    return call_function("count_distinct", [values])


def dictionary_encode(values: Any) -> Any:
    """The values as a dictionary array: distinct values once, an index per value."""
    return call_function("dictionary_encode", [values])


def index_in(values: Any, options: SetLookupOptions) -> Any:
    """Each value's position in the options' value set (null when absent)."""
    return call_function("index_in", [values], options)


def cast(values: Any, target_type: Any) -> Any:
    """The values as `target_type`, refusing a lossy cast (pyarrow.compute.cast's default)."""
    return call_function("cast", [values], CastOptions.safe(ensure_type(target_type)))
