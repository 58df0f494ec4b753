"""The checks of `make test-slurm` (.ci/compare_slurm_run.py) on small generated run folders."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from conftest import REPO

sys.path.insert(0, str(REPO / ".ci"))
import compare_slurm_run  # noqa: E402


def run_dir(root: Path, name: str, logs: dict[str, str]) -> Path:
    """A run folder: the repository's Snakefile and SLURM profile, the given rule logs."""
    work = root / name
    (work / "profiles" / "slurm").mkdir(parents=True)
    shutil.copy(REPO / "Snakefile", work / "Snakefile")
    shutil.copy(REPO / "profiles/slurm/config.yaml", work / "profiles/slurm/config.yaml")
    for path, first in logs.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(first + "\nmore\n")
    (work / "t.md").write_text("| a | seconds |\n|---|---|\n| 1 | 2.5 |\n")
    return work


LOCAL = {"logs/search_level/s/level1.log": "x", "logs/search_level/s/level2.log": "x",
         "logs/train_final/f.log": "x", "logs/tabulate_search/t.log": "x"}  # fmt: skip


def compare(tmp_path, level1: int, level2: int, final: int) -> int:
    """compare_slurm_run on a SLURM run whose three jobs had these SLURM ids."""
    slurm = run_dir(tmp_path, "slurm", {
        "logs/search_level/s/level1.log": f"SLURM_JOB_ID={level1}",
        "logs/search_level/s/level2.log": f"SLURM_JOB_ID={level2}",
        "logs/train_final/f.log": f"SLURM_JOB_ID={final}", "logs/tabulate_search/t.log": "x",
    })  # fmt: skip
    return compare_slurm_run.main(str(slurm), str(run_dir(tmp_path, "local", LOCAL)), "t.md")


def test_jobs_of_one_group_job_may_share_their_slurm_id(tmp_path, capsys):
    assert compare(tmp_path, level1=7, level2=7, final=8) == 0
    assert "3 jobs ran in 2 SLURM jobs" in capsys.readouterr().err


def test_ungrouped_jobs_sharing_a_slurm_id_fail(tmp_path):
    assert compare(tmp_path, level1=7, level2=8, final=8) == 1


def test_the_profile_groups_the_search_levels_and_the_dmf_chains():
    assert compare_slurm_run.grouped_rules(REPO) == {"search_level", "train_dmf", "evaluate_dmf"}
