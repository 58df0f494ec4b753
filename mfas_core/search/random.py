"""Random search, the baseline of paper Table 1.

`search.random_protocol`:
  paper         - the authors' random search: E_search·L steps, each draws K architectures,
                  each with a depth uniform over 1..L and each layer uniform over the triples
                  (E_search·L·K = 180 with the defaults, paper Table 1's count). No
                  architecture is drawn twice (a repeat is redrawn, depth included).
  depth_matched - as many architectures of each depth as MFAS trains (all of Γ1, then
                  E_search·K of each depth 2..L), each uniform over that depth's space.
Every architecture trains for the same epochs with the same settings and weight sharing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mfas_core.atomic import write_tsv
from mfas_core.search.settings import RandomSearchSettings
from mfas_core.search.space import Arch, SearchSpace
from mfas_core.search.steps import COLUMNS, StepTrainer, rows_of, step_seed


def paper_draw(space: SearchSpace, rng: np.random.Generator) -> Arch:
    """One architecture of the paper's random search: depth uniform 1..L, layers uniform."""
    return space.random_arch(rng, int(rng.integers(1, space.max_layers + 1)))


def random_plan(
    space: SearchSpace, s: RandomSearchSettings
) -> list[tuple[int, int, list[Arch] | None]]:
    """(level, iteration, fixed archs or None) per step; None = draw at that step."""
    if s.random_protocol == "paper":
        return [(0, it, None) for it in range(1, s.iterations * s.max_layers + 1)]
    return [(1, 1, space.level_one())] + [
        (lv, it, None) for lv in range(2, s.max_layers + 1) for it in range(1, s.iterations + 1)
    ]


def draw_step(
    space: SearchSpace,
    s: RandomSearchSettings,
    level: int,
    seen: set[Arch],
    rng: np.random.Generator,
) -> list[Arch]:
    """K new architectures (never one in `seen`) for one step; adds them to `seen`."""
    if level == 0:  # paper protocol: any depth
        limit = min(s.k, sum(space.size(d) for d in range(1, space.max_layers + 1)) - len(seen))
        draw = lambda: paper_draw(space, rng)  # noqa: E731
    else:
        limit = min(s.k, space.size(level) - sum(len(a) == level for a in seen))
        draw = lambda: space.random_arch(rng, level)  # noqa: E731
    archs: list[Arch] = []
    while len(archs) < limit:
        a = draw()
        if a not in seen:
            seen.add(a)
            archs.append(a)
    return archs


def run_random_search(
    features: list[str], out_tsv: str, settings: RandomSearchSettings, threads: int | None = None
) -> pd.DataFrame:
    """Run the random search of `settings.random_protocol` and write its candidates.tsv
    (column `level` = the architecture's depth; `iteration` = the step within it)."""
    s = settings
    trainer = StepTrainer.open(features, s, s.max_layers, threads)
    space = trainer.space
    plan = random_plan(space, s)
    rows: list[dict] = []
    seen: set[Arch] = set()
    with trainer.progress(len(plan), "random"):
        for step, (level, it, archs) in enumerate(plan):
            if archs is None:
                archs = draw_step(
                    space, s, level, seen, np.random.default_rng(step_seed(s.seed, step, 3))
                )
            else:
                seen.update(archs)
            if not archs:
                break
            res = trainer.step(archs, step_seed(s.seed, step, 1))
            rows += rows_of(archs, res, None, None, it, step, float("nan"))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    write_tsv(out_tsv, frame)
    return frame
