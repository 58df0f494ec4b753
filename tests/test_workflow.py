"""End-to-end: the Snakemake workflow on config/smoke.yaml (run once per session)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
import yaml
from conftest import copy_workflow, snakemake

from mfas_core.data.instances import dataset_instances
from mfas_core.data.schema import read_attrs, validate_dataset
from mfas_core.unimodal.backbones import load_backbone
from mfas_core.unimodal.features import FeatureStore


def planned_rules(workdir, *args) -> dict[str, int]:
    """Rule name -> job count that `snakemake -n` would run."""
    out = snakemake(workdir, "-n", "--quiet", "rules", *args).stdout
    counts = {}
    for line in out.splitlines():
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if m and m.group(1) != "total":
            counts[m.group(1)] = int(m.group(2))
    return counts


def test_dry_run_of_default_config_lists_every_stage(tmp_path):
    rules = planned_rules(copy_workflow(tmp_path))
    for rule in (
        "prepare_data",
        "train_backbone",
        "extract_features",
        "search_level",
        "dmf_train",
        "all",
    ):
        assert rule in rules, rules
    assert rules["prepare_data"] == 6  # avmnist, mfeat, mnist_halves at 4 damage levels


def test_training_jobs_ask_for_a_gpu_unless_the_config_pins_the_cpu(tmp_path):
    workdir = copy_workflow(tmp_path)
    target = "results/backbones/avmnist/image.pt"
    auto = snakemake(workdir, "-n", target).stdout
    cpu = snakemake(workdir, "-n", target, "--config", "device=cpu").stdout
    assert "rule train_backbone:" in auto and "rule train_backbone:" in cpu
    assert "gpu=1" in auto
    assert "gpu=1" not in cpu


def test_invalid_config_stops_before_any_rule_and_names_the_key(tmp_path):
    workdir = copy_workflow(tmp_path)
    cfg = yaml.safe_load((workdir / "config" / "smoke.yaml").read_text())
    cfg["search"]["k"] = 0
    (workdir / "bad.yaml").write_text(yaml.safe_dump(cfg))
    proc = snakemake(workdir, "--cores", "1", "--configfile", "bad.yaml", check=False)
    assert proc.returncode != 0
    assert "k" in proc.stderr and "minimum" in proc.stderr
    assert not (workdir / "results").exists()


def test_smoke_run_writes_valid_datasets(smoke_workflow):
    cfg = yaml.safe_load((smoke_workflow / "config" / "smoke.yaml").read_text())
    for name in dataset_instances(cfg):
        attrs = validate_dataset(smoke_workflow / "results" / "data" / f"{name}.h5")
        assert attrs["sources"], name
        assert len(attrs["modalities"]) == 2


def test_smoke_run_caches_every_tap_of_both_backbones(smoke_workflow):
    for modality, taps in (("audio", 5), ("image", 3)):
        store = FeatureStore(smoke_workflow / "results" / "features" / "avmnist" / f"{modality}.h5")
        assert store.n_layers == taps
        data = smoke_workflow / "results" / "data" / "avmnist.h5"
        assert (
            store.n_samples("test") == read_attrs(data)["params"]["n_test"]
            or store.n_samples("test") > 0
        )
        store.verify(smoke_workflow / "results" / "backbones" / "avmnist" / f"{modality}.pt", data)


def test_cached_features_reproduce_the_backbone_test_accuracy(smoke_workflow):
    results = smoke_workflow / "results"
    cfg = yaml.safe_load((smoke_workflow / "config" / "smoke.yaml").read_text())
    spec = dataset_instances(cfg)["avmnist"]["backbones"]["image"]
    store = FeatureStore(results / "features" / "avmnist" / "image.h5")
    shape = tuple(read_attrs(results / "data" / "avmnist.h5")["shapes"]["image"])
    net = load_backbone(
        results / "backbones" / "avmnist" / "image.pt", spec, shape, store.n_classes
    )
    with torch.no_grad():
        logits = net.head(torch.from_numpy(store.layer("test", store.n_layers))).numpy()
    assert np.abs(logits - store.logits("test")).max() < 1e-4
    metrics = json.loads((results / "backbones" / "avmnist" / "image.metrics.json").read_text())
    assert float((logits.argmax(1) == store.labels("test")).mean()) == metrics["test"]


def test_unimodal_table_puts_the_paper_beside_ours(smoke_workflow):
    text = (smoke_workflow / "results" / "tables" / "unimodal.md").read_text()
    assert "74.52" in text and "66.06" in text


def test_every_rule_wrote_its_log_and_benchmark(smoke_workflow):
    logs = {
        p.parts[-3] if p.parent.parent.name != "logs" else p.parent.name
        for p in (smoke_workflow / "logs").rglob("*.log")
    }
    bench = {
        p.relative_to(smoke_workflow / "results" / "benchmarks").parts[0]
        for p in (smoke_workflow / "results" / "benchmarks").rglob("*.tsv")
    }
    assert {"prepare_data", "train_backbone", "extract_features"} <= bench
    assert logs


def test_finished_workflow_has_nothing_left_to_do(smoke_workflow):
    assert planned_rules(smoke_workflow, "--configfile", "config/smoke.yaml") == {}


def test_config_edit_reruns_only_the_affected_rules(smoke_workflow, tmp_path):
    cfg = yaml.safe_load((smoke_workflow / "config" / "smoke.yaml").read_text())
    cfg["dmf"]["max_epochs"] += 1
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(cfg))
    rules = planned_rules(smoke_workflow, "--configfile", str(edited))
    assert "dmf_train" in rules
    assert not {"prepare_data", "train_backbone", "extract_features", "search_level"} & set(rules)


@pytest.mark.parametrize("rule", ["prepare_data", "train_backbone", "extract_features"])
def test_rule_declares_log_and_benchmark(rule):
    from conftest import REPO

    text = "\n".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    block = text.split(f"rule {rule}:")[1].split("\nrule ")[0]
    assert "log:" in block and "benchmark:" in block
