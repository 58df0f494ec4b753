"""Temperature schedule and temperature-based sampling (paper Alg. 1 l. 20-21, Fig. 5 right)."""

import numpy as np
import pytest
import torch

from mfas_core.search.sampling import sample_without_replacement, sampling_probs, temperature

torch.set_num_threads(1)  # 2 shared cores: oversubscribed OpenMP threads only spin


def test_temperature_starts_near_t_max_and_decays_to_t_min_without_repeats():
    temps = [temperature(i, 10.0, 0.2, 4.0) for i in range(12)]
    assert temps[0] == pytest.approx(9.8 * np.exp(-1 / 16) + 0.2)
    assert all(a > b for a, b in zip(temps, temps[1:], strict=False))
    assert temps[-1] == pytest.approx(0.2, abs=2e-3)


def test_high_temperature_flattens_and_low_temperature_sharpens():
    pred = np.array([0.5, 0.6, 0.9])
    hot, cold = sampling_probs(pred, 100.0), sampling_probs(pred, 0.05)
    assert np.ptp(hot) < 0.01
    assert cold.argmax() == 2 and cold[2] > 0.99
    assert sampling_probs(pred, 1.0) == pytest.approx(pred / pred.sum())


def test_sampling_draws_k_distinct_indices_reproducibly():
    probs = sampling_probs(np.linspace(0.1, 0.9, 40), 1.0)
    a = sample_without_replacement(probs, 15, np.random.default_rng(3))
    b = sample_without_replacement(probs, 15, np.random.default_rng(3))
    assert len(set(a.tolist())) == 15 and (a == b).all()


def test_k_larger_than_the_pool_is_rejected_naming_the_key():
    with pytest.raises(ValueError, match="search.k"):
        sample_without_replacement(np.full(4, 0.25), 5, np.random.default_rng(0))
