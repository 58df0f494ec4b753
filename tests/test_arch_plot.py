"""Architecture pictures (mfas_core.report.arch_plot): the DOT graph of a found architecture,
its SVG, the picture of a dataset's MFAS top 1, and the search table's links to them."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from mfas_core.report import arch_plot
from mfas_core.report.arch_plot import (
    architecture_dot,
    dataset_top1,
    plot_architectures,
    plot_top1_architecture,
)
from mfas_core.report.tables import search_table

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
import h5py  # noqa: E402

SIZES = [[8, 16, 32, 64, 64], [8, 16, 32]]  # AV-MNIST-like: M=5 audio taps, N=3 image taps
MODS = ["audio", "image"]
NL = ["relu", "sigmoid"]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz dot not installed")

EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?;$", re.M)
NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"', re.M)


def edges(dot: str) -> set[tuple[str, str]]:
    return {(a, b) for a, b, _ in EDGE.findall(dot)}


def labels(dot: str) -> dict[str, str]:
    return {n: lab.replace("\\n", "\n") for n, lab in NODE.findall(dot)}


def backbone_chain() -> set[tuple[str, str]]:
    return {
        (f"m{i}_t{k}", f"m{i}_t{k + 1}") for i, s in enumerate(SIZES, 1) for k in range(1, len(s))
    }


def test_dot_of_a_known_architecture_has_exactly_the_expected_edges_and_labels():
    dot = architecture_dot("5-3-1_4-1-2", MODS, SIZES, 16, 10, NL, "title")
    assert edges(dot) == backbone_chain() | {
        ("m1_t5", "fusion1"),
        ("m2_t3", "fusion1"),
        ("m1_t4", "fusion2"),
        ("m2_t1", "fusion2"),
        ("fusion1", "fusion2"),
        ("fusion2", "classifier"),
    }
    lab = labels(dot)
    # fusion layer 1 takes 64 + 32, layer 2 takes 64 + 8 and layer 1's 16 units, both to 16
    assert lab["fusion1"] == "fusion layer 1\n[64 ; 32] = 96 → linear 16\nrelu"
    assert lab["fusion2"] == "fusion layer 2\n[64 ; 8 ; 16] = 88 → linear 16\nsigmoid"
    assert lab["classifier"] == "classifier\nlinear 16 → 10 classes"
    assert lab["m1_t4"] == "tap 4: 64" and lab["m2_t1"] == "tap 1: 8"
    assert 'label="modality 1: audio"' in dot and 'label="modality 2: image"' in dot
    assert 'label="title"' in dot
    # every tap of both backbones is drawn, used or not (ids m<i>_t<k>)
    assert {n for n in lab if n.startswith("m")} == {
        f"m{i}_t{k}" for i, s in enumerate(SIZES, 1) for k in range(1, len(s) + 1)
    }


def test_changing_one_tap_index_changes_the_graph():
    base = edges(architecture_dot("5-3-1_4-1-2", MODS, SIZES, 16, 10, NL))
    planted = edges(architecture_dot("5-3-1_4-2-2", MODS, SIZES, 16, 10, NL))
    assert base - planted == {("m2_t1", "fusion2")}
    assert planted - base == {("m2_t2", "fusion2")}
    # tuples and text describe the same graph
    assert architecture_dot(((5, 3, 1), (4, 1, 2)), MODS, SIZES, 16, 10, NL) == (
        architecture_dot("5-3-1_4-1-2", MODS, SIZES, 16, 10, NL)
    )


def test_one_layer_architecture_goes_straight_to_the_classifier():
    dot = architecture_dot("2-2-2", MODS, SIZES, 8, 3, NL)
    assert edges(dot) - backbone_chain() == {
        ("m1_t2", "fusion1"),
        ("m2_t2", "fusion1"),
        ("fusion1", "classifier"),
    }
    assert labels(dot)["fusion1"] == "fusion layer 1\n[16 ; 16] = 32 → linear 8\nsigmoid"


@pytest.mark.parametrize("arch", ["6-1-1", "1-4-1", "1-1-3"])
def test_an_architecture_outside_the_taps_is_refused(arch):
    with pytest.raises(ValueError, match="outside M=5, N=3, P=2"):
        architecture_dot(arch, MODS, SIZES, 16, 10, NL)


def write_features(folder: Path, sizes=SIZES, n_classes: int = 10) -> list[str]:
    """Two feature files with the attributes FeatureStore reads (no arrays needed here)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for mod, s in zip(MODS, sizes, strict=True):
        path = folder / f"{mod}.h5"
        with h5py.File(path, "w") as f:
            f.attrs.update(
                dataset="avmnist", modality=mod, task="single", n_classes=n_classes,
                layer_names=json.dumps([f"l{k}" for k in range(len(s))]),
                layer_sizes=json.dumps(s), backbone_sha256="0", data_sha256="0",
            )  # fmt: skip
        paths.append(str(path))
    return paths


