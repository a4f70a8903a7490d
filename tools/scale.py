"""Figures for docs/scale.md: one process's intake and page throughput, on SQLite and Postgres.

    .venv/bin/python tools/scale.py [--postgres URL] [--members 1000] [--submissions 50000]

(1) Intake: 20 member processes released at once, each trying 7 files against a daily limit
of 5, while one process rescores in a loop and one reads the board; reports accepted files
per second and checks the limit held. (2) Pages: a season of `--members` members and
`--submissions` scored submissions (bulk-loaded, as `make bench` does); the Leaderboard and
Season standings pages are each run with Streamlit's AppTest, cold (just after a write) and
warm (cached), and reported as script runs per minute on one core. With --postgres URL (a
server URL; a scratch database is created and dropped) both stores are measured.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "leaderboard_app" / "app.py"
FORK = mp.get_context("fork")


def _scratch_pg(server: str) -> tuple[str, Any]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    name = f"cohort_scale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    return url, drop


# ---------------------------------------------------------------- (1) intake


def _submitter(
    root: str, url: str, handle: str, payloads: list[bytes], barrier: Any, out: Any
) -> None:
    from cohort.errors import IntakeRefused
    from cohort.scoring import intake
    from cohort.workspace import Cohort, utcnow

    cohort = Cohort.open(Path(root), url)
    accepted = refused = 0
    failure = ""
    barrier.wait(timeout=120)
    for data in payloads:
        try:
            intake.submit_bytes(cohort, handle, "01-reg", data, "p.csv", at=utcnow())
            accepted += 1
        except IntakeRefused:
            refused += 1
        except Exception as exc:  # noqa: BLE001 - a lock error or anything else is reported
            failure = f"{type(exc).__name__}: {exc}"[:300]
    out.put((handle, accepted, refused, time.time(), failure))


def _background(root: str, url: str, kind: str, stop: Any, out: Any) -> None:
    from cohort.scoring import boards, runs
    from cohort.workspace import Cohort

    cohort = Cohort.open(Path(root), url)
    n = 0
    while not stop.is_set():
        if kind == "rescore":
            runs.score_pending(cohort, rescore=True, progress=False)
        else:
            boards.leaderboard(cohort, "01-reg", private=False)
        n += 1
    out.put((kind, n))


def intake_figures(url: str, tmp: Path) -> dict[str, float]:
    """20 members x 7 tries, limit 5, with a rescore and a reader running."""
    import numpy as np
    import pandas as pd

    from cohort.scoring import intake as intake_mod
    from cohort.sheets.roster import import_roster
    from cohort.workspace import Cohort, utcnow

    root = tmp / "intake"
    (root / "weeks" / "01-reg").mkdir(parents=True)
    (root / "weeks" / "01-reg" / "week.toml").write_text(
        'title = "Scale"\nopens = 0\ncloses = 7\n\n[competition]\nmetric = "mae"\n'
        'target_columns = ["target"]\ndaily_limit = 5\n'
    )
    start = (utcnow() - timedelta(days=1)).date().isoformat()
    (root / "cohort.toml").write_text(
        f'name = "scale"\ntimezone = "UTC"\nstart = {start}\nweeks = ["01-reg"]\n'
    )
    ids = [f"r{i:04d}" for i in range(2624)]
    (root / "data" / "01-reg").mkdir(parents=True)
    usage = ["Public"] * 800 + ["Private"] * (len(ids) - 800)
    pd.DataFrame({"id": ids, "target": np.arange(len(ids), dtype=float), "Usage": usage}).to_csv(
        root / "data" / "01-reg" / "solution.csv", index=False
    )
    handles = [f"m{i:02d}" for i in range(20)]
    (root / "members.csv").write_text(
        "handle,name,email,kaggle_username\n" + "".join(f"{h},{h},,\n" for h in handles)
    )
    cohort = Cohort.open(root, url)
    import_roster(cohort.store, root / "members.csv")

    def csv(v: float) -> bytes:
        return (
            pd.DataFrame({"id": ids, "target": np.arange(len(ids)) + v})
            .to_csv(index=False)
            .encode()
        )

    intake_mod.submit_bytes(
        cohort, handles[0], "01-reg", csv(0.1), "p.csv", at=utcnow() - timedelta(days=1)
    )
    cohort.store.dispose()
    barrier, out, stop = FORK.Barrier(21), FORK.Queue(), FORK.Event()
    bg = [
        FORK.Process(target=_background, args=(str(root), url, k, stop, out))
        for k in ("rescore", "read")
    ]
    for p in bg:
        p.start()
    procs = [
        FORK.Process(
            target=_submitter,
            args=(str(root), url, h, [csv(i + k / 10) for k in range(7)], barrier, out),
        )
        for i, h in enumerate(handles)
    ]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)
    t0 = time.time()
    results = [out.get(timeout=600) for _ in handles]
    stop.set()
    others = dict(out.get(timeout=600) for _ in bg)
    for p in procs + bg:
        p.join(60)
    wall = max(r[3] for r in results) - t0
    accepted = sum(r[1] for r in results)
    failures = [r[4] for r in results if r[4]]
    assert not failures, failures[0]
    assert all(r[1] == 5 for r in results), "the daily limit did not hold"
    return {
        "tries": 140,
        "accepted": accepted,
        "seconds": wall,
        "accepted_per_s": accepted / wall,
        "rescores": others["rescore"],
        "board_reads": others["read"],
    }


# ---------------------------------------------------------------- (2) pages


def page_figures(
    url: str, tmp: Path, members: int, submissions: int, repeats: int
) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    from cohort.bench import app as bench_app

    os.environ["COHORT_DATABASE_URL"] = url
    root = tmp / "pages"
    big = bench_app._write_cohort(root, members)
    bench_app._submit_real(big, len(bench_app.WEEKS), seed=3)
    bench_app._bulk_fill(big, submissions - len(bench_app.WEEKS), events=members * 5)
    big.store.dispose()
    os.environ["COHORT_ROOT"] = str(root)
    figures: dict[str, float] = {}
    for page in ("leaderboard", "standings"):
        at = AppTest.from_file(str(APP), default_timeout=600).run()
        if page != "leaderboard":
            at.switch_page(f"views/{page}.py")
        at.run()
        cold, warm = [], []
        for _ in range(repeats):
            bench_app._touch(root)
            t = time.perf_counter()
            at.run()
            cold.append(time.perf_counter() - t)
            t = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - t)
        if at.exception:
            raise RuntimeError(at.exception[0].value)
        figures[f"{page}_cold_s"] = statistics.median(cold)
        figures[f"{page}_warm_s"] = statistics.median(warm)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a Postgres server URL (a scratch database is made)")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--submissions", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    stores = ["sqlite"] + (["postgres"] if args.postgres else [])
    for store in stores:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            drop = None
            if store == "sqlite":
                url_i, url_p = f"sqlite:///{tmp / 'i.db'}", f"sqlite:///{tmp / 'p.db'}"
            else:
                url_i, drop_i = _scratch_pg(args.postgres)
                url_p, drop = _scratch_pg(args.postgres)
            try:
                f = intake_figures(url_i, tmp)
                print(
                    f"{store} intake: {f['accepted']}/{f['tries']} accepted (limit held) in "
                    f"{f['seconds']:.1f} s = {f['accepted_per_s']:.1f} files/s, with "
                    f"{f['rescores']} full rescores and {f['board_reads']} board reads meanwhile",
                    flush=True,
                )
                p = page_figures(url_p, tmp, args.members, args.submissions, args.repeats)
                for page in ("leaderboard", "standings"):
                    cold, warm = p[f"{page}_cold_s"], p[f"{page}_warm_s"]
                    print(
                        f"{store} {page} page ({args.members} members, {args.submissions} "
                        f"submissions): cold {cold:.2f} s ({60 / cold:.0f}/min), "
                        f"warm {warm:.3f} s ({60 / warm:.0f}/min)",
                        flush=True,
                    )
            finally:
                if store == "postgres":
                    drop_i()
                    if drop:
                        drop()
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "leaderboard_app"))
    main()
