"""What MFAS and random search share: the candidate-table columns, step seeds, worker counts,
argument checks, and `train_step` (train K candidates, write back to the bank, make rows)."""

from __future__ import annotations

import numpy as np

from mfas_core.config import ConfigError
from mfas_core.search.space import Arch, SearchSpace, arch_to_text, check_nonlinearities
from mfas_core.search.trainer import FusionData, TrainResult, train_candidates, write_back

COLUMNS = [
    "architecture", "val_score", "val_macro_f1", "predicted_score", "level", "iteration",
    "step", "temperature", "train_seconds",
]  # fmt: skip


# Intra-op threads for search training on CPU. Every tensor of a step is tiny ([K, 32, ≤48]),
# so a second OpenMP thread only adds synchronisation: measured on 2 shared cores, one epoch of
# level 1 (30 candidates, 55,000 samples) takes 2.6 s with 1 thread and 22 s with 2. The
# rule's other threads go to forked workers that each train a share of the K candidates.
CPU_TRAIN_THREADS = 1


def train_threads(device, threads: int | None) -> int | None:
    return min(threads or 1, CPU_TRAIN_THREADS) if device.type == "cpu" else threads


def workers_for(device, threads: int | None) -> int:
    """Processes that train a step's candidates: the rule's threads on CPU, one on a GPU."""
    return max(1, threads or 1) if device.type == "cpu" else 1


def step_seed(seed: int, step: int, stream: int = 0) -> int:
    """Seed of one search step (stream 0 = MFAS, 1 = random search)."""
    return int(np.random.SeedSequence([seed, step, stream]).generate_state(1)[0])


def space_of(data: FusionData, nonlinearities: list[str], max_layers: int) -> SearchSpace:
    return SearchSpace(len(data.sizes1), len(data.sizes2), len(nonlinearities), max_layers)


def check_search_args(level: int, k: int, pool: int, nonlinearities: list[str]) -> None:
    """Bad search arguments -> ConfigError naming the key."""
    if level < 1:
        raise ConfigError(f"search.max_layers: level {level} is below 1")
    if k < 1 or k > pool:
        raise ConfigError(f"search.k: {k} must be in 1..{pool} (the one-layer architectures)")
    try:
        check_nonlinearities(nonlinearities)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def train_step(
    archs: list[Arch],
    data,
    bank,
    weight_sharing: bool,
    seed: int,
    device,
    bar,
    train_kw,
    threads: int | None = None,
) -> TrainResult:
    res = train_candidates(
        archs, data, seed=seed, bank=bank if weight_sharing else None, device=device,
        progress=bar, workers=workers_for(device, threads), **train_kw,
    )  # fmt: skip
    if weight_sharing:
        write_back(bank, res)
    return res


def rows_of(archs, res: TrainResult, pred, level, iteration, step, temp) -> list[dict]:
    per = res.seconds / len(archs)
    return [
        dict(
            architecture=arch_to_text(a),
            val_score=res.scores[i],
            val_macro_f1=res.macro_f1[i],
            predicted_score=float(pred[i]) if pred is not None else float("nan"),
            level=level,
            iteration=iteration,
            step=step,
            temperature=temp,
            train_seconds=per,
        )  # fmt: skip
        for i, a in enumerate(archs)
    ]
