"""A fake Kaggle API on http://localhost:7777, for the real `kaggle` client, and a kernel simulator.

The SDK sends every call as `POST /api/v1/<service>/<Method>` with a JSON body
(camelCase fields) and reads JSON back; errors are `{"code": N, "message": ...}`
with that HTTP status. Downloads answer with a redirect to a blob URL, as the
real API does; uploads go through StartBlobUpload and a PUT to the URL it gives.
Only the endpoints cohort uses are implemented. Tests arrange the state
(`FakeKaggle` fields) and can queue failures per endpoint.

What Kaggle enforces, the fake enforces: a push names an owner that exists and is
the caller; a new kernel's slug is derived from its title (a mismatched id lands
elsewhere, as on Kaggle); dataset sources must exist and be visible to the caller,
competition sources need the rules accepted, and the invalid ones come back in
`invalidDatasetSources` / `invalidCompetitionSources`; a private kernel or dataset
is visible only to its owner and those it is shared with.

A pushed notebook is *run* (tests/fake_kaggle/runner.py, in a subprocess): a fresh
temporary folder stands in for /kaggle, holding `input/<slug>/` for each attached
dataset (uploaded zips unpacked into a folder of their name) and
`input/<competition>/` for each attached competition, in the files' own layout;
`KAGGLE_INPUT_ROOT` points the starter's data finder at that input folder (the one
mapping the simulator needs: nothing can be mounted at /kaggle without root), and
the run's environment holds nothing else of the host's (no COHORT_DATA_DIR, a fresh
HOME). What the run writes in `working/` is served as the kernel's output.

One port for every run: KAGGLE_API_ENVIRONMENT=TEST always means localhost:7777, so
a server holds a cross-process file lock (`port_lock`) while it listens; a second
test run on the same host waits its turn instead of failing.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

HOST = "localhost"
PORT = 7777
BASE = f"http://{HOST}:{PORT}"
TOKEN = "fake-kaggle-token"
USERNAME = "organizer"
LEGACY_KEY = "fake-legacy-key"
LOCK_PATH = Path(tempfile.gettempdir()) / f"cohort-fake-kaggle-{PORT}.lock"
LOCK_WAIT_S = 1800.0  # a second test run waits this long for the first to give the port back
RUN_TIMEOUT_S = 900  # a pushed kernel running longer is stopped, as Kaggle stops it
RUNNER = Path(__file__).with_name("runner.py")


def slugify(title: str) -> str:
    """The slug Kaggle derives from a title."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


_lock_holder: dict[str, Any] = {"file": None, "depth": 0}


