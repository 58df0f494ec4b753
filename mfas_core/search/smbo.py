"""MFAS search (paper Algorithm 1), one SMBO level per call.

Each level is a separate job: it reads the previous level's directory (surrogate with its
optimizer and training set, weight bank, `LevelState` in state.json) and writes its own
directory; it never touches earlier levels.

Steps: level 1 is step 0 (all of Γ1, no sampling). Every (level, iteration) of levels 2..L is
one sampling step 1, 2, ...; sampling step s uses temperature index i = s - 1. Every random
choice is seeded from (seed, step), so a level job gives the same numbers whenever it runs.

Which architectures level l extends (`search.extend`): `sampled` (paper Algorithm 1,
S'_l ← addLayer(S_(l-1), Γ_l)): at level 2 all of Γ1, later every architecture sampled at
level l-1; `topk`: the previous level's K best by validation score.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mfas_core.atomic import atomic_files
from mfas_core.search.batched import WeightBank
from mfas_core.search.sampling import sample_without_replacement, sampling_probs, temperature
from mfas_core.search.settings import SearchSettings
from mfas_core.search.space import Arch, SearchSpace
from mfas_core.search.state import LevelState
from mfas_core.search.steps import COLUMNS, StepTrainer, rows_of, step_seed
from mfas_core.search.surrogate import Surrogate


def run_search_level(
    features: list[str],
    out_dir: str,
    level: int,
    prev_dir: str | list[str] | None = None,
    settings: SearchSettings | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """Run SMBO level `level` and write candidates.tsv, surrogate.pt, bank.pt, state.json.

    Level 1 trains every one-layer architecture. Level l >= 2 runs `iterations` steps: extend
    the previous level's architectures (`settings.extend`) by one layer over all triples
    (minus those already sampled at this level), predict with the surrogate, sample k with
    temperature, train, write back to the bank, update the surrogate. Outputs are written only
    when the whole level succeeded. prev_dir: the previous level's folder, or a list of its
    files as the rule's input gives them (empty for level 1). threads: torch threads only.
    """
    s = settings or SearchSettings()
    if isinstance(prev_dir, list | tuple):
        prev_dir = str(Path(prev_dir[0]).parent) if prev_dir else None
    if level == 1 and prev_dir is not None:
        raise ValueError("level 1 takes no previous level")
    if level > 1 and prev_dir is None:
        raise ValueError(f"level {level} needs the directory of level {level - 1}")
    trainer = StepTrainer.open(features, s, level, threads)
    sizes = trainer.space.bounds
    rows: list[dict] = []
    if level == 1:
        history: list[dict] = []
        surrogate = Surrogate(
            sizes, s.surrogate_encoding, s.surrogate_hidden, s.surrogate_lr, seed=s.seed,
            memory=s.surrogate_memory,
        )  # fmt: skip
        archs = trainer.space.level_one()
        with trainer.progress(1, "level 1"):
            res = trainer.step(archs, step_seed(s.seed, 0))
        rows += rows_of(archs, res, None, 1, 1, 0, float("nan"))
        surrogate.update(archs, res.scores, s.surrogate_epochs)
        next_step = 1
    else:
        prev = Path(prev_dir)
        state = LevelState.load(prev / "state.json", level=level - 1, seed=s.seed)
        history = state.history
        surrogate = Surrogate.load(prev / "surrogate.pt")
        trainer.bank = WeightBank.load(prev / "bank.pt")
        parents = state.parents(s.extend)
        next_step = state.next_step
        sampled: set[Arch] = set()
        with trainer.progress(s.iterations, f"level {level}"):
            for it in range(1, s.iterations + 1):
                pool = [a for a in level_pool(trainer.space, parents, level) if a not in sampled]
                if not pool:
                    break
                pred = surrogate.predict(pool)
                temp = temperature(next_step - 1, s.t_max, s.t_min, s.sigma)
                probs = sampling_probs(pred, temp)
                rng = np.random.default_rng(step_seed(s.seed, next_step, 2))
                chosen = sample_without_replacement(probs, min(s.k, len(pool)), rng)
                archs = [pool[i] for i in chosen]
                res = trainer.step(archs, step_seed(s.seed, next_step))
                rows += rows_of(archs, res, pred[chosen], level, it, next_step, temp)
                sampled.update(archs)
                surrogate.update(archs, res.scores, s.surrogate_epochs)
                next_step += 1
    frame = pd.DataFrame(rows, columns=COLUMNS)
    top = frame.sort_values("val_score", ascending=False, kind="stable").head(s.k)
    out = Path(out_dir)
    # The four files appear together or not at all: a failure in between leaves no level
    # that looks complete (nor any temporary file).
    names = ("candidates.tsv", "surrogate.pt", "bank.pt", "state.json")
    with atomic_files([out / n for n in names]) as (cand, sur, bank, state_path):
        frame.to_csv(cand, sep="\t", index=False)
        surrogate.save(sur)
        trainer.bank.save(bank)
        level_state(s, level, next_step, frame, top, trainer, surrogate, history).save(state_path)
    return frame


def level_state(s, level, next_step, frame, top, trainer, surrogate, history) -> LevelState:
    """What a level hands to the next one."""
    return LevelState(
        level=level,
        seed=s.seed,
        next_step=next_step,
        sampled=frame["architecture"].tolist(),
        topk=top["architecture"].tolist(),
        step_seeds={str(st): step_seed(s.seed, st) for st in sorted(set(frame["step"]))},
        bank_entries=len(trainer.bank),
        surrogate_set=len(surrogate.training_set),
        history=history + records(frame),
    )


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-safe dicts (NaN -> None)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def level_pool(space: SearchSpace, parents: list[Arch], level: int) -> list[Arch]:
    """S'_l: `parents` extended by one layer over every triple, in a space of `level` layers."""
    return SearchSpace(space.taps, space.p, level, space.ops).extend(parents)
