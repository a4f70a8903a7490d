"""Write the README's configuration reference from cohort.config.SETTINGS.

`.venv/bin/python tools/config_reference.py` rewrites the block between the
config-reference markers; `--check` only says whether it is current (exit 1 if not).
"""

from __future__ import annotations

import sys
from pathlib import Path

from cohort.config import reference

README = Path(__file__).resolve().parents[1] / "README.md"
START = "<!-- config-reference:start -->"
END = "<!-- config-reference:end -->"


def with_reference(text: str) -> str:
    """The README text with the generated block between the markers."""
    if START not in text or END not in text:
        raise SystemExit(f"{README} lacks the {START} / {END} markers; add them where it goes.")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{reference()}{END}{tail}"


def main(argv: list[str]) -> int:
    text = README.read_text(encoding="utf-8")
    wanted = with_reference(text)
    if "--check" in argv:
        current = wanted == text
        print(
            "README configuration reference is current"
            if current
            else "README configuration reference is stale; run tools/config_reference.py"
        )
        return 0 if current else 1
    README.write_text(wanted, encoding="utf-8")
    print(f"wrote the configuration reference into {README.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
