"""Your own encoders: pretrained backbones with named taps (`type: module`, `type: torchvision`)
and precomputed per-layer features (`type: precomputed`), unit checks and workflow runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import copy_workflow, snakemake
from torch import nn

from mfas_core.config import ConfigError
from mfas_core.data.schema import write_dataset
from mfas_core.errors import InputError
from mfas_core.search.trainer import load_fusion_data
from mfas_core.unimodal.backbones import build_backbone, load_backbone, run_train_backbone
from mfas_core.unimodal.features import FeatureStore
from mfas_core.unimodal.precomputed import copy_features
from mfas_core.unimodal.pretrained import TappedNet, build_pretrained, torchvision_models

TESTS = Path(__file__).resolve().parent
FACTORY = "test_encoders:tiny_resnet"  # importable with tests/ on PYTHONPATH
TAPS = ["layer1", "layer2", "layer3", "layer4"]
IMAGE = [1, 12, 12]


# --------------------------------------------------------------------------- a user's network


class Block(nn.Module):
    """A residual block: conv-BN-ReLU-conv-BN plus a (strided 1x1) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            if stride != 1 or cin != cout
            else nn.Identity()
        )

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.down(x))


class TinyResNet(nn.Module):
    """ResNet-like: stem, layer1..layer4 (widths 4, 8, 8, 16), pooled fc for another task."""

    def __init__(self, widths=(4, 8, 8, 16)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, 1, 1, bias=False), nn.ReLU())
        cin = widths[0]
        for i, w in enumerate(widths, 1):
            setattr(self, f"layer{i}", Block(cin, w, 1 if i == 1 else 2))
            cin = w
        self.fc = nn.Linear(cin, 7)

    def forward(self, x):
        x = self.stem(x)
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x)
        return self.fc(x.mean(dim=(2, 3)))


def tiny_resnet() -> nn.Module:
    """The factory a config names (`test_encoders:tiny_resnet`)."""
    return TinyResNet()


def save_random_weights(path: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    net = tiny_resnet()
    # non-trivial BatchNorm statistics, so that eval mode differs from train mode
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    torch.save(net.state_dict(), path)
    return path


def module_spec(weights: Path, taps=TAPS) -> dict:
    return {"type": "module", "factory": FACTORY, "weights": str(weights), "taps": list(taps)}


def hooked_taps(net: nn.Module, x: torch.Tensor, names: list[str]) -> list[np.ndarray]:
    """Direct forward pass with hooks: each named module's output, mean over axes 2.."""
    outs, handles = {}, []
    modules = dict(net.named_modules())
    for n in names:
        handles.append(
            modules[n].register_forward_hook(lambda _m, _i, o, n=n: outs.__setitem__(n, o))
        )
    net.eval()
    with torch.no_grad():
        net(x)
    for h in handles:
        h.remove()
    return [outs[n].mean(dim=(2, 3)).numpy() for n in names]


# --------------------------------------------------------------------------- unit: the route


@pytest.fixture(autouse=True)
def tests_importable(monkeypatch):
    """The factory lives in this module: tests/ on sys.path as for the workflow's jobs."""
    monkeypatch.syspath_prepend(str(TESTS))


def test_taps_are_the_named_modules_outputs_pooled_over_space(tmp_path):
    weights = save_random_weights(tmp_path / "w.pt")
    model = build_backbone(module_spec(weights), tuple(IMAGE), 3)
    x = torch.randn(5, *IMAGE)
    net = tiny_resnet()
    net.load_state_dict(torch.load(weights, weights_only=True))
    expected = hooked_taps(net, x, TAPS)
    with torch.no_grad():
        got = model.eval().taps(x)
    assert model.tap_sizes == [4, 8, 8, 16]
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g.numpy(), e, atol=1e-5)


def test_frozen_backbone_stays_in_eval_mode_and_unfreezing_trains_it(tmp_path):
    model = build_backbone(module_spec(save_random_weights(tmp_path / "w.pt")), tuple(IMAGE), 3)
    model.freeze()
    model.train()
    assert not model.net.training and model.head.training
    for p in model.parameters():  # what phase 2 of final training does
        p.requires_grad_(True)
    model.train()
    assert model.net.training
    model(torch.randn(4, *IMAGE)).sum().backward()
    assert model.net.layer1.conv1.weight.grad is not None


