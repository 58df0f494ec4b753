"""End-to-end checks of the MFAS search rules on the smoke run (config/smoke.yaml)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml
from conftest import snakemake

from mfas_core.search.steps import COLUMNS

pytestmark = pytest.mark.slow  # every test here runs the workflow (or a dry run of it)

DATASETS = ("avmnist", "mfeat")


def _smoke(workdir):
    return yaml.safe_load((workdir / "config" / "smoke.yaml").read_text())["search"]


def test_every_level_writes_candidates_surrogate_bank_and_state(smoke_workflow):
    cfg = _smoke(smoke_workflow)
    for ds in DATASETS:
        for level in range(1, cfg["max_layers"] + 1):
            folder = smoke_workflow / f"results/search/{ds}/seed0/level{level}"
            for name in ("candidates.tsv", "surrogate.pt", "bank.pt", "state.json"):
                assert (folder / name).stat().st_size > 0
            frame = pd.read_csv(folder / "candidates.tsv", sep="\t")
            assert list(frame.columns) == COLUMNS
            assert frame["val_score"].between(0, 1).all()
            if level > 1:
                assert len(frame) == cfg["iterations"] * cfg["k"]


def test_top_k_and_paper_random_search_budget(smoke_workflow):
    cfg = _smoke(smoke_workflow)
    for ds in DATASETS:
        root = smoke_workflow / f"results/search/{ds}/seed0"
        top = pd.read_csv(root / "topk.tsv", sep="\t")
        assert len(top) == cfg["k"] and top["val_score"].is_monotonic_decreasing
        rand = pd.read_csv(root / "random/candidates.tsv", sep="\t")
        assert len(rand) == cfg["iterations"] * cfg["max_layers"] * cfg["k"]
        assert rand["architecture"].is_unique


def test_search_table_puts_mfas_and_random_beside_paper_table_1(smoke_workflow):
    text = (smoke_workflow / "results/tables/search.md").read_text()
    for ds in DATASETS:
        assert re.search(rf"\| {ds} \| MFAS \| 0 \|", text)
        assert re.search(rf"\| {ds} \| random \(paper\) \| 0 \|", text)
    assert "0.9264 (0.0004)" in text and "0.9203 (0.0021)" in text


def test_every_linked_architecture_has_its_picture(smoke_workflow):
    cfg = _smoke(smoke_workflow)
    text = (smoke_workflow / "results/tables/search.md").read_text()
    links = set(re.findall(r"\[([\d_-]+)\]\(\.\./(plots/arch/[^)]+\.svg)\)", text))
    drawn = min(5, cfg["k"])  # search.top_k (schema default 5) or all k rows of topk.tsv
    assert {p for _, p in links} == {
        f"plots/arch/{ds}/seed0/rank{r}.svg" for ds in DATASETS for r in range(1, drawn + 1)
    }
    for arch, path in links:
        svg = (smoke_workflow / "results" / path).read_text()
        assert "<svg" in svg and arch.replace("-", "&#45;") in svg  # the title names it
    for ds in DATASETS:  # smoke: final training on both, so both have an MFAS top 1 picture
        assert "<svg" in (smoke_workflow / f"results/plots/arch/{ds}/top1.svg").read_text()


def test_rerunning_a_later_level_leaves_earlier_levels_alone(smoke_workflow):
    proc = snakemake(
        smoke_workflow, "-n", "--configfile", "config/smoke.yaml", "--forcerun",
        "results/search/avmnist/seed0/level2/state.json", "results/search/avmnist/seed0/topk.tsv",
    )  # fmt: skip
    planned = re.findall(r"level=(\d+)", proc.stdout + proc.stderr)
    assert planned and set(planned) == {"2"}


def test_changing_top_k_only_rebuilds_the_table(smoke_workflow, tmp_path):
    config = yaml.safe_load((smoke_workflow / "config" / "smoke.yaml").read_text())
    config["search"]["top_k"] = 3
    (tmp_path / "smoke_topk.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(
        smoke_workflow, "results/tables/search.md", "results/search/avmnist/seed0/topk.tsv",
        "results/plots/search_avmnist_seed0.png", "-n", "--configfile", str(tmp_path / "smoke_topk.yaml"),
        "--quiet", "rules",
    )  # fmt: skip
    jobs = re.findall(r"^(\w+)\s+\d+$", proc.stdout + proc.stderr, flags=re.M)
    assert set(jobs) - {"total"} == {"tabulate_search"}


def _planned_rules(workdir, edit, tmp_path) -> set[str]:
    """Rules a dry run would re-run after `edit(config)` on the finished smoke run (the
    edited config is written beside the test, never into the shared run)."""
    config = yaml.safe_load((workdir / "config" / "smoke.yaml").read_text())
    edit(config)
    (tmp_path / "smoke_edit.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(
        workdir, "results/tables/search.md", "-n", "--configfile", str(tmp_path / "smoke_edit.yaml"),
        "--quiet", "rules",
    )  # fmt: skip
    return set(re.findall(r"^(\w+)\s+\d+$", proc.stdout + proc.stderr, flags=re.M)) - {"total"}


def test_changing_search_workers_reruns_the_searches(smoke_workflow, tmp_path):
    planned = _planned_rules(smoke_workflow, lambda c: c["search"].update(workers=3), tmp_path)
    assert {"search_level", "search_random", "tabulate_search"} <= planned
    assert not planned & {"prepare_data", "train_backbone", "extract_features"}


def test_changing_threads_reruns_nothing_of_the_search(smoke_workflow, tmp_path):
    planned = _planned_rules(smoke_workflow, lambda c: c.update(threads=2), tmp_path)
    assert not planned & {"search_level", "search_random", "summarize_search", "tabulate_search"}
