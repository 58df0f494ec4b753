"""Batched fusion networks (paper Eq. 1-2) and the shared weight bank."""

from pathlib import Path

import numpy as np
import pytest
import torch
from test_search import write_digit_features

from mfas_core.search.batched import BatchedFusion, WeightBank
from mfas_core.search.trainer import (
    FlatAdam,
    load_fusion_data,
    plan_chunks,
    score_logits,
    train_candidates,
    write_back,
)

torch.set_num_threads(1)  # 2 shared cores: oversubscribed OpenMP threads only spin

TRAIN = dict(epochs=6, width=16, dropout=0.5, lr=1e-2, weight_decay=1e-4, batch_size=32,
             nonlinearities=["relu", "sigmoid", "leakyrelu"])  # fmt: skip
ARCHS = [((3, 2, 1), (1, 1, 2)), ((1, 1, 3), (2, 2, 1)), ((2, 1, 2), (3, 2, 3))]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return load_fusion_data(*write_digit_features(tmp_path_factory.mktemp("digits")))


def test_batched_model_computes_eq_1_and_2_for_each_candidate(data):
    model = BatchedFusion(ARCHS, data.sizes, 16, 10, TRAIN["nonlinearities"])
    model.init_candidates([torch.Generator().manual_seed(i) for i in range(3)], None)
    x, y = data.x[0]["val"][:, :20], data.x[1]["val"][:, :20]
    out = model([x, y])
    acts = [torch.relu, torch.sigmoid, lambda z: torch.nn.functional.leaky_relu(z, 0.01)]
    for k, arch in enumerate(ARCHS):
        h = None
        for layer, (m, n, p) in enumerate(arch):
            parts = [x[m - 1, :, : data.sizes[0][m - 1]], y[n - 1, :, : data.sizes[1][n - 1]]]
            w, b = model.get_layer(k, layer)
            h = acts[p - 1](torch.cat(parts + ([h] if h is not None else []), 1) @ w + b)
        expected = h @ model.wo[k].detach() + model.bo[k].detach()
        assert torch.allclose(out[k], expected, atol=1e-5)


def test_batched_training_gives_each_candidate_its_score_when_trained_alone(data):
    together = train_candidates(ARCHS, data, seed=5, **TRAIN)
    for k, arch in enumerate(ARCHS):
        alone = train_candidates([arch], data, seed=5, **TRAIN)
        assert alone.scores[0] == pytest.approx(
            together.scores[k], abs=1.5 / len(data.labels["val"])
        )
        for (wa, ba), (wt, bt) in zip(alone.layers[0], together.layers[k], strict=True):
            assert torch.allclose(wa, wt, atol=1e-4) and torch.allclose(ba, bt, atol=1e-4)
    assert max(together.scores) > 0.5  # it really learned something on real digits


def test_candidates_split_over_two_worker_processes_train_as_in_one(data):
    one = train_candidates(ARCHS, data, seed=5, **TRAIN)
    two = train_candidates(ARCHS, data, seed=5, workers=2, **TRAIN)
    assert two.bank_keys == one.bank_keys
    assert two.scores == pytest.approx(one.scores, abs=1.5 / len(data.labels["val"]))
    for got, want in zip(two.layers, one.layers, strict=True):
        for (wg, bg), (ww, bw) in zip(got, want, strict=True):
            assert torch.allclose(wg, ww, atol=1e-4) and torch.allclose(bg, bw, atol=1e-4)


def test_more_workers_than_candidates_gives_one_candidate_per_process(data):
    one = train_candidates(ARCHS, data, seed=5, **TRAIN)
    many = train_candidates(ARCHS, data, seed=5, workers=8, **TRAIN)
    assert many.bank_keys == one.bank_keys
    assert many.scores == pytest.approx(one.scores, abs=1.5 / len(data.labels["val"]))


MIXED = [((1, 1, 1),), ((3, 2, 1), (1, 1, 2)), ((2, 2, 2),), ((1, 2, 3), (2, 1, 1), (3, 1, 2))]


def test_plan_trains_every_depth_in_one_net_and_splits_it_into_contiguous_chunks():
    assert plan_chunks(MIXED, 1) == [[[0, 1, 2, 3]]]
    assert plan_chunks(MIXED, 2) == [[[0, 1]], [[2, 3]]]
    assert plan_chunks(ARCHS, 2) == [[[0, 1]], [[2]]]
    assert plan_chunks(MIXED, 2) == plan_chunks(list(MIXED), 2)


