"""Fusion models of final training: the found architecture and the baselines."""

from __future__ import annotations

import pytest
import torch

from mfas_core.models import BASELINES, build_baseline
from mfas_core.models.centralnet import CentralNet
from mfas_core.models.lrtf import LowRankTensorFusion
from mfas_core.models.mfas_net import MFASNet
from mfas_core.search.batched import BatchedFusion

SIZES1, SIZES2 = [3, 6, 12, 24, 48], [6, 12, 24]


def taps(batch: int = 7, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded taps as FeatureStore-loaded data has them: zeros beyond each tap's width."""
    g = torch.Generator().manual_seed(seed)
    x1 = torch.zeros(batch, len(SIZES1), max(SIZES1))
    x2 = torch.zeros(batch, len(SIZES2), max(SIZES2))
    for k, d in enumerate(SIZES1):
        x1[:, k, :d] = torch.randn(batch, d, generator=g)
    for k, d in enumerate(SIZES2):
        x2[:, k, :d] = torch.randn(batch, d, generator=g)
    return x1, x2


@pytest.mark.parametrize("depth", [1, 3])
def test_single_architecture_module_computes_what_its_search_candidate_computes(depth):
    archs = {
        1: [((5, 3, 1),), ((2, 1, 2),), ((1, 2, 1),)],
        3: [((5, 3, 1), (4, 1, 2), (2, 2, 1)), ((1, 1, 2), (5, 3, 2), (3, 2, 1))],
    }[depth]
    batched = BatchedFusion(archs, [SIZES1, SIZES2], width=8, n_out=10,
                            nonlinearities=["relu", "sigmoid"], dropout=0.5)  # fmt: skip
    gens = [torch.Generator().manual_seed(10 + k) for k in range(len(archs))]
    batched.init_candidates(gens, bank=None)
    batched.eval()
    x1, x2 = taps()
    with torch.no_grad():
        expected = batched([x1.transpose(0, 1), x2.transpose(0, 1)])  # [K, B, C]
        for k in range(len(archs)):
            net = MFASNet.from_batched(batched, k, dropout=0.5).eval()
            torch.testing.assert_close(net(x1, x2), expected[k], rtol=1e-5, atol=1e-6)


def test_single_architecture_module_reads_only_the_taps_its_layers_name():
    net = MFASNet(((5, 3, 1), (4, 1, 2)), [SIZES1, SIZES2], 8, 10, ["relu", "sigmoid"]).eval()
    x1, x2 = taps()
    before = net(x1, x2)
    x1[:, 0], x1[:, 2], x2[:, 1] = 9.0, 9.0, 9.0  # taps 1 and 3 of modality 1, tap 2 of 2
    torch.testing.assert_close(net(x1, x2), before)
    x2[:, 0, 0] += 1.0
    assert not torch.allclose(net(x1, x2), before)


def test_architecture_outside_the_taps_is_refused():
    with pytest.raises(ValueError, match="outside M=5, N=3"):
        MFASNet(((6, 1, 1),), [SIZES1, SIZES2], 8, 10, ["relu"])


@pytest.mark.parametrize(
    "method", ["unimodal_1", "unimodal_2"] + [b for b in BASELINES if b != "unimodal"]
)
def test_every_baseline_maps_taps_to_class_logits_and_trains_all_its_weights(method):
    torch.manual_seed(0)
    model = build_baseline(method, [SIZES1, SIZES2], 10, width=16, dropout=0.0)
    x1, x2 = taps()
    out = model(x1, x2)
    outs = out if isinstance(out, tuple) else (out,)
    assert all(o.shape == (7, 10) for o in outs)
    sum(o.square().sum() for o in outs).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_unimodal_baseline_ignores_the_other_modality():
    model = build_baseline("unimodal_2", [SIZES1, SIZES2], 10, width=16, dropout=0.0)
    x1, x2 = taps()
    torch.testing.assert_close(model(x1 * 0 + 5, x2), model(x1, x2))


def test_late_fusion_and_gmu_read_only_the_last_taps_early_fusion_reads_all():
    x1, x2 = taps()
    moved = x1.clone()
    moved[:, 0] += 1.0  # first (shallowest) tap of modality 1
    for method, changes in (("late_fusion", False), ("gmu", False), ("early_fusion", True)):
        model = build_baseline(method, [SIZES1, SIZES2], 10, width=16, dropout=0.0)
        assert (not torch.allclose(model(moved, x2), model(x1, x2))) == changes, method


def test_low_rank_tensor_fusion_equals_the_full_tensor_of_its_factors():
    """Liu et al.: Σ_r w_r Π_m ([x_m;1] W_m^(r)) is tensor fusion with the weight tensor
    W = Σ_r w_r W_1^(r) ⊗ W_2^(r) applied to [x_1;1] ⊗ [x_2;1] (Zadeh et al.)."""
    torch.manual_seed(0)
    model = LowRankTensorFusion([SIZES1, SIZES2], 10, width=16, dropout=0.0, rank=3)
    x1, x2 = taps()
    a = torch.cat([x1[:, -1, :48], torch.ones(7, 1)], 1)
    b = torch.cat([x2[:, -1, :24], torch.ones(7, 1)], 1)
    full = torch.einsum("r,rio,rjo->ijo", model.rank_weights[0], *model.factors)
    fused = torch.einsum("bi,bj,ijo->bo", a, b, full) + model.bias
    torch.testing.assert_close(model(x1, x2), model.head(fused), rtol=1e-4, atol=1e-5)


def test_centralnet_mixes_each_depth_with_learned_weights_and_has_one_head_per_modality():
    model = CentralNet([SIZES1, SIZES2], 10, width=16, dropout=0.0)
    assert model.depth == 3 and model.taps == [[3, 4, 5], [1, 2, 3]]
    x1, x2 = taps()
    before = model(x1, x2)[0]
    with torch.no_grad():
        model.alphas[:, 1] = 0.0  # the central branch ignores modality 1 ...
    x1[:, 2:] += 1.0
    fused, head1, _ = model(x1, x2)
    x1[:, 2:] -= 5.0
    torch.testing.assert_close(model(x1, x2)[0], fused)  # ... so only its own head moves
    assert not torch.allclose(model(x1, x2)[1], head1)
    assert not torch.allclose(before, fused)


SIZES3 = [SIZES1, SIZES2, [4, 10]]


def three_taps(batch: int = 7, seed: int = 1) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    xs = []
    for widths in SIZES3:
        x = torch.zeros(batch, len(widths), max(widths))
        for k, d in enumerate(widths):
            x[:, k, :d] = torch.randn(batch, d, generator=g)
        xs.append(x)
    return xs


@pytest.mark.parametrize("method", ["unimodal_3"] + [b for b in BASELINES if b != "unimodal"])
def test_every_baseline_takes_three_modalities_and_reads_the_third(method):
    torch.manual_seed(0)
    model = build_baseline(method, SIZES3, 10, width=16, dropout=0.0)
    xs = three_taps()
    out = model(*xs)
    outs = out if isinstance(out, tuple) else (out,)
    assert all(o.shape == (7, 10) for o in outs)
    assert len(outs) == (4 if method == "centralnet" else 1)  # central + one head per modality
    moved = [xs[0], xs[1], xs[2] + 1.0]
    assert not torch.allclose(_first(model(*moved)), outs[0])
    sum(o.square().sum() for o in outs).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def test_three_way_low_rank_fusion_equals_the_full_three_way_tensor_of_its_factors():
    torch.manual_seed(0)
    model = LowRankTensorFusion(SIZES3, 10, width=16, dropout=0.0, rank=3)
    xs = three_taps()
    a, b, c = (
        torch.cat([x[:, -1, : s[-1]], torch.ones(7, 1)], 1) for x, s in zip(xs, SIZES3, strict=True)
    )
    full = torch.einsum("r,rio,rjo,rko->ijko", model.rank_weights[0], *model.factors)
    fused = torch.einsum("bi,bj,bk,ijko->bo", a, b, c, full) + model.bias
    torch.testing.assert_close(model(*xs), model.head(fused), rtol=1e-4, atol=1e-5)


def test_three_modal_gmu_is_the_n_ary_unit_one_gate_per_modality():
    torch.manual_seed(0)
    model = build_baseline("gmu", SIZES3, 10, width=16, dropout=0.0)
    xs = three_taps()
    last = [x[:, -1, : s[-1]] for x, s in zip(xs, SIZES3, strict=True)]
    z = torch.sigmoid(model.gate(torch.cat(last, 1))).chunk(3, 1)
    h = sum(zi * torch.tanh(lin(a)) for zi, lin, a in zip(z, model.hs, last, strict=True))
    torch.testing.assert_close(model(*xs), model.head(h))


def test_unimodal_of_a_modality_the_data_lacks_is_refused():
    with pytest.raises(ValueError, match="unimodal_4: the data has 3 modalities"):
        build_baseline("unimodal_4", SIZES3, 10, width=16, dropout=0.0)
