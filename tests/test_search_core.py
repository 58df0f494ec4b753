"""The search's training core, through its public pieces (train_candidates, WeightBank,
write_back, Surrogate, cosine_restart_lr): schedule values, dropout, multi-label pos_weight,
weight sharing, the surrogate's learning, and seeds reaching every random draw.

Runs on the small real-digit feature files of test_search.write_digit_features.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from test_search import write_digit_features

from mfas_core.search.batched import WeightBank
from mfas_core.search.space import SearchSpace
from mfas_core.search.surrogate import Surrogate
from mfas_core.search.trainer import (
    _dropout_keep,
    cosine_restart_lr,
    load_fusion_data,
    train_candidates,
    write_back,
)

torch.set_num_threads(1)

TRAIN = dict(epochs=2, width=8, dropout=0.0, lr=1e-2, weight_decay=1e-4, batch_size=64,
             nonlinearities=["relu", "sigmoid", "leakyrelu"])  # fmt: skip
A, B = ((1, 1, 1), (2, 2, 1)), ((1, 1, 1), (3, 1, 2))  # same first layer: they share its key


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return load_fusion_data(*write_digit_features(tmp_path_factory.mktemp("d"), n=600))


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    return load_fusion_data(*write_digit_features(tmp_path_factory.mktemp("m"), multi=True))


def same_layers(r1, r2) -> bool:
    return all(
        torch.equal(w1, w2) and torch.equal(b1, b2)
        for l1, l2 in zip(r1.layers, r2.layers, strict=True)
        for (w1, b1), (w2, b2) in zip(l1, l2, strict=True)
    )


# --- learning-rate schedule ----------------------------------------------------------------


def test_cosine_restarts_after_one_epoch_then_after_two_more():
    lr = cosine_restart_lr(steps_per_epoch=2, epochs=4, lr=1.0, eta_min=0.0)
    half = (1 + math.cos(math.pi / 4)) / 2
    expected = [1.0, 0.5, 1.0, half, 0.5, 1 - half, 1.0, None]  # restarts at epochs 1 and 3
    assert lr[:7] == pytest.approx(expected[:7])
    assert len(lr) == 8


def torch_warm_restart_lr(t: float, lr: float, eta_min: float, t0: float = 1, mult: float = 2):
    """torch's CosineAnnealingWarmRestarts closed form at fractional epoch t (its step(t))."""
    n = int(math.log(t / t0 * (mult - 1) + 1, mult)) if t >= t0 else 0
    t_cur = t - t0 * (mult**n - 1) / (mult - 1) if t >= t0 else t
    t_i = t0 * mult**n
    return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


def test_cosine_schedule_matches_torchs_warm_restarts_stepped_per_batch():
    steps, epochs = 5, 7
    got = cosine_restart_lr(steps, epochs, 0.1, eta_min=1e-6)
    want = [
        torch_warm_restart_lr(e + s / steps, 0.1, 1e-6) for e in range(epochs) for s in range(steps)
    ]
    assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_cosine_schedule_never_leaves_its_range():
    lr = cosine_restart_lr(7, 15, 3e-3, eta_min=1e-5)
    assert lr.max() == pytest.approx(3e-3) and lr.min() >= 1e-5


# --- dropout --------------------------------------------------------------------------------


def test_dropout_masks_keep_half_and_double_the_kept_units():
    gens = [torch.Generator().manual_seed(s) for s in (1, 2)]
    keep, scale = _dropout_keep(gens, depths=[2, 2], steps=3, batch=50, width=40, p=0.5)
    assert keep.shape == (3, 2, 2, 50, 40)
    assert set(keep.unique().tolist()) == {0.0, 1.0}
    assert keep.mean().item() == pytest.approx(0.5, abs=0.02) and scale == 2.0
    assert not torch.equal(keep[:, :, 0], keep[:, :, 1])  # each candidate its own masks


