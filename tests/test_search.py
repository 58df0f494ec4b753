"""MFAS search levels, random search and bad input, on small real feature files.

The feature files come from scikit-learn's digits (real data): modality 1 ("left") is the
left half of each 8x8 digit, modality 2 ("right") the right half; each "tap" is a fixed random
projection + ReLU of its view (widths 4, 8, 16 and 4, 8), written in the exact layout of
mfas_core.unimodal.features (what extract_features writes). test_fusion.py imports the writer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits

from mfas_core.config import ConfigError
from mfas_core.io import InputError, sha256_file
from mfas_core.search.batched import WeightBank
from mfas_core.search.random import run_random_search
from mfas_core.search.sampling import temperature
from mfas_core.search.smbo import run_search_level
from mfas_core.search.space import SearchSpace, arch_to_text
from mfas_core.search.steps import COLUMNS
from mfas_core.search.summary import summarize_search
from mfas_core.unimodal.features import FeatureStore

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
import h5py  # noqa: E402

WIDTHS = {"left": [4, 8, 16], "right": [4, 8]}


def write_digit_features(
    folder: Path,
    dataset: str = "digits",
    n: int | None = None,
    widths: dict | None = None,
    multi: bool = False,
) -> list[str]:
    """Write folder/left.h5 and folder/right.h5; return their paths (modality 1 first).

    multi=True gives a multi-label task: [even, > 4, has a closed loop (0, 6, 8, 9)]."""
    widths = widths or WIDTHS
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).reshape(-1, 8, 8)
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    if n:
        x, y = x[:n], y[:n]
    if multi:
        y = np.stack([y % 2 == 0, y > 4, np.isin(y, (0, 6, 8, 9))], 1).astype(np.uint8)
    cut = [int(len(y) * 0.6), int(len(y) * 0.8)]
    splits = dict(zip(("train", "val", "test"), np.split(np.arange(len(y)), cut), strict=True))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for mi, (modality, view) in enumerate((("left", x[:, :, :4]), ("right", x[:, :, 4:]))):
        flat = view.reshape(len(y), -1)
        rng = np.random.default_rng(10 + mi)
        projs = [
            rng.normal(size=(flat.shape[1], w)) / np.sqrt(flat.shape[1]) for w in widths[modality]
        ]
        path = folder / f"{modality}.h5"
        with h5py.File(path, "w") as f:
            f.attrs.update(
                dataset=dataset, modality=modality, task="multi" if multi else "single",
                n_classes=y.shape[1] if multi else 10,
                layer_names=json.dumps([f"proj{w}" for w in widths[modality]]),
                layer_sizes=json.dumps(widths[modality]), backbone_sha256="0", data_sha256="0",
            )  # fmt: skip
            for split, idx in splits.items():
                g = f.create_group(split)
                for k, p in enumerate(projs, 1):
                    g.create_dataset(
                        f"layer_{k}", data=np.maximum(flat[idx] @ p, 0).astype(np.float32)
                    )
                g.create_dataset("logits", data=np.zeros((len(idx), 10), np.float32))
                g.create_dataset("labels", data=y[idx] if multi else y[idx].astype(np.int64))
        paths.append(str(path))
    return paths


torch.set_num_threads(1)  # 2 shared cores: oversubscribed OpenMP threads only spin

KW = dict(
    seed=0, iterations=2, k=3, epochs=2, width=8, dropout=0.5, lr=1e-2, weight_decay=1e-4,
    batch_size=64, nonlinearities=["relu", "sigmoid"], weight_sharing=True, t_max=10.0,
    t_min=0.2, sigma=4.0, surrogate_epochs=10, surrogate_lr=1e-3, surrogate_hidden=16,
    surrogate_encoding="reference", device="cpu",
)  # fmt: skip
RANDOM_KW = {k: v for k, v in KW.items() if not k.startswith(("t_", "sigma", "surrogate"))}


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    return write_digit_features(tmp_path_factory.mktemp("digits"), n=600)


@pytest.fixture(scope="module")
def levels(features, tmp_path_factory):
    """A 3-level search, each level a separate call reading the previous level's directory."""
    root = tmp_path_factory.mktemp("search")
    frames = [run_search_level(features, str(root / "level1"), 1, **KW)]
    digests = {p.name: sha256_file(p) for p in (root / "level1").iterdir()}
    level1_files = [str(root / "level1" / name) for name in ("candidates.tsv", "state.json")]
    frames.append(run_search_level(features, str(root / "level2"), 2, level1_files, **KW))
    frames.append(run_search_level(features, str(root / "level3"), 3, str(root / "level2"), **KW))
    return root, frames, digests


def test_level_one_trains_every_one_layer_architecture(levels):
    _, frames, _ = levels
    assert sorted(frames[0]["architecture"]) == sorted(
        arch_to_text(a) for a in SearchSpace(3, 2, 2, 1).level_one()
    )
    assert list(frames[0].columns) == COLUMNS


def test_each_later_level_samples_k_per_iteration_extending_the_previous_top_k(levels):
    root, frames, _ = levels
    state1 = json.loads((root / "level1" / "state.json").read_text())
    for level, frame in ((2, frames[1]), (3, frames[2])):
        assert len(frame) == KW["iterations"] * KW["k"]
        assert frame["architecture"].is_unique
        assert (frame["architecture"].str.count("_") == level - 1).all()
    parents = set(state1["topk"])
    assert all(a.rsplit("_", 1)[0] in parents for a in frames[1]["architecture"])
    assert frames[1]["predicted_score"].notna().all()


