"""Temperature schedule and temperature-based sampling of architectures (paper Alg. 1, l. 20-21)."""

from __future__ import annotations

import math

import numpy as np


def temperature(step: int, t_max: float, t_min: float, sigma: float) -> float:
    """Inverse-exponential schedule T_i = (T_max - T_min)·exp(-(i+1)²/σ²) + T_min.

    `step` is the global sampling-step index i = 0, 1, 2, ... counted over every
    (level, iteration) of the search, so no two steps share a temperature by accident.
    """
    if step < 0:
        raise ValueError(f"temperature: step must be >= 0, got {step}")
    return (t_max - t_min) * math.exp(-((step + 1) ** 2) / sigma**2) + t_min


def sampling_probs(predicted: np.ndarray, temp: float) -> np.ndarray:
    """p = a / Σa, then p ← p^(1/T), renormalised (authors' code).

    High T flattens towards uniform (explore), low T sharpens towards the surrogate's best.
    Computed in log space so tiny T does not underflow.
    """
    a = np.clip(np.asarray(predicted, dtype=np.float64), 1e-12, None)
    logp = (np.log(a) - np.log(a.sum())) / temp
    logp -= logp.max()
    p = np.exp(logp)
    return p / p.sum()


def sample_without_replacement(probs: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of k draws without replacement, each draw proportional to `probs`."""
    if k > len(probs):
        raise ValueError(f"search.k: {k} is larger than the candidate pool of {len(probs)}")
    nonzero = int((np.asarray(probs) > 0).sum())
    if k > nonzero:  # tiny temperatures can leave fewer than k non-zero probabilities
        probs = np.asarray(probs) + 1e-12
        probs = probs / probs.sum()
    return rng.choice(len(probs), size=k, replace=False, p=probs)
