"""`cohort kaggle collect`: members' Kaggle kernels become submissions and stored notebooks.

For every notebook link members gave with their submissions: a Kaggle kernel is
checked; a finished kernel's submission.csv goes through the normal intake (the
validator, the daily limit and the dedup by hash all apply) and its notebook
source is stored for the contribution metrics. A kernel that is still running,
failed, or wrote no submission.csv is recorded with the reason, not scored.
Other links (Colab, GitHub, gists, Dropbox) are checked as URLs and reported,
never fetched. Each output is submitted once, so a second run collects nothing new.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from cohort.errors import CohortError, IntakeRefused, KaggleError, ValidationError
from cohort.store import kernel_runs

if TYPE_CHECKING:
    from cohort.kaggle.client import KaggleClient
    from cohort.workspace import Cohort

SUBMISSION_FILE = "submission.csv"
# The client's file pattern: only submission.csv is downloaded, never models or feature dumps.
SUBMISSION_PATTERN = r"(^|/)submission\.csv$"
RUNNING = ("queued", "running", "new_script", "cancel_requested")


@dataclass(frozen=True)
class CollectItem:
    """What collect did with one member's link for one week."""

    handle: str
    week: str
    url: str
    outcome: str  # collected, unchanged, running, failed, not_fetched
    status: str  # the kernel_runs status, or the link kind when not fetched
    reason: str = ""
    kernel_ref: str = ""
    submission_id: int | None = None


@dataclass
class CollectReport:
    """Everything one collect run did, for the CLI table and --json."""

    items: list[CollectItem] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        """How many links ended with `outcome`."""
        return sum(1 for i in self.items if i.outcome == outcome)

    def summary(self) -> str:
        """One line: collected, unchanged, running, failed, not fetched."""
        parts = [
            f"{self.count(o)} {o.replace('_', ' ')}"
            for o in ("collected", "unchanged", "running", "failed", "not_fetched")
        ]
        return "Kaggle kernels: " + ", ".join(parts) + "."


def pinned_version(url: str) -> str:
    """The `?scriptVersionId=` a member's link pins, or ''."""
    from urllib.parse import parse_qs, urlsplit

    return (parse_qs(urlsplit(url).query).get("scriptVersionId") or [""])[0]


def kernel_ref(url: str) -> tuple[str | None, str]:
    """('user/slug' or None, the link's host kind) for a member's notebook link."""
    from cohort.scoring.links import check_notebook_url

    link = check_notebook_url(url)
    return link.kaggle_ref, link.host_kind


def collect(
    cohort: Cohort,
    week_ref: str | None = None,
    client: KaggleClient | None = None,
    now: datetime | None = None,
) -> CollectReport:
    """Check every member notebook link (of one week, or all) and collect finished Kaggle kernels."""
    from cohort.workspace import utcnow

    now = now or utcnow()
    week = cohort.config.week(week_ref).id if week_ref else None
    with cohort.store.transaction() as tx:
        links = kernel_runs.notebook_links(tx, week)
    report = CollectReport()
    for link in links:
        try:
            ref, kind = kernel_ref(link.url)
        except ValidationError as exc:
            report.items.append(
                CollectItem(link.handle, link.week, link.url, "not_fetched", "invalid", str(exc))
            )
            continue
        if ref is None:
            report.items.append(
                CollectItem(
                    link.handle,
                    link.week,
                    link.url,
                    "not_fetched",
                    kind,
                    f"{kind} link recorded; only Kaggle kernels are fetched",
                )
            )
            continue
        if client is None:
            from cohort.kaggle.client import KaggleClient

            client = KaggleClient()
            client.api  # noqa: B018 - fail once, early, on missing credentials
        report.items.append(_collect_one(cohort, client, link, ref, now))
    return report


class _Outcome(NamedTuple):
    outcome: str
    status: str
    reason: str = ""
    sha: str = ""
    submission_id: int | None = None


