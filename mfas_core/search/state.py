"""What one SMBO level leaves for the next: `LevelState`, saved as the level's state.json.

The surrogate (with its optimizer and training set) and the weight bank are saved beside it
(surrogate.pt, bank.pt); this file holds the rest: the step counter, which architectures the
level sampled and which are its top K, and every candidate row so far.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mfas_core.atomic import write_json
from mfas_core.errors import InputError
from mfas_core.search.space import Arch, text_to_arch


@dataclass(frozen=True)
class LevelState:
    """The saved state of SMBO level `level` of the search with seed `seed`."""

    level: int
    seed: int
    next_step: int  # the global sampling step the next level starts at
    sampled: list[str]  # every architecture this level trained (S_l of Algorithm 1)
    topk: list[str]  # this level's K best by validation score
    step_seeds: dict[str, int] = field(default_factory=dict)
    bank_entries: int = 0
    surrogate_set: int = 0  # architectures in the surrogate's training set
    history: list[dict] = field(default_factory=list)  # every candidate row of levels 1..level

    def parents(self, extend: str) -> list[Arch]:
        """What the next level extends: all of S_l (`sampled`, the paper) or the top K (`topk`)."""
        return [text_to_arch(a) for a in (self.sampled if extend == "sampled" else self.topk)]

    def save(self, path: str | Path) -> None:
        write_json(path, asdict(self))

    @classmethod
    def load(
        cls, path: str | Path, level: int | None = None, seed: int | None = None
    ) -> LevelState:
        """Read state.json; `level`/`seed` given -> check they match (InputError naming them)."""
        try:
            raw = json.loads(Path(path).read_text())
            state = cls(**raw)
        except (json.JSONDecodeError, TypeError) as exc:
            raise InputError(path, "state", f"not a level state ({exc})") from None
        if level is not None and state.level != level:
            raise InputError(path, "level", f"is level {state.level}, expected {level}")
        if seed is not None and state.seed != seed:
            raise InputError(path, "seed", f"is seed {state.seed}, expected {seed}")
        return state