def test_mixed_depth_net_trains_each_candidate_as_its_own_depth_net_does(data):
    """One net of depths 1, 2, 1, 3 against one net per depth: same weights, same scores."""
    mixed = train_candidates(MIXED, data, seed=5, **TRAIN)
    by_depth = {}
    for depth in (1, 2, 3):
        idx = [i for i, a in enumerate(MIXED) if len(a) == depth]
        res = train_candidates([MIXED[i] for i in idx], data, seed=5, **TRAIN)
        by_depth |= {i: (res.scores[j], res.layers[j], res.bank_keys[j]) for j, i in enumerate(idx)}
    for k, arch in enumerate(MIXED):
        score, layers, keys = by_depth[k]
        assert mixed.bank_keys[k] == keys and len(mixed.layers[k]) == len(arch)
        assert mixed.scores[k] == pytest.approx(score, abs=1.5 / len(data.labels["val"]))
        for (wm, bm), (wd, bd) in zip(mixed.layers[k], layers, strict=True):
            assert torch.allclose(wm, wd, atol=1e-5) and torch.allclose(bm, bd, atol=1e-5)


def test_a_candidate_of_a_mixed_depth_net_stands_alone_with_its_own_depth(data):
    from mfas_core.models.mfas_net import MFASNet

    model = BatchedFusion(MIXED, data.sizes, 16, 10, TRAIN["nonlinearities"])
    model.init_candidates([torch.Generator().manual_seed(i) for i in range(4)], None)
    xs = [data.x[0]["val"][:, :20], data.x[1]["val"][:, :20]]
    with torch.no_grad():
        out = model(xs)
        for k in range(len(MIXED)):
            net = MFASNet.from_batched(model, k).eval()
            torch.testing.assert_close(net(*(x.transpose(0, 1) for x in xs)), out[k])


def test_mixed_depth_forward_reads_each_candidates_own_last_layer(data):
    model = BatchedFusion(MIXED, data.sizes, 16, 10, TRAIN["nonlinearities"])
    model.init_candidates([torch.Generator().manual_seed(i) for i in range(4)], None)
    xs = [data.x[0]["val"][:, :20], data.x[1]["val"][:, :20]]
    out = model(xs)
    for k, arch in enumerate(MIXED):
        alone = BatchedFusion([arch], data.sizes, 16, 10, TRAIN["nonlinearities"])
        alone.init_candidates([torch.Generator().manual_seed(k)], None)
        assert torch.allclose(out[k], alone(xs)[0], atol=1e-6)


def test_mixed_depths_give_each_candidate_its_score_when_trained_alone(data):
    for workers in (1, 2):
        mixed = train_candidates(MIXED, data, seed=5, workers=workers, **TRAIN)
        for k, arch in enumerate(MIXED):
            alone = train_candidates([arch], data, seed=5, **TRAIN)
            assert alone.scores[0] == pytest.approx(
                mixed.scores[k], abs=1.5 / len(data.labels["val"])
            )
            assert mixed.bank_keys[k] == alone.bank_keys[0]


def test_trained_layer_comes_back_with_its_true_input_width(data):
    res = train_candidates([((1, 1, 1),)], data, seed=0, **TRAIN)
    w, _ = res.layers[0][0]
    assert w.shape == (data.sizes[0][0] + data.sizes[1][0], 16)


def test_bank_key_match_starts_from_bank_weights(data):
    bank = WeightBank()
    arch = ((2, 1, 1),)
    in_size = data.sizes[0][1] + data.sizes[1][0]
    w, b = torch.full((in_size, 16), 0.01), torch.full((16,), -0.5)
    bank.put(WeightBank.key(0, in_size, 16, "relu"), w, b)
    model = BatchedFusion([arch, ((1, 1, 1),)], data.sizes, 16, 10, ["relu"])
    model.init_candidates([torch.Generator().manual_seed(0)] * 2, bank)
    assert torch.equal(model.get_layer(0, 0)[0], w) and not torch.equal(model.get_layer(1, 0)[1], b)


def test_write_back_keeps_the_best_candidate_per_key(data, tmp_path: Path):
    res = train_candidates([((1, 1, 1),), ((1, 2, 1),)], data, seed=0, **TRAIN)
    res.scores = [0.3, 0.9]
    res.bank_keys = [["same"], ["same"]]
    bank = WeightBank()
    assert write_back(bank, res) == 1
    assert torch.equal(bank.get("same")[0], res.layers[1][0][0])
    bank.save(tmp_path / "bank.pt")
    assert torch.equal(WeightBank.load(tmp_path / "bank.pt").get("same")[1], res.layers[1][0][1])


def test_multilabel_scores_match_sklearn_weighted_and_macro_f1():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    y = (rng.random((200, 6)) < 0.3).astype(np.float32)
    logits = torch.from_numpy(rng.normal(size=(2, 200, 6)).astype(np.float32))
    weighted, macro = score_logits("multi", logits, torch.from_numpy(y))
    for k in range(2):
        pred = (logits[k] > 0).numpy()
        assert weighted[k] == pytest.approx(f1_score(y, pred, average="weighted", zero_division=0))
        assert macro[k] == pytest.approx(f1_score(y, pred, average="macro", zero_division=0))


