"""A fake Kaggle API on http://localhost:7777, for the real `kaggle` client.

The SDK sends every call as `POST /api/v1/<service>/<Method>` with a JSON body
(camelCase fields) and reads JSON back; errors are `{"code": N, "message": ...}`
with that HTTP status. Downloads answer with a redirect to a blob URL, as the
real API does. Only the endpoints cohort uses are implemented. Tests arrange the
state (`FakeKaggle` fields) and can queue failures per endpoint.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "localhost"
PORT = 7777
BASE = f"http://{HOST}:{PORT}"
TOKEN = "fake-kaggle-token"
USERNAME = "organizer"
LEGACY_KEY = "fake-legacy-key"


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

    def fail(self, method: str, status: int, message: str, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with an error."""
        self.failures.setdefault(method, []).extend([(status, message)] * times)

    def methods_called(self) -> list[str]:
        """The RPC method names called so far, in order."""
        return [m for m, _ in self.calls]


class _ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Handler(BaseHTTPRequestHandler):
    server: _Server

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
            self._send(200, data, "application/octet-stream")

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
                self._check_auth()
            handler = getattr(self, f"rpc_{method}", None)
            if handler is None:
                raise _ApiError(404, f"The fake Kaggle does not implement {method}")
            handler(body)
        except _ApiError as exc:
            self._json({"code": exc.status, "message": exc.message}, exc.status)

    def _check_auth(self) -> None:
        header = self.headers.get("Authorization", "")
        state = self.server.state
        if header.startswith("Bearer ") and header[7:] in state.tokens:
            return
        if header.startswith("Basic "):
            user, _, key = base64.b64decode(header[6:]).decode().partition(":")
            if state.legacy_keys.get(user) == key:
                return
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
        files = self.server.state.datasets.get(ref)
        if files is None:
            raise _ApiError(404, f"Dataset {ref} not found")
        self._redirect(f"datasets/{ref}/archive.zip", zip_bytes(files))

    def _kernel(self, body: dict[str, Any]) -> tuple[str, FakeKernel]:
        ref = f"{body.get('userName')}/{body.get('kernelSlug')}"
        kernel = self.server.state.kernels.get(ref)
        if kernel is None:
            raise _ApiError(404, f"Kernel {ref} not found")
        if kernel.private:
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
        ref = body.get("slug", "")
        version = sum(1 for p in state.pushed if p.get("slug") == ref)
        state.kernels.setdefault(ref, FakeKernel(status="QUEUED"))
        self._json(
            {
                "ref": f"/code/{ref}",
                "url": f"https://www.kaggle.com/code/{ref}",
                "versionNumber": version,
                "error": "",
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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: FakeKaggle


class FakeKaggleServer:
    """The fake Kaggle API running in a background thread on localhost:7777."""

    def __init__(self) -> None:
        try:
            self._server = _Server((HOST, PORT), _Handler)
        except OSError as exc:
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
        """Start a test from a clean state."""
        self._server.state = FakeKaggle()
        return self._server.state

    def start(self) -> FakeKaggleServer:
        """Serve in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
