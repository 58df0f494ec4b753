"""Random search with MFAS's budget (paper Table 1 baseline)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from tqdm import tqdm

from mfas_core.io import pick_device, set_seed, set_threads, write_tsv
from mfas_core.search.batched import WeightBank
from mfas_core.search.space import Arch
from mfas_core.search.steps import (
    COLUMNS,
    check_search_args,
    rows_of,
    space_of,
    step_seed,
    train_step,
    train_threads,
)
from mfas_core.search.trainer import load_fusion_data


def run_random_search(
    features: list[str],
    out_tsv: str,
    *,
    seed: int,
    max_layers: int,
    iterations: int,
    k: int,
    epochs: int,
    width: int,
    dropout: float,
    lr: float,
    weight_decay: float,
    batch_size: int,
    nonlinearities: list[str],
    weight_sharing: bool,
    threads: int | None = None,
    device: str = "auto",
) -> pd.DataFrame:
    """Random search with MFAS's budget: as many architectures of each depth as MFAS trains
    (all of Γ1, then iterations × k of each depth 2..L), drawn uniformly from the whole space
    of that depth without repeats, trained for the same epochs with the same settings."""
    dev = pick_device(device)
    set_threads(train_threads(dev, threads))
    set_seed(seed)
    data = load_fusion_data(*features).to(dev)
    space = space_of(data, nonlinearities, max_layers)
    check_search_args(max_layers, k, space.n_triples, nonlinearities)
    train_kw = dict(
        epochs=epochs, width=width, dropout=dropout, lr=lr, weight_decay=weight_decay,
        batch_size=batch_size, nonlinearities=list(nonlinearities),
    )  # fmt: skip
    bank = WeightBank()
    rows: list[dict] = []
    plan = [(1, 1, space.level_one())] + [
        (lv, it, None) for lv in range(2, max_layers + 1) for it in range(1, iterations + 1)
    ]
    steps_per_epoch = data.n_train // min(batch_size, data.n_train)
    seen: set[Arch] = set()
    with tqdm(total=len(plan) * epochs * steps_per_epoch, desc="random", file=sys.stderr) as bar:
        for step, (level, it, archs) in enumerate(plan):
            if archs is None:
                rng = np.random.default_rng(step_seed(seed, step, 3))
                archs = []
                limit = min(k, space.size(level) - sum(len(a) == level for a in seen))
                while len(archs) < limit:
                    a = space.random_arch(rng, level)
                    if a not in seen:
                        seen.add(a)
                        archs.append(a)
            else:
                seen.update(archs)
            res = train_step(
                archs,
                data,
                bank,
                weight_sharing,
                step_seed(seed, step, 1),
                dev,
                bar,
                train_kw,
                threads,
            )
            rows += rows_of(archs, res, None, level, it, step, float("nan"))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    write_tsv(out_tsv, frame)
    return frame
