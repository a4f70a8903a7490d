"""Text from users shown as text: Markdown escaped for Streamlit messages and Markdown files."""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#!|~$])")


def markdown(text: object, limit: int = 200) -> str:
    """`text` as literal Markdown: on one line, at most `limit` characters, every Markdown
    character escaped, so a name or a query parameter cannot become a link or an image."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return _MARKDOWN.sub(r"\\\1", flat)
