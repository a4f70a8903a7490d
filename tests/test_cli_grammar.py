"""One CLI grammar: a week or member that qualifies a command is --week/-w, --member/-m; --actor reads COHORT_ACTOR."""

from __future__ import annotations

from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.main import get_command

from cohort.cli import app


def commands(cmd, path: str = "cohort"):  # noqa: ANN001, ANN201
    yield path, cmd
    if isinstance(cmd, TyperGroup):
        for name, sub in cmd.commands.items():
            yield from commands(sub, f"{path} {name}")


def test_week_member_and_actor_options_are_spelled_one_way() -> None:
    wrong = []
    for path, cmd in commands(get_command(app)):
        for param in cmd.params:
            if not isinstance(param, TyperOption):
                continue
            if param.name == "week" and sorted(param.opts) != ["--week", "-w"]:
                wrong.append(f"{path}: {param.opts}")
            if param.name == "member" and sorted(param.opts) != ["--member", "-m"]:
                wrong.append(f"{path}: {param.opts}")
            if param.name == "actor" and param.envvar != "COHORT_ACTOR":
                wrong.append(f"{path}: --actor without COHORT_ACTOR")
    assert wrong == []


def test_a_week_argument_is_always_named_week() -> None:
    # The subject of a command is positional (`leaderboard 1`, `status 1`, `extend 1 -m ann`).
    for path, cmd in commands(get_command(app)):
        for param in cmd.params:
            if isinstance(param, TyperArgument) and "week" in (param.help or "").lower()[:8]:
                assert param.name == "week", path