@pytest.mark.parametrize("p", [0.2, 0.7])
def test_dropout_masks_keep_about_1_minus_p_for_any_p(p):
    keep, scale = _dropout_keep([torch.Generator().manual_seed(1)], [2], 3, 50, 40, p)
    assert keep.mean().item() == pytest.approx(1 - p, abs=0.015)
    assert scale == pytest.approx(1 / (1 - p), rel=0.01)


def test_dropout_masks_come_from_the_candidates_generator():
    make = lambda s: _dropout_keep([torch.Generator().manual_seed(s)], [1], 2, 8, 8, 0.5)[0]  # noqa: E731
    assert torch.equal(make(5), make(5)) and not torch.equal(make(5), make(6))


def test_a_candidates_dropout_masks_do_not_depend_on_the_depths_beside_it():
    gen = lambda: [torch.Generator().manual_seed(3), torch.Generator().manual_seed(4)]  # noqa: E731
    alone, _ = _dropout_keep(gen()[1:], [2], 3, 8, 8, 0.5)
    beside, _ = _dropout_keep(gen(), [4, 2], 3, 8, 8, 0.5)
    assert beside.shape == (3, 4, 2, 8, 8)
    assert torch.equal(beside[:, :2, 1], alone[:, :, 0])
    assert not beside[:, 2:, 1].any()  # above its last layer: never read, zero


def test_dropout_changes_training_and_is_reproducible(data):
    off = train_candidates([A], data, seed=0, **TRAIN)
    on = train_candidates([A], data, seed=0, **{**TRAIN, "dropout": 0.5})
    again = train_candidates([A], data, seed=0, **{**TRAIN, "dropout": 0.5})
    assert not same_layers(off, on)
    assert same_layers(on, again) and on.scores == again.scores


# --- multi-label ----------------------------------------------------------------------------


def test_multilabel_pos_weight_is_negatives_over_positives_per_label(multi):
    y = multi.labels["train"]
    pos = y.sum(0)
    assert multi.pos_weight == pytest.approx((len(y) - pos) / pos)
    assert multi.pos_weight.shape == (y.shape[1],)


def test_multilabel_pos_weight_changes_the_training(multi):
    res = train_candidates([A], multi, seed=0, **TRAIN)
    multi.pos_weight, saved = torch.ones_like(multi.pos_weight), multi.pos_weight
    try:
        flat = train_candidates([A], multi, seed=0, **TRAIN)
    finally:
        multi.pos_weight = saved
    assert not same_layers(res, flat)


# --- weight sharing -------------------------------------------------------------------------


def test_weight_sharing_changes_the_result(data):
    first = train_candidates([A], data, seed=0, **TRAIN)
    bank = WeightBank()
    write_back(bank, first)
    shared = train_candidates([B], data, seed=1, bank=bank, **TRAIN)
    alone = train_candidates([B], data, seed=1, **TRAIN)
    assert not same_layers(shared, alone)


def test_candidates_of_one_step_read_the_bank_as_it_was_before_the_step(data):
    bank = WeightBank()
    write_back(bank, train_candidates([A], data, seed=0, **TRAIN))
    before = {k: (w.clone(), b.clone()) for k, (w, b) in bank.entries.items()}
    together = train_candidates([A, B], data, seed=3, bank=bank, **TRAIN)
    for k, (w, b) in bank.entries.items():  # training does not write into the bank
        assert torch.equal(w, before[k][0]) and torch.equal(b, before[k][1])
    for i, arch in enumerate([A, B]):  # each starts from the same stored layer
        alone = train_candidates([arch], data, seed=3, bank=WeightBank(dict(before)), **TRAIN)
        for (wa, ba), (wt, bt) in zip(alone.layers[0], together.layers[i], strict=True):
            assert torch.allclose(wa, wt, atol=1e-5) and torch.allclose(ba, bt, atol=1e-5)


