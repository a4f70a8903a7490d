"""The only network code in cohort: a thin wrapper over the `kaggle` client (2.x).

`kaggle` is imported lazily, on the first call that needs it, so no other command
pays for it or hears about credentials. Importing `kaggle` authenticates at import
time and prints a help banner (and would exit) without credentials; the import is
therefore done with credentials hidden and output captured, and this module then
authenticates its own client. Every library error becomes one `KaggleError` line;
429 and 5xx answers are retried with exponential backoff.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from cohort.errors import KaggleError

T = TypeVar("T")

TOKEN_URL = "https://www.kaggle.com/settings/api"
CREDENTIALS_HELP = (
    "No Kaggle credentials found; set KAGGLE_API_TOKEN, or save the token to ~/.kaggle/access_token, "
    "or use the legacy ~/.kaggle/kaggle.json (or KAGGLE_USERNAME and KAGGLE_KEY); "
    f"create a token at {TOKEN_URL}."
)
# Base delay of the exponential backoff, in seconds; tests set it to 0.
BACKOFF_ENV = "COHORT_KAGGLE_BACKOFF_S"
DEFAULT_ATTEMPTS = 4
MAX_RETRY_AFTER_S = 60.0


@dataclass(frozen=True)
class KernelStatus:
    """Where a kernel's latest run stands: queued, running, complete, error, ..."""

    ref: str
    status: str
    failure_message: str = ""


@dataclass(frozen=True)
class PushResult:
    """What Kaggle answered to a kernel push."""

    ref: str
    url: str
    version: int | None


@dataclass(frozen=True)
class DatasetResult:
    """What Kaggle answered to a dataset create or version."""

    ref: str
    url: str
    created: bool  # False: a new version of an existing dataset


@dataclass(frozen=True)
class OwnSubmission:
    """One of the signed-in user's own submissions to a competition (late ones included)."""

    id: int
    submitted_at: datetime | None
    file_name: str
    description: str
    status: str
    public_score: float | None
    private_score: float | None


@dataclass(frozen=True)
class LeaderboardEntry:
    """One team on a competition's leaderboard."""

    rank: int
    team_id: int
    team_name: str
    score: float | None
    submitted_at: datetime | None
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class TeamSubmission:
    """One of a team's submissions that Kaggle shows publicly."""

    id: int
    submitted_at: datetime | None
    public_score: float | None


@contextlib.contextmanager
def _hidden_credentials() -> Iterator[None]:
    """Hide credentials and the home directory while `kaggle` authenticates at import.

    The import-time sign-in would otherwise call Kaggle (always PROD) or print its banner;
    this module signs in afterwards, with the environment as the user set it.
    """
    saved = {k: v for k, v in os.environ.items() if k.startswith("KAGGLE_") or k == "HOME"}
    with tempfile.TemporaryDirectory(prefix="cohort-kaggle-import-") as empty:
        for key in saved:
            del os.environ[key]
        os.environ["HOME"] = empty
        os.environ["KAGGLE_CONFIG_DIR"] = empty
        try:
            yield
        finally:
            for key in ("HOME", "KAGGLE_CONFIG_DIR"):
                os.environ.pop(key, None)
            os.environ.update(saved)


@cache
def _api_class() -> type:
    """Import `kaggle` quietly and return the client class, built from the current environment."""
    try:
        with _hidden_credentials(), _quiet():
            from kaggle.api.kaggle_api_extended import KaggleApi
            from kagglesdk import KaggleClient as SdkClient
            from kagglesdk.kaggle_env import get_env
    except (ImportError, SystemExit) as exc:
        raise KaggleError(
            f"The kaggle client cannot be loaded ({exc}); install it with `pip install kaggle==2.2.4`."
        ) from None

    class _Api(KaggleApi):  # type: ignore[misc, valid-type]
        def build_kaggle_client(self) -> Any:
            # KaggleApi only knows PROD and LOCALHOST; the SDK reads KAGGLE_API_ENVIRONMENT
            # itself (TEST is http://localhost:7777), so let it. No response processor:
            # it prints version warnings on stdout.
            return SdkClient(
                env=get_env(),
                verbose=False,
                username=self.config_values.get(self.CONFIG_NAME_USER),
                password=self.config_values.get(self.CONFIG_NAME_KEY),
                api_token=self.config_values.get(self.CONFIG_NAME_TOKEN),
            )

    return _Api