def write_topk(path: Path, archs: list[str]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    scores = [0.9 - 0.01 * i for i in range(len(archs))]
    pd.DataFrame(
        {"rank": range(1, len(archs) + 1), "architecture": archs, "val_score": scores}
    ).to_csv(path, sep="\t", index=False)
    return str(path)


@needs_dot
def test_each_top_architecture_renders_to_its_svg(tmp_path):
    feats = write_features(tmp_path / "features")
    topk = write_topk(tmp_path / "topk.tsv", ["5-3-1_4-1-2", "2-2-2", "1-1-1"])
    outs = [str(tmp_path / f"arch/rank{r}.svg") for r in (1, 2)]
    drawn = plot_architectures(topk, feats, outs, dataset="avmnist", seed=0, width=16,
                               nonlinearities=NL)  # fmt: skip
    assert drawn == ["5-3-1_4-1-2", "2-2-2"]
    svg = html.unescape(Path(outs[0]).read_text())  # dot writes '-' as &#45;
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "avmnist, search seed 0, rank 1: 5-3-1_4-1-2" in svg
    assert "sigmoid" in svg and "fusion layer 2" in svg
    assert not (tmp_path / "arch/rank3.svg").exists()
    assert not list((tmp_path / "arch").glob(".*tmp"))  # no temporary file left


def test_a_failed_rendering_leaves_no_picture(tmp_path, monkeypatch):
    feats = write_features(tmp_path / "features")
    topk = write_topk(tmp_path / "topk.tsv", ["5-3-1_4-1-2", "2-2-2"])
    calls = []

    def render(dot):
        calls.append(dot)
        if len(calls) == 2:
            raise RuntimeError("dot -Tsvg failed (exit 1): planted")
        return "<svg/>"

    monkeypatch.setattr(arch_plot, "render_svg", render)
    outs = [tmp_path / f"arch/rank{r}.svg" for r in (1, 2)]
    with pytest.raises(RuntimeError, match="planted"):
        plot_architectures(topk, feats, [str(p) for p in outs], dataset="avmnist", seed=0,
                           width=16, nonlinearities=NL)  # fmt: skip
    assert not any(p.exists() for p in outs)  # not even rank 1, which rendered
    assert not (tmp_path / "arch").exists() or not list((tmp_path / "arch").iterdir())


def test_a_missing_dot_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setattr(arch_plot.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError) as err:
        arch_plot.render_svg("digraph {}")
    assert "\n" not in str(err.value) and "make system-tools" in str(err.value)


def test_a_rank_missing_from_topk_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(arch_plot, "render_svg", lambda dot: "<svg/>")
    feats = write_features(tmp_path / "features")
    topk = write_topk(tmp_path / "topk.tsv", ["1-1-1"])
    with pytest.raises(Exception, match=r"topk\.tsv: rank: no rank 2"):
        plot_architectures(topk, feats, [str(tmp_path / "a.svg"), str(tmp_path / "b.svg")],
                           dataset="avmnist", seed=0, width=16, nonlinearities=NL)  # fmt: skip
    assert not (tmp_path / "a.svg").exists()


def final_metrics(root: Path, search_seed: int, rank: int, arch: str, val: float) -> str:
    """A metrics.json as train_final writes it (the fields the report reads)."""
    path = root / f"results/final/avmnist/mfas/search{search_seed}/rank{rank}/seed0/metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(
        method="mfas", dataset="avmnist", search_seed=search_seed, rank=rank, seed=0,
        architecture=arch, search_val=0.9, val=val, test=0.99 - val, test_macro_f1=None,
        params=1000, seconds=1.0, phase2=None,
    )))  # fmt: skip
    return str(path)


