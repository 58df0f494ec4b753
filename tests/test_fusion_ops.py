"""Fusion operators in the search space (`search.fusion_ops`): the batched OpsFusion computes
what the plain MFASNet built from the same weights computes (outputs and gradients), the
bank keys name the operator, the space and text form gain the operator field only with more
than one operator, and a search step trains candidates of every operator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_search import write_digit_features

from mfas_core.models.mfas_net import MFASNet
from mfas_core.search.batched import WeightBank
from mfas_core.search.ops import OpsFusion, op_bank_key
from mfas_core.search.space import SearchSpace, arch_to_text, text_to_arch
from mfas_core.search.surrogate import encode
from mfas_core.search.trainer import load_fusion_data, plan_chunks, train_candidates

torch.set_num_threads(1)

OPS = ["concat", "product", "gated", "lowrank"]
NL = ["relu", "sigmoid", "leakyrelu"]
SIZES = [[5, 7, 3], [4, 6]]  # two modalities, tap widths
W, C = 6, 3


def padded(sizes, batch, gen):
    """Per modality [M_i, B, D_i] tap tensor with zeros beyond each tap's width."""
    out = []
    for s in sizes:
        x = torch.zeros(len(s), batch, max(s))
        for t, d in enumerate(s):
            x[t, :, :d] = torch.randn(batch, d, generator=gen)
        out.append(x)
    return out


def built_pair(archs, sizes, ops=OPS, rank=2):
    """An OpsFusion of `archs` with random weights, and MFASNet copies of each candidate."""
    model = OpsFusion(archs, sizes, W, C, NL, ops, rank)
    gens = [torch.Generator().manual_seed(i) for i in range(len(archs))]
    model.init_candidates(gens, None)
    with torch.no_grad():  # non-zero output biases too
        for e in model.extra:
            e.normal_(0, 0.3)
    nets = [MFASNet.from_batched(model, k) for k in range(len(archs))]
    return model, nets


def plain_inputs(xs):
    """The MFASNet input layout [B, M_i, D_i]."""
    return [x.transpose(0, 1).contiguous() for x in xs]