def test_temperature_follows_the_global_step_index(levels):
    _, frames, _ = levels
    later = pd.concat(frames[1:])
    steps = sorted(set(later["step"]))
    assert steps == [1, 2, 3, 4]
    for s in steps:
        t = later.loc[later["step"] == s, "temperature"].iloc[0]
        assert t == pytest.approx(temperature(s - 1, 10.0, 0.2, 4.0))


def test_level_saves_everything_the_next_level_needs(levels):
    root, frames, _ = levels
    state = json.loads((root / "level2" / "state.json").read_text())
    assert state["next_step"] == 3 and state["level"] == 2 and len(state["topk"]) == KW["k"]
    assert len(state["history"]) == len(frames[0]) + len(frames[1])
    assert state["bank_entries"] == len(WeightBank.load(root / "level2" / "bank.pt")) > 0
    assert "optimizer" in torch.load(root / "level2" / "surrogate.pt", weights_only=True)


def test_later_levels_never_touch_earlier_level_outputs(levels):
    root, _, digests = levels
    assert digests == {p.name: sha256_file(p) for p in (root / "level1").iterdir()}


def test_same_seed_gives_the_same_level_scores(features, levels, tmp_path):
    _, frames, _ = levels
    again = run_search_level(features, str(tmp_path / "level1"), 1, **KW)
    assert again["val_score"].tolist() == frames[0]["val_score"].tolist()


def test_level_split_over_two_processes_scores_as_one_process(features, levels, tmp_path):
    _, frames, _ = levels
    split = run_search_level(features, str(tmp_path / "level1"), 1, threads=2, **KW)
    n_val = len(FeatureStore(features[0]).labels("val"))
    assert split["architecture"].tolist() == frames[0]["architecture"].tolist()
    assert split["val_score"].tolist() == pytest.approx(
        frames[0]["val_score"].tolist(), abs=1.5 / n_val
    )


def test_same_threads_give_identical_level_scores(features, tmp_path):
    runs = [
        run_search_level(features, str(tmp_path / f"run{i}"), 1, threads=2, **KW) for i in range(2)
    ]
    assert runs[0]["val_score"].tolist() == runs[1]["val_score"].tolist()


def test_weight_sharing_off_writes_an_empty_bank(features, tmp_path):
    run_search_level(
        features, str(tmp_path / "l1"), 1, **{**KW, "weight_sharing": False, "epochs": 1}
    )
    assert len(WeightBank.load(tmp_path / "l1" / "bank.pt")) == 0


def test_random_search_trains_as_many_architectures_of_each_depth(features, levels, tmp_path):
    _, frames, _ = levels
    frame = run_random_search(features, str(tmp_path / "random.tsv"), max_layers=3, **RANDOM_KW)
    mfas = pd.concat(frames)
    depth = lambda f: f["architecture"].str.count("_").value_counts().sort_index().tolist()  # noqa: E731
    assert depth(frame) == depth(mfas)
    assert frame["architecture"].is_unique
    assert (tmp_path / "random.tsv").exists()


def test_summary_is_the_top_k_over_all_levels(levels, tmp_path):
    root, frames, _ = levels
    tsvs = [str(root / f"level{i}" / "candidates.tsv") for i in (1, 2, 3)]
    top = summarize_search(tsvs, str(tmp_path / "topk.tsv"), k=3)
    best = pd.concat(frames)["val_score"].nlargest(3).tolist()
    assert top["val_score"].tolist() == best and top["rank"].tolist() == [1, 2, 3]


def test_feature_files_of_different_datasets_are_rejected_and_nothing_written(features, tmp_path):
    other = write_digit_features(tmp_path / "other", dataset="notdigits")
    with pytest.raises(InputError, match="attrs/dataset"):
        run_search_level([features[0], other[1]], str(tmp_path / "out"), 1, **KW)
    assert not (tmp_path / "out").exists()


def test_feature_files_with_different_sample_counts_are_rejected(features, tmp_path):
    other = write_digit_features(tmp_path / "other", n=500)
    with pytest.raises(InputError, match=r"right.h5: /train/labels: \d+ samples"):
        run_search_level([features[0], other[1]], str(tmp_path / "out"), 1, **KW)
    assert not (tmp_path / "out").exists()


def test_k_larger_than_the_one_layer_pool_is_rejected_naming_the_key(features, tmp_path):
    with pytest.raises(ConfigError, match="search.k"):
        run_search_level(features, str(tmp_path / "out"), 1, **{**KW, "k": 13})
    assert not (tmp_path / "out").exists()


def test_unknown_nonlinearity_is_rejected_naming_the_key(features, tmp_path):
    with pytest.raises(ConfigError, match="search.nonlinearities"):
        run_search_level(features, str(tmp_path / "out"), 1, **{**KW, "nonlinearities": ["tanh"]})


def test_multilabel_search_scores_weighted_f1_and_reports_macro_f1(tmp_path):
    feats = write_digit_features(tmp_path / "multi", n=600, multi=True)
    frame = run_search_level(feats, str(tmp_path / "l1"), 1, **{**KW, "epochs": 3})
    assert frame["val_score"].between(0, 1).all() and frame["val_macro_f1"].notna().all()
    assert frame["val_score"].max() > 0.5
