"""A week's Kaggle side: its data (download + prepare, publish-data) and its starter kernel (push + status)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cohort.errors import ConfigError

if TYPE_CHECKING:
    from cohort.config import Week
    from cohort.kaggle.client import DatasetResult, KaggleClient, KernelStatus, PushResult
    from cohort.workspace import Cohort


@dataclass(frozen=True)
class DownloadReport:
    """What `cohort kaggle download` fetched and what prepare then built."""

    week: str
    source: str  # "competition owner/x" or "dataset owner/x"
    raw_dir: Path
    files: tuple[str, ...]
    prepare: Any  # cohort.weeks.PrepareReport


def _client(client: KaggleClient | None) -> KaggleClient:
    if client is not None:
        return client
    from cohort.kaggle.client import KaggleClient

    return KaggleClient()


def raw_dir(cohort: Cohort, week: Week) -> Path:
    """data/raw/<week>/: where a week's downloaded Kaggle files live."""
    return cohort.config.data_dir / "raw" / week.id


def download(
    cohort: Cohort, week_ref: str, force: bool = False, client: KaggleClient | None = None
) -> DownloadReport:
    """Fetch the week's Kaggle data into data/raw/<week>/, unzipped, then run prepare on it.

    The files land in a scratch folder first; the old raw folder is replaced only
    after prepare succeeded on the new files, so a failure leaves both as they were.
    """
    from cohort.weeks import prepare

    week = cohort.config.week(week_ref)
    competition, dataset = week.data.kaggle_competition, week.data.kaggle_dataset
    if not competition and not dataset:
        raise ConfigError(
            f"Week '{week.id}' has no Kaggle data; add kaggle_competition or kaggle_dataset under [data] "
            f"in {week.path / 'week.toml'}, or run `cohort prepare {week.id}` for the embedded data."
        )
    client = _client(client)
    target = raw_dir(cohort, week)
    scratch = target.parent / f".{week.id}.download-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        if competition:
            files = client.download_competition(competition, scratch)
        else:
            files = client.download_dataset(dataset, scratch)
        report = prepare.prepare(cohort, week.id, force=force, raw_dir=scratch)
        shutil.rmtree(target, ignore_errors=True)
        scratch.replace(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    source = f"competition {competition}" if competition else f"dataset {dataset}"
    names = tuple(sorted(str(f.relative_to(scratch)) for f in files))
    return DownloadReport(week.id, source, target, names, report)


def kernel_ref(cohort: Cohort, week: Week, client: KaggleClient) -> str:
    """'owner/slug' of the week's starter kernel: kaggle_owner in cohort.toml, else the signed-in user."""
    owner = cohort.config.kaggle_owner or client.username
    if not owner:
        raise ConfigError(
            'cohort.toml has no kaggle_owner and the Kaggle user is unknown; add kaggle_owner = "you".'
        )
    return f"{owner}/{week.kernel.slug}"


def owner_of(cohort: Cohort) -> str:
    """kaggle_owner from cohort.toml; refused when missing or still the template's placeholder."""
    from cohort.weeks.kernels import PLACEHOLDER_OWNER

    owner = cohort.config.kaggle_owner
    if not owner or owner == PLACEHOLDER_OWNER:
        raise ConfigError(
            f'cohort.toml has kaggle_owner = "{owner}"; set it to the Kaggle account that '
            "publishes the cohort's data and starter kernels."
        )
    return owner


@dataclass(frozen=True)
class PublishReport:
    """What `cohort kaggle publish-data` sent and what Kaggle made of it."""

    week: str
    ref: str
    url: str
    created: bool
    public: bool
    files: int
    total_bytes: int


def dataset_metadata(cohort: Cohort, week: Week, owner: str) -> dict[str, Any]:
    """dataset-metadata.json of the week's data dataset."""
    from cohort.weeks.kernels import data_ref, data_title

    return {
        "title": data_title(cohort.config.name, week),
        "id": data_ref(owner, cohort.config.name, week),
        "licenses": [{"name": "other"}],
        "description": (
            f"The data of {cohort.config.name}'s week {week.id} ({week.title}): the public files "
            "and sample_submission.csv. The test labels stay with the organizers."
        ),
    }


def publish_data(
    cohort: Cohort, week_ref: str, client: KaggleClient | None = None, notes: str = ""
) -> PublishReport:
    """Bundle the week's data and create (or version) it as a dataset under kaggle_owner."""
    from cohort.kaggle.bundle import bundle

    week = cohort.config.week(week_ref)
    owner = owner_of(cohort)
    client = _client(client)
    client.sign_in()
    public = week.data.publish_public
    with tempfile.TemporaryDirectory(prefix="cohort-publish-") as tmp:
        made = bundle(cohort, week.id, Path(tmp) / "bundle")
        meta = dataset_metadata(cohort, week, owner)
        (made.directory / "dataset-metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
        result: DatasetResult = client.publish_dataset(
            made.directory,
            meta["id"],
            public,
            notes or f"{week.id}: solution {made.solution_sha256[:12]}",
        )
    return PublishReport(
        week.id, result.ref, result.url, result.created, public, len(made.files), made.total_bytes
    )


def push(cohort: Cohort, week_ref: str, client: KaggleClient | None = None) -> PushResult:
    """Build the week's starter kernel and push it; Kaggle then runs it (GPU and internet per week.toml)."""
    from cohort.weeks import kernels

    owner_of(cohort)
    client = _client(client)
    client.sign_in()  # first: a refused push leaves no build files behind
    build = kernels.build(cohort, week_ref)
    return client.push_kernel(Path(build.directory))


def status(cohort: Cohort, week_ref: str, client: KaggleClient | None = None) -> KernelStatus:
    """The status of the week's starter kernel on Kaggle."""
    week = cohort.config.week(week_ref)
    client = _client(client)
    return client.kernel_status(kernel_ref(cohort, week, client))
