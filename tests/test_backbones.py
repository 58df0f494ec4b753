"""Backbones and the feature cache, on a small dataset file built from real digits."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from mfas_core.data.schema import write_dataset
from mfas_core.errors import InputError
from mfas_core.settings import schema_defaults
from mfas_core.unimodal.backbones import (
    build_backbone,
    load_backbone,
    run_train_backbone,
    training_params,
)
from mfas_core.unimodal.features import FeatureStore, extract_features

CONV = {"type": "conv", "blocks": 2, "channels": 4}
MLP = {"type": "mlp", "hidden": [32, 16]}


@pytest.fixture(scope="module")
def digits_file(tmp_path_factory):
    """scikit-learn's real 8x8 digits as a two-modality dataset: the image and its row sums."""
    x, y = load_digits(return_X_y=True)
    img = (x.reshape(-1, 8, 8) / 16).astype(np.float32)
    vec = np.concatenate([img.sum(1), img.sum(2)], axis=1)
    cut = {"train": slice(0, 1200), "val": slice(1200, 1500), "test": slice(1500, None)}
    path = tmp_path_factory.mktemp("data") / "digits.h5"
    write_dataset(
        path,
        {s: {"image": img[c], "profile": vec[c]} for s, c in cut.items()},
        {s: y[c] for s, c in cut.items()},
        name="digits",
        kind="hdf5",
        classes=[str(i) for i in range(10)],
        sources={},
        params={},
    )
    return path


def training(**over) -> dict:
    """rule train_backbone's `training` param: the schema's defaults with overrides."""
    return training_params(schema_defaults("backbone_training") | over)


def train(digits_file, tmp_path, modality="image", spec=CONV, seed=0):
    return run_train_backbone(
        str(digits_file),
        str(tmp_path / f"{modality}.pt"),
        str(tmp_path / f"{modality}.json"),
        dataset="digits",
        modality=modality,
        spec=spec,
        training=training(epochs=3, batch_size=64, lr=3e-3, weight_decay=0.0, min_steps=0),
        seed=seed,
        device="cpu",
        threads=1,
    )


def test_conv_backbone_has_one_pooled_tap_per_block_with_doubling_channels():
    net = build_backbone({"type": "conv", "blocks": 5, "channels": 3}, (112, 112), 10)
    taps = net.taps(torch.zeros(2, 112, 112))
    assert [t.shape[1] for t in taps] == [3, 6, 12, 24, 48]
    assert all(t.dim() == 2 for t in taps)


def test_input_pool_runs_the_same_net_on_the_average_pooled_input():
    pooled = build_backbone(
        {"type": "conv", "blocks": 2, "channels": 3, "input_pool": 2}, (16, 16), 10
    )
    plain = build_backbone({"type": "conv", "blocks": 2, "channels": 3}, (8, 8), 10)
    plain.load_state_dict(pooled.state_dict())
    pooled.eval(), plain.eval()
    x = torch.randn(4, 16, 16)
    coarse = x.reshape(4, 8, 2, 8, 2).mean(dim=(2, 4))
    for a, b in zip(pooled.taps(x), plain.taps(coarse), strict=True):
        torch.testing.assert_close(a, b)


def test_conv_blocks_are_bias_free_conv_batchnorm_relu_maxpool():
    net = build_backbone({"type": "conv", "blocks": 3, "channels": 6}, (28, 28), 10)
    kinds = [type(m).__name__ for m in net.blocks[0]]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"]
    assert net.blocks[0][0].bias is None and net.blocks[0][0].kernel_size == (5, 5)
    assert net.blocks[1][0].kernel_size == (3, 3)


def test_mlp_backbone_taps_are_its_hidden_layers():
    net = build_backbone(MLP, (16,), 10)
    assert [t.shape[1] for t in net.taps(torch.zeros(3, 16))] == [32, 16]


def test_trained_backbone_learns_real_digits(digits_file, tmp_path):
    metrics = train(digits_file, tmp_path)
    assert metrics["test"] > 0.5  # ten classes: chance is 0.1
    assert metrics["best_epoch"] in (1, 2, 3)


def test_backbone_training_is_deterministic_for_a_seed(digits_file, tmp_path):
    a = train(digits_file, tmp_path / "a")
    b = train(digits_file, tmp_path / "b")
    assert a["test"] == b["test"]
    sa = torch.load(tmp_path / "a" / "image.pt", weights_only=True)
    sb = torch.load(tmp_path / "b" / "image.pt", weights_only=True)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_cached_taps_and_logits_are_the_backbone_run_on_the_raw_input(digits_file, tmp_path):
    from mfas_core.data.schema import read_split

    for modality, spec in (("image", CONV), ("profile", MLP)):
        metrics = train(digits_file, tmp_path, modality, spec)
        out = tmp_path / f"{modality}.h5"
        extract_features(
            digits_file,
            tmp_path / f"{modality}.pt",
            out,
            dataset="digits",
            modality=modality,
            spec=spec,
            batch_size=97,
            device="cpu",
        )
        store = FeatureStore(out)
        net = load_backbone(
            tmp_path / f"{modality}.pt", spec, store_shape(digits_file, modality), 10
        ).eval()
        for split in ("train", "test"):
            x, y = read_split(digits_file, split)
            raw = torch.from_numpy(x[modality])
            with torch.no_grad():
                taps, logits = net.taps(raw), net(raw).numpy()
            assert len(taps) == store.n_layers
            for k, tap in enumerate(taps, 1):
                assert np.abs(tap.numpy() - store.layer(split, k)).max() < 1e-4, (split, k)
            assert np.abs(logits - store.logits(split)).max() < 1e-4
            np.testing.assert_array_equal(store.labels(split), y)
        acc = float((logits.argmax(1) == y).mean())
        assert acc == metrics["test"]