def test_preprocessing_adds_channels_resizes_and_standardises():
    spec = {"channels": 3, "resize": [8, 8], "mean": [0.5], "std": [2.0]}  # one for all
    net = nn.Sequential(nn.Conv2d(3, 2, 1))
    model = TappedNet(net, ["0"], (12, 12), 2, preprocess=spec)
    x = torch.rand(2, 12, 12)
    got = model.preprocess(x)
    assert got.shape == (2, 3, 8, 8)
    ref = torch.nn.functional.interpolate(x.unsqueeze(1), size=(8, 8), mode="bilinear")
    torch.testing.assert_close(got[:, 2:3], (ref - 0.5) / 2.0)


def _one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert "\n" not in msg
    return msg


def _train(tmp_path, data, spec, dataset="toy", modality="image"):
    """run_train_backbone on a dataset with `spec` for the modality; outputs in tmp_path."""
    return run_train_backbone(
        str(data), str(tmp_path / "out.pt"), str(tmp_path / "out.json"),
        dataset=dataset, modality=modality, spec=spec,
        training={"epochs": 1, "batch_size": 16, "lr": 1e-3, "weight_decay": 0.0,
                  "max_train": 0, "min_steps": 2},
        seed=0, device="cpu", threads=1,
    )  # fmt: skip


def _nothing_written(tmp_path):
    assert not (tmp_path / "out.pt").exists() and not (tmp_path / "out.json").exists()


@pytest.fixture
def toy_data(tmp_path):
    return make_dataset(tmp_path / "toy.h5", n=(40, 20, 20), precomputed=False)


def test_missing_weights_file_is_one_line_naming_it(tmp_path, toy_data):
    spec = module_spec(tmp_path / "nope.pt")
    with pytest.raises(InputError) as exc:
        _train(tmp_path, toy_data, spec)
    assert _one_line(exc.value).startswith(f"{tmp_path / 'nope.pt'}: weights: missing file")
    _nothing_written(tmp_path)


def test_missing_and_unexpected_state_dict_keys_are_named(tmp_path, toy_data):
    state = torch.load(save_random_weights(tmp_path / "w.pt"), weights_only=True)
    state.pop("layer4.conv2.weight")
    state["extra.bias"] = torch.zeros(2)
    torch.save(state, tmp_path / "bad.pt")
    with pytest.raises(InputError) as exc:
        _train(tmp_path, toy_data, module_spec(tmp_path / "bad.pt"))
    msg = _one_line(exc.value)
    assert msg.startswith(f"{tmp_path / 'bad.pt'}: state_dict: ")
    assert "missing keys ['layer4.conv2.weight']" in msg and "unexpected keys ['extra.bias']" in msg
    _nothing_written(tmp_path)


def test_weights_that_need_pickle_are_refused(tmp_path, toy_data):
    torch.save({"net": tiny_resnet()}, tmp_path / "pickled.pt")  # a module object, not tensors
    with pytest.raises(InputError) as exc:
        _train(tmp_path, toy_data, module_spec(tmp_path / "pickled.pt"))
    assert "weights: unreadable with weights_only=True" in _one_line(exc.value)
    _nothing_written(tmp_path)


def test_a_tap_that_is_not_a_module_lists_the_available_names(tmp_path, toy_data):
    spec = module_spec(save_random_weights(tmp_path / "w.pt"), taps=["layer1", "layer9"])
    with pytest.raises(ConfigError) as exc:
        _train(tmp_path, toy_data, spec)
    msg = _one_line(exc.value)
    assert msg.startswith("config: datasets.toy.backbones.image.taps: 'layer9' is not a module")
    assert "available: stem, stem.0, stem.1, layer1," in msg
    _nothing_written(tmp_path)


def test_an_input_shape_the_network_cannot_take_names_the_key(tmp_path):
    data = make_dataset(tmp_path / "wide.h5", n=(40, 20, 20), precomputed=False, channels=3)
    with pytest.raises(ConfigError) as exc:
        _train(tmp_path, data, module_spec(save_random_weights(tmp_path / "w.pt")))
    msg = _one_line(exc.value)
    assert msg.startswith("config: datasets.toy.backbones.image: the network cannot take")
    assert "[3, 12, 12]" in msg
    _nothing_written(tmp_path)


def test_a_factory_that_cannot_be_imported_names_the_key(tmp_path, toy_data):
    spec = {**module_spec(tmp_path / "w.pt"), "factory": "no_such_module_here:net"}
    with pytest.raises(ConfigError) as exc:
        _train(tmp_path, toy_data, spec)
    assert _one_line(exc.value).startswith(
        "config: datasets.toy.backbones.image.factory: cannot import 'no_such_module_here'"
    )
    _nothing_written(tmp_path)


