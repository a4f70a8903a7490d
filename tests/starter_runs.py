"""The starters' seed-0 report runs, started in the background as the test session begins.

tests/test_weeks_report.py's claim test executes every starter once (seed 0, as `cohort weeks
report` does) and checks it against its README: ~9 minutes of notebook kernels on 2 cores,
during which the rest of the suite waited. Here the session starts them as soon as the
tests are collected, one at a time in a subprocess (`python -m tests.starter_runs WEEK
PARAMETERS OUT`), while the other tests run in the main process; each claim test then takes
its run's result (waiting if it is not done) and asserts on it as before. Nothing is cached
across sessions: every session executes every selected run, and a broken starter fails its
claim test with the run's output.

The subprocess runs `cohort.weeks.report.report` exactly as the test did in-process, with
the test's environment (no thread settings; its own store file): the kernel itself always
ran in a Jupyter kernel process of its own, so only the process that waits for it moved.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A run is a week and the parameters-cell names it sets, e.g. ("01-pets", {"AUGMENT": False}).
Key = tuple[str, str]  # (week id, the parameters as JSON)


def key(week_id: str, parameters: dict[str, object]) -> Key:
    return week_id, json.dumps(parameters, sort_keys=True)


@dataclass
class _Job:
    key: Key
    done: threading.Event = field(default_factory=threading.Event)
    started: bool = False
    returncode: int | None = None
    output: str = ""
    result: dict | None = None
    process: subprocess.Popen[bytes] | None = None


class StarterRuns:
    """Runs the selected starters one at a time in a background thread, in test order."""

    def __init__(self, keys: list[Key]) -> None:
        self._scratch = Path(tempfile.mkdtemp(prefix="cohort-starter-runs-"))
        self._jobs = {k: _Job(k) for k in dict.fromkeys(keys)}
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="starter-runs", daemon=True)
        self._thread.start()

    def _next(self) -> _Job | None:
        with self._lock:
            if self._closed:
                return None
            job = next((j for j in self._jobs.values() if not j.started), None)
            if job is not None:
                job.started = True
            return job

    def _work(self) -> None:
        while (job := self._next()) is not None:
            self._run(job)

    def _run(self, job: _Job) -> None:
        try:
            week_id, parameters = job.key
            out = self._scratch / f"{uuid.uuid4().hex}.json"
            # The claim test's own store: a fresh SQLite file, never the checkout's cohort.db.
            env = {**os.environ, "COHORT_DATABASE_URL": f"sqlite:///{out.with_suffix('.db')}"}
            with self._lock:
                if self._closed:
                    return
                job.process = subprocess.Popen(
                    [sys.executable, "-m", "tests.starter_runs", week_id, parameters, str(out)],
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
            log, _ = job.process.communicate()
            job.output = log.decode(errors="replace")
            job.returncode = job.process.returncode
            if job.returncode == 0:
                job.result = json.loads(out.read_text())
        except Exception as exc:  # noqa: BLE001 - reported by the test that waits for the run
            job.output += f"\nthe background run could not start or finish: {exc!r}"
        finally:
            job.done.set()

    def result(self, week_id: str, parameters: dict[str, object]) -> dict:
        """The run's WeekReport fields; runs it now when the session did not start it."""
        k = key(week_id, parameters)
        with self._lock:
            job = self._jobs.get(k)
            if job is None:  # not among the items collected (e.g. parametrized by hand)
                job = self._jobs[k] = _Job(k, started=True)
                mine = True
            else:
                mine = False
        if mine:
            self._run(job)
        job.done.wait()
        if job.result is None:
            raise AssertionError(
                f"starter {week_id} {parameters} failed (exit {job.returncode}):\n"
                + job.output[-6000:]
            )
        return job.result

    def close(self) -> None:
        """Stop what still runs (an interrupted session) and remove the scratch folder."""
        import shutil

        with self._lock:
            self._closed = True
            running = [j.process for j in self._jobs.values() if j.process is not None]
        for process in running:
            if process.poll() is None:
                # Its Jupyter kernel polls its parent (JPY_PARENT_PID) and exits with it.
                process.kill()
                process.wait()
        shutil.rmtree(self._scratch, ignore_errors=True)


def _exit_with_the_parent() -> None:
    """End this run when the test session is gone (killed before it could close() us)."""
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(week_id: str, parameters: str, out: str) -> int:
    """Run one starter at seed 0 as the claim test did; write its WeekReport as JSON."""
    _exit_with_the_parent()
    from cohort.weeks.report import report
    from cohort.workspace import Cohort

    measured = report(Cohort.open(REPO), week_id, seeds=(0,), parameters=json.loads(parameters))
    Path(out).write_text(json.dumps(asdict(measured)))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
