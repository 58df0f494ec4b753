"""DMF networks (mfas_core.dmf): structure (paper Eq. 1-4), training, checkpoints.

Real data: scikit-learn's 8x8 digits split into left and right halves (the paper's MNIST toy
setup in small), written through the same dataset layout the workflow uses.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import dmf_settings
from sklearn.datasets import load_digits

from mfas_core.data.schema import write_dataset
from mfas_core.dmf.cd import BernoulliRBM, CDSettings, pretrain_cd, train_rbm
from mfas_core.dmf.nets import FusionNet, count_parameters, graph_spec, load_net, pathway_sizes
from mfas_core.dmf.pairs import load_pairs
from mfas_core.dmf.settings import DMFSettings
from mfas_core.dmf.train import _drop_modality, error_rates, fit, input_conditions, train_dmf
from mfas_core.errors import InputError

SMALL = {"modality_sizes": [32, 16], "shared_sizes": [48, 32, 16]}
TRAIN = {
    "max_epochs": 25,
    "patience": 25,
    "batch_size": 64,
    "lr": 1e-2,
    "min_steps": 0,
}
TRAIN["encdec_lr"], TRAIN["encdec_max_epochs"] = 1e-2, 25


def write_digit_halves(path, damage: float = 0.0):
    """load_digits as left/right 8x4 halves (raw 0..16 values), right half damaged at `damage`."""
    digits = load_digits()
    img, y = digits.images.astype(np.float32), digits.target.astype(np.int64)
    order = np.random.RandomState(0).permutation(len(y))
    img, y = img[order], y[order]
    right = img[:, :, 4:].reshape(len(y), -1)
    right = right * (np.random.RandomState(1).rand(*right.shape) >= damage)
    mods = {"left": img[:, :, :4].reshape(len(y), -1), "right": right.astype(np.float32)}
    cuts = {"train": slice(0, 1200), "val": slice(1200, 1400), "test": slice(1400, None)}
    write_dataset(
        path,
        {s: {m: a[c] for m, a in mods.items()} for s, c in cuts.items()},
        {s: y[c] for s, c in cuts.items()},
        name="digit_halves",
        kind="hdf5",
        classes=[str(i) for i in range(10)],
        sources={},
        params={"damage": damage},
    )
    return path


@pytest.fixture(scope="module")
def digits_h5(tmp_path_factory):
    return write_digit_halves(tmp_path_factory.mktemp("dmf") / "digits.h5")


def train(digits_h5, out, model="dmf", variant="disc", seed=0, **kw):
    args = {**SMALL, **TRAIN, **kw}
    if isinstance(args.get("cd_pretrain"), bool):
        args["cd_pretrain"] = [variant] if args["cd_pretrain"] else []
    return train_dmf(
        digits_h5,
        out / f"{model}_{variant}_{seed}.pt",
        out / f"{model}_{variant}_{seed}.json",
        dataset="digits",
        variant=variant,
        model=model,
        seed=seed,
        **dmf_settings(variant, **args),
    )


def test_dmf_shared_layer_takes_both_modality_layers_and_the_previous_shared_layer():
    nodes, edges = graph_spec("dmf", (392, 392), [512, 128], [512, 256, 64])
    assert {s for s, t in edges if t == "s1"} == {"x1", "y1"}
    assert {s for s, t in edges if t == "s2"} == {"x2", "y2", "s1"}
    assert {s for s, t in edges if t == "s3"} == {"x3", "y3", "s2"}
    assert [nodes[n] for n in ("x1", "x2", "x3", "s1", "s2", "s3")] == [392, 512, 128, 512, 256, 64]


def test_imf_fuses_once_on_top_and_emf_fuses_the_inputs():
    _, imf = graph_spec("imf", (392, 392), [512, 128], [512, 256, 64])
    assert [(s, t) for s, t in imf if t.startswith("s")] == [("x3", "s3"), ("y3", "s3")]
    _, emf = graph_spec("emf", (392, 392), [512, 128], [512, 256, 64])
    assert emf == [("x1", "s1"), ("y1", "s1"), ("s1", "s2"), ("s2", "s3")]


def test_dmf_forward_follows_eq3_with_sigmoid_units():
    torch.manual_seed(0)
    net = FusionNet("dmf", (6, 5), [4], [7, 3])
    x, y = torch.rand(2, 6), torch.rand(2, 5)
    act = net.encode_all(x, y)
    w, b = net.enc["s2"].weight, net.enc["s2"].bias
    hx2 = torch.sigmoid(x @ net.enc["x2"].weight.T + net.enc["x2"].bias)
    assert torch.allclose(act["x2"], hx2)
    # s2 = f(W^{x->s} h^x_2 + W^{y->s} h^y_2 + W^s s1): column blocks of one weight matrix
    manual = torch.sigmoid(
        act["x2"] @ w[:, :4].T + act["y2"] @ w[:, 4:8].T + act["s1"] @ w[:, 8:].T + b
    )
    assert torch.allclose(act["s2"], manual, atol=1e-6)
    assert torch.equal(net.encode(x, y), act["s2"])


def test_paper_sizes_give_dmf_two_to_three_times_the_parameters_of_imf():
    sizes = ((392, 392), [512, 128], [512, 256, 64])
    emf, imf, dmf = (count_parameters(FusionNet(m, *sizes)) for m in ("emf", "imf", "dmf"))
    assert emf == 784 * 512 + 512 + 512 * 256 + 256 + 256 * 64 + 64
    assert imf == 2 * (392 * 512 + 512 + 512 * 128 + 128) + 256 * 64 + 64
    assert 2.0 < dmf / imf < 3.0  # paper §4.1: "about 2-3 times larger"


def test_shared_sizes_need_one_width_per_level():
    with pytest.raises(ValueError, match="shared_sizes"):
        graph_spec("dmf", (10, 10), [8, 4], [8, 4])


def test_decoder_reconstructs_both_inputs_in_the_unit_range():
    net = FusionNet("dmf", (6, 5), [4, 3], [7, 5, 2], decoder=True)
    rx, ry = net.decode(net.encode(torch.rand(3, 6), torch.rand(3, 5)))
    assert rx.shape == (3, 6) and ry.shape == (3, 5)
    assert float(rx.detach().min()) >= 0 and float(ry.detach().max()) <= 1


def test_single_modality_conditions_zero_the_other_input():
    x, y = np.ones((4, 3), np.float32), np.full((4, 2), 2.0, np.float32)
    conds = input_conditions([x, y], ["left", "right"])
    assert set(conds) == {"both", "only_left", "only_right"}
    assert not conds["only_right"][0].any() and (conds["only_right"][1] == 2).all()
    assert not conds["only_left"][1].any() and (conds["only_left"][0] == 1).all()


def test_modality_dropout_zeroes_exactly_one_modality_of_about_p_of_the_pairs():
    x, y = torch.ones(4000, 3), torch.ones(4000, 2)
    dx, dy = _drop_modality([x, y], 0.3, torch.Generator().manual_seed(0))
    gone_x, gone_y = dx.sum(1) == 0, dy.sum(1) == 0
    assert not (gone_x & gone_y).any()
    assert abs(float((gone_x | gone_y).float().mean()) - 0.3) < 0.03
    assert abs(float(gone_x.float().mean()) - 0.15) < 0.03


def test_inputs_are_scaled_into_the_unit_range_with_the_training_range(digits_h5):
    data, info = load_pairs(digits_h5)
    assert info["modalities"] == ["left", "right"]
    for split in ("train", "test"):
        x, y, _ = data[split]
        assert x.shape[1] == 32 and y.shape[1] == 32
        assert x.min() >= 0 and x.max() <= 1 and y.max() <= 1
    assert data["train"][0].max() == 1.0


def test_max_train_keeps_a_seeded_subset(digits_h5):
    a, _ = load_pairs(digits_h5, max_train=300, seed=1)
    b, _ = load_pairs(digits_h5, max_train=300, seed=1)
    c, _ = load_pairs(digits_h5, max_train=300, seed=2)
    assert len(a["train"][2]) == 300 and len(a["test"][2]) == 397
    assert np.array_equal(a["train"][0], b["train"][0])
    assert not np.array_equal(a["train"][0], c["train"][0])


@pytest.mark.parametrize("model", ["emf", "imf", "dmf"])
def test_discriminative_networks_learn_the_digit_halves(digits_h5, tmp_path, model):
    m = train(digits_h5, tmp_path, model=model)
    assert m["test_error"]["both"] < 15.0
    assert m["history"][-1]["train_loss"] < m["history"][0]["train_loss"]
    # one half alone keeps some of the information, far from both halves but above chance (90%)
    assert m["test_error"]["both"] < m["test_error"]["only_right"] < 90.0


def test_dmf_training_is_deterministic_for_a_seed_run_after_another_seed(digits_h5, tmp_path):
    # b runs after another seed's run in the same process, as in a train_dmf job (all seeds
    # in one process): nothing may carry over.
    a = train(digits_h5, tmp_path / "a", max_epochs=3, min_steps=0)
    c = train(digits_h5, tmp_path / "c", max_epochs=3, min_steps=0, seed=1)
    b = train(digits_h5, tmp_path / "b", max_epochs=3, min_steps=0)
    assert a["history"] == b["history"] and a["test_error"] == b["test_error"]
    assert a["history"] != c["history"]


def test_checkpoint_reproduces_the_reported_test_error(digits_h5, tmp_path):
    m = train(digits_h5, tmp_path, model="imf", max_epochs=4)
    net, ckpt = load_net(tmp_path / "imf_disc_0.pt")
    data, _ = load_pairs(digits_h5, scaler=ckpt["scaler"])
    x, y, labels = data["test"]
    assert error_rates(net, [x, y], labels, ckpt["modalities"], "cpu") == m["test_error"]
    saved = json.loads((tmp_path / "imf_disc_0.json").read_text())
    assert saved["n_params"] == count_parameters(net) and saved["variant"] == "disc"


def test_min_steps_gives_small_training_sets_a_higher_epoch_cap(digits_h5, tmp_path):
    m = train(digits_h5, tmp_path, model="emf", max_epochs=1, min_steps=60, batch_size=100)
    assert m["max_epochs"] == 5 and len(m["history"]) == 5  # 12 steps per epoch


def test_encoder_decoder_learns_to_reconstruct_without_labels(digits_h5, tmp_path):
    m = train(
        digits_h5, tmp_path, variant="encdec", modality_dropout=0.3, encdec_max_epochs=8,
        cd_pretrain=False,
    )  # fmt: skip
    losses = [h["train_loss"] for h in m["history"]]
    assert losses[-1] < 0.9 * losses[0]
    assert "test_error" not in m and m["modality_dropout"] == 0.3
    net, _ = load_net(tmp_path / "dmf_encdec_0.pt")
    assert net.classifier is None and net.dec is not None


def test_cd1_training_lowers_the_reconstruction_error_of_real_digits(digits_h5):
    data, _ = load_pairs(digits_h5)
    v = torch.from_numpy(np.hstack(data["train"][:2]))
    gen = torch.Generator().manual_seed(0)
    untrained = BernoulliRBM(v.shape[1], 32, torch.Generator().manual_seed(0))
    rbm = train_rbm(v, 32, CDSettings(k=1, epochs=5, lr=0.05, batch_size=64), gen)
    assert rbm.reconstruction_error(v) < 0.5 * untrained.reconstruction_error(v)


@pytest.mark.parametrize("k", [1, 3])
def test_cd_k_runs_k_gibbs_steps_per_update(k):
    rbm = BernoulliRBM(6, 4, torch.Generator().manual_seed(0))
    rbm.cd_step(torch.rand(8, 6), k=k, lr=0.1)
    assert rbm.gibbs_steps == k


def test_cd_pretraining_initialises_every_unit_on_the_activations_below_it(digits_h5):
    data, _ = load_pairs(digits_h5)
    x, y = data["train"][0], data["train"][1]
    net = FusionNet("dmf", (32, 32), [16], [24, 8], decoder=True)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    pretrain_cd(net, [x, y], CDSettings(epochs=1), seed=0)
    for name in net.enc:
        assert not torch.equal(before[f"enc.{name}.weight"], net.enc[name].weight), name
    # s2 is an RBM over [x2; y2; s1]: its hidden probabilities are the node's activations
    act = net.encode_all(torch.from_numpy(x), torch.from_numpy(y))
    v = torch.cat([act["x2"], act["y2"], act["s1"]], dim=1)
    rbm = BernoulliRBM(v.shape[1], 8, torch.Generator())
    rbm.weight.data, rbm.h_bias.data = net.enc["s2"].weight.data, net.enc["s2"].bias.data
    assert torch.allclose(rbm.hidden(v), act["s2"], atol=1e-6)
    # the decoder starts from the transposed weights (tied initialisation)
    s1 = net.enc["s1"].weight  # [24, 32 + 32] over [x1; y1]
    x1_from_s1 = net.dec["x1"].weight[:, -24:]  # x1's decoder reads [x2; s1]
    assert torch.equal(x1_from_s1, s1[:, :32].T)


def test_cd_initialised_training_fine_tunes_and_is_recorded(digits_h5, tmp_path):
    m = train(digits_h5, tmp_path, model="dmf", cd_pretrain=True, cd_epochs=3)
    assert m["cd_pretrain"] is True and set(m["cd_error"]) == {
        "x2",
        "y2",
        "s1",
        "s2",
        "s3",
        "x3",
        "y3",
    }
    assert m["test_error"]["both"] < 20.0  # chance is 90 %


def test_early_stopping_restores_the_best_validation_weights(digits_h5):
    data, info = load_pairs(digits_h5)
    torch.manual_seed(0)
    net = FusionNet("dmf", (32, 32), [16], [24, 10], n_classes=10)
    settings = DMFSettings.from_params(
        **dmf_settings("disc", patience=2, batch_size=64, val_max=200), threads=None
    )
    history, best = fit(
        net, data, info["modalities"], settings, variant="disc", seed=0, max_epochs=40,
        lr=0.05, device="cpu",
    )  # fmt: skip
    val = [h["val_acc"] for h in history]
    assert best == 1 + int(np.argmax(val)) and len(history) == best + 2 < 40  # stopped early
    vx, vy, vl = data["val"]
    restored = np.mean(np.asarray(net(torch.from_numpy(vx), torch.from_numpy(vy)).argmax(1)) == vl)
    assert restored == val[best - 1] != val[-1]


def test_pathways_of_inputs_narrower_than_the_papers_are_scaled_down():
    assert pathway_sizes((392, 392), [512, 128], [512, 256, 64]) == ([512, 128], [512, 256, 64])
    mods, shared = pathway_sizes((240, 76), [512, 128], [512, 256, 64])
    assert mods == [313, 78] and shared == [512, 256, 64]
    assert pathway_sizes((10, 10), [512, 128], [64, 32, 16])[0] == [16, 16]  # never below the code


def test_a_file_that_is_not_a_checkpoint_raises_input_error_naming_it(tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_text("not a checkpoint")
    with pytest.raises(InputError, match="model.pt: checkpoint"):
        load_net(bad)


def test_cd_pretraining_is_chosen_per_variant():
    assert dmf_settings("encdec", cd_pretrain=["encdec"])["cd"] is not None
    assert dmf_settings("disc", cd_pretrain=["encdec"])["cd"] is None
    assert dmf_settings("disc", cd_pretrain=["disc", "encdec"])["cd"]["k"] == 1