def test_pretrained_backbone_trains_only_a_head_and_says_so(tmp_path, toy_data):
    weights = save_random_weights(tmp_path / "w.pt")
    m = _train(tmp_path, toy_data, module_spec(weights))
    assert m["trained"] == "head" and m["tap_sizes"] == [4, 8, 8, 16]
    saved = torch.load(tmp_path / "out.pt", weights_only=True)
    original = torch.load(weights, weights_only=True)
    for k, v in original.items():  # the backbone is frozen: its weights are the file's
        torch.testing.assert_close(saved[f"net.{k}"], v)
    model = load_backbone(tmp_path / "out.pt", module_spec(weights), tuple(IMAGE), 3)
    assert isinstance(model, TappedNet)


def test_torchvision_route_without_torchvision_is_one_line_naming_the_key():
    try:
        import torchvision  # noqa: F401
    except Exception:
        with pytest.raises(ConfigError) as exc:
            torchvision_models("datasets.x.backbones.image")
        msg = _one_line(exc.value)
        assert msg.startswith("config: datasets.x.backbones.image.type: torchvision cannot be")
        return
    pytest.skip("torchvision importable here: the resnet18 test covers the route")


def test_torchvision_resnet18_taps_equal_hooked_forward(tmp_path):
    try:
        torchvision_models("t")
    except ConfigError as exc:
        pytest.skip(f"needs a torchvision built for this torch ({exc})")
    import torchvision

    torch.manual_seed(0)
    torch.save(torchvision.models.resnet18().state_dict(), tmp_path / "r18.pt")
    spec = {"type": "torchvision", "arch": "resnet18", "weights": str(tmp_path / "r18.pt"),
            "taps": TAPS, "preprocess": {"channels": 3, "resize": [32, 32]}}  # fmt: skip
    model = build_pretrained(spec, (28, 28), 10).eval()
    x = torch.rand(2, 28, 28)
    net = torchvision.models.resnet18()
    net.load_state_dict(torch.load(tmp_path / "r18.pt", weights_only=True))
    expected = hooked_taps(net, model.preprocess(x), TAPS)
    with torch.no_grad():
        for g, e in zip(model.taps(x), expected, strict=True):
            np.testing.assert_allclose(g.numpy(), e, atol=1e-5)


# --------------------------------------------------------------------------- precomputed


def make_dataset(
    path: Path, n=(120, 40, 40), *, precomputed: bool, channels: int = 1, seed: int = 0
) -> Path:
    """A small 3-class dataset in our schema: `image` [C, 12, 12], and either `vec` [8]
    (raw) or `feat` precomputed taps tap1 [N, 5], tap2 [N, 7]. Both carry the class."""
    rng = np.random.default_rng(seed)
    splits, labels = {}, {}
    for split, k in zip(("train", "val", "test"), n, strict=True):
        y = rng.integers(0, 3, k)
        img = rng.normal(0, 1, (k, channels, 12, 12)).astype(np.float32)
        img[:, :, :4, :4] += 2.0 * y[:, None, None, None]
        second = (
            {"feat": {"tap1": rng.normal(y[:, None], 1, (k, 5)), "tap2": rng.normal(0, 1, (k, 7))}}
            if precomputed
            else {"vec": rng.normal(y[:, None], 1, (k, 8)).astype(np.float32)}
        )
        splits[split], labels[split] = {"image": img, **second}, y
    write_dataset(path, splits, labels, name=path.stem, kind="hdf5", classes=["a", "b", "c"],
                  sources={}, params={})  # fmt: skip
    return path


def test_precomputed_cache_is_the_dataset_files_taps(tmp_path):
    data = make_dataset(tmp_path / "d.h5", precomputed=True)
    widths = copy_features(data, tmp_path / "f.h5", dataset="d", modality="feat", spec={})
    store = FeatureStore(tmp_path / "f.h5")
    assert widths == store.layer_sizes == [5, 7]
    assert store.layer_names == ["feat.tap1", "feat.tap2"]
    with h5py.File(data, "r") as f:
        np.testing.assert_array_equal(store.layer("val", 2), f["val/feat/tap2"][()])
        np.testing.assert_array_equal(store.labels("test"), f["test/labels"][()])


def _rewrite(data: Path, edit) -> None:
    with h5py.File(data, "r+") as f:
        edit(f)


