"""Shared fixtures: the smoke workflow, run once per test session in a temporary directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mfas_core.runtime import pin_cpu_kernels

# The same CPU kernels as the workflow's jobs (the Snakefile pins them before torch loads), so
# that a test recomputing a job's numbers in this process rounds as the job did on any CPU.
pin_cpu_kernels()

REPO = Path(__file__).resolve().parent.parent
WORKFLOW_FILES = ("Snakefile", "rules", "workflow_scripts", "config", "profiles", "report")


def copy_workflow(dest: Path) -> Path:
    """Copy the workflow (not results) into `dest`, as a user's fresh checkout would have it."""
    for name in WORKFLOW_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the venv's snakemake in `workdir`; on failure show its output and the rule logs."""
    exe = Path(sys.executable).parent / "snakemake"
    env = {**os.environ, "HDF5_USE_FILE_LOCKING": "FALSE"}
    proc = subprocess.run([str(exe), *args], cwd=workdir, capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        logs = ""
        for log in sorted((workdir / "logs").rglob("*.log")) if (workdir / "logs").exists() else []:
            text = log.read_text()
            if "Error" in text or "Traceback" in text:
                logs += f"\n--- {log}\n{text[-3000:]}"
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stderr[-6000:]}{logs}")
    return proc


@pytest.fixture(scope="session")
def smoke_workflow(tmp_path_factory) -> Path:
    """The whole workflow run once on config/smoke.yaml; returns its working directory."""
    workdir = copy_workflow(tmp_path_factory.mktemp("smoke"))
    snakemake(workdir, "--cores", "2", "--configfile", "config/smoke.yaml", "--resources", "gpu=1")
    return workdir


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Tests share 2 cores with the smoke workflow: oversubscribed torch threads crawl."""
    import torch

    torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    """Every test that uses the smoke workflow is marked `slow`, so that `pytest -m "not slow"`
    runs the unit tests alone; an unmarked one is a collection error naming it."""
    unmarked = [
        item.nodeid
        for item in items
        if "smoke_workflow" in getattr(item, "fixturenames", ())
        and item.get_closest_marker("slow") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests using smoke_workflow must be marked slow: " + ", ".join(unmarked)
        )