@contextlib.contextmanager
def _quiet() -> Iterator[io.StringIO]:
    """Capture what the client prints; cohort reports in its own words."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        yield buffer


def config_dir() -> Path:
    """Where the client looks for kaggle.json, decided now (the client decides at import)."""
    if os.environ.get("KAGGLE_CONFIG_DIR"):
        return Path(os.environ["KAGGLE_CONFIG_DIR"])
    home = Path(os.path.expanduser("~")) / ".kaggle"
    if sys.platform.startswith("linux") and not home.exists():
        xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        return Path(xdg) / "kaggle"
    return home


def _token_source() -> str | None:
    """Which access token the client would use, if any (for a clearer message)."""
    from kagglesdk.kaggle_env import get_access_token_from_env

    token, source = get_access_token_from_env()
    if not token:
        return None
    return "KAGGLE_API_TOKEN" if source == "KAGGLE_API_TOKEN" else "~/.kaggle/access_token"


class KaggleClient:
    """An authenticated Kaggle client whose every call fails with one clear KaggleError."""

    def __init__(
        self,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff_s: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.attempts = max(1, attempts)
        self.backoff_s = (
            float(os.environ.get(BACKOFF_ENV, "1.0")) if backoff_s is None else backoff_s
        )
        self._sleep = sleep
        self._api: Any = None

    def sign_in(self) -> None:
        """Authenticate now, before local work that a refused call would throw away."""
        _ = self.api

    @property
    def api(self) -> Any:
        """The authenticated `KaggleApi`, built on first use."""
        if self._api is None:
            self._api = self._authenticate()
        return self._api

    def _authenticate(self) -> Any:
        api = _api_class()()
        api.config_dir = str(config_dir())
        api.config = os.path.join(api.config_dir, api.config_file)
        try:
            with _quiet():
                api.authenticate()
        except SystemExit:
            source = _token_source()
            if source:
                raise KaggleError(
                    f"The Kaggle API token in {source} is invalid or expired; create a new one at {TOKEN_URL}."
                ) from None
            raise KaggleError(CREDENTIALS_HELP) from None
        except Exception as exc:  # noqa: BLE001 - translated into one line
            raise _translate(exc, "signing in", "credentials") from None
        return api

    @property
    def username(self) -> str:
        """The Kaggle user the credentials belong to."""
        return str(self.api.config_values.get(self.api.CONFIG_NAME_USER) or "")

    def call(self, what: str, kind: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one client call, retrying 429 and 5xx answers, translating every failure."""
        for attempt in range(1, self.attempts + 1):
            try:
                with _quiet():
                    return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - translated into one line below
                status = _status_of(exc)
                retriable = status is not None and (status == 429 or status >= 500)
                if retriable and attempt < self.attempts:
                    self._sleep(self._delay(exc, attempt))
                    continue
                raise _translate(exc, what, kind, attempts=attempt) from None
        raise AssertionError("unreachable")  # the loop returns or raises

    def _delay(self, exc: Exception, attempt: int) -> float:
        """Kaggle's Retry-After when given (capped), else exponential backoff; 0 disables both."""
        if self.backoff_s <= 0:
            return 0.0
        try:
            return min(MAX_RETRY_AFTER_S, max(0.0, float(_header(exc, "Retry-After") or "")))
        except ValueError:
            return self.backoff_s * 2 ** (attempt - 1)

    # --- the calls cohort makes -------------------------------------------------

    def download_competition(self, competition: str, dest: Path) -> list[Path]:
        """Download and unzip a competition's files into `dest`; returns the files."""
        what = f"competition '{competition}'"
        with tempfile.TemporaryDirectory(prefix="cohort-kaggle-") as tmp:
            self.call(
                what,
                "competition",
                self.api.competition_download_files,
                competition,
                path=tmp,
                force=True,
                quiet=True,
            )
            return _unpack(Path(tmp), dest, what)

    def download_dataset(self, dataset: str, dest: Path) -> list[Path]:
        """Download and unzip a dataset ('owner/slug') into `dest`; returns the files."""
        what = f"dataset '{dataset}'"
        if dataset.count("/") != 1:
            raise KaggleError(
                f"Dataset '{dataset}' is not 'owner/slug'; fix kaggle_dataset in week.toml."
            )
        with tempfile.TemporaryDirectory(prefix="cohort-kaggle-") as tmp:
            self.call(
                what,
                "dataset",
                self.api.dataset_download_files,
                dataset,
                path=tmp,
                force=True,
                quiet=True,
            )
            return _unpack(Path(tmp), dest, what)

    def push_kernel(self, folder: Path) -> PushResult:
        """Push a kernel directory (kernel-metadata.json + code file); Kaggle then runs it."""
        what = f"kernel in {folder}"
        response = self.call(what, "kernel", self.api.kernels_push, str(folder))
        if response is None or response.error:
            error = "no answer" if response is None else response.error
            raise KaggleError(
                f"Kaggle refused the push of the {what}: {error}; fix kernel-metadata.json and retry."
            )
        invalid = [
            f"Kaggle did not attach dataset source '{d}' to {response.ref}: it does not exist or "
            "this account cannot see it; publish it (`cohort kaggle publish-data`) and push again."
            for d in response.invalid_dataset_sources or []
        ] + [
            f"Kaggle did not attach competition source '{c}' to {response.ref}: accept its rules at "
            f"https://www.kaggle.com/competitions/{c}/rules and push again."
            for c in response.invalid_competition_sources or []
        ]
        if invalid:
            raise KaggleError("\nError: ".join(invalid))  # the CLI prints one Error line each
        return PushResult(
            ref=str(response.ref), url=str(response.url), version=response.version_number or None
        )

    def kernel_status(self, ref: str) -> KernelStatus:
        """The status of a kernel's latest run ('owner/slug')."""
        response = self.call(f"kernel '{ref}'", "kernel", self.api.kernels_status, ref)
        status = getattr(response.status, "name", str(response.status)).lower()
        return KernelStatus(ref, status, response.failure_message or "")

    def kernel_output(self, ref: str, dest: Path, file_pattern: str | None = None) -> list[Path]:
        """Download a kernel's output files matching `file_pattern` (a regex; all when None) into `dest`."""
        dest.mkdir(parents=True, exist_ok=True)
        files, _token = self.call(
            f"kernel '{ref}'",
            "kernel",
            self.api.kernels_output,
            ref,
            str(dest),
            file_pattern=file_pattern,
            force=True,
            quiet=True,
        )
        return [Path(f) for f in files]

    def dataset_exists(self, ref: str) -> bool:
        """True when the signed-in user can see dataset 'owner/slug'."""
        import requests

        try:
            with _quiet():
                self.api.dataset_status(ref)
        except requests.exceptions.HTTPError as exc:
            if _status_of(exc) in (403, 404):
                return False
            raise _translate(exc, f"dataset '{ref}'", "dataset") from None
        except Exception as exc:  # noqa: BLE001 - translated into one line
            raise _translate(exc, f"dataset '{ref}'", "dataset") from None
        return True

    def publish_dataset(self, folder: Path, ref: str, public: bool, notes: str) -> DatasetResult:
        """Create dataset `ref` from `folder` (dataset-metadata.json inside), or add a version."""
        what = f"dataset '{ref}'"
        exists = self.dataset_exists(ref)
        if exists:
            response = self.call(
                what,
                "dataset",
                self.api.dataset_create_version,
                str(folder),
                notes,
                quiet=True,
                dir_mode="zip",
            )
        else:
            response = self.call(
                what,
                "dataset",
                self.api.dataset_create_new,
                str(folder),
                public=public,
                quiet=True,
                dir_mode="zip",
            )
        if response is None or response.error:
            error = "no answer" if response is None else response.error
            raise KaggleError(f"Kaggle refused {what}: {error}; check kaggle_owner and retry.")
        return DatasetResult(str(response.ref or ref), str(response.url or ""), created=not exists)

    def own_submissions(self, competition: str) -> list[OwnSubmission]:
        """The signed-in user's own submissions to a competition, with their private scores."""
        rows = (
            self.call(
                f"your submissions to competition '{competition}'",
                "competition",
                self.api.competition_submissions,
                competition,
                page_size=100,
            )
            or []
        )
        return [
            OwnSubmission(
                int(r.ref or 0),
                _aware(r.date),
                str(r.file_name or ""),
                str(r.description or ""),
                getattr(r.status, "name", str(r.status)).lower(),
                _float(r.public_score),
                _float(r.private_score),
            )
            for r in rows
            if r is not None
        ]

    def pull_kernel(self, ref: str, dest: Path) -> Path:
        """Download a kernel's source (the notebook) into `dest`; returns its path."""
        dest.mkdir(parents=True, exist_ok=True)
        path = self.call(
            f"kernel '{ref}'", "kernel", self.api.kernels_pull, ref, str(dest), quiet=True
        )
        return Path(path)

    def leaderboard(self, competition: str) -> list[LeaderboardEntry]:
        """A competition's whole public leaderboard, best first."""
        what = f"the leaderboard of competition '{competition}'"
        with tempfile.TemporaryDirectory(prefix="cohort-kaggle-") as tmp:
            self.call(
                what,
                "competition",
                self.api.competition_leaderboard_download,
                competition,
                tmp,
                quiet=True,
            )
            files = _unpack(Path(tmp), Path(tmp) / "unzipped", what)
            csvs = [f for f in files if f.suffix.lower() == ".csv"]
            if not csvs:
                raise KaggleError(f"Kaggle sent no CSV for {what}; retry later.")
            return parse_leaderboard(csvs[0].read_text(encoding="utf-8-sig"))

    def team_submissions(self, team_id: int) -> list[TeamSubmission]:
        """A team's publicly visible submissions."""
        rows = (
            self.call(f"team {team_id}", "team", self.api.competition_team_submissions, team_id)
            or []
        )
        return [
            TeamSubmission(int(r.id), _aware(r.date_submitted), _float(r.public_score))
            for r in rows
        ]