def test_top1_picture_draws_the_architecture_chosen_on_validation(tmp_path, monkeypatch):
    rendered = []
    monkeypatch.setattr(arch_plot, "render_svg", lambda dot: rendered.append(dot) or "<svg/>")
    feats = write_features(tmp_path / "features")
    # rank 2 has the better final validation score (its test score is worse: never used)
    paths = [
        final_metrics(tmp_path, 0, 1, "5-3-1_4-1-2", 0.80),
        final_metrics(tmp_path, 0, 2, "2-2-2", 0.85),
    ]
    top = plot_top1_architecture(paths, feats, str(tmp_path / "top1.svg"), dataset="avmnist",
                                 width=32, nonlinearities=NL)  # fmt: skip
    assert (top["search_seed"], top["rank"], top["architecture"]) == (0, 2, "2-2-2")
    assert (tmp_path / "top1.svg").read_text() == "<svg/>"
    title = "avmnist: MFAS top 1 = search seed 0, rank 2: 2-2-2 (final val 0.8500)"
    assert rendered == [architecture_dot("2-2-2", MODS, SIZES, 32, 10, NL, title)]


def test_top1_over_several_search_seeds_is_the_best_of_their_choices():
    runs = [
        dict(method="mfas", dataset="avmnist", search_seed=0, rank=1, val=0.8, architecture="a"),
        dict(method="mfas", dataset="avmnist", search_seed=0, rank=2, val=0.7, architecture="b"),
        dict(method="mfas", dataset="avmnist", search_seed=1, rank=2, val=0.9, architecture="c"),
        dict(method="mfas", dataset="mfeat", search_seed=0, rank=1, val=0.99, architecture="d"),
        dict(method="gmu", dataset="avmnist", seed=0, val=0.95),
    ]
    top = dataset_top1(runs, "avmnist")
    assert (top["search_seed"], top["rank"], top["architecture"]) == (1, 2, "c")


def test_search_table_links_each_drawn_architecture_to_its_picture(tmp_path):
    folder = tmp_path / "results/search/avmnist/seed0"
    topk = write_topk(folder / "topk.tsv", ["5-3-1_4-1-2", "2-2-2", "1-1-1"])
    level = folder / "level1/candidates.tsv"
    level.parent.mkdir(parents=True)
    pd.read_csv(topk, sep="\t").drop(columns="rank").to_csv(level, sep="\t", index=False)
    final = [
        final_metrics(tmp_path, 0, 1, "5-3-1_4-1-2", 0.80),
        final_metrics(tmp_path, 0, 3, "1-1-1", 0.85),
    ]
    text = search_table([topk], [str(level)], [], str(tmp_path / "search.md"), top_k=2,
                        setup=dict(max_layers=2, iterations=1, k=3), final_metrics=final)  # fmt: skip
    link = "[5-3-1_4-1-2](../plots/arch/avmnist/seed0/rank1.svg)"
    found = text.split("architectures of each search", 1)[1].split("## ", 1)[0]
    assert f"| avmnist | 0 | 1 | {link} | 0.9000 |" in found
    assert "| avmnist | 0 | 2 | [2-2-2](../plots/arch/avmnist/seed0/rank2.svg) | 0.8900 |" in found
    assert "1-1-1" not in found  # top_k = 2 rows per search
    after = text.split("## The top architectures after final training", 1)[1]
    assert f"| avmnist | 0 | 1 | {link} | 0.9000 | 0.8000 | 0.1900 | 1 |" in after
    # rank 3 has no picture (ranks 1..top_k are drawn): plain code text
    assert "| avmnist | 0 | 3 ★ | `1-1-1` |" in after
    # every linked picture is one rule plot_architectures writes
    for target in re.findall(r"\]\((\.\./plots/arch/[^)]+)\)", text):
        assert re.fullmatch(r"\.\./plots/arch/avmnist/seed0/rank[12]\.svg", target)


def test_dot_of_a_three_modal_architecture_joins_one_tap_of_every_modality_per_layer():
    sizes = [[8, 16], [4, 12, 20], [6, 10]]
    dot = architecture_dot("2-3-1-1_1-1-2-2", ["pix", "fou", "kar"], sizes, 16, 10, NL)
    fusion_edges = {e for e in edges(dot) if "fusion" in e[1] or "classifier" in e[1]}
    assert fusion_edges == {
        ("m1_t2", "fusion1"), ("m2_t3", "fusion1"), ("m3_t1", "fusion1"),
        ("m1_t1", "fusion2"), ("m2_t1", "fusion2"), ("m3_t2", "fusion2"),
        ("fusion1", "fusion2"), ("fusion2", "classifier"),
    }  # fmt: skip
    assert "[16 ; 20 ; 6] = 42" in labels(dot)["fusion1"]
    assert "modality 3: kar" in dot


def test_architecture_with_too_few_fields_for_three_modalities_is_refused():
    with pytest.raises(ValueError, match="3 fields per layer, but the dataset has 3 modalities"):
        architecture_dot("1-1-1", ["a", "b", "c"], [[4], [4], [4]], 16, 10, NL)