def store_shape(path, modality):
    from mfas_core.data.schema import read_attrs

    return tuple(read_attrs(path)["shapes"][modality])


def test_feature_file_records_layers_and_hashes(digits_file, tmp_path):
    train(digits_file, tmp_path)
    out = tmp_path / "f.h5"
    extract_features(
        digits_file, tmp_path / "image.pt", out, dataset="digits", modality="image", spec=CONV
    )
    store = FeatureStore(out)
    assert store.layer_sizes == [4, 8] and store.n_layers == 2
    assert store.layer("train", 1).shape == (1200, 4) and store.layer("val", 2).shape == (300, 8)
    store.verify(tmp_path / "image.pt", digits_file)


def test_feature_extraction_is_byte_identical_for_the_same_backbone(digits_file, tmp_path):
    from mfas_core.atomic import sha256_file

    train(digits_file, tmp_path)
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    for out, batch in ((a, 512), (b, 512)):
        extract_features(
            digits_file, tmp_path / "image.pt", out, dataset="digits", modality="image",
            spec=CONV, batch_size=batch,
        )  # fmt: skip
    assert sha256_file(a) == sha256_file(b)


def test_features_from_other_weights_are_rejected_naming_the_file(digits_file, tmp_path):
    train(digits_file, tmp_path / "a", seed=0)
    train(digits_file, tmp_path / "b", seed=1)
    out = tmp_path / "f.h5"
    extract_features(
        digits_file, tmp_path / "a" / "image.pt", out, dataset="digits", modality="image", spec=CONV
    )
    with pytest.raises(InputError, match="backbone_sha256.*rebuild"):
        FeatureStore(out).verify(tmp_path / "b" / "image.pt")


def test_backbone_file_of_another_architecture_is_an_error_naming_it(digits_file, tmp_path):
    train(digits_file, tmp_path)
    with pytest.raises(InputError, match=r"image\.pt: state_dict: does not match"):
        load_backbone(
            tmp_path / "image.pt", {"type": "conv", "blocks": 3, "channels": 4}, (8, 8), 10
        )


def test_extraction_failing_mid_write_leaves_neither_output_nor_temporary(
    digits_file, tmp_path, monkeypatch
):
    import h5py

    train(digits_file, tmp_path)
    out = tmp_path / "feat" / "f.h5"
    real, written = h5py.Dataset.__setitem__, []

    def fail_on_the_third_batch(self, key, value):  # after two batches reached the temp file
        written.append(self.name)
        if len(written) == 3:
            raise OSError("disk full")
        real(self, key, value)

    monkeypatch.setattr(h5py.Dataset, "__setitem__", fail_on_the_third_batch)
    with pytest.raises(OSError, match="disk full"):
        extract_features(
            digits_file, tmp_path / "image.pt", out, dataset="digits", modality="image",
            spec=CONV, batch_size=100,
        )  # fmt: skip
    assert len(written) == 3
    assert list(out.parent.iterdir()) == []


def test_extraction_with_a_mismatched_backbone_writes_nothing(digits_file, tmp_path):
    train(digits_file, tmp_path)
    out = tmp_path / "feat" / "f.h5"
    with pytest.raises(InputError):
        extract_features(
            digits_file,
            tmp_path / "image.pt",
            out,
            dataset="digits",
            modality="image",
            spec={"type": "conv", "blocks": 3, "channels": 4},
        )
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_metrics_file_names_the_metric_and_best_epoch(digits_file, tmp_path):
    train(digits_file, tmp_path)
    m = json.loads((tmp_path / "image.json").read_text())
    assert m["metric"] == "accuracy" and m["tap_sizes"] == [4, 8]
    assert len(m["history"]) == 3


def test_small_training_sets_get_enough_epochs_for_min_steps(digits_file, tmp_path):
    m = run_train_backbone(
        str(digits_file), str(tmp_path / "m.pt"), str(tmp_path / "m.json"),
        dataset="digits", modality="profile", spec=MLP, seed=0, device="cpu", threads=1,
        training=training(epochs=1, batch_size=100, lr=1e-3, weight_decay=0.0, min_steps=30),
    )  # fmt: skip
    assert m["epochs"] == 3 and len(m["history"]) == 3  # 1,200 samples / 100 = 12 steps per epoch
