"""The whole workflow on a generated three-modality file in the documented layout
(docs/your-data.md, docs/datasets.md): data, backbones, features, search levels, random
search, final training with every baseline and phase 2 on the three backbones, DMF (EMF /
IMF / DMF, discriminative and encoder-decoder with SVM and retrieval, at tiny sizes), tables
and the report."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import copy_workflow, snakemake

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

from mfas_core.data.schema import write_dataset  # noqa: E402

pytestmark = pytest.mark.slow


def three_modal_file(path, n=(240, 60, 60), seed=0):
    """Three vector modalities that each carry part of a 4-class label."""
    rng = np.random.default_rng(seed)
    splits, labels = {}, {}
    for split, k in zip(("train", "val", "test"), n, strict=True):
        y = rng.integers(0, 4, k)
        splits[split] = {
            name: (rng.normal(size=(k, d)) + np.eye(4)[y] @ rng.normal(size=(4, d))).astype(
                np.float32
            )
            for name, d in (("text", 12), ("audio", 10), ("video", 8))
        }
        labels[split] = y
    write_dataset(path, splits, labels, name="tri", kind="hdf5", classes=list("abcd"),
                  sources={}, params={})  # fmt: skip
    return path


@pytest.fixture(scope="module")
def tri_workflow(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("tri"))
    src = three_modal_file(work / "tri.h5")
    mlp = {"type": "mlp", "hidden": [16, 8]}
    config = {
        "seed": 0, "device": "cpu", "threads": 1,
        "datasets": {"tri": {"kind": "hdf5", "path": str(src),
                             "backbones": {m: mlp for m in ("text", "audio", "video")}}},
        "backbone_training": {"epochs": 1, "min_steps": 5, "batch_size": 64},
        "search": {"datasets": ["tri"], "seeds": [0], "max_layers": 2, "iterations": 1,
                   "k": 3, "epochs": 1, "surrogate_epochs": 2, "batch_size": 64},
        "final": {"datasets": ["tri"], "top": 1, "seeds": [0], "width": 8, "epochs": 1,
                  "min_steps": 5, "batch_size": 64, "finetune_epochs": 1},
        # tiny DMF nets: one epoch each, small SVM and retrieval sets (runtime, not results)
        "dmf": {"datasets": ["tri"], "seeds": [0], "modality_sizes": [8, 4],
                "shared_sizes": [8, 6, 4], "max_epochs": 1, "encdec_max_epochs": 1,
                "patience": 1, "min_steps": 0, "batch_size": 64, "val_max": 60,
                "cd_epochs": 1, "cd_min_steps": 0, "svm_max_train": 100,
                "retrieval_max_queries": 20, "cca_components": 2},
    }  # fmt: skip
    (work / "config" / "tri.yaml").write_text(yaml.safe_dump(config))
    snakemake(work, "--cores", "2", "--configfile", "config/tri.yaml", "--resources", "gpu=1")
    return work


def test_three_modal_search_writes_four_field_architectures_at_every_level(tri_workflow):
    root = tri_workflow / "results/search/tri/seed0"
    level1 = pd.read_csv(root / "level1/candidates.tsv", sep="\t")
    assert len(level1) == 2 * 2 * 2 * 2  # two taps per modality, two nonlinearities
    for tsv in ("level2/candidates.tsv", "topk.tsv", "random/candidates.tsv"):
        archs = pd.read_csv(root / tsv, sep="\t")["architecture"]
        assert all(len(layer.split("-")) == 4 for a in archs for layer in a.split("_")), tsv


def test_three_modal_final_table_has_mfas_every_baseline_and_one_unimodal_row_per_modality(
    tri_workflow,
):
    text = (tri_workflow / "results/tables/final_tri.md").read_text()
    for row in ("text", "audio", "video", "late", "early", "CentralNet", "GMU", "MFAS"):
        assert row.lower() in text.lower(), row
    assert (tri_workflow / "results/plots/arch/tri/seed0/rank1.svg").stat().st_size > 0


def test_three_modal_dmf_tables_have_a_row_per_modality_alone_and_every_ordered_pair(
    tri_workflow,
):
    tables = tri_workflow / "results/tables"
    disc = (tables / "dmf_tri.md").read_text()
    svm = (tables / "dmf_svm.md").read_text()
    for label in ("text+audio+video", "text only", "audio only", "video only"):
        assert f"| {label} |" in disc and f"| {label} |" in svm, label
    ret = (tables / "dmf_retrieval.md").read_text()
    mods = ("text", "audio", "video")
    assert all(f"| {a}→{b} |" in ret for a in mods for b in mods if a != b)
    assert "retrieval is pairwise" in ret
    assert (tri_workflow / "results/plots/dmf_curves.png").stat().st_size > 0


def test_three_modal_report_holds_the_dmf_tables(tri_workflow, tmp_path):
    out = tmp_path / "report.html"
    snakemake(tri_workflow, "--report", str(out), "--configfile", "config/tri.yaml")
    raw = out.read_text(errors="replace")
    assert "dmf_retrieval.md" in raw and "dmf_tri.md" in raw and "final_tri.md" in raw