@pytest.mark.parametrize(
    "archs",
    [ARCHS, [((1, 1, 1), (2, 1, 1)), ((2, 1, 2), (1, 1, 2))]],
    ids=["mixed-activations", "one-activation-per-layer"],
)
def test_hand_written_backward_matches_autograd(data, archs):
    xs = [x["train"][:, :32] for x in data.x]
    check_backward_against_autograd(archs, xs, data.sizes, data.labels["train"][:32])


def check_backward_against_autograd(archs, xs, sizes, target):
    """FastStep's gradients equal autograd's through BatchedFusion.forward (with dropout)."""
    k, bsz = len(archs), len(target)
    model = BatchedFusion(archs, sizes, 16, 10, TRAIN["nonlinearities"])
    model.init_candidates([torch.Generator().manual_seed(i) for i in range(k)], None)
    drop = (torch.rand(2, k, bsz, 16, generator=torch.Generator().manual_seed(0)) > 0.5) * 2.0
    logits = model(xs, drop)
    loss = sum(torch.nn.functional.cross_entropy(out, target) for out in logits)
    loss.backward()
    params = [*model.wt, model.b, model.wh, model.wo, model.bo]
    expected = [p.grad.clone() for p in params]
    flat = model.flatten_parameters()

    def dlogits_t(logits_t):  # [K, C, B] layout
        torch.testing.assert_close(logits_t.transpose(1, 2), logits.detach())
        p = torch.softmax(logits_t, 1)
        p[:, target, torch.arange(bsz)] -= 1
        return p / bsz

    gathered = [x.index_select(0, taps) for x, taps in zip(xs, model.taps, strict=True)]
    model.train_step_grads(gathered, drop, dlogits_t)
    assert flat.grad.abs().sum() > 0
    for got, want in zip(model._grads, expected, strict=True):
        assert torch.allclose(got, want, atol=1e-5)


def three_modal_taps(batch=32, seed=0):
    """Padded taps of three modalities (tap widths SIZES3) and labels, as load_fusion_data
    lays them out: per modality [M_i, B, D_i], zeros beyond each tap's width."""
    g = torch.Generator().manual_seed(seed)
    xs = []
    for widths in SIZES3:
        x = torch.zeros(len(widths), batch, max(widths))
        for t, d in enumerate(widths):
            x[t, :, :d] = torch.randn(batch, d, generator=g)
        xs.append(x)
    return xs, torch.randint(0, 10, (batch,), generator=g)


SIZES3 = [[5, 9], [7, 4, 6], [3, 8]]
ARCHS3 = [((2, 3, 1, 1), (1, 1, 2, 2)), ((1, 2, 2, 3), (2, 3, 1, 1)), ((2, 1, 1, 2), (1, 2, 2, 3))]


def test_three_modal_hand_written_backward_matches_autograd():
    xs, target = three_modal_taps()
    check_backward_against_autograd(ARCHS3, xs, SIZES3, target)


def test_three_modal_candidate_computes_the_plain_module_on_every_modality():
    from mfas_core.models.mfas_net import MFASNet

    xs, _ = three_modal_taps(batch=9)
    model = BatchedFusion(ARCHS3, SIZES3, 16, 10, TRAIN["nonlinearities"]).eval()
    model.init_candidates([torch.Generator().manual_seed(i) for i in range(3)], None)
    with torch.no_grad():
        out = model(xs)
        for k in range(3):
            net = MFASNet.from_batched(model, k).eval()
            torch.testing.assert_close(net(*(x.transpose(0, 1) for x in xs)), out[k])
        xs[1][2] += 1.0  # tap 3 of modality 2: read by candidates 1 and 2, not by 3
        moved = model(xs)
    assert not torch.allclose(moved[0], out[0]) and not torch.allclose(moved[1], out[1])
    torch.testing.assert_close(moved[2], out[2])


@pytest.mark.parametrize("fused", [True, False])
def test_flat_adam_matches_torch_adam_with_l2_weight_decay(fused):
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(50, generator=gen)
    grads = [torch.randn(50, generator=gen) for _ in range(5)]
    ref = torch.nn.Parameter(start.clone())
    torch_adam = torch.optim.Adam([ref], lr=1e-2, weight_decay=1e-3)
    param, grad = start.clone(), torch.zeros(50)
    flat = FlatAdam(param, grad, weight_decay=1e-3)
    flat.fused = fused and flat.fused
    for g in grads:
        ref.grad = g.clone()
        torch_adam.step()
        grad.copy_(g)
        flat.step(1e-2)
    assert torch.allclose(param, ref.detach(), atol=1e-6)