def _unpack(src: Path, dest: Path, what: str) -> list[Path]:
    """Move downloaded files into `dest`, extracting zips (and zips inside them); returns the files in `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(
        p for p in src.rglob("*") if p.is_file() and not p.name.endswith(".kaggle-partial")
    ):
        if path.is_relative_to(dest):
            continue
        if path.suffix.lower() == ".zip":
            for inner in _extract(path, dest, what):
                # Competitions often ship train.csv.zip or test.zip inside the archive.
                if inner.suffix.lower() == ".zip":
                    stem = Path(inner.stem)
                    _extract(inner, inner.parent / ("" if stem.suffix else stem.name), what)
                    inner.unlink()
        else:
            path.replace(dest / path.name)
    return sorted(p for p in dest.rglob("*") if p.is_file())


def _extract(archive_path: Path, dest: Path, what: str) -> list[Path]:
    try:
        with zipfile.ZipFile(archive_path) as archive:
            _check_members(archive, what)
            archive.extractall(dest)
            return [dest / n for n in archive.namelist() if not n.endswith("/")]
    except zipfile.BadZipFile:
        raise KaggleError(
            f"Kaggle sent a damaged zip file for {what}; run the command again."
        ) from None


def _check_members(archive: zipfile.ZipFile, what: str) -> None:
    for name in archive.namelist():
        if name.startswith(("/", "\\")) or ".." in Path(name).parts:
            raise KaggleError(
                f"The zip file for {what} holds an unsafe path '{name}'; it was not extracted."
            )


def parse_leaderboard(text: str) -> list[LeaderboardEntry]:
    """Parse a downloaded leaderboard CSV (with or without Rank and member columns)."""
    reader = csv.DictReader(io.StringIO(text))
    entries = []
    for position, row in enumerate(reader, start=1):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        members = tuple(
            m.strip() for m in row.get("teammemberusernames", "").split(",") if m.strip()
        )
        date = row.get("submissiondate") or row.get("lastsubmissiondate") or ""
        entries.append(
            LeaderboardEntry(
                rank=int(row["rank"]) if row.get("rank", "").isdigit() else position,
                team_id=int(row.get("teamid") or 0),
                team_name=row.get("teamname", ""),
                score=_float(row.get("score")),
                submitted_at=_parse_time(date),
                members=members,
            )
        )
    return entries


def _float(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _parse_time(text: str) -> datetime | None:
    if not text:
        return None
    for fmt in (None, "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M:%S"):
        try:
            value = datetime.fromisoformat(text) if fmt is None else datetime.strptime(text, fmt)
        except ValueError:
            continue
        return _aware(value)
    return None


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- error translation -----------------------------------------------------------


def _status_of(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _header(exc: Exception, name: str) -> str | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    return headers.get(name)


def _server_message(exc: Exception) -> str:
    """Kaggle's own message: the JSON body's 'message', else the exception text."""
    response = getattr(exc, "response", None)
    try:
        body = response.json() if response is not None else {}
        message = body.get("message", "") if isinstance(body, dict) else ""
    except ValueError:
        message = ""
    return " ".join(str(message or exc).split())[:200]


def _translate(exc: Exception, what: str, kind: str, attempts: int = 1) -> KaggleError:
    """One line for any failure of a client call: object, problem, fix."""
    import requests

    status = _status_of(exc)
    if status is not None:
        return _http_error(status, _server_message(exc), what, kind, attempts)
    cause = exc.__context__
    if isinstance(exc, ValueError) and isinstance(cause, Exception) and _status_of(cause) == 401:
        # kernels_status/kernels_output turn a 401 into a ValueError about access; keep the 401.
        return _http_error(401, "", what, kind, attempts)
    text = " ".join(str(exc).split())
    if isinstance(exc, ValueError) and text.startswith("Cannot access kernel"):
        return KaggleError(
            f"Kaggle {what} not found or private; check the link, or ask its owner to share it with you."
        )
    if isinstance(exc, requests.exceptions.RequestException):
        return KaggleError(
            f"Cannot reach Kaggle for {what} ({type(exc).__name__}); check the internet connection and retry."
        )
    if isinstance(exc, ValueError | TypeError | KeyError | OSError):
        return KaggleError(
            f"The kaggle client refused {what}: {text[:200]}; check the name and retry."
        )
    if "KAGGLE_API_ENVIRONMENT" in text:
        return KaggleError(f"{text}; unset KAGGLE_API_ENVIRONMENT or set it to PROD.")
    return KaggleError(
        f"Kaggle call for {what} failed: {type(exc).__name__}: {text[:200]}; retry, and report it if it persists."
    )


def _http_error(status: int, message: str, what: str, kind: str, attempts: int) -> KaggleError:
    lower = message.lower()
    tries = f" after {attempts} tries" if attempts > 1 else ""
    if status == 401:
        return KaggleError(
            f"Kaggle rejected the credentials (401) for {what}; create a new API token at {TOKEN_URL} "
            "and update KAGGLE_API_TOKEN or ~/.kaggle/access_token."
        )
    if "daily" in lower and "limit" in lower:
        return KaggleError(f"Kaggle's daily limit reached for {what}; try again tomorrow.")
    if status == 429:
        return KaggleError(
            f"Kaggle is rate-limiting requests (429) for {what}{tries}; wait a few minutes and retry."
        )
    if kind == "competition" and (status == 403 or "rules" in lower):
        name = what.split("'")[1] if "'" in what else what
        return KaggleError(
            f"You have not accepted the competition rules of '{name}' (403); accept them at "
            f"https://www.kaggle.com/competitions/{name}/rules and retry."
        )
    if kind == "kernel" and status in (403, 404):
        return KaggleError(
            f"Kaggle {what} not found or private ({status}); check the link, or ask its owner to share it with you."
        )
    if status == 403:
        return KaggleError(
            f"Kaggle refused access to {what} (403: {message}); check that your account may see it."
        )
    if status == 404:
        return KaggleError(f"Kaggle has no {what} (404); check the name in week.toml.")
    if status >= 500:
        return KaggleError(f"Kaggle had a server error ({status}) on {what}{tries}; retry later.")
    return KaggleError(f"Kaggle answered {status} for {what}: {message}; check the name and retry.")
