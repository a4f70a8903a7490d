"""First-time parsing of stored files (`parsed._rebuilt`): the same arrays, the same refusals."""

from __future__ import annotations

import errno
import gzip
import hashlib
import io

import numpy as np
import pandas as pd
import pytest

from cohort import config
from cohort.config import CohortConfig
from cohort.errors import StorageError
from cohort.scoring import parsed
from cohort.scoring.solution import Solution, load_solution
from cohort.scoring.validation import parse

N = 60
IDS = [f"seg_{i:04x}" for i in range(N)]
CLASSES = [f"breed_{k:02d}" for k in range(7)]
RNG = np.random.default_rng(7)


@pytest.fixture
def cfg(make_cohort) -> CohortConfig:
    root = make_cohort(
        {
            "01-reg": {"metric": "mae", "id_column": "seg_id", "targets": ("time_to_failure",)},
            "02-cls": {"metric": "accuracy", "id_column": "image_id", "targets": ("label",)},
        }
    )
    for week, frame in (
        ("01-reg", pd.DataFrame({"seg_id": IDS, "time_to_failure": RNG.random(N) * 16})),
        ("02-cls", pd.DataFrame({"image_id": IDS, "label": RNG.choice(CLASSES, N)})),
    ):
        (root / "data" / week).mkdir(parents=True)
        frame.assign(Usage=["Public", "Private"] * (N // 2)).to_csv(
            root / "data" / week / "solution.csv", index=False
        )
    return config.load(root)


def _store(cfg: CohortConfig, week: str, data: bytes, suffix: str = ".csv") -> str:
    sha = hashlib.sha256(data).hexdigest()
    folder = cfg.submissions_dir / week
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{sha}{suffix}").write_bytes(data)
    return sha


def _npy(values: np.ndarray) -> bytes:
    with io.BytesIO() as fh:
        np.save(fh, values)
        return fh.getvalue()


def _rebuild(cfg: CohortConfig, sol: Solution, shas: list[str]) -> list[object]:
    return [got for _, got in parsed._rebuilt(cfg, sol, shas, list(range(len(shas))))]


def _cached(cfg: CohortConfig, sol: Solution, sha: str) -> bytes:
    return parsed.parsed_path(cfg, cfg.week(sol.week), sha, sol.key).read_bytes()


def _regression_files() -> list[tuple[bytes, np.ndarray]]:
    """Files as members write them, each with the predictions it holds in solution order."""
    out = []
    for k in range(12):
        values = np.round(RNG.random(N) * 16, 4) if k % 3 else RNG.random(N) * 16
        order = np.arange(N) if k % 2 else RNG.permutation(N)
        rows = [f"{IDS[i]},{float(values[i])!r}" for i in order]
        end = "\r\n" if k % 4 == 1 else "\n"
        if k % 4 == 2:  # spaces around the fields, and trailing commas
            rows = [f" {r.replace(',', ' , ')} ," for r in rows]
        out.append((("seg_id,time_to_failure" + end + end.join(rows) + end).encode(), values))
    return out


def test_regression_files_give_the_arrays_np_save_writes(cfg: CohortConfig) -> None:
    sol = load_solution(cfg, "01-reg")
    files = _regression_files()
    shas = [_store(cfg, "01-reg", data) for data, _ in files]
    got = _rebuild(cfg, sol, shas)
    for (_, values), sha, one in zip(files, shas, got, strict=True):
        assert isinstance(one, np.ndarray) and one.tobytes() == values.tobytes()
        assert _cached(cfg, sol, sha) == _npy(values)


def test_labels_give_their_class_codes_as_np_save_writes_them(cfg: CohortConfig) -> None:
    sol = load_solution(cfg, "02-cls")
    codes = [RNG.integers(0, len(sol.classes), N) for _ in range(6)]
    files = []
    for k, c in enumerate(codes):
        labels = [sol.classes[j] for j in c]
        cells = [f" {t} " if k == 3 else t for t in labels]  # padded labels are stripped
        files.append(
            (
                "image_id,label\n" + "\n".join(map(",".join, zip(IDS, cells, strict=True))) + "\n"
            ).encode()
        )
    shas = [_store(cfg, "02-cls", data) for data in files]
    for c, sha, one in zip(codes, shas, _rebuild(cfg, sol, shas), strict=True):
        assert isinstance(one, np.ndarray) and one.tolist() == c.tolist()
        assert _cached(cfg, sol, sha) == _npy(c.astype(np.int16))


def test_rebuilt_copies_are_the_bytes_parse_gives(cfg: CohortConfig) -> None:
    """What `cohort submit` stores (write_npy of parse) and what a re-parse caches agree."""
    sol = load_solution(cfg, "01-reg")
    files = [data for data, _ in _regression_files()]
    gz = gzip.compress(files[0])
    shas = [_store(cfg, "01-reg", data) for data in files] + [_store(cfg, "01-reg", gz, ".csv.gz")]
    _rebuild(cfg, sol, shas)
    for data, sha in zip([*files, gz], shas, strict=True):
        ours = io.BytesIO()
        parsed.write_npy(ours, parse(data, "f.csv", sol).values)
        assert _cached(cfg, sol, sha) == ours.getvalue()
    stack, errors = parsed.read_stack(cfg, sol, shas)
    assert errors == {} and stack.tobytes() == b"".join(
        parse(d, "f.csv", sol).values.tobytes() for d in [*files, gz]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "seg_id,time_to_failure\n{rows}\nseg_x,1,2\n",
            f"Line {N + 2} has 3 values but the header has 2 columns; write one value per column.",
        ),
        (
            "seg_id,time_to_failure\n{bad}",
            "Column 'time_to_failure' has a non-numeric value 'abc' at line 5; every prediction must be a finite number.",
        ),
        (
            "seg_id,time_to_failure\n{dup}",
            f"Duplicate ids: '{IDS[0]}'; each id must appear exactly once.",
        ),
    ],
)
def test_a_re_parse_refuses_as_intake_does(cfg: CohortConfig, text: str, message: str) -> None:
    sol = load_solution(cfg, "01-reg")
    rows = [f"{i},1.5" for i in IDS]
    data = text.format(
        rows="\n".join(rows),
        bad="\n".join(rows[:3] + [f"{IDS[3]},abc"] + rows[4:]),
        dup="\n".join(rows[:-1] + [rows[0]]),
    ).encode()
    good = _store(cfg, "01-reg", b"seg_id,time_to_failure\n" + "\n".join(rows).encode())
    sha = _store(cfg, "01-reg", data)
    assert _rebuild(cfg, sol, [good, sha])[1] == message
    assert not parsed.parsed_path(cfg, cfg.week("01-reg"), sha, sol.key).exists()


