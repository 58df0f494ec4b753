"""End-to-end: the DMF part of the smoke workflow (config/smoke.yaml, run once per session)."""

from __future__ import annotations

import json
import re

import yaml
from conftest import snakemake

from mfas_core.data.instances import dataset_instances

MODELS = ("emf", "imf", "dmf")


def smoke_config(workdir) -> dict:
    return yaml.safe_load((workdir / "config" / "smoke.yaml").read_text())


def dmf_instances(workdir) -> list[str]:
    cfg = smoke_config(workdir)
    inst = dataset_instances(cfg)
    return [k for k, v in inst.items() if v["group"] in cfg["dmf"]["datasets"]]


def test_every_dmf_run_records_its_setup_and_the_papers_input_conditions(smoke_workflow):
    for ds in dmf_instances(smoke_workflow):
        for model in MODELS:
            run = smoke_workflow / "results" / "dmf" / ds / "disc" / model / "seed0"
            m = json.loads((run / "metrics.json").read_text())
            assert (m["dataset"], m["model"], m["variant"]) == (ds, model, "disc")
            a, b = m["modalities"]
            assert set(m["test_error"]) == {"both", f"only_{a}", f"only_{b}"}
            assert len(m["history"]) == m["epochs"] and (run / "model.pt").stat().st_size > 0
            bench = smoke_workflow / "results" / "benchmarks" / "dmf_train" / ds / "disc" / model
            assert (bench / "seed0.tsv").exists()


def test_mnist_table_has_every_damage_level_and_the_papers_numbers(smoke_workflow):
    text = (smoke_workflow / "results" / "tables" / "dmf_mnist.md").read_text()
    levels = smoke_config(smoke_workflow)["datasets"]["mnist_halves"]["damage_levels"]
    header = next(ln for ln in text.splitlines() if ln.startswith("| input | model | params"))
    assert [f"{round(lv * 100)}%" for lv in levels] == re.findall(r"(\d+%)", header)
    assert "(1.40)" in text and "(39.90)" in text  # paper DMF, both halves / right only at 0 %
    assert text.count("| right only |") == 3


def test_svm_and_retrieval_tables_cover_mnist_and_mfeat(smoke_workflow):
    tables = smoke_workflow / "results" / "tables"
    svm = (tables / "dmf_svm.md").read_text()
    ret = (tables / "dmf_retrieval.md").read_text()
    for text in (svm, ret):
        assert "## mfeat" in text and "## mnist_halves_d0" in text
        for model in MODELS:
            assert text.count(f"| {model.upper()} |") == 2
    assert "| model | left→right | right→left | chance |" in ret


def test_encoder_decoder_runs_only_at_the_configured_damage_level(smoke_workflow):
    dmf = smoke_workflow / "results" / "dmf"
    assert (dmf / "mnist_halves_d0" / "encdec" / "dmf" / "seed0" / "svm.json").exists()
    assert not (dmf / "mnist_halves_d50" / "encdec").exists()


def test_curves_plot_is_written(smoke_workflow):
    png = smoke_workflow / "results" / "plots" / "dmf_curves.png"
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_changing_the_svm_c_reruns_only_the_svm_jobs(smoke_workflow):
    cfg = smoke_config(smoke_workflow)
    cfg["dmf"]["svm_c"] = 2.0
    (smoke_workflow / "svm_c.yaml").write_text(yaml.safe_dump(cfg))
    out = snakemake(smoke_workflow, "-n", "--quiet", "rules", "--configfile", "svm_c.yaml").stdout
    planned = {m.group(1) for m in re.finditer(r"^(\w+)\s+\d+$", out, re.M)} - {"total"}
    assert planned >= {"dmf_svm", "dmf_svm_table"}
    assert not planned & {"dmf_train", "dmf_retrieval", "dmf_table", "prepare_data"}
