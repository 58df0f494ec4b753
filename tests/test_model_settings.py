"""Every model-shaping setting reaches its model: the parameter count a job reports (or the
shapes it saves) follows that model's formula in the setting, for two values of it.

Each job runs as its rule runs it: settings built from a config section by the stage's
`*_params` function, then the job's entry point (a bug where the value stops on the way, so
that the model builds, trains and scores at another size, turns these red). Formulas are
written out here from the papers' definitions, not taken from the code under test.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import dmf_settings
from test_search import WIDTHS, settings, write_digit_features

from mfas_core.data.instances import dataset_instances
from mfas_core.data.schema import write_dataset
from mfas_core.dmf.train import train_dmf
from mfas_core.final.settings import baseline_params, train_params
from mfas_core.final.train import run_final_baseline, run_final_train
from mfas_core.search.batched import WeightBank
from mfas_core.search.smbo import run_search_level
from mfas_core.settings import schema_defaults
from mfas_core.unimodal.backbones import run_train_backbone, training_params

C = 10  # classes of every data set below
S1, S2 = WIDTHS["left"], WIDTHS["right"]  # tap widths of the feature files: M = 3, N = 2


def linear(i: int, o: int) -> int:
    return i * o + o


def mlp_head(i: int, w: int) -> int:
    """Linear(i, w) + ReLU + dropout + Linear(w, C)."""
    return linear(i, w) + linear(w, C)


def baseline_formula(method: str, w: int, rank: int) -> int:
    if method == "unimodal_left":
        return mlp_head(S1[-1], w)
    if method == "unimodal_right":
        return mlp_head(S2[-1], w)
    if method == "late_fusion":
        return mlp_head(S1[-1] + S2[-1], w)
    if method == "early_fusion":
        return mlp_head(sum(S1) + sum(S2), w)
    if method == "gmu":  # h1, h2, gate without bias; head on the gated sum
        return S1[-1] * w + S2[-1] * w + (S1[-1] + S2[-1]) * w + linear(w, C)
    if method == "lrtf":  # rank factors over [x; 1], rank weights, fused bias, then the head
        return rank * (S1[-1] + 1) * w + rank * (S2[-1] + 1) * w + rank + w + mlp_head(w, w)
    if method == "centralnet":  # the deepest min(M, N) taps of each, a central layer per depth
        d = min(len(S1), len(S2))
        proj = sum(linear(s, w) for s in S1[-d:]) + sum(linear(s, w) for s in S2[-d:])
        return proj + d * linear(w, w) + 3 * d + 3 * linear(w, C)
    raise AssertionError(method)


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    return write_digit_features(tmp_path_factory.mktemp("taps"), n=200)


FINAL = schema_defaults("final") | {"epochs": 1, "min_steps": 0, "batch_size": 64}


@pytest.mark.parametrize(("width", "rank"), [(8, 2), (12, 3)])
@pytest.mark.parametrize(
    "method",
    ["unimodal_left", "unimodal_right", "late_fusion", "early_fusion", "centralnet", "gmu", "lrtf"],
)
def test_final_width_and_lrtf_rank_shape_every_baseline(features, tmp_path, method, width, rank):
    cfg = FINAL | {"width": width, "lrtf_rank": rank}
    config_method = method.split("_")[0] if method.startswith("unimodal") else method
    m = run_final_baseline(
        features, str(tmp_path / "m.json"), dataset="digits", method=method,
        modalities=["left", "right"], seed=0, settings=baseline_params(cfg, config_method),
    )  # fmt: skip
    assert m["params"] == baseline_formula(method, width, rank)


@pytest.mark.parametrize("width", [8, 12])
def test_final_width_shapes_the_found_architecture(features, tmp_path, width):
    topk = tmp_path / "topk.tsv"
    topk.write_text("rank\tarchitecture\tval_score\n1\t1-1-2_3-2-1\t0.9\n")
    m = run_final_train(
        features, str(topk), str(tmp_path / "m.json"), dataset="digits", rank=1, search_seed=0,
        seed=0, nonlinearities=["relu", "sigmoid"], settings=train_params(FINAL | {"width": width}),
    )  # fmt: skip
    # layer 1 on taps (1, 1), layer 2 on taps (3, 2) and h_1, then the classifier on h_2
    assert m["params"] == linear(S1[0] + S2[0], width) + linear(S1[2] + S2[1] + width, width) + (
        linear(width, C)
    )


@pytest.mark.parametrize("width", [8, 12])
def test_search_width_shapes_every_fusion_layer_the_search_trains(features, tmp_path, width):
    s = settings(width=width, epochs=1)
    run_search_level(features, str(tmp_path / "l1"), 1, settings=s)
    run_search_level(features, str(tmp_path / "l2"), 2, str(tmp_path / "l1"), s)
    bank = WeightBank.load(tmp_path / "l2" / "bank.pt")
    assert any(k.startswith("layer2_") for k in bank.entries)
    for key, (w, b) in bank.entries.items():
        layer, in_size = int(key.split("_")[0][5:]), int(key.split("_")[1][2:])
        assert w.shape == (in_size, width) and b.shape == (width,), key
        assert key.split("_")[2] == f"out{width}"
        if layer == 2:
            assert in_size - width in {a + b for a in S1 for b in S2}, key  # taps + h_1


# ------------------------------------------------------------------------------------- DMF
IN = (392, 100)  # the paper's half-image width: pathways are used as configured (no scaling)


@pytest.fixture(scope="module")
def wide_pairs(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = {"train": 96, "val": 32, "test": 32}
    path = tmp_path_factory.mktemp("pairs") / "pairs.h5"
    write_dataset(
        path,
        {s: {"a": rng.random((k, IN[0]), np.float32), "b": rng.random((k, IN[1]), np.float32)}
         for s, k in n.items()},
        {s: np.arange(k) % C for s, k in n.items()},
        name="pairs", kind="hdf5", classes=[str(i) for i in range(C)], sources={}, params={},
    )  # fmt: skip
    return path


def dmf_formula(model: str, mods: list[int], shared: list[int]) -> int:
    """Encoder parameters (Hu et al. Eq. 1-4): pathways a -> m_1 -> .. and b -> m_1 -> ..;
    EMF stacks the shared layers on [a; b], IMF fuses once on [x_L; y_L], DMF fuses at every
    level l on [x_l; y_l; s_(l-1)]."""
    a, b = IN
    path = sum(linear(i, o) for i, o in zip([a, *mods[:-1]], mods, strict=True))
    path += sum(linear(i, o) for i, o in zip([b, *mods[:-1]], mods, strict=True))
    if model == "emf":
        return linear(a + b, shared[0]) + sum(
            linear(i, o) for i, o in zip(shared[:-1], shared[1:], strict=True)
        )
    if model == "imf":
        return path + linear(2 * mods[-1], shared[-1])
    xs, ys = [a, *mods], [b, *mods]
    fuse = linear(a + b, shared[0]) + sum(
        linear(xs[i] + ys[i] + shared[i - 1], shared[i]) for i in range(1, len(shared))
    )
    return path + fuse


@pytest.mark.parametrize(
    ("mods", "shared"), [([24, 12], [20, 16, 8]), ([30], [14, 6])], ids=["3 levels", "2 levels"]
)
@pytest.mark.parametrize("model", ["emf", "imf", "dmf"])
@pytest.mark.parametrize("variant", ["disc", "encdec"])
def test_dmf_modality_and_shared_sizes_shape_every_model(
    wide_pairs, tmp_path, model, variant, mods, shared
):
    dmf = {"modality_sizes": mods, "shared_sizes": shared, "max_epochs": 1}
    dmf |= {"encdec_max_epochs": 1, "min_steps": 0, "patience": 1, "cd_pretrain": []}
    m = train_dmf(
        wide_pairs, tmp_path / "net.pt", tmp_path / "m.json", dataset="pairs", variant=variant,
        model=model, seed=0, **dmf_settings(variant, **dmf),
    )  # fmt: skip
    assert m["n_params"] == dmf_formula(model, mods, shared)
    if variant == "disc":  # plus the classifier on the joint code
        assert m["n_params_all"] == m["n_params"] + linear(shared[-1], C)
    assert m["modality_sizes"] == mods and m["shared_sizes"] == shared


# -------------------------------------------------------------------------------- backbones
@pytest.fixture(scope="module")
def images(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = {"train": 64, "val": 16, "test": 16}
    path = tmp_path_factory.mktemp("images") / "images.h5"
    write_dataset(
        path,
        {s: {"image": rng.random((k, 12, 12), np.float32), "vec": rng.random((k, 20), np.float32)}
         for s, k in n.items()},
        {s: np.arange(k) % C for s, k in n.items()},
        name="images", kind="hdf5", classes=[str(i) for i in range(C)], sources={}, params={},
    )  # fmt: skip
    return path


def conv_formula(blocks: int, channels: int) -> int:
    """5x5 then 3x3 convolutions without bias, channels doubling per block, batch norm (scale
    and shift), the head on the last block's pooled channels."""
    total, in_ch = 0, 1
    for b in range(blocks):
        out, k = channels * 2**b, 5 if b == 0 else 3
        total += in_ch * out * k * k + 2 * out
        in_ch = out
    return total + linear(in_ch, C)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"type": "conv", "blocks": 2, "channels": 4}, conv_formula(2, 4)),
        ({"type": "conv", "blocks": 3, "channels": 2}, conv_formula(3, 2)),
        ({"type": "mlp", "hidden": [16, 8]}, linear(20, 16) + linear(16, 8) + linear(8, C)),
        ({"type": "mlp", "hidden": [6]}, linear(20, 6) + linear(6, C)),
    ],
    ids=["conv 2x4", "conv 3x2", "mlp 16-8", "mlp 6"],
)
def test_backbone_spec_of_the_config_shapes_the_backbone(images, tmp_path, spec, expected):
    modality = "image" if spec["type"] == "conv" else "vec"
    config = {"datasets": {"images": {"kind": "hdf5", "path": str(images),
                                      "modalities": ["image", "vec"],
                                      "backbones": {modality: spec}}}}  # fmt: skip
    built = dataset_instances(config)["images"]["backbones"][modality]
    training = training_params(schema_defaults("backbone_training") | {"epochs": 1, "min_steps": 0})
    m = run_train_backbone(
        str(images), str(tmp_path / "b.pt"), str(tmp_path / "b.json"), dataset="images",
        modality=modality, spec=built, training=training, seed=0, device="cpu", threads=1,
    )  # fmt: skip
    assert m["n_parameters"] == expected
    widths = [spec["channels"] * 2**b for b in range(spec["blocks"])] if "blocks" in spec else None
    assert m["tap_sizes"] == (widths or spec["hidden"])
    assert json.loads((tmp_path / "b.json").read_text())["n_parameters"] == expected