def test_a_stale_copy_is_replaced_and_no_temp_file_is_left(cfg: CohortConfig) -> None:
    sol = load_solution(cfg, "01-reg")
    data, values = _regression_files()[1]
    sha = _store(cfg, "01-reg", data)
    path = parsed.parsed_path(cfg, cfg.week("01-reg"), sha, sol.key)
    path.parent.mkdir(parents=True)
    path.write_bytes(_npy(values)[:-8])  # torn: read_stack sees the wrong size
    stack, errors = parsed.read_stack(cfg, sol, [sha])
    assert errors == {} and stack[0].tobytes() == values.tobytes()
    assert path.read_bytes() == _npy(values)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_missing_stored_file_is_named(cfg: CohortConfig) -> None:
    sol = load_solution(cfg, "01-reg")
    folder = cfg.submissions_dir / "01-reg"
    assert _rebuild(cfg, sol, ["ab" * 32]) == [
        f"Stored file {'ab' * 6} of week '01-reg' is missing from {folder}; restore it from a backup."
    ]


def test_a_full_disk_is_one_line_and_leaves_no_temp_file(cfg: CohortConfig, monkeypatch) -> None:
    sol = load_solution(cfg, "01-reg")
    shas = [_store(cfg, "01-reg", data) for data, _ in _regression_files()[:2]]

    def full(fd: int, parts: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(parsed.os, "writev", full)
    with pytest.raises(StorageError) as caught:
        _rebuild(cfg, sol, shas)
    assert str(caught.value).startswith(f"Cannot write {cfg.submissions_dir / '01-reg'}/parsed/")
    assert str(caught.value).endswith(
        ": the disk is full; free space there (or move submissions_dir) and submit again. "
        "Nothing was stored."
    )
    assert list((cfg.submissions_dir / "01-reg" / "parsed").iterdir()) == []


def test_each_row_gets_its_own_file_across_the_threads_batches(cfg: CohortConfig) -> None:
    sol = load_solution(cfg, "01-reg")
    values = [np.full(N, k / 4) for k in range(50)]
    files = [
        ("seg_id,time_to_failure\n" + "\n".join(f"{i},{v}" for i, v in zip(IDS, vs, strict=True)))
        for vs in values
    ]
    files[17] = files[17].replace(f"{IDS[5]},", f"{IDS[5]}x,")  # refused mid-batch
    shas = [_store(cfg, "01-reg", text.encode()) for text in files]
    rows = list(range(100, 150))
    got = dict(parsed._rebuilt(cfg, sol, shas, rows))
    assert sorted(got) == rows
    assert got[117] == (
        f"Unknown ids not in the test set: '{IDS[5]}x'; use the ids of sample_submission.csv."
    )
    for k in set(range(50)) - {17}:
        assert np.array_equal(got[100 + k], values[k])
