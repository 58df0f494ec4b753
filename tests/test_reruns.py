"""Exact partial re-runs: after editing one config value, `snakemake -n` on the finished smoke
run plans exactly the affected part of the workflow (the value reaches only its rules'
params), nothing upstream of it and nothing beside it. (That the finished run plans nothing
without an edit is tests/test_workflow.py::test_finished_workflow_has_nothing_left_to_do.)
"""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import copy_workflow, snakemake

pytestmark = pytest.mark.slow  # every test here runs the workflow (or a dry run of it)

DATA = {"prepare_data"}
UNIMODAL = {"train_backbone", "extract_features", "tabulate_unimodal"}
SEARCH = {"search_level", "summarize_search", "search_random", "tabulate_search", "plot_search"}


def planned_jobs(workdir, tmp_path, edit: dict | None) -> dict[str, int]:
    """Rule -> job count of `snakemake -n` on the smoke config with `edit` merged over it."""
    args = ["-n", "--configfile", "config/smoke.yaml"]
    if edit is not None:
        overlay = tmp_path / "edit.yaml"
        overlay.write_text(yaml.safe_dump(edit))
        args.append(str(overlay))
    out = snakemake(workdir, *args).stdout
    if "Job stats:" not in out:
        return {}
    stats = out.split("Job stats:", 1)[1]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", stats, flags=re.MULTILINE))
    jobs.pop("total", None)
    jobs.pop("all", None)
    return {rule: int(n) for rule, n in jobs.items()}


def dmf_rules(jobs) -> set[str]:
    return {r for r in jobs if "dmf" in r}


def test_search_k_reruns_the_search_and_what_follows_only(smoke_workflow, tmp_path):
    jobs = planned_jobs(smoke_workflow, tmp_path, {"search": {"k": 5}})
    assert {"search_level", "summarize_search", "search_random", "tabulate_search"} <= set(jobs)
    assert not set(jobs) & (DATA | UNIMODAL), jobs
    assert not dmf_rules(jobs), jobs


def test_backbone_channels_rerun_that_backbone_and_downstream_never_prepare_data(
    smoke_workflow, tmp_path
):
    pix = {"type": "conv", "blocks": 3, "channels": 4}  # mfeat's pix backbone, 8 channels before
    jobs = planned_jobs(
        smoke_workflow, tmp_path, {"datasets": {"mfeat": {"backbones": {"pix": pix}}}}
    )
    assert jobs.get("train_backbone") == 1 and jobs.get("extract_features") == 1, jobs
    assert {"search_level", "summarize_search", "tabulate_search", "tabulate_unimodal"} <= set(jobs)
    assert "prepare_data" not in jobs, jobs
    assert not dmf_rules(jobs), jobs  # DMF trains on the data, not on the backbones


def test_dmf_epochs_rerun_dmf_only(smoke_workflow, tmp_path):
    jobs = planned_jobs(smoke_workflow, tmp_path, {"dmf": {"max_epochs": 5}})
    assert "train_dmf" in jobs
    assert set(jobs) == dmf_rules(jobs), jobs


def test_a_discriminative_dmf_key_reruns_the_discriminative_nets_only(smoke_workflow, tmp_path):
    jobs = planned_jobs(smoke_workflow, tmp_path, {"dmf": {"max_train": 900}})
    # smoke: 3 disc instances (mnist_halves d0, d50; mfeat) x 3 models
    assert jobs.get("train_dmf") == 9, jobs
    assert not {"evaluate_dmf", "evaluate_dmf_baselines", "tabulate_dmf_retrieval"} & set(jobs)
    assert set(jobs) == dmf_rules(jobs), jobs


def test_an_encoder_decoder_key_reruns_the_encoder_decoders_and_their_evaluation_only(
    smoke_workflow, tmp_path
):
    jobs = planned_jobs(smoke_workflow, tmp_path, {"dmf": {"encdec_max_train": 900}})
    # smoke: 2 encoder-decoder instances (mnist_halves d0, mfeat) x 3 models
    assert jobs.get("train_dmf") == 6 and jobs.get("evaluate_dmf") == 6, jobs
    assert not {"tabulate_dmf", "plot_dmf_curves", "evaluate_dmf_baselines"} & set(jobs), jobs
    assert set(jobs) == dmf_rules(jobs), jobs


def test_lrtf_rank_reruns_the_lrtf_baseline_and_its_tables_only(smoke_workflow, tmp_path):
    jobs = planned_jobs(smoke_workflow, tmp_path, {"final": {"lrtf_rank": 3}})
    assert jobs.get("train_final_baseline") == 2, jobs  # lrtf of avmnist and of mfeat
    assert "train_final" not in jobs, jobs
    # the robustness of the retrained lrtf models is scored again; the perturbed caches stay
    robustness = {"evaluate_final_robustness", "tabulate_final_robustness", "plot_final_robustness"}
    final = {"train_final_baseline", "measure_final_cost", "tabulate_final", "plot_final",
             "plot_final_flops"}  # fmt: skip
    assert set(jobs) <= final | robustness, jobs


def test_final_width_reruns_final_training_and_its_tables_only(smoke_workflow, tmp_path):
    smoke = yaml.safe_load((smoke_workflow / "config" / "smoke.yaml").read_text())
    jobs = planned_jobs(smoke_workflow, tmp_path, {"final": {"width": smoke["final"]["width"] + 8}})
    assert jobs, "editing final.width plans nothing"
    # search.md shows the top architectures' final-training scores, so it follows them; the
    # MFAS top 1 picture is drawn at final.width from the final-training scores.
    assert jobs.get("plot_top1_architecture") == 2, jobs  # avmnist and mfeat
    assert "plot_architectures" not in jobs, jobs  # the per-search pictures use search.width
    assert all(
        "final" in rule or rule in {"tabulate_search", "plot_top1_architecture"} for rule in jobs
    ), jobs


def test_noise_levels_rerun_the_perturbed_caches_and_the_robustness_scores_only(
    smoke_workflow, tmp_path
):
    jobs = planned_jobs(
        smoke_workflow, tmp_path, {"robustness": {"noise_levels": [0.1, 0.2, 0.4, 0.8]}}
    )
    assert jobs.get("extract_perturbed_features") == 4, jobs  # 2 datasets x 2 modalities
    assert set(jobs) == {"extract_perturbed_features", "evaluate_final_robustness",
                         "tabulate_final_robustness", "plot_final_robustness"}, jobs  # fmt: skip


def test_config_about_one_dataset_prepares_only_that_dataset(tmp_path):
    """config/config.yaml lists five dataset entries; a user's config that searches and trains
    DMF on mfeat alone prepares mfeat alone."""
    (tmp_path / "fresh").mkdir()
    workdir = copy_workflow(tmp_path / "fresh")
    edit = {"search": {"datasets": ["mfeat"]}, "dmf": {"datasets": ["mfeat"]}}
    jobs = planned_jobs(workdir, tmp_path, edit)
    assert jobs["prepare_data"] == 1, jobs