def _collect_one(
    cohort: Cohort, client: KaggleClient, link: kernel_runs.NotebookLink, ref: str, now: datetime
) -> CollectItem:
    """Check one kernel, then record what happened to it."""
    try:
        result = _check(cohort, client, link, ref, now)
    except KaggleError as exc:
        reason = str(exc)
        if "not found or private" in reason:
            # Publishing a kernel mid-week publishes a solution: share it instead.
            who = client.username or "the organizer's Kaggle account"
            reason = (
                f"Kaggle kernel '{ref}' is private or does not exist; ask {link.handle} to share it "
                f"with {who} (Share -> add collaborator, can view), not to make it public"
            )
        result = _Outcome("failed", "unreachable", reason)
    version = pinned_version(link.url)
    if version:
        # Kaggle's API serves a kernel's latest run only; say which run a pinned link got.
        note = (
            f"the link pins scriptVersionId {version}; Kaggle's API gives the kernel's latest run, "
            "so its output was taken"
        )
        result = result._replace(reason="; ".join(r for r in (result.reason, note) if r))
    with cohort.store.transaction() as tx:
        kernel_runs.record_run(
            tx,
            link.member_id,
            link.week,
            ref,
            result.status,
            now,
            result.reason,
            result.sha,
            result.submission_id,
        )
    return CollectItem(
        link.handle,
        link.week,
        link.url,
        result.outcome,
        result.status,
        result.reason,
        ref,
        result.submission_id,
    )


def _check(
    cohort: Cohort, client: KaggleClient, link: kernel_runs.NotebookLink, ref: str, now: datetime
) -> _Outcome:
    """The kernel's state, and its output submitted when it finished with a submission.csv."""
    state = client.kernel_status(ref)
    if state.status in RUNNING:
        return _Outcome(
            "running", "running", f"kernel is {state.status}; collect again when it finishes"
        )
    if state.status != "complete":
        message = state.failure_message or "no message from Kaggle"
        return _Outcome("failed", "error", f"kernel run ended with {state.status}: {message}")
    with tempfile.TemporaryDirectory(prefix="cohort-collect-") as tmp:
        files = client.kernel_output(ref, Path(tmp) / "output", file_pattern=SUBMISSION_PATTERN)
        # The top-level submission.csv is the one Kaggle competitions read; a nested one will do.
        csv = next(
            (f for f in sorted(files, key=lambda f: len(f.parts)) if f.name == SUBMISSION_FILE),
            None,
        )
        if csv is None:
            return _Outcome("failed", "no_output", f"kernel output has no {SUBMISSION_FILE}")
        return _submit_output(cohort, client, link, ref, csv, Path(tmp), now)


def _submit_output(
    cohort: Cohort,
    client: KaggleClient,
    link: kernel_runs.NotebookLink,
    ref: str,
    csv: Path,
    tmp: Path,
    now: datetime,
) -> _Outcome:
    """Submit a kernel's submission.csv through the normal intake, once per distinct output."""
    from cohort.scoring import intake

    sha = hashlib.sha256(csv.read_bytes()).hexdigest()
    with cohort.store.transaction() as tx:
        settled = kernel_runs.settled_run(tx, link.member_id, link.week, ref, sha)
    if settled is not None and settled.status == "collected":
        return _Outcome("unchanged", "unchanged", "this output was already collected", sha)
    if settled is not None:  # the same file would be refused again for the same reason
        return _Outcome("failed", settled.status, settled.reason, sha)
    if intake.remaining_today(cohort, link.handle, link.week, at=now) <= 0:
        return _Outcome(
            "failed", "deferred", "daily limit reached; the next collect retries it", sha
        )
    try:
        result = intake.submit(
            cohort,
            link.handle,
            link.week,
            csv,
            link.url,
            at=now,
            source="kaggle",
            import_key=f"kaggle:{ref}:{sha[:32]}",
            file_name=f"{ref.replace('/', '__')}__{SUBMISSION_FILE}",
        )
    except ValidationError as exc:
        return _Outcome("failed", "invalid", str(exc), sha)
    except IntakeRefused as exc:
        return _Outcome("failed", "refused", str(exc), sha)
    except CohortError as exc:  # e.g. the week is not prepared yet: worth another try later
        return _Outcome("failed", "deferred", str(exc), sha)
    note = _store_notebook(cohort, client, link, ref, tmp / "source", now)
    return _Outcome("collected", "collected", note, sha, result.submission_id)


def _store_notebook(
    cohort: Cohort,
    client: KaggleClient,
    link: kernel_runs.NotebookLink,
    ref: str,
    dest: Path,
    now: datetime,
) -> str:
    """Pull the kernel's source and store it for the contribution metrics; '' or why it was not."""
    try:
        path = client.pull_kernel(ref, dest)
        from cohort.season.notebooks import record_notebook

        record_notebook(
            cohort,
            link.handle,
            link.week,
            path.read_text(encoding="utf-8"),
            url=link.url,
            at=now,  # collected now: the analysis is dated by this run, not the machine's clock
        )
    except ImportError:
        return "notebook source not stored: the notebooks module is not installed yet"
    except CohortError as exc:
        return f"notebook source not stored: {exc}"
    return ""
