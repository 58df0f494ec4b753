"""Kill anywhere, resume, same tables: the mfeat part of the smoke workflow (every training
stage: data, backbones, features, search levels, random search, final training, baselines,
DMF training, DMF evaluation and its baselines, then the tables and plots) is killed with
SIGKILL again and again, each time as soon as a job of a stage not yet hit has started,
unlocked and resumed; the finished run's tables equal the uninterrupted smoke run's (timing
columns excepted) and no temporary file is left in results/.

Cheap: a copy of the session's finished smoke run with every mfeat output, table and plot
removed (the AV-MNIST and MNIST-halves outputs keep their times and stay done).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import snakemake

pytestmark = pytest.mark.slow  # kills and resumes the workflow

# Every rule whose jobs the mfeat part runs; each must be running at one kill at least.
STAGES = (
    "prepare_data", "train_backbone", "extract_features", "search_level", "search_random",
    "train_final", "train_final_baseline", "train_dmf", "evaluate_dmf",
    "evaluate_dmf_baselines", "tables and plots",
)  # fmt: skip
AFTER_START_S = 1.0  # kill once a new stage's job has run this long (from its submission)
MAX_KILLS = 14
ARGS = ("--cores", "2", "--configfile", "config/smoke.yaml")


def stage_of(rule: str) -> str:
    return "tables and plots" if rule.startswith(("tabulate_", "plot_")) else rule


def remove_mfeat_part(work: Path) -> None:
    """Delete every mfeat output, log and benchmark, and all tables and plots."""
    for top in ("results", "logs"):
        for path in sorted((work / top).rglob("*mfeat*"), key=lambda p: -len(p.parts)):
            if path.exists():
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    for folder in ("results/tables", "results/plots"):
        shutil.rmtree(work / folder, ignore_errors=True)
    for top in ("logs", "results/benchmarks"):
        for rule in (work / top).iterdir():
            if rule.name.startswith(("tabulate_", "plot_")):
                shutil.rmtree(rule)


JOB_START = re.compile(r"^(?:local)?rule (\w+):$")
JOB_ID = re.compile(r"^\s+jobid: (\d+)$")
JOB_END = re.compile(r"^Finished jobid: (\d+)")


def running_jobs(segment_out: Path) -> set[str]:
    """Stages with a job that Snakemake's output (of this segment) shows started and not
    finished. Snakemake prints a job when it submits it, before the job's script starts, so a
    short job (a 4-second search on smoke data) is seen however late it opens its log."""
    started: dict[str, str] = {}
    finished: set[str] = set()
    rule = None
    for line in segment_out.read_text().splitlines():
        if m := JOB_START.match(line):
            rule = m.group(1)
        elif (m := JOB_ID.match(line)) and rule is not None:
            started[m.group(1)] = rule
            rule = None
        elif m := JOB_END.match(line):
            finished.add(m.group(1))
    return {stage_of(r) for j, r in started.items() if j not in finished and r != "all"}


def assert_nothing_half_written(work: Path) -> None:
    """Every JSON and TSV output present after a kill reads back whole."""
    import pandas as pd

    for path in (work / "results").rglob("*"):
        if path.name.startswith("."):
            continue
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".tsv" and "benchmarks" not in path.parts:
            pd.read_csv(path, sep="\t")


def is_timing(name: str) -> bool:
    """A column that holds clock readings: seconds, time, latency."""
    return any(w in name for w in ("second", "time", "latency")) or name.endswith((" s", "(s)"))


def table_without_timing(path: Path) -> list[str]:
    """A markdown table's lines with the cells of timing columns (header names seconds, time,
    latency or `s`) blanked."""
    lines = path.read_text().splitlines()
    out, timing = [], set()
    for line in lines:
        if line.startswith("|"):
            cells = line.strip("|").split("|")
            names = [c.strip().lower() for c in cells]
            if any(is_timing(n) for n in names):
                timing = {i for i, n in enumerate(names) if is_timing(n)}
            line = "|".join("" if i in timing else c for i, c in enumerate(cells))
        out.append(line)
    return out


def test_killed_anywhere_the_workflow_resumes_to_the_uninterrupted_tables(smoke_workflow, tmp_path):
    work = tmp_path / "killed"
    shutil.copytree(smoke_workflow, work, symlinks=True)  # keeps mtimes: the rest stays done
    remove_mfeat_part(work)
    exe = str(Path(sys.executable).parent / "snakemake")
    env = {**os.environ, "HDF5_USE_FILE_LOCKING": "FALSE"}
    hit: set[str] = set()
    kills: list[str] = []
    for n in range(MAX_KILLS):
        if hit >= set(STAGES):
            break
        segment_out = tmp_path / f"segment{n}.out"
        with open(segment_out, "w") as out:
            proc = subprocess.Popen(
                [exe, *ARGS], cwd=work, stdout=out, stderr=subprocess.STDOUT, env=env,
                start_new_session=True,
            )  # fmt: skip
        since = None  # when a job of a stage not yet hit was first seen running
        while proc.poll() is None:
            time.sleep(0.05)
            if not running_jobs(segment_out) - hit:
                since = None  # short jobs (a table) may end before the kill: wait for another
            elif since is None:
                since = time.monotonic()
            elif time.monotonic() - since >= AFTER_START_S:
                break
        if proc.poll() is not None:  # finished: nothing left to kill
            break
        running = running_jobs(segment_out)
        os.killpg(proc.pid, signal.SIGKILL)  # snakemake and every job it runs
        proc.wait()
        hit |= running
        kills.append(f"kill {n + 1}: {', '.join(sorted(running))}")
        assert_nothing_half_written(work)
        snakemake(work, "--unlock", *ARGS)  # the killed run's lock stays behind
    print("\n".join(kills))  # the kill points (pytest -s shows them; also in the report)
    snakemake(work, *ARGS)
    missed = set(STAGES) - hit
    assert not missed, f"stages never running at a kill: {sorted(missed)}; kills: {kills}"
    tables = sorted((smoke_workflow / "results" / "tables").glob("*.md"))
    assert tables
    for ref in tables:
        got = work / "results" / "tables" / ref.name
        assert table_without_timing(got) == table_without_timing(ref), ref.name
    stray = [str(p.relative_to(work)) for p in (work / "results").rglob(".*.tmp")]
    assert stray == [], f"temporary files left in results/: {stray}"
