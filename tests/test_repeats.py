"""Bit-identical repeats: one job of every training rule, run again in its own process in a
copy of the finished smoke run, writes the same bytes as in the smoke run, where it ran
among all the other jobs (timing fields excepted: JSON keys and TSV columns named
`*seconds`). The DMF encoder-decoder of mfeat is among them (docs/testing.md).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from conftest import snakemake

pytestmark = pytest.mark.slow

SEARCH = "results/search/mfeat/seed0"
JOBS = {  # rule -> the outputs of its mfeat job
    "train_backbone": ["results/backbones/mfeat/fou.pt", "results/backbones/mfeat/fou.metrics.json"],
    "extract_features": ["results/features/mfeat/fou.h5"],
    "search_level": [f"{SEARCH}/level1/{n}" for n in ("candidates.tsv", "surrogate.pt", "bank.pt", "state.json")],
    "search_random": [f"{SEARCH}/random/candidates.tsv"],
    "train_final": ["results/final/mfeat/mfas/search0/rank1/seed0/metrics.json"],
    "train_final_baseline": ["results/final/mfeat/baselines/lrtf/seed0/metrics.json"],
    "train_dmf": [f"results/dmf/mfeat/{v}/{m}/seed0/{f}" for v, m in (("encdec", "dmf"), ("encdec", "imf"), ("disc", "dmf"))
                  for f in ("model.pt", "metrics.json")],
    "evaluate_dmf": ["results/dmf/mfeat/encdec/dmf/seed0/evaluation.json"],
    "evaluate_dmf_baselines": ["results/dmf/mfeat/baselines/seed0.json"],
}  # fmt: skip


def without_timing(obj):
    """A JSON value with every `seconds` / `*_seconds` entry dropped, at any depth."""
    if isinstance(obj, dict):
        return {k: without_timing(v) for k, v in obj.items() if not k.endswith("seconds")}
    if isinstance(obj, list):
        return [without_timing(v) for v in obj]
    return obj


def content(path: Path) -> str:
    """What must repeat: JSON without timing, TSV without timing columns, else the bytes."""
    if path.suffix == ".json":
        return json.dumps(without_timing(json.loads(path.read_text())), sort_keys=True)
    if path.suffix == ".tsv":
        import pandas as pd

        frame = pd.read_csv(path, sep="\t")
        frame = frame.drop(columns=[c for c in frame.columns if c.endswith("seconds")])
        buf = io.StringIO()
        frame.to_csv(buf, sep="\t", index=False)
        return buf.getvalue()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_one_job_of_every_training_rule_repeats_byte_for_byte(smoke_workflow, tmp_path):
    work = tmp_path / "again"
    shutil.copytree(smoke_workflow, work, symlinks=True)
    outputs = [o for outs in JOBS.values() for o in outs]
    first = {o: content(work / o) for o in outputs}
    proc = snakemake(
        work, "--cores", "2", "--configfile", "config/smoke.yaml", "--force", "--", *outputs
    )
    ran = proc.stdout + proc.stderr
    for rule in JOBS:  # each job ran again, in its own process
        assert f"rule {rule}:" in ran or f"localrule {rule}:" in ran, rule
    changed = [o for o in outputs if content(work / o) != first[o]]
    assert changed == [], f"outputs that differ in a repeat: {changed}"
