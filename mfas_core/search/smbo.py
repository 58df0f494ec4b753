"""MFAS search (paper Algorithm 1), one SMBO level per call, and the equal-budget random search.

Each level is a separate job: it reads the previous level's directory (surrogate with its
optimizer, weight bank, state.json with every sampled architecture and the step counter) and
writes its own directory; it never touches earlier levels.

Steps: level 1 is step 0 (all of Γ1, no sampling). Every (level, iteration) of levels 2..L is
one sampling step 1, 2, ...; sampling step s uses temperature index i = s - 1. Every random
choice is seeded from (seed, step), so a level job gives the same numbers whenever it runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from mfas_core.io import atomic_path, pick_device, set_seed, set_threads, write_json, write_tsv
from mfas_core.search.batched import WeightBank
from mfas_core.search.sampling import sample_without_replacement, sampling_probs, temperature
from mfas_core.search.space import Arch, SearchSpace, text_to_arch
from mfas_core.search.steps import (
    COLUMNS,
    check_search_args,
    rows_of,
    space_of,
    step_seed,
    train_step,
    train_threads,
)
from mfas_core.search.surrogate import Surrogate
from mfas_core.search.trainer import load_fusion_data


def run_search_level(
    features: list[str],
    out_dir: str,
    level: int,
    prev_dir: str | list[str] | None = None,
    *,
    seed: int,
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
    t_max: float,
    t_min: float,
    sigma: float,
    surrogate_epochs: int,
    surrogate_lr: float,
    surrogate_hidden: int,
    surrogate_encoding: str,
    threads: int | None = None,
    device: str = "auto",
) -> pd.DataFrame:
    """Run SMBO level `level` and write candidates.tsv, surrogate.pt, bank.pt, state.json.

    Level 1 trains every one-layer architecture. Level l >= 2 runs `iterations` steps: extend
    the previous level's top-k by one layer over all triples (minus those already sampled at
    this level), predict with the surrogate, sample k with temperature, train, write back to
    the bank, update the surrogate. Outputs are written only when the whole level succeeded.
    prev_dir: the previous level's folder, or a list of its files as the rule's input gives
    them (empty for level 1).
    """
    if isinstance(prev_dir, list | tuple):
        prev_dir = str(Path(prev_dir[0]).parent) if prev_dir else None
    dev = pick_device(device)
    set_threads(train_threads(dev, threads))
    set_seed(seed)
    data = load_fusion_data(*features).to(dev)
    space = space_of(data, nonlinearities, max(level, 1))
    check_search_args(level, k, space.n_triples, nonlinearities)
    train_kw = dict(
        epochs=epochs, width=width, dropout=dropout, lr=lr, weight_decay=weight_decay,
        batch_size=batch_size, nonlinearities=list(nonlinearities),
    )  # fmt: skip
    sizes = (space.m, space.n, space.p)
    steps_per_epoch = data.n_train // min(batch_size, data.n_train)
    rows: list[dict] = []
    if level == 1:
        if prev_dir is not None:
            raise ValueError("level 1 takes no previous level")
        history: list[dict] = []
        surrogate = Surrogate(sizes, surrogate_encoding, surrogate_hidden, surrogate_lr, seed=seed)
        bank = WeightBank()
        archs = space.level_one()
        with tqdm(total=epochs * steps_per_epoch, desc="level 1", file=sys.stderr) as bar:
            res = train_step(
                archs, data, bank, weight_sharing, step_seed(seed, 0), dev, bar, train_kw, threads
            )
        rows += rows_of(archs, res, None, 1, 1, 0, float("nan"))
        surrogate.update(archs, res.scores, surrogate_epochs)
        next_step = 1
    else:
        if prev_dir is None:
            raise ValueError(f"level {level} needs the directory of level {level - 1}")
        prev = Path(prev_dir)
        state = json.loads((prev / "state.json").read_text())
        if state["level"] != level - 1 or state["seed"] != seed:
            raise ValueError(f"{prev}/state.json: is level {state['level']} seed {state['seed']}")
        history = state["history"]
        surrogate = Surrogate.load(prev / "surrogate.pt")
        bank = WeightBank.load(prev / "bank.pt")
        parents = [text_to_arch(a) for a in state["topk"]]
        next_step = state["next_step"]
        sampled: set[Arch] = set()
        total = iterations * epochs * steps_per_epoch
        with tqdm(total=total, desc=f"level {level}", file=sys.stderr) as bar:
            for it in range(1, iterations + 1):
                pool = [a for a in space_extend(space, parents, level) if a not in sampled]
                if not pool:
                    break
                pred = surrogate.predict(pool)
                temp = temperature(next_step - 1, t_max, t_min, sigma)
                probs = sampling_probs(pred, temp)
                rng = np.random.default_rng(step_seed(seed, next_step, 2))
                chosen = sample_without_replacement(probs, min(k, len(pool)), rng)
                archs = [pool[i] for i in chosen]
                res = train_step(
                    archs,
                    data,
                    bank,
                    weight_sharing,
                    step_seed(seed, next_step),
                    dev,
                    bar,
                    train_kw,
                    threads,
                )
                rows += rows_of(archs, res, pred[chosen], level, it, next_step, temp)
                sampled.update(archs)
                surrogate.update(archs, res.scores, surrogate_epochs)
                next_step += 1
    frame = pd.DataFrame(rows, columns=COLUMNS)
    top = frame.sort_values("val_score", ascending=False, kind="stable").head(k)
    history = history + frame.to_dict("records")
    out = Path(out_dir)
    write_tsv(out / "candidates.tsv", frame)
    with atomic_path(out / "surrogate.pt") as tmp:
        surrogate.save(tmp)
    with atomic_path(out / "bank.pt") as tmp:
        bank.save(tmp)
    write_json(
        out / "state.json",
        {
            "level": level,
            "seed": seed,
            "next_step": next_step,
            "topk": top["architecture"].tolist(),
            "step_seeds": {str(s): step_seed(seed, s) for s in sorted(set(frame["step"]))},
            "bank_entries": len(bank),
            "history": json.loads(pd.DataFrame(history).to_json(orient="records")),
        },
    )
    return frame


def space_extend(space: SearchSpace, parents: list[Arch], level: int) -> list[Arch]:
    """Parents extended by one layer, in a space that allows `level` layers."""
    return SearchSpace(space.m, space.n, space.p, level).extend(parents)