@pytest.mark.parametrize("op", [2, 3, 4])
def test_every_operator_matches_the_plain_module_in_outputs_and_gradients(op):
    archs = [((1, 2, 1, op), (3, 1, 2, op)), ((2, 1, 3, op), (2, 2, 1, op))]
    model, nets = built_pair(archs, SIZES)
    xs = padded(SIZES, 5, torch.Generator().manual_seed(7))
    out = model(xs)
    out.square().sum().backward()
    for k, net in enumerate(nets):
        ref = net(*plain_inputs(xs))
        torch.testing.assert_close(out[k], ref, rtol=1e-5, atol=1e-6)
        ref.square().sum().backward()
        for li in range(2):
            fuse = net.fusions[li]
            want = torch.cat([lin.weight.grad.T for lin in fuse.proj])
            slots, r = model.slots(k, li)[0], model.row(k, li)
            got = torch.cat([model.weights[w].grad[r, :d] for (w, _), d in
                             zip(slots, model.dims(k, li), strict=True)])  # fmt: skip
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
            got_b = torch.stack([model.in_bias[b].grad[r, 0] for _, b in slots])
            want_b = torch.stack([lin.bias.grad for lin in fuse.proj])
            torch.testing.assert_close(got_b, want_b, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(model.wo.grad[k], net.head.weight.grad.T, rtol=1e-5, atol=1e-6)


def test_a_concat_layer_between_other_operators_matches_the_plain_module():
    archs = [((1, 2, 1, 4), (3, 1, 2, 1), (2, 2, 3, 2))]
    model, (net,) = built_pair(archs, SIZES)
    xs = padded(SIZES, 4, torch.Generator().manual_seed(3))
    out = model(xs)
    out.sum().backward()
    ref = net(*plain_inputs(xs))
    ref.sum().backward()
    torch.testing.assert_close(out[0], ref, rtol=1e-5, atol=1e-6)
    got = torch.cat([model.weights[w].grad[0, :d] for (w, _), d in
                     zip(model.slots(0, 1)[0], model.dims(0, 1), strict=True)])  # fmt: skip
    torch.testing.assert_close(got, net.fusions[1].weight.grad.T, rtol=1e-5, atol=1e-6)


def test_three_modalities_with_every_operator_match_the_plain_module():
    sizes = [[5, 7], [4, 6], [3, 2]]
    for o in (2, 3, 4):
        archs = [((1, 2, 1, 1, o), (2, 1, 2, 2, o))]
        model, (net,) = built_pair(archs, sizes)
        xs = padded(sizes, 3, torch.Generator().manual_seed(o))
        torch.testing.assert_close(model(xs)[0], net(*plain_inputs(xs)), rtol=1e-5, atol=1e-6)


def test_bank_keys_name_the_operator_and_concat_keeps_the_papers_key():
    keys = {op: op_bank_key(1, [5, 4, 16], 16, "relu", op, 4) for op in OPS}
    assert keys["concat"] == WeightBank.key(1, 25, 16, "relu")
    assert len(set(keys.values())) == 4
    for op in OPS[1:]:
        assert op in keys[op]
    assert op_bank_key(1, [5, 4, 16], 16, "relu", "lowrank", 2) != keys["lowrank"]


def test_a_trained_operator_layer_is_written_to_and_read_back_from_the_bank(tmp_path):
    archs = [((1, 2, 1, 3),)]
    model, _ = built_pair(archs, SIZES)
    bank = WeightBank()
    bank.put(model.bank_key(0, 0), *model.get_layer(0, 0))
    bank.save(tmp_path / "bank.pt")
    again = OpsFusion(archs, SIZES, W, C, NL, OPS, 2)
    again.init_candidates(
        [torch.Generator().manual_seed(99)], WeightBank.load(tmp_path / "bank.pt")
    )
    for a, b in zip(model.get_layer(0, 0), again.get_layer(0, 0), strict=True):
        assert torch.equal(a, b)


def test_text_form_has_the_operator_field_only_with_several_operators():
    paper = SearchSpace((5, 3), 2, 2)
    ext = SearchSpace((5, 3), 2, 2, ops=4)
    rng = np.random.default_rng(0)
    a = paper.random_arch(rng, 2)
    assert arch_to_text(a).count("-") == 4  # 3 fields per layer
    assert text_to_arch(arch_to_text(a), 2) == a
    b = ext.random_arch(rng, 2)
    assert arch_to_text(b).count("-") == 6  # 4 fields per layer
    assert text_to_arch(arch_to_text(b), 2, n_ops=4) == b
    assert text_to_arch("5-3-1-4_4-1-2-2", 2, n_ops=4) == ((5, 3, 1, 4), (4, 1, 2, 2))
    with pytest.raises(ValueError, match="fusion operator"):
        text_to_arch("5-3-1_4-1-2", 2, n_ops=4)


def test_extended_space_multiplies_the_layer_choices_by_the_operators():
    paper, ext = SearchSpace((5, 3), 2, 4), SearchSpace((5, 3), 2, 4, ops=4)
    assert ext.n_triples == 4 * paper.n_triples
    assert ext.size(3) == 4**3 * paper.size(3)
    assert len(ext.level_one()) == 120
    assert {layer[-1] for (layer,) in ext.level_one()} == {1, 2, 3, 4}
    with pytest.raises(ValueError, match="O=4"):
        ext.check(((1, 1, 1, 5),))


def test_onehot_encoding_gets_one_block_for_the_operator():
    x = encode([((2, 1, 1, 3),)], "onehot", (3, 2, 2, 4))
    assert x.shape == (1, 1, 11)
    assert x[0, 0].nonzero().flatten().tolist() == [1, 3, 5, 9]


def test_all_concat_candidates_are_grouped_apart_from_the_others():
    archs = [((1, 1, 1, 1),), ((1, 1, 1, 2),), ((2, 1, 1, 1),), ((1, 1, 2, 3),)]
    chunks = [c for proc in plan_chunks(archs, 1, 2, OPS) for c in proc]
    assert sorted(map(sorted, chunks)) == [[0, 2], [1, 3]]


def test_candidates_with_different_operators_in_one_layer_match_the_plain_module():
    # layer 2 (gated, concat, product, concat): the operators' stacks in a non-involutive order
    archs = [((1, 2, 1, o), (3, 1, 2, p)) for o, p in zip((1, 2, 3, 4), (3, 1, 2, 1), strict=True)]
    model, nets = built_pair(archs, SIZES)
    xs = padded(SIZES, 5, torch.Generator().manual_seed(11))
    out = model(xs)
    out.square().sum().backward()
    for k, net in enumerate(nets):
        ref = net(*plain_inputs(xs))
        torch.testing.assert_close(out[k], ref, rtol=1e-5, atol=1e-6)
        ref.square().sum().backward()
        torch.testing.assert_close(model.wo.grad[k], net.head.weight.grad.T, rtol=1e-5, atol=1e-6)
    for li in range(2):  # an operator's stacks hold only the candidates that use it
        for op, (slots, _) in model._slots[li].items():
            users = [k for k in range(4) if model.cand_ops[li][k] == op]
            assert all(model.weights[w].shape[0] == len(users) for w, _ in slots)
            assert [model.row(k, li) for k in users] == list(range(len(users)))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return load_fusion_data(*write_digit_features(tmp_path_factory.mktemp("d"), n=1000))


def test_a_step_trains_every_operator_and_gives_operator_bank_keys(data):
    space = SearchSpace(tuple(len(s) for s in data.sizes), 2, 2, ops=4)
    archs = [((3, 2, 1, o), (3, 2, 1, o)) for o in (1, 2, 3, 4)]
    space.check(archs[0])
    res = train_candidates(archs, data, epochs=4, width=16, dropout=0.0, lr=1e-2,
                           weight_decay=1e-4, batch_size=32, nonlinearities=["relu", "sigmoid"],
                           seed=0, fusion_ops=OPS, lowrank_rank=2)  # fmt: skip
    assert all(s > 0.3 for s in res.scores)  # 10 digit classes, chance 0.1
    assert [k[0].endswith(o) for k, o in zip(res.bank_keys[1:], ("product", "gated", "lowrank2"),
                                              strict=True)] == [True] * 3  # fmt: skip
    assert res.bank_keys[0][0] == WeightBank.key(
        0, sum(s[2] for s in data.sizes[:1]) + 8, 16, "relu"
    )


def test_concat_candidates_of_the_extended_space_keep_the_papers_layers_and_keys(data):
    kw = dict(epochs=1, width=8, dropout=0.5, lr=1e-2, weight_decay=1e-4, batch_size=64,
              nonlinearities=["relu", "sigmoid"], seed=0)  # fmt: skip
    paper = train_candidates([((1, 1, 1), (2, 1, 2))], data, **kw)
    ext = train_candidates([((1, 1, 1, 1), (2, 1, 2, 1))], data, fusion_ops=OPS, **kw)
    assert ext.bank_keys == paper.bank_keys
    assert [[t.shape for t in layer] for layer in ext.layers[0]] == [
        [t.shape for t in layer] for layer in paper.layers[0]
    ]


def test_the_picture_of_an_extended_architecture_names_each_layers_operator():
    from mfas_core.report.arch_plot import architecture_dot

    dot = architecture_dot("1-2-1-3_2-1-2-4", ["a", "b"], SIZES, 16, 10, ["relu", "sigmoid"],
                           fusion_ops=OPS, lowrank_rank=2)  # fmt: skip
    assert "fusion layer 1: gated" in dot and "fusion layer 2: lowrank" in dot
    assert "r=2" in dot
    with pytest.raises(ValueError):
        architecture_dot("1-2-1_2-1-2", ["a", "b"], SIZES, 16, 10, ["relu"], fusion_ops=OPS)


@pytest.mark.parametrize("protocol", ["paper", "depth_matched"])
def test_random_search_draws_operators_in_both_protocols(protocol):
    from mfas_core.search.random import draw_step, random_plan
    from mfas_core.search.settings import RandomSearchSettings

    s = RandomSearchSettings(max_layers=2, iterations=2, k=40, random_protocol=protocol)
    space = SearchSpace((3, 2), 2, 2, ops=4)
    level = random_plan(space, s)[-1][0]
    archs = draw_step(space, s, level, set(), np.random.default_rng(0))
    assert len(archs) == 40 and all(len(t) == 4 for a in archs for t in a)
    assert {t[3] for a in archs for t in a} == {1, 2, 3, 4}


def test_a_saved_final_model_with_operators_is_rebuilt_with_them():
    from mfas_core.final.train import build_final_model
    from mfas_core.models.mfas_net import OpLayer

    build = {"kind": "mfas", "architecture": "1-2-1-3_3-1-2-4", "sizes": SIZES, "width": W,
             "n_classes": C, "nonlinearities": NL, "dropout": 0.0, "fusion_ops": OPS,
             "lowrank_rank": 2}  # fmt: skip
    net = build_final_model(build)
    assert [type(f) for f in net.fusions] == [OpLayer, OpLayer]
    assert [f.op for f in net.fusions] == ["gated", "lowrank"] and net.fusions[1].rank == 2


def test_multilabel_candidates_with_operators_train_to_finite_scores(tmp_path):
    multi = load_fusion_data(*write_digit_features(tmp_path, multi=True))
    archs = [((1, 1, 1, 2),), ((2, 1, 2, 3),), ((1, 2, 1, 4),)]
    res = train_candidates(archs, multi, epochs=1, width=8, dropout=0.5, lr=1e-2,
                           weight_decay=1e-4, batch_size=32, nonlinearities=["relu", "sigmoid"],
                           seed=0, fusion_ops=OPS, lowrank_rank=2)  # fmt: skip
    assert all(0 <= s <= 1 for s in res.scores)
    assert all(np.isfinite(m) for m in res.macro_f1)
