"""Plain coercion for the CLI's plain parameters, so a command does not import pydantic.

Typer 0.29 turns every command-line value into its annotated type through a pydantic
TypeAdapter built on first use: importing pydantic and building the adapters costs about
0.15 s of CPU per command, more than `cohort validate` spends on a 2,624-row file. Every
cohort parameter is a str, bool, int, float or Path; for those, a value in the usual form
("3", "0.5", "file.csv") gets the very result typer's adapter gives (tests/test_startup.py
checks each parameter against it), and any other value, type or setting goes to typer's
own adapter, so its errors read exactly as typer writes them. With another typer, which
lacks these internals, nothing is changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer._param_types import coerce_cli_path
    from typer.core import _TyperParameter

    TYPER_INTERNALS = True
except ImportError:  # pragma: no cover - another typer: its own coercion, unchanged
    TYPER_INTERNALS = False

INT = re.compile(r"-?(0|[1-9][0-9]{0,17})")
FLOAT = re.compile(r"-?(0|[1-9][0-9]{0,17})(\.[0-9]{1,17})?")
PLAIN = (str, bool, int, float, Path)

if TYPER_INTERNALS:

    @dataclass(frozen=True)
    class PlainParam(RuntimeParam):
        """A str/bool/int/float/Path value in its usual form, coerced without pydantic."""

        descriptor: Any

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            kind = self.annotation
            if kind is str and type(value) is str:
                return value
            if kind is int and (
                type(value) is int or (type(value) is str and INT.fullmatch(value))
            ):
                return int(value)
            if kind is float and type(value) is str and FLOAT.fullmatch(value):
                return float(value)
            if kind is float and type(value) is float:
                return value
            if kind is Path and type(value) is str and value:
                # typer's own checks (exists, dir_okay, ...) on the Path pydantic would make
                return coerce_cli_path(
                    Path(value), self.parameter_info, path_type=Path, param=param, ctx=ctx
                )
            typed = build_runtime_param(self.descriptor)  # anything else: typer's adapter
            return typed._coerce_value(value, param=param, ctx=ctx)


def is_plain(param: Any) -> bool:
    """True for a typer parameter whose values PlainParam coerces like typer does."""
    desc = getattr(param, "type_descriptor", None)
    if not TYPER_INTERNALS or desc is None or not isinstance(param, _TyperParameter):
        return False
    info = desc.parameter_info
    return (
        desc.annotation in PLAIN
        and desc.file_annotation is None
        and getattr(info, "parser", None) is None
        and getattr(info, "path_type", None) is None
        and getattr(info, "min", None) is None
        and getattr(info, "max", None) is None
        and not getattr(info, "clamp", False)
    )


def install(params: list[Any]) -> None:
    """Give each plain parameter that has no coercion yet the plain one."""
    for param in params:
        if is_plain(param) and getattr(param, "_runtime_param", 0) is None:
            desc = param.type_descriptor
            param._runtime_param = PlainParam(desc.parameter_info, desc.annotation, desc)
