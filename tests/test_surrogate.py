"""The LSTM surrogate (authors' reference model) and its one-hot variant."""

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from mfas_core.search.space import SearchSpace
from mfas_core.search.surrogate import Surrogate, encode

torch.set_num_threads(1)  # 2 shared cores: oversubscribed OpenMP threads only spin

SPACE = SearchSpace(taps=(5, 3), p=2, max_layers=3)


def _score(arch):
    """A fixed, learnable score: deeper taps of modality 1 and ReLU are better."""
    return float(np.mean([0.5 + 0.08 * m + 0.03 * n - 0.1 * (p - 1) for m, n, p in arch]))


def test_reference_model_uses_authors_initialisation():
    sur = Surrogate((5, 3, 2), "reference", hidden=100, seed=0)
    for lin in (sur.net.embed, sur.net.head):
        assert lin.weight.abs().max() <= 0.1
        assert torch.all(lin.bias == 1.8)
    assert sur.net.embed.in_features == 3


def test_onehot_encoding_marks_one_field_each():
    x = encode([((5, 3, 2), (1, 1, 1))], "onehot", (5, 3, 2))
    assert x.shape == (1, 2, 10)
    assert x[0, 0].nonzero().flatten().tolist() == [4, 7, 9]


@pytest.mark.parametrize("encoding", ["reference", "onehot"])
def test_surrogate_learns_to_rank_unseen_architectures(encoding):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    archs = list(dict.fromkeys(SPACE.random_arch(rng, int(rng.integers(1, 4))) for _ in range(300)))
    train, test = archs[:200], archs[200:]
    sur = Surrogate((5, 3, 2), encoding, hidden=32, lr=1e-2, seed=0)
    sur.update(train, [_score(a) for a in train], epochs=150)
    rho = spearmanr(sur.predict(test), [_score(a) for a in test]).statistic
    assert rho > 0.7


def test_saved_surrogate_continues_exactly_like_the_original(tmp_path):
    archs = SPACE.level_one()
    scores = [_score(a) for a in archs]
    a = Surrogate((5, 3, 2), "reference", hidden=16, seed=1)
    a.update(archs, scores, epochs=5)
    a.save(tmp_path / "s.pt")
    b = Surrogate.load(tmp_path / "s.pt")
    a.update(archs, scores, epochs=3)
    b.update(archs, scores, epochs=3)
    assert np.allclose(a.predict(archs), b.predict(archs))


def test_duplicate_architectures_keep_their_best_score():
    sur = Surrogate((5, 3, 2), "reference", hidden=8, seed=0)
    arch = ((1, 1, 1),)
    loss = sur.update([arch, arch], [0.2, 0.9], epochs=200)
    assert sur.predict([arch])[0] == pytest.approx(0.9, abs=0.05) and loss < 1e-2


def test_memory_all_trains_on_both_steps_after_two_updates():
    step1, step2 = SPACE.level_one()[:4], SPACE.level_one()[4:7]
    sur = Surrogate((5, 3, 2), "reference", hidden=8, seed=0, memory="all")
    sur.update(step1, [_score(a) for a in step1], epochs=1)
    sur.update(step2 + step1[:1], [_score(a) for a in step2] + [0.0], epochs=1)
    assert set(sur.training_set) == set(step1) | set(step2)
    assert sur.training_set[step1[0]] == _score(step1[0])  # a repeat keeps its best score


def test_memory_step_trains_only_on_the_last_step():
    step1, step2 = SPACE.level_one()[:4], SPACE.level_one()[4:7]
    sur = Surrogate((5, 3, 2), "reference", hidden=8, seed=0, memory="step")
    sur.update(step1, [_score(a) for a in step1], epochs=1)
    sur.update(step2, [_score(a) for a in step2], epochs=1)
    assert set(sur.training_set) == set(step2)


def test_saved_surrogate_keeps_its_memory_and_training_set(tmp_path):
    archs = SPACE.level_one()[:5]
    sur = Surrogate((5, 3, 2), "onehot", hidden=8, seed=0, memory="all")
    sur.update(archs, [_score(a) for a in archs], epochs=1)
    sur.save(tmp_path / "s.pt")
    back = Surrogate.load(tmp_path / "s.pt")
    assert back.memory == "all" and back.training_set == sur.training_set
