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

from mfas_core.config import ConfigError
from mfas_core.fusion import WeightBank
from mfas_core.io import atomic_path, pick_device, set_seed, set_threads, write_json, write_tsv
from mfas_core.sampling import sample_without_replacement, sampling_probs, temperature
from mfas_core.space import Arch, SearchSpace, arch_to_text, check_nonlinearities, text_to_arch
from mfas_core.surrogate import Surrogate
from mfas_core.train import FusionData, TrainResult, load_fusion_data, train_candidates, write_back

COLUMNS = [
    "architecture", "val_score", "val_macro_f1", "predicted_score", "level", "iteration",
    "step", "temperature", "train_seconds",
]  # fmt: skip


# Intra-op threads for search training on CPU. Every tensor of a step is tiny ([K, 32, ≤48]),
# so a second OpenMP thread only adds synchronisation: measured on 2 shared cores, one epoch of
# level 1 (30 candidates, 55,000 samples) takes 2.6 s with 1 thread and 22 s with 2. The
# rule's other threads go to forked workers that each train a share of the K candidates.
CPU_TRAIN_THREADS = 1


def _threads(device, threads: int | None) -> int | None:
    return min(threads or 1, CPU_TRAIN_THREADS) if device.type == "cpu" else threads


def _workers(device, threads: int | None) -> int:
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


def _train(
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
        progress=bar, workers=_workers(device, threads), **train_kw,
    )  # fmt: skip
    if weight_sharing:
        write_back(bank, res)
    return res


def _rows(archs, res: TrainResult, pred, level, iteration, step, temp) -> list[dict]:
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
    set_threads(_threads(dev, threads))
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
            res = _train(
                archs, data, bank, weight_sharing, step_seed(seed, 0), dev, bar, train_kw, threads
            )
        rows += _rows(archs, res, None, 1, 1, 0, float("nan"))
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
                res = _train(
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
                rows += _rows(archs, res, pred[chosen], level, it, next_step, temp)
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
    set_threads(_threads(dev, threads))
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
            res = _train(
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
            rows += _rows(archs, res, None, level, it, step, float("nan"))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    write_tsv(out_tsv, frame)
    return frame


def summarize_search(candidate_tsvs: list[str], out_tsv: str, k: int) -> pd.DataFrame:
    """Top k over everything sampled in all levels (paper: return topK(B, A, K))."""
    frame = pd.concat([pd.read_csv(p, sep="\t") for p in candidate_tsvs], ignore_index=True)
    top = frame.sort_values("val_score", ascending=False, kind="stable").head(k).copy()
    top.insert(0, "rank", range(1, len(top) + 1))
    write_tsv(out_tsv, top)
    return top


def search_timing(candidate_tsvs: list[str]) -> float:
    """Total training seconds over the given candidate tables."""
    return float(sum(pd.read_csv(p, sep="\t")["train_seconds"].sum() for p in candidate_tsvs))
