"""Resume after a kill: SIGKILL the workflow in the middle of the search, run it again; the
finished level is not recomputed and topk.tsv equals the uninterrupted run's.

Cheap: a copy of the session's finished smoke run with one search (mfeat, seed 0) removed, so
only its two levels and the summary run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import snakemake

pytestmark = pytest.mark.slow  # kills and resumes the workflow

SEARCH = "results/search/mfeat/seed0"
TARGET = f"{SEARCH}/topk.tsv"


def level_files(workdir: Path, level: int) -> dict[str, int]:
    """File name -> mtime (ns) of everything a level saved."""
    folder = workdir / SEARCH / f"level{level}"
    return {p.name: p.stat().st_mtime_ns for p in sorted(folder.iterdir())}


def assert_same_ranking(resumed: Path, uninterrupted: Path) -> None:
    """Equal top-K tables, every column but the wall-clock `train_seconds`."""
    import pandas as pd

    a, b = (
        pd.read_csv(p, sep="\t").drop(columns="train_seconds") for p in (resumed, uninterrupted)
    )
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_killed_search_resumes_without_recomputing_finished_levels(smoke_workflow, tmp_path):
    work = tmp_path / "resume"
    shutil.copytree(smoke_workflow, work, symlinks=True)  # keeps mtimes: upstream stays done
    shutil.rmtree(work / SEARCH)
    shutil.rmtree(work / "logs/search_level/mfeat/seed0")  # a level's log appears when it starts
    args = ["--cores", "1", "--configfile", "config/smoke.yaml", "--", TARGET]
    exe = str(Path(sys.executable).parent / "snakemake")
    env = {**os.environ, "HDF5_USE_FILE_LOCKING": "FALSE"}
    with open(tmp_path / "killed.out", "w") as out:
        proc = subprocess.Popen(
            [exe, *args],
            cwd=work,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    level2_log = work / "logs/search_level/mfeat/seed0/level2.log"
    deadline = time.monotonic() + 600
    while not level2_log.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None and level2_log.exists(), (tmp_path / "killed.out").read_text()[
        -3000:
    ]
    os.killpg(proc.pid, signal.SIGKILL)  # snakemake and its running job, mid level 2
    proc.wait()
    assert (work / SEARCH / "level1/state.json").exists()
    assert not (work / SEARCH / "level2/state.json").exists(), "level 2 finished before the kill"
    level1 = level_files(work, 1)

    snakemake(work, "--unlock", *args)  # the killed run's lock stays behind
    proc = snakemake(work, *args)
    rerun = proc.stdout + proc.stderr
    assert level_files(work, 1) == level1  # finished level 1 not recomputed
    jobs = rerun.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    assert [line.split()[1] for line in jobs.splitlines() if line.startswith("search_level")] == [
        "1"
    ]
    assert_same_ranking(work / TARGET, smoke_workflow / TARGET)