@contextlib.contextmanager
def port_lock(wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold the cross-process lock on the fake's port (re-entrant within one process)."""
    if _lock_holder["depth"] == 0:
        handle: TextIO = LOCK_PATH.open("a+")
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    handle.close()
                    raise RuntimeError(
                        f"Another test run has held the fake Kaggle port {PORT} for {wait_s:.0f} s "
                        f"(lock {LOCK_PATH}); let it finish or stop it, then rerun."
                    ) from None
                time.sleep(0.2)
        _lock_holder["file"] = handle
    _lock_holder["depth"] += 1
    try:
        yield
    finally:
        _lock_holder["depth"] -= 1
        if _lock_holder["depth"] == 0:
            handle = _lock_holder["file"]
            _lock_holder["file"] = None
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip archive holding `files`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@dataclass
class FakeKernel:
    """A kernel as the fake Kaggle knows it."""

    status: str = "COMPLETE"
    failure_message: str = ""
    outputs: dict[str, bytes] = field(default_factory=dict)
    source: str = ""
    log: str = ""
    private: bool = False
    shared_with: set[str] = field(default_factory=set)
    title: str = ""
    # What the simulator mounted for the run: paths relative to its input folder.
    inputs: list[str] = field(default_factory=list)
    pushed_sources: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class FakeRun:
    """A pushed kernel's run in the simulator."""

    ref: str
    root: Path
    process: subprocess.Popen[bytes] | None = None
    # Set by stop_runs under `guard`: a run stopped before its thread started the process
    # (the next test's reset came first) never starts it, in a folder already removed.
    stopped: bool = False
    guard: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class FakeKaggle:
    """The fake's state; tests set it up and read what the client sent."""

    tokens: dict[str, str] = field(default_factory=lambda: {TOKEN: USERNAME})
    legacy_keys: dict[str, str] = field(default_factory=lambda: {USERNAME: LEGACY_KEY})
    competitions: dict[str, dict[str, bytes]] = field(default_factory=dict)
    rules_accepted: set[str] = field(default_factory=set)
    datasets: dict[str, dict[str, bytes]] = field(default_factory=dict)
    kernels: dict[str, FakeKernel] = field(default_factory=dict)
    leaderboards: dict[str, str] = field(default_factory=dict)
    team_submissions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # method name -> queued (status, message) answers given before the real one
    failures: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    pushed: list[dict[str, Any]] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)
    # Accounts that exist (token owners count too); datasets visible only to some.
    users: set[str] = field(default_factory=lambda: {USERNAME})
    private_datasets: dict[str, set[str]] = field(default_factory=dict)  # ref -> who may see it
    dataset_versions: dict[str, int] = field(default_factory=dict)
    dataset_titles: dict[str, str] = field(default_factory=dict)
    uploads: dict[str, tuple[str, bytes | None]] = field(default_factory=dict)  # token -> file
    # (user, competition) -> that user's own submissions, as ListSubmissions returns them
    my_submissions: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    run_pushed: bool = True  # run pushed notebooks in the simulator
    runs: dict[str, FakeRun] = field(default_factory=dict)
    downloaded: list[str] = field(default_factory=list)  # blob names fetched, in order
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, method: str, status: int, message: str, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with an error."""
        self.failures.setdefault(method, []).extend([(status, message)] * times)

    def methods_called(self) -> list[str]:
        """The RPC method names called so far, in order."""
        return [m for m, _ in self.calls]

    def known_users(self) -> set[str]:
        """Every account the fake knows: declared users and token holders."""
        return self.users | set(self.tokens.values()) | set(self.legacy_keys)

    def can_see_dataset(self, ref: str, user: str) -> bool:
        """Public datasets are seen by all; private ones by their owner and collaborators."""
        if ref not in self.datasets:
            return False
        allowed = self.private_datasets.get(ref)
        return allowed is None or user == ref.split("/")[0] or user in allowed

    def wait(self, ref: str, timeout_s: float = RUN_TIMEOUT_S) -> FakeKernel:
        """Block until the simulator's run of `ref` has ended; the kernel as it ended."""
        deadline = time.monotonic() + timeout_s
        while self.kernels[ref].status in ("QUEUED", "RUNNING"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"kernel {ref} still {self.kernels[ref].status}")
            time.sleep(0.2)
        return self.kernels[ref]

    def stop_runs(self) -> None:
        """Kill what is still running and remove the runs' folders."""
        for run in self.runs.values():
            with run.guard:
                run.stopped = True
                if run.process is not None and run.process.poll() is None:
                    run.process.kill()
                    run.process.wait()
            shutil.rmtree(run.root, ignore_errors=True)


