"""Checks of `make test-slurm` (.ci/test_slurm.sh): every job of the SLURM run ran as a SLURM
job, and its tables equal the local run's.

usage: compare_slurm_run.py SLURM_DIR LOCAL_DIR TABLE...

- Every rule log (logs/<rule>/**/*.log) of the SLURM run starts with `SLURM_JOB_ID=<n>`
  (written by mfas_core.rule_log.rule_log), with a distinct id per job, except the logs of the
  Snakefile's `localrules` (tables and plots), which ran in the Snakemake process and name no
  SLURM job, and the jobs of one group job (rules the profile's `groups` names), which share
  their group's id; the local run's logs name none; both runs have the same set of logs, i.e.
  ran the same jobs. Prints the number of SLURM jobs submitted (distinct ids).
- The tables are equal, except columns that measure wall time (a header cell naming seconds).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

TIME_COLUMN = re.compile(r"second|time", re.IGNORECASE)


def job_logs(workdir: Path) -> dict[str, str]:
    """Rule log path (relative) -> its first line."""
    out = {}
    for log in sorted((workdir / "logs").rglob("*.log")):
        lines = log.read_text().splitlines()
        out[str(log.relative_to(workdir))] = lines[0] if lines else ""
    return out


def local_rules(workdir: Path) -> set[str]:
    """Rule names of the `localrules:` block of the workflow's Snakefile."""
    text = (workdir / "Snakefile").read_text()
    block = re.search(r"^localrules:\n((?:[ \t]+\w+,?[ \t]*\n)+)", text, re.M)
    return set(re.findall(r"\w+", block.group(1))) if block else set()


def grouped_rules(workdir: Path) -> set[str]:
    """Rule names the SLURM profile's `groups:` mapping assigns to a group."""
    text = (workdir / "profiles" / "slurm" / "config.yaml").read_text()
    block = re.search(r"^groups:\n((?:[ \t]+\w+:[ \t]*\w+[ \t]*\n)+)", text, re.M)
    return set(re.findall(r"^[ \t]+(\w+):", block.group(1), re.M)) if block else set()


def without_time_columns(text: str) -> list[str]:
    """Table text with wall-time columns removed from every markdown table."""
    out, drop = [], set()
    for line in text.splitlines():
        if not line.startswith("|"):
            out.append(line)
            drop = set()
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not drop and any(TIME_COLUMN.search(c) for c in cells):
            drop = {i for i, c in enumerate(cells) if TIME_COLUMN.search(c)}
        out.append(" | ".join(c for i, c in enumerate(cells) if i not in drop))
    return out


def main(slurm_dir: str, local_dir: str, *tables: str) -> int:
    slurm, local = Path(slurm_dir), Path(local_dir)
    problems = []
    slurm_logs, local_logs = job_logs(slurm), job_logs(local)
    if not slurm_logs:
        problems.append(f"{slurm}/logs: no rule logs")
    if set(slurm_logs) != set(local_logs):
        problems.append(
            f"different jobs: only SLURM {sorted(set(slurm_logs) - set(local_logs))}, "
            f"only local {sorted(set(local_logs) - set(slurm_logs))}"
        )
    ids, local_only = {}, local_rules(slurm)
    n_local = 0
    for log, first in slurm_logs.items():
        match = re.fullmatch(r"SLURM_JOB_ID=(\d+)", first)
        if Path(log).parts[1] in local_only:
            n_local += 1
            if match:
                problems.append(
                    f"{slurm / log}: a localrules job ran as SLURM job {match.group(1)}"
                )
        elif not match:
            problems.append(f"{slurm / log}: first line {first!r} is not SLURM_JOB_ID=<n>")
        else:
            ids.setdefault(match.group(1), []).append(log)
    grouped = grouped_rules(slurm)
    problems += [
        f"SLURM job {i} wrote several logs, not all of grouped rules: {logs}"
        for i, logs in ids.items()
        if len(logs) > 1 and any(Path(log).parts[1] not in grouped for log in logs)
    ]
    problems += [
        f"{local / log}: local job names a SLURM job"
        for log, first in local_logs.items()
        if first.startswith("SLURM_JOB_ID")
    ]
    for table in tables:
        a, b = slurm / table, local / table
        if not a.is_file() or not b.is_file():
            problems.append(f"{table}: missing in {'SLURM' if not a.is_file() else 'local'} run")
        elif without_time_columns(a.read_text()) != without_time_columns(b.read_text()):
            problems.append(f"{table}: differs between the SLURM and the local run (diff {a} {b})")
    for p in problems:
        print(f"test-slurm: {p}", file=sys.stderr)
    if not problems:
        print(
            f"test-slurm: {len(slurm_logs) - n_local} jobs ran in {len(ids)} SLURM jobs "
            f"(sbatch submissions; ids {min(map(int, ids))}-{max(map(int, ids))}), {n_local} "
            f"localrules jobs in the Snakemake process; {len(tables)} tables equal the local "
            "run's",
            file=sys.stderr,
        )
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