@pytest.mark.parametrize(
    ("edit", "field", "problem"),
    [
        (lambda f: f["val/feat/tap1"].__setitem__((0, 0), np.nan), "/val/feat/tap1", "NaN or inf"),
        (
            lambda f: (
                f["test/feat"].__delitem__("tap2"),
                f["test/feat"].create_dataset("tap2", data=np.zeros((3, 7))),
            ),
            "/test/feat/tap2",
            "3 rows, labels 40",
        ),
        (
            lambda f: (
                f["test/feat"].__delitem__("tap2"),
                f["test/feat"].create_dataset("tap2", data=np.zeros((40, 7), int)),
            ),
            "/test/feat/tap2",
            "must be floating [N, C]",
        ),
    ],
    ids=["non-finite", "row-count", "integer"],
)
def test_bad_precomputed_taps_are_one_line_and_write_nothing(tmp_path, edit, field, problem):
    data = make_dataset(tmp_path / "d.h5", precomputed=True)
    _rewrite(data, edit)
    with pytest.raises(InputError) as exc:
        copy_features(data, tmp_path / "f.h5", dataset="d", modality="feat", spec={})
    msg = _one_line(exc.value)
    assert msg.startswith(f"{data}: {field}: ") and problem in msg
    assert not (tmp_path / "f.h5").exists()


def test_a_raw_modality_is_not_precomputed(tmp_path):
    data = make_dataset(tmp_path / "d.h5", precomputed=False)
    with pytest.raises(InputError, match=r"/train/vec: is an array, not a group"):
        copy_features(data, tmp_path / "f.h5", dataset="d", modality="vec", spec={})
    assert not (tmp_path / "f.h5").exists()


# --------------------------------------------------------------------------- workflow


def encoder_config(tmp_path: Path, weights: Path, **final) -> dict:
    """Two datasets: `pre` = image through the test's module factory + vec (built-in MLP);
    `mix` = image through the built-in conv + feat precomputed in the dataset file."""
    return {
        "seed": 0, "device": "cpu", "threads": 1,
        "datasets": {
            "pre": {"kind": "hdf5", "path": str(tmp_path / "pre_src.h5"),
                    "backbones": {"image": module_spec(weights), "vec": {"type": "mlp", "hidden": [6]}}},
            "mix": {"kind": "hdf5", "path": str(tmp_path / "mix_src.h5"),
                    "backbones": {"image": {"type": "conv", "blocks": 2, "channels": 2},
                                  "feat": {"type": "precomputed"}}},
        },
        "backbone_training": {"epochs": 1, "min_steps": 5, "batch_size": 32},
        "search": {"datasets": ["pre", "mix"], "seeds": [0], "max_layers": 1, "iterations": 1,
                   "k": 8, "epochs": 1, "surrogate_epochs": 2, "batch_size": 32,
                   "random_search": False, "top_k": 2, "workers": 1},
        "dmf": {"datasets": []},
        "final": {"datasets": ["pre", "mix"], "top": 1, "seeds": [0], "width": 8, "epochs": 1,
                  "min_steps": 5, "batch_size": 32, "finetune_epochs": 0,
                  "baselines": ["unimodal"], **final},
    }  # fmt: skip


@pytest.fixture
def encoder_workdir(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    )
    (tmp_path / "wf").mkdir()
    workdir = copy_workflow(tmp_path / "wf")
    make_dataset(tmp_path / "pre_src.h5", precomputed=False)
    make_dataset(tmp_path / "mix_src.h5", precomputed=True, seed=1)
    weights = save_random_weights(tmp_path / "tiny_resnet.pt")
    return workdir, encoder_config(tmp_path, weights), weights