class _ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    caller: str = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the access log
        pass

    # --- plumbing -----------------------------------------------------------

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(
        self, data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self._send(status, json.dumps(data).encode(), "application/json", headers)

    def _redirect(self, blob: str, data: bytes) -> None:
        self.server.state.blobs[blob] = data
        self.send_response(302)
        self.send_header("Location", f"{BASE}/blobs/{blob}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        name = self.path.split("?")[0].removeprefix("/blobs/")
        data = self.server.state.blobs.get(name)
        if data is None:
            self._send(404, b"not found", "text/plain")
        else:
            self.server.state.downloaded.append(name)
            self._send(200, data, "application/octet-stream")

    def _body_bytes(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_PUT(self) -> None:
        token = self.path.split("?")[0].removeprefix("/upload/")
        uploads = self.server.state.uploads
        data = self._body_bytes()
        if token not in uploads:
            self._send(404, b"no such upload", "text/plain")
            return
        uploads[token] = (uploads[token][0], data)
        self._send(200, b"{}", "application/json")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        method = self.path.rstrip("/").split("/")[-1]
        state = self.server.state
        state.calls.append((method, body))
        try:
            queued = state.failures.get(method)
            if queued:
                status, message = queued.pop(0)
                headers = {"Retry-After": "0"} if status == 429 else None
                self._json({"code": status, "message": message}, status, headers)
                return
            if method != "IntrospectToken":
                self.caller = self._check_auth()
            handler = getattr(self, f"rpc_{method}", None)
            if handler is None:
                raise _ApiError(404, f"The fake Kaggle does not implement {method}")
            handler(body)
        except _ApiError as exc:
            self._json({"code": exc.status, "message": exc.message}, exc.status)

    def _check_auth(self) -> str:
        """The signed-in user, or a 401."""
        header = self.headers.get("Authorization", "")
        state = self.server.state
        if header.startswith("Bearer ") and header[7:] in state.tokens:
            return state.tokens[header[7:]]
        if header.startswith("Basic "):
            user, _, key = base64.b64decode(header[6:]).decode().partition(":")
            if state.legacy_keys.get(user) == key:
                return user
        raise _ApiError(401, "Unauthenticated")

    # --- the endpoints ------------------------------------------------------

    def rpc_IntrospectToken(self, body: dict[str, Any]) -> None:
        username = self.server.state.tokens.get(body.get("token", ""))
        self._json({"active": True, "username": username} if username else {"active": False})

    def rpc_DownloadDataFiles(self, body: dict[str, Any]) -> None:
        name = body.get("competitionName", "")
        state = self.server.state
        if name not in state.competitions:
            raise _ApiError(404, f"Competition {name} not found")
        if name not in state.rules_accepted:
            raise _ApiError(
                403,
                "You must accept this competition's rules before you'll be able to download files.",
            )
        self._redirect(f"competitions/{name}/{name}.zip", zip_bytes(state.competitions[name]))

    def rpc_DownloadDataset(self, body: dict[str, Any]) -> None:
        ref = f"{body.get('ownerSlug')}/{body.get('datasetSlug')}"
        if not self.server.state.can_see_dataset(ref, self.caller):
            raise _ApiError(404, f"Dataset {ref} not found")
        self._redirect(f"datasets/{ref}/archive.zip", zip_bytes(self.server.state.datasets[ref]))

    # --- publishing a dataset: StartBlobUpload, PUT, CreateDataset / CreateDatasetVersion ---

    def rpc_StartBlobUpload(self, body: dict[str, Any]) -> None:
        token = uuid.uuid4().hex
        self.server.state.uploads[token] = (str(body.get("name", "")), None)
        self._json({"token": token, "createUrl": f"{BASE}/upload/{token}"})

    def _uploaded_files(self, files: list[dict[str, Any]]) -> dict[str, bytes]:
        """The uploaded blobs as Kaggle stores them: a zip becomes a folder of its name."""
        out: dict[str, bytes] = {}
        for item in files:
            name, data = self.server.state.uploads.get(item.get("token", ""), ("", None))
            if data is None:
                raise _ApiError(400, f"Upload token {item.get('token')} has no data")
            if name.lower().endswith(".zip"):
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    for member in archive.namelist():
                        if not member.endswith("/"):
                            out[f"{name[:-4]}/{member}"] = archive.read(member)
            else:
                out[name] = data
        return out

    def _dataset_ref(self, body: dict[str, Any]) -> str:
        return f"{body.get('ownerSlug')}/{body.get('datasetSlug') or body.get('slug')}"

    def rpc_GetDatasetStatus(self, body: dict[str, Any]) -> None:
        ref = self._dataset_ref(body)
        if not self.server.state.can_see_dataset(ref, self.caller):
            raise _ApiError(404, f"Dataset {ref} not found")
        self._json({"status": "READY"})

    def rpc_CreateDataset(self, body: dict[str, Any]) -> None:
        state, ref = self.server.state, self._dataset_ref(body)
        owner = ref.split("/")[0]
        if owner not in state.known_users():
            self._json(
                {"ref": "", "url": "", "status": "error", "error": f"User {owner} not found"}
            )
            return
        if owner != self.caller:
            raise _ApiError(403, f"User {self.caller} cannot create datasets for {owner}")
        if ref in state.datasets:
            self._json({"status": "error", "error": f"Dataset {ref} already exists"})
            return
        state.datasets[ref] = self._uploaded_files(body.get("files") or [])
        if body.get("isPrivate", False):  # proto3: a false field may be left out
            state.private_datasets[ref] = set()
        state.dataset_versions[ref] = 1
        state.dataset_titles[ref] = str(body.get("title", ""))
        url = f"https://www.kaggle.com/datasets/{ref}"
        self._json({"ref": ref, "url": url, "status": "ok", "error": ""})

    def rpc_CreateDatasetVersion(self, body: dict[str, Any]) -> None:
        state, ref = self.server.state, self._dataset_ref(body)
        if not state.can_see_dataset(ref, self.caller):
            raise _ApiError(404, f"Dataset {ref} not found")
        if ref.split("/")[0] != self.caller:
            raise _ApiError(403, f"User {self.caller} cannot version {ref}")
        state.datasets[ref] = self._uploaded_files((body.get("body") or {}).get("files") or [])
        state.dataset_versions[ref] = state.dataset_versions.get(ref, 1) + 1
        url = f"https://www.kaggle.com/datasets/{ref}"
        self._json({"ref": ref, "url": url, "status": "ok", "error": ""})

    def rpc_ListSubmissions(self, body: dict[str, Any]) -> None:
        name = body.get("competitionName", "")
        state = self.server.state
        if name not in state.competitions and name not in state.leaderboards:
            raise _ApiError(404, f"Competition {name} not found")
        self._json({"submissions": state.my_submissions.get((self.caller, name), [])})

    def _kernel(self, body: dict[str, Any]) -> tuple[str, FakeKernel]:
        ref = f"{body.get('userName')}/{body.get('kernelSlug')}"
        kernel = self.server.state.kernels.get(ref)
        if kernel is None:
            raise _ApiError(404, f"Kernel {ref} not found")
        owner = ref.split("/")[0]
        if kernel.private and self.caller != owner and self.caller not in kernel.shared_with:
            raise _ApiError(403, "Permission 'kernels.get' was denied")
        return ref, kernel

    def rpc_GetKernelSessionStatus(self, body: dict[str, Any]) -> None:
        _ref, kernel = self._kernel(body)
        self._json({"status": kernel.status, "failureMessage": kernel.failure_message})

    def rpc_ListKernelSessionOutput(self, body: dict[str, Any]) -> None:
        ref, kernel = self._kernel(body)
        files = []
        for name, data in kernel.outputs.items():
            self.server.state.blobs[f"kernels/{ref}/output/{name}"] = data
            files.append({"fileName": name, "url": f"{BASE}/blobs/kernels/{ref}/output/{name}"})
        self._json({"files": files, "log": kernel.log, "nextPageToken": ""})

    def rpc_GetKernel(self, body: dict[str, Any]) -> None:
        ref, kernel = self._kernel(body)
        owner, slug = ref.split("/")
        metadata = {
            "id": 1,
            "ref": ref,
            "title": slug,
            "author": owner,
            "slug": slug,
            "language": "python",
            "kernelType": "notebook",
            "isPrivate": kernel.private,
        }
        blob = {
            "source": kernel.source,
            "language": "python",
            "kernelType": "notebook",
            "slug": slug,
        }
        self._json({"metadata": metadata, "blob": blob})

    def rpc_SaveKernel(self, body: dict[str, Any]) -> None:
        state = self.server.state
        state.pushed.append(body)
        owner, _, asked = str(body.get("slug", "")).partition("/")
        if owner not in state.known_users():
            self._json({"error": f"User '{owner}' does not exist", "ref": "", "url": ""})
            return
        if owner != self.caller:
            raise _ApiError(403, f"User '{self.caller}' cannot push kernels owned by '{owner}'")
        # An existing kernel gets a new version; a new one takes the slug of its title.
        title = str(body.get("newTitle") or asked)
        ref = (
            f"{owner}/{asked}"
            if f"{owner}/{asked}" in state.kernels
            else f"{owner}/{slugify(title)}"
        )
        invalid_datasets = [
            d for d in body.get("datasetDataSources") or [] if not state.can_see_dataset(d, owner)
        ]
        invalid_competitions = [
            c
            for c in body.get("competitionDataSources") or []
            if c not in state.competitions or c not in state.rules_accepted
        ]
        sources = {
            "datasets": [
                d for d in body.get("datasetDataSources") or [] if d not in invalid_datasets
            ],
            "competitions": [
                c for c in body.get("competitionDataSources") or [] if c not in invalid_competitions
            ],
        }
        version = state.dataset_versions.setdefault(f"kernel:{ref}", 0) + 1
        state.dataset_versions[f"kernel:{ref}"] = version
        kernel = FakeKernel(
            status="QUEUED",
            source=str(body.get("text", "")),
            private=bool(body.get("isPrivate", False)),
            title=title,
            pushed_sources=sources,
        )
        if ref in state.kernels:
            kernel.shared_with = state.kernels[ref].shared_with
        state.kernels[ref] = kernel
        if state.run_pushed:
            _start_run(state, ref, kernel)
        else:
            kernel.status = "COMPLETE"
        self._json(
            {
                "ref": f"/code/{ref}",
                "url": f"https://www.kaggle.com/code/{ref}",
                "versionNumber": version,
                "error": "",
                "invalidDatasetSources": invalid_datasets,
                "invalidCompetitionSources": invalid_competitions,
            }
        )

    def rpc_DownloadLeaderboard(self, body: dict[str, Any]) -> None:
        name = body.get("competitionName", "")
        text = self.server.state.leaderboards.get(name)
        if text is None:
            raise _ApiError(404, f"Competition {name} not found")
        self._send(
            200, zip_bytes({f"{name}-publicleaderboard.csv": text.encode()}), "application/zip"
        )

    def rpc_ListTeamPublicSubmissions(self, body: dict[str, Any]) -> None:
        team = int(body.get("teamId") or 0)
        if team not in self.server.state.team_submissions:
            raise _ApiError(404, f"Team {team} not found")
        self._json({"submissions": self.server.state.team_submissions[team]})


def _unpack_into(files: dict[str, bytes], folder: Path) -> list[str]:
    """Write a source's files under `folder`; the paths written, relative to it."""
    written = []
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(name)
    return written


def _run_environment(root: Path, input_root: Path) -> dict[str, str]:
    """A kernel's environment: nothing of the host's but what Python needs to start."""
    home = root / "home"
    home.mkdir()
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "KAGGLE_INPUT_ROOT": str(input_root),
        "KAGGLE_KERNEL_RUN_TYPE": "Batch",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


def _start_run(state: FakeKaggle, ref: str, kernel: FakeKernel) -> None:
    """Lay out /kaggle for the kernel's sources and run its notebook in the background."""
    root = Path(tempfile.mkdtemp(prefix="fake-kaggle-run-"))
    input_root = root / "kaggle" / "input"
    working = root / "kaggle" / "working"
    working.mkdir(parents=True)
    input_root.mkdir(parents=True, exist_ok=True)
    inputs = []
    for dataset in kernel.pushed_sources.get("datasets", []):
        slug = dataset.split("/")[1]
        inputs += [f"{slug}/{n}" for n in _unpack_into(state.datasets[dataset], input_root / slug)]
    for competition in kernel.pushed_sources.get("competitions", []):
        files = state.competitions[competition]
        inputs += [f"{competition}/{n}" for n in _unpack_into(files, input_root / competition)]
    kernel.inputs = sorted(inputs)
    (root / "kernel.ipynb").write_text(kernel.source, encoding="utf-8")
    run = FakeRun(ref, root)
    state.runs[f"{ref}#{len(state.runs)}"] = run

    def work() -> None:
        with run.guard:
            if run.stopped:
                return
            kernel.status = "RUNNING"
            run.process = subprocess.Popen(
                [sys.executable, str(RUNNER), str(root / "kernel.ipynb"), str(working)],
                cwd=working,
                env=_run_environment(root, input_root),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        try:
            log, _ = run.process.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            run.process.kill()
            log, _ = run.process.communicate()
            kernel.log, kernel.status = log.decode(errors="replace"), "ERROR"
            kernel.failure_message = f"The kernel ran over {RUN_TIMEOUT_S} s and was stopped"
            return
        with run.guard:
            # Stopped by the next test's reset (killed, its folder about to be removed): the
            # run was abandoned, and reading its folder would race the removal.
            if run.stopped:
                return
            kernel.log = log.decode(errors="replace")
            kernel.outputs = {
                str(f.relative_to(working)): f.read_bytes()
                for f in sorted(working.rglob("*"))
                if f.is_file()
            }
        if run.process.returncode == 0:
            kernel.status = "COMPLETE"
        else:
            lines = [line for line in kernel.log.splitlines() if line.strip()]
            kernel.failure_message = lines[-1] if lines else "the kernel failed"
            kernel.status = "ERROR"

    threading.Thread(target=work, name=f"fake-kaggle-run-{ref}", daemon=True).start()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: FakeKaggle


class FakeKaggleServer:
    """The fake Kaggle API running in a background thread on localhost:7777."""

    def __init__(self, wait_s: float = LOCK_WAIT_S) -> None:
        self._lock = port_lock(wait_s)
        self._lock.__enter__()  # waits while another test run holds the port
        try:
            self._server = _Server((HOST, PORT), _Handler)
        except OSError as exc:
            self._lock.__exit__(None, None, None)
            raise RuntimeError(
                f"Port {PORT} is taken by another process ({exc.strerror}); the fake Kaggle API needs it "
                "because KAGGLE_API_ENVIRONMENT=TEST always means localhost:7777. Stop that process and rerun."
            ) from None
        self._server.state = FakeKaggle()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-kaggle", daemon=True
        )

    @property
    def state(self) -> FakeKaggle:
        """The state the next request sees."""
        return self._server.state

    def reset(self) -> FakeKaggle:
        """Start a test from a clean state (runs of the previous test are stopped)."""
        self._server.state.stop_runs()
        self._server.state = FakeKaggle()
        return self._server.state

    def start(self) -> FakeKaggleServer:
        """Serve in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, stop the runs, free the port and give the port lock back."""
        try:
            self._server.state.stop_runs()
            if self._thread.is_alive():
                self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
        finally:
            self._lock.__exit__(None, None, None)