def test_a_stored_layer_is_the_starting_point_of_a_matching_candidate(data):
    res = train_candidates([A], data, seed=0, **{**TRAIN, "epochs": 0})
    key = res.bank_keys[0][0]
    w, b = res.layers[0][0]
    bank = WeightBank({key: (torch.full_like(w, 0.01), torch.full_like(b, -0.02))})
    got = train_candidates([A], data, seed=0, bank=bank, **{**TRAIN, "epochs": 0})
    assert torch.equal(got.layers[0][0][0], torch.full_like(w, 0.01))
    assert torch.equal(got.layers[0][0][1], torch.full_like(b, -0.02))
    assert not torch.equal(got.layers[0][1][0], res.layers[0][1][0]) or key != got.bank_keys[0][1]


# --- surrogate ------------------------------------------------------------------------------


SPACE = SearchSpace((3, 2), 3, 2)


def test_surrogate_predictions_move_towards_the_scores_it_was_updated_with():
    archs = SPACE.level_one()
    scores = np.array([0.2 + 0.1 * m + 0.1 * p for ((m, _, p),) in archs])  # learnable
    sur = Surrogate((3, 2, 3), "onehot", hidden=16, lr=3e-2, seed=0)
    before = sur.predict(archs)
    sur.update(archs, list(scores), epochs=100)
    after = sur.predict(archs)
    assert not np.allclose(before, after)
    assert np.abs(after - scores).mean() < np.abs(before - scores).mean() / 4
    assert np.corrcoef(after, scores)[0, 1] > 0.9


def test_surrogate_initialisation_follows_its_seed_and_leaves_global_draws_alone():
    archs = SPACE.level_one()[:5]
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = Surrogate((3, 2, 3), seed=0).predict(archs)
    assert torch.equal(torch.rand(3), expected_next)  # the global torch stream is untouched
    assert np.array_equal(a, Surrogate((3, 2, 3), seed=0).predict(archs))
    assert not np.array_equal(a, Surrogate((3, 2, 3), seed=1).predict(archs))


# --- seeds ----------------------------------------------------------------------------------


def test_training_depends_on_its_seed_only_not_on_global_random_state(data):
    cfg = {**TRAIN, "dropout": 0.3}
    torch.manual_seed(1)
    np.random.seed(1)
    a = train_candidates([A, B], data, seed=4, **cfg)
    torch.manual_seed(2)
    np.random.seed(2)
    b = train_candidates([A, B], data, seed=4, **cfg)
    c = train_candidates([A, B], data, seed=5, **cfg)
    assert same_layers(a, b) and a.scores == b.scores
    assert not same_layers(a, c)


def test_random_architectures_follow_their_generator():
    draw = lambda s: [SPACE.random_arch(np.random.default_rng(s), 2) for _ in range(5)]  # noqa: E731
    assert draw(0) == draw(0) and draw(0) != draw(1)
    archs = [a for s in range(40) for a in draw(s)]
    for arch in archs:
        SPACE.check(arch)
    for pos, top in enumerate((3, 2, 3)):  # every value of every field turns up
        assert {t[pos] for a in archs for t in a} == set(range(1, top + 1))


# --- search space edges ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "arch, problem",
    [
        ((), "needs 1..2 layers"),
        (((1, 1, 1),) * 3, "needs 1..2 layers"),
        (((0, 1, 1),), r"\(0, 1, 1\) is outside M=3, N=2, P=3"),
        (((4, 1, 1),), r"\(4, 1, 1\) is outside"),
        (((1, 0, 1),), r"\(1, 0, 1\) is outside"),
        (((1, 3, 1),), r"\(1, 3, 1\) is outside"),
        (((1, 1, 0),), r"\(1, 1, 0\) is outside"),
        (((1, 1, 1), (1, 1, 4)), r"\(1, 1, 4\) is outside"),
    ],
)
def test_architectures_outside_the_space_are_rejected_naming_the_triple(arch, problem):
    with pytest.raises(ValueError, match=problem):
        SPACE.check(arch)


