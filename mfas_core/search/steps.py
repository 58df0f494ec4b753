"""What MFAS and random search share: the candidate-table columns, step seeds, argument checks,
and `StepTrainer` (load the features once, then train one step's K candidates, write back to
the weight bank, make the table rows)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from mfas_core.config import ConfigError
from mfas_core.runtime import pick_device, set_seed, set_threads
from mfas_core.search.batched import WeightBank
from mfas_core.search.settings import SearchSettings, TrainSettings
from mfas_core.search.space import (
    Arch,
    SearchSpace,
    arch_to_text,
    check_fusion_ops,
    check_nonlinearities,
)  # fmt: skip
from mfas_core.search.trainer import FusionData, TrainResult, load_fusion_data, train_candidates
from mfas_core.search.trainer import write_back as bank_write_back

COLUMNS = [
    "architecture", "val_score", "val_macro_f1", "predicted_score", "level", "iteration",
    "step", "temperature", "train_seconds",
]  # fmt: skip


# Intra-op threads for search training on CPU. Every tensor of a step is tiny ([K, 32, ≤48]),
# so a second OpenMP thread only adds synchronisation: measured on 2 shared cores, one epoch of
# level 1 (30 candidates, 55,000 samples) takes 2.6 s with 1 thread and 22 s with 2. A second
# core is used by `search.workers` forked processes that each train a share of the K candidates.
CPU_TRAIN_THREADS = 1


def train_threads(device: torch.device, threads: int | None) -> int | None:
    """Torch intra-op threads: at most CPU_TRAIN_THREADS on CPU, the rule's threads on a GPU."""
    return min(threads or 1, CPU_TRAIN_THREADS) if device.type == "cpu" else threads


def workers_for(device: torch.device, workers: int) -> int:
    """Processes that train a step's candidates: `search.workers` on CPU, one on a GPU."""
    return max(1, workers) if device.type == "cpu" else 1


def step_seed(seed: int, step: int, stream: int = 0) -> int:
    """Seed of one search step (stream 0 = MFAS training, 1 = random-search training,
    2 = MFAS sampling, 3 = random-search drawing)."""
    return int(np.random.SeedSequence([seed, step, stream]).generate_state(1)[0])


def space_of(
    data: FusionData, nonlinearities, max_layers: int, fusion_ops=("concat",)
) -> SearchSpace:
    return SearchSpace(
        tuple(len(s) for s in data.sizes), len(nonlinearities), max_layers, len(fusion_ops)
    )


def check_search_args(
    level: int, k: int, pool: int, nonlinearities, fusion_ops=("concat",)
) -> None:
    """Bad search arguments -> ConfigError naming the key."""
    if level < 1:
        raise ConfigError(f"search.max_layers: level {level} is below 1")
    if k < 1 or k > pool:
        raise ConfigError(f"search.k: {k} must be in 1..{pool} (the one-layer architectures)")
    try:
        check_nonlinearities(list(nonlinearities))
        check_fusion_ops(list(fusion_ops))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


@dataclass
class StepTrainer:
    """Features, search space, device and weight bank of one search; `step` trains K archs."""

    data: FusionData
    space: SearchSpace
    device: torch.device
    train: TrainSettings
    bank: WeightBank = field(default_factory=WeightBank)
    bar: tqdm | None = None

    @classmethod
    def open(
        cls,
        features: list[str],
        settings: SearchSettings,
        max_layers: int,
        threads: int | None = None,
        bank: WeightBank | None = None,
    ) -> StepTrainer:
        """Pick the device, seed, load both feature files, check k and the nonlinearities."""
        dev = pick_device(settings.train.device)
        set_threads(train_threads(dev, threads))
        set_seed(settings.seed)
        data = load_fusion_data(*features).to(dev)
        t = settings.train
        space = space_of(data, t.nonlinearities, max(max_layers, 1), t.fusion_ops)
        check_search_args(max_layers, settings.k, space.n_triples, t.nonlinearities, t.fusion_ops)
        return cls(data, space, dev, settings.train, bank if bank is not None else WeightBank())

    def progress(self, n_steps: int, desc: str) -> tqdm:
        """A progress bar over `n_steps` steps' minibatches (to stderr = the rule's log)."""
        per_epoch = self.data.n_train // min(self.train.batch_size, self.data.n_train)
        self.bar = tqdm(total=n_steps * self.train.epochs * per_epoch, desc=desc, file=sys.stderr)
        return self.bar

    def step(self, archs: list[Arch], seed: int) -> TrainResult:
        """Train `archs` (any depths) from the bank, write the best layers back (if sharing)."""
        res = train_candidates(
            archs, self.data, seed=seed, bank=self.bank if self.train.weight_sharing else None,
            device=self.device, progress=self.bar,
            workers=workers_for(self.device, self.train.workers), **self.train.kwargs(),
        )  # fmt: skip
        if self.train.weight_sharing:
            bank_write_back(self.bank, res)
        return res


def rows_of(archs, res: TrainResult, pred, level, iteration, step, temp) -> list[dict]:
    """One candidates.tsv row per architecture (level = its depth for random search)."""
    per = res.seconds / len(archs)
    return [
        dict(
            architecture=arch_to_text(a),
            val_score=res.scores[i],
            val_macro_f1=res.macro_f1[i],
            predicted_score=float(pred[i]) if pred is not None else float("nan"),
            level=level if level is not None else len(a),
            iteration=iteration,
            step=step,
            temperature=temp,
            train_seconds=per,
        )  # fmt: skip
        for i, a in enumerate(archs)
    ]
