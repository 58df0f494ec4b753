"""End-to-end: the DMF part of the smoke workflow (config/smoke.yaml, run once per session)."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from conftest import copy_workflow, snakemake
from test_dmf import write_digit_halves

from mfas_core.data.instances import dataset_instances

pytestmark = pytest.mark.slow  # every test here runs the workflow (or a dry run of it)

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
            assert 1 <= m["best_epoch"] <= m["epochs"] <= m["max_epochs"]
            assert m["cd_pretrain"] is False  # as the default: CD for the encoder-decoder only
            bench = smoke_workflow / "results" / "benchmarks" / "train_dmf" / ds / "disc"
            assert (bench / f"{model}.tsv").exists()


def test_smoke_encoder_decoders_are_pretrained_layer_wise(smoke_workflow):
    runs = sorted((smoke_workflow / "results" / "dmf").glob("*/encdec/*/seed0/metrics.json"))
    assert runs, "the smoke config trains encoder-decoders"
    for path in runs:
        m = json.loads(path.read_text())
        assert m["cd_pretrain"] is True and m["cd_k"] >= 1, path


def test_mnist_table_has_every_damage_level_and_the_papers_numbers(smoke_workflow):
    text = (smoke_workflow / "results" / "tables" / "dmf_mnist.md").read_text()
    levels = smoke_config(smoke_workflow)["datasets"]["mnist_halves"]["damage_levels"]
    header = next(ln for ln in text.splitlines() if ln.startswith("| input | model | params"))
    assert [f"{round(lv * 100)}%" for lv in levels] == re.findall(r"(\d+%)", header)
    assert "(1.40)" in text and "(39.90)" in text  # paper DMF, both halves / right only at 0 %
    assert text.count("| right only |") == 3


def test_every_other_dmf_dataset_gets_its_own_emf_imf_dmf_table(smoke_workflow):
    text = (smoke_workflow / "results" / "tables" / "dmf_mfeat.md").read_text()
    assert "| input | EMF (" in text
    rows = [ln for ln in text.splitlines() if ln.startswith(("| pix", "| fou"))]
    assert len(rows) == 3 and all(r.rstrip(" |").split("| ")[-1] in MODELS_UPPER for r in rows)


MODELS_UPPER = {"EMF", "IMF", "DMF"}


def test_svm_and_retrieval_tables_have_codes_and_baselines_for_mnist_and_mfeat(smoke_workflow):
    tables = smoke_workflow / "results" / "tables"
    svm = (tables / "dmf_svm.md").read_text()
    ret = (tables / "dmf_retrieval.md").read_text()
    for text in (svm, ret):
        assert "## mfeat" in text and "## mnist_halves_d0" in text
    assert svm.count("| input | EMF | IMF | DMF | raw inputs | PCA | best code | disc. |") == 2
    assert ret.count("| direction | EMF | IMF | DMF | CCA | raw cosine | chance | best code |") == 2
    mfeat = ret.split("## mfeat")[1].split("##")[0]
    assert "| n/a |" in mfeat  # pix (240) and fou (76) differ in width: no raw cosine


def test_encoder_decoder_runs_only_at_the_configured_damage_level(smoke_workflow):
    dmf = smoke_workflow / "results" / "dmf"
    assert (dmf / "mnist_halves_d0" / "encdec" / "dmf" / "seed0" / "evaluation.json").exists()
    assert (dmf / "mnist_halves_d0" / "baselines" / "seed0.json").exists()
    assert not (dmf / "mnist_halves_d50" / "encdec").exists()


def test_changing_the_svm_c_reruns_only_the_evaluation_jobs(smoke_workflow, tmp_path):
    cfg = smoke_config(smoke_workflow)
    cfg["dmf"]["svm_c"] = 2.0
    (tmp_path / "svm_c.yaml").write_text(yaml.safe_dump(cfg))
    out = snakemake(
        smoke_workflow, "-n", "--quiet", "rules", "--configfile", str(tmp_path / "svm_c.yaml")
    ).stdout
    planned = {m.group(1) for m in re.finditer(r"^(\w+)\s+\d+$", out, re.M)} - {"total"}
    assert planned >= {
        "evaluate_dmf",
        "evaluate_dmf_baselines",
        "tabulate_dmf_svm",
        "tabulate_dmf_retrieval",
    }
    assert not planned & {"train_dmf", "tabulate_dmf", "prepare_data"}


@pytest.fixture(scope="module")
def byo_workflow(tmp_path_factory):
    """Every DMF rule on a bring-your-own `kind: hdf5` file: scikit-learn's 8x8 digits as
    left / right halves, written in the dataset schema (mfas_core.data.schema)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("byo"))
    write_digit_halves(workdir / "digit_halves.h5")
    cfg = yaml.safe_load((workdir / "config" / "smoke.yaml").read_text())
    cfg["datasets"] = {"digits": {"kind": "hdf5", "path": "digit_halves.h5"}}
    cfg["search"]["datasets"] = ["digits"]  # not run: only DMF targets are asked for
    cfg["dmf"]["datasets"] = ["digits"]
    (workdir / "byo.yaml").write_text(yaml.safe_dump(cfg))
    targets = [f"results/tables/dmf_{t}.md" for t in ("digits", "svm", "retrieval")]
    targets.append("results/plots/dmf_curves.png")
    snakemake(workdir, *targets, "--cores", "2", "--configfile", "byo.yaml", "--resources", "gpu=1")
    return workdir


def test_a_byo_hdf5_dataset_goes_through_every_dmf_rule(byo_workflow):
    bench = byo_workflow / "results" / "benchmarks"
    for rule in ("train_dmf", "evaluate_dmf", "evaluate_dmf_baselines", "tabulate_dmf", "tabulate_dmf_svm",
                 "tabulate_dmf_retrieval", "plot_dmf_curves"):  # fmt: skip
        assert any((bench / rule).rglob("*.tsv")), rule
    tables = byo_workflow / "results" / "tables"
    assert "| left+right |" in (tables / "dmf_digits.md").read_text()
    assert "## digits" in (tables / "dmf_svm.md").read_text()
    ret = (tables / "dmf_retrieval.md").read_text()
    assert "| left→right |" in ret and "| n/a |" not in ret  # equal widths: raw cosine applies