@pytest.mark.slow
def test_workflow_searches_and_final_trains_on_a_module_factory_and_a_precomputed_modality(
    encoder_workdir,
):
    workdir, config, weights = encoder_workdir
    (workdir / "enc.yaml").write_text(yaml.safe_dump(config))
    # the tables only (no plots): the search, final training and the baselines of both
    targets = ["results/tables/unimodal.md", "results/tables/final_pre.md",
               "results/tables/final_mix.md"]  # fmt: skip
    dry = snakemake(workdir, "-n", *targets, "--configfile", "enc.yaml", "--cores", "1")
    planned = dry.stdout
    assert "copy_features" in planned
    # no backbone jobs for the precomputed modality
    assert "results/backbones/mix/feat" not in planned
    snakemake(workdir, *targets, "--configfile", "enc.yaml", "--cores", "2", "--resources", "gpu=1")
    res = workdir / "results"

    # (b) the module factory: cached taps = a direct hooked forward pass of the user's net
    store = FeatureStore(res / "features/pre/image.h5")
    net = tiny_resnet()
    net.load_state_dict(torch.load(weights, weights_only=True))
    with h5py.File(res / "data/pre.h5", "r") as f:
        x = torch.from_numpy(f["test/image"][()])
    for got, exp in zip(store.layers("test"), hooked_taps(net, x, TAPS), strict=True):
        np.testing.assert_allclose(got, exp, atol=1e-5)
    assert store.layer_names == [f"image.{t}" for t in TAPS]
    # (c) the precomputed modality: its cache is the dataset file's taps
    feat = FeatureStore(res / "features/mix/feat.h5")
    with h5py.File(res / "data/mix.h5", "r") as f:
        for k, name in enumerate(("tap1", "tap2"), 1):
            np.testing.assert_allclose(feat.layer("test", k), f[f"test/feat/{name}"][()], atol=1e-5)
    assert not (res / "backbones/mix/feat.pt").exists()

    # tap counts and widths reach the search space, and final training ran on both
    for ds, mods, sizes in (
        ("pre", ("image", "vec"), ([4, 8, 8, 16], [6])),
        ("mix", ("image", "feat"), ([2, 4], [5, 7])),
    ):
        data = load_fusion_data(*(res / f"features/{ds}/{m}.h5" for m in mods))
        assert tuple(data.sizes) == sizes, ds
        # k = every one-layer architecture: level 1 trains exactly the M x N x P of these taps
        tried = pd.read_csv(res / f"search/{ds}/seed0/level1/candidates.tsv", sep="\t")
        expected = {f"{m}-{n}-{p}" for m in range(1, len(sizes[0]) + 1)
                    for n in range(1, len(sizes[1]) + 1) for p in (1, 2)}  # fmt: skip
        assert set(tried["architecture"]) == expected, ds
        assert json.loads((res / f"final/{ds}/mfas/search0/rank1/seed0/metrics.json").read_text())
        assert (res / f"tables/final_{ds}.md").is_file()
    unimodal = (res / "tables/unimodal.md").read_text()
    assert "module test_encoders:tiny_resnet" in unimodal
    assert "linear head fitted on the last tap" in unimodal


@pytest.mark.slow
def test_phase_2_is_refused_for_a_precomputed_modality(encoder_workdir):
    workdir, config, _ = encoder_workdir
    config["final"]["finetune_epochs"] = 1
    (workdir / "enc.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(workdir, "--configfile", "enc.yaml", "--cores", "1", check=False)
    assert proc.returncode != 0
    assert (
        "config: final.finetune_epochs: phase 2 fine-tunes the backbones, but "
        "datasets.mix.backbones.feat is precomputed"
    ) in proc.stderr
    assert not (workdir / "results").exists()


# --------------------------------------------------------------------------- images + CSV


def _images_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "images_to_hdf5", TESTS.parent / "tools" / "images_to_hdf5.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.images_to_hdf5


def test_a_folder_of_images_and_a_csv_become_a_valid_dataset_file(tmp_path):
    from PIL import Image

    from mfas_core.data.schema import read_split, validate_dataset

    rows = ["file,label,split,age"]
    for i, split in enumerate(["train"] * 4 + ["val"] * 2 + ["test"] * 2):
        Image.fromarray(np.full((10, 6), 30 * i, np.uint8)).save(tmp_path / f"{i}.png")
        rows.append(f"{i}.png,{'cat' if i % 2 else 'dog'},{split},{i / 2}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    n = _images_tool()(tmp_path, tmp_path / "labels.csv", tmp_path / "out.h5", size=(8, 8))
    assert n == {"train": 4, "val": 2, "test": 2}
    attrs = validate_dataset(tmp_path / "out.h5")
    assert attrs["classes"] == ["cat", "dog"] and attrs["shapes"]["image"] == [1, 8, 8]
    data, y = read_split(tmp_path / "out.h5", "val")
    np.testing.assert_allclose(data["image"][1], 150 / 255, atol=1e-6)
    assert data["table"][:, 0].tolist() == [2.0, 2.5] and y.tolist() == [1, 0]


def test_a_csv_row_with_an_unknown_split_names_the_line(tmp_path):
    (tmp_path / "labels.csv").write_text("file,label,split,x\na.png,cat,dev,1\n")
    with pytest.raises(InputError, match=r"labels.csv: line 2: split: 'dev' is not"):
        _images_tool()(tmp_path, tmp_path / "labels.csv", tmp_path / "out.h5")
    assert not (tmp_path / "out.h5").exists()
