"""Temperature schedule and temperature-based sampling (paper Alg. 1 l. 20-21, Fig. 5 right)."""

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

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
    c = sample_without_replacement(probs, 15, np.random.default_rng(4))
    assert len(set(a.tolist())) == 15 and (a == b).all()
    assert not (a == c).all()  # the generator really drives the draw


PROBS = np.array([0.45, 0.25, 0.15, 0.1, 0.05])


def draw_counts(k: int, draws: int = 4000) -> np.ndarray:
    """How often each index is the first of k draws, and in the draw at all."""
    rng = np.random.default_rng(0)
    first, anywhere = np.zeros(len(PROBS)), np.zeros(len(PROBS))
    for _ in range(draws):
        idx = sample_without_replacement(PROBS, k, rng)
        first[idx[0]] += 1
        anywhere[idx] += 1
    return first, anywhere


def test_single_draws_follow_the_probabilities():
    first, _ = draw_counts(1)
    assert chisquare(first, PROBS * first.sum()).pvalue > 1e-3
    # a uniform sampler would be far off: the same test rejects it
    assert chisquare(first, np.full(5, first.sum() / 5)).pvalue < 1e-6


def test_first_of_k_draws_without_replacement_follows_the_probabilities():
    first, anywhere = draw_counts(3)
    assert chisquare(first, PROBS * first.sum()).pvalue > 1e-3
    assert anywhere.sum() == 3 * 4000 and (np.diff(anywhere) < 0).all()  # likelier, more often


def test_probabilities_too_peaked_for_k_still_give_k_distinct_draws_led_by_the_peak():
    probs = sampling_probs(np.array([0.9, 0.5, 0.4, 0.3]), 1e-4)  # underflows to one-hot
    assert (probs > 0).sum() < 3
    draws = [sample_without_replacement(probs, 3, np.random.default_rng(s)) for s in range(20)]
    assert all(len(set(d.tolist())) == 3 and d[0] == 0 for d in draws)


def test_k_larger_than_the_pool_is_rejected_naming_the_key():
    with pytest.raises(ValueError, match="search.k"):
        sample_without_replacement(np.full(4, 0.25), 5, np.random.default_rng(0))


def test_negative_step_is_rejected():
    with pytest.raises(ValueError, match="temperature: step must be >= 0, got -1"):
        temperature(-1, 10.0, 0.2, 4.0)


def test_temperature_follows_the_inverse_exponential_formula():
    for step in (0, 3, 7):
        want = (5.0 - 0.5) * np.exp(-((step + 1) ** 2) / 3.0**2) + 0.5
        assert temperature(step, 5.0, 0.5, 3.0) == pytest.approx(want, rel=1e-12)


def test_sampling_probabilities_are_the_normalised_powers_of_the_predictions():
    pred = np.array([0.2, 0.5, 0.8, 0.0])
    probs = sampling_probs(pred, 0.5)
    share = np.clip(pred, 1e-12, None) / np.clip(pred, 1e-12, None).sum()
    assert probs == pytest.approx(share**2 / (share**2).sum(), rel=1e-9)
    assert probs.sum() == pytest.approx(1.0) and probs[3] < 1e-20


def test_all_zero_predictions_give_uniform_probabilities():
    assert sampling_probs(np.zeros(4), 1.0) == pytest.approx(np.full(4, 0.25))


def test_k_equal_to_the_pool_draws_every_index_once():
    probs = sampling_probs(np.array([0.1, 0.5, 0.9]), 1.0)
    draw = sample_without_replacement(probs, 3, np.random.default_rng(0))
    assert sorted(draw.tolist()) == [0, 1, 2]