def test_the_corners_of_the_space_are_inside():
    for arch in (((1, 1, 1),), ((3, 2, 3),), ((3, 2, 3), (1, 1, 1))):
        SPACE.check(arch)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({"taps": (0, 2)}, "taps of modality 1 must be >= 1, got 0"),
        ({"taps": (3, 0)}, "taps of modality 2 must be >= 1, got 0"),
        ({"p": 0}, "p must be >= 1, got 0"),
        ({"max_layers": 0}, "max_layers must be >= 1, got 0"),
        ({"taps": (3,)}, "needs 2 or more modalities"),
    ],
)
def test_a_space_needs_at_least_one_of_everything(sizes, message):
    with pytest.raises(ValueError, match=f"search space: {re.escape(message)}"):
        SearchSpace(**{"taps": (3, 2), "p": 3, "max_layers": 2, **sizes})


def test_space_counts_and_triples():
    assert SPACE.n_triples == 18 and SPACE.size() == 18**2 and SPACE.size(1) == 18
    assert SPACE.triples()[0] == (1, 1, 1) and SPACE.triples()[-1] == (3, 2, 3)
    assert SPACE.triples()[1] == (1, 1, 2)  # lexicographic: p fastest


def test_extend_keeps_parent_order_and_drops_repeated_parents():
    parents = [((2, 1, 1),), ((1, 1, 1),), ((2, 1, 1),)]
    children = SPACE.extend(parents)
    assert len(children) == 2 * 18
    assert children[0] == ((2, 1, 1), (1, 1, 1)) and children[18] == ((1, 1, 1), (1, 1, 1))


@pytest.mark.parametrize(
    "names, problem",
    [([], "needs distinct names"), (["relu", "relu"], "needs distinct names"),
     (["relu", "tanh"], r"unknown \['tanh'\]")],
)  # fmt: skip
def test_nonlinearity_lists_must_be_known_and_distinct(names, problem):
    from mfas_core.search.space import check_nonlinearities

    with pytest.raises(ValueError, match=f"search.nonlinearities: {problem}"):
        check_nonlinearities(names)


def test_malformed_text_forms_are_rejected():
    from mfas_core.search.space import arch_to_text, text_to_arch

    for text in ("", "a-b-c", "1-2-3_", "1-2", "1-2-3_1-2-3-4"):
        with pytest.raises(ValueError, match="architecture"):
            text_to_arch(text)
    assert arch_to_text(((1, 2, 3),)) == "1-2-3"
    assert text_to_arch("1-2-3_3-2-1") == ((1, 2, 3), (3, 2, 1))


def test_multilabel_gradient_is_that_of_mean_weighted_bce():
    from mfas_core.search.trainer import _dlogits_multi

    gen = torch.Generator().manual_seed(0)
    k, c, b = 2, 3, 5
    logits = torch.randn(k, c, b, generator=gen, requires_grad=True)
    y = (torch.rand(c, b, generator=gen) > 0.5).float()
    pos_weight = torch.tensor([0.5, 2.0, 3.0])
    loss = sum(
        torch.nn.functional.binary_cross_entropy_with_logits(
            logits[i].T, y.T, pos_weight=pos_weight
        )
        for i in range(k)
    )
    loss.backward()
    got = _dlogits_multi(y, (pos_weight.view(-1, 1), b * c), logits.detach().clone())
    assert torch.allclose(got, logits.grad, atol=1e-6)


def test_loaded_surrogate_keeps_its_settings_and_predictions(tmp_path):
    sur = Surrogate((3, 2, 3), "onehot", hidden=12, lr=0.01, seed=3)
    archs = SPACE.level_one()[:6]
    sur.update(archs, [0.1 * i for i in range(6)], epochs=3)
    sur.save(tmp_path / "s.pt")
    back = Surrogate.load(tmp_path / "s.pt")
    assert (back.sizes, back.encoding, back.hidden, back.lr) == ((3, 2, 3), "onehot", 12, 0.01)
    assert np.array_equal(back.predict(archs), sur.predict(archs))
