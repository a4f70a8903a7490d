"""Posting an announcement to a Slack- or Discord-compatible incoming webhook.

The one piece of network code outside `cohort.kaggle`: one JSON POST with the standard
library, `{"text": ..., "content": ...}` (Slack reads `text`, Discord `content`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from cohort.errors import ConfigError, StorageError

DISCORD_LIMIT = 2000  # Discord refuses longer messages


def payload(markdown: str) -> bytes:
    """The JSON body both services accept."""
    short = markdown if len(markdown) <= DISCORD_LIMIT else markdown[: DISCORD_LIMIT - 2] + " …"
    return json.dumps({"text": markdown, "content": short}).encode("utf-8")


def post(url: str, markdown: str, timeout: float = 10.0) -> int:
    """POST the announcement; returns the HTTP status, or one error line saying what failed."""
    if not url:
        raise ConfigError(
            "No webhook_url in cohort.toml; add your Slack or Discord incoming-webhook URL there."
        )
    request = urllib.request.Request(
        url,
        data=payload(markdown),
        headers={"Content-Type": "application/json", "User-Agent": "cohort"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - http(s) only, checked at load
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the answer's socket: left to the collector, it warns at random
        raise StorageError(
            f"The webhook answered HTTP {exc.code} ({exc.reason}); check webhook_url in cohort.toml."
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StorageError(
            f"Cannot reach the webhook ({reason}); check webhook_url in cohort.toml and the network."
        ) from None
