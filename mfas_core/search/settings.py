"""The `search:` config section as frozen dataclasses, built once from a rule's `settings`.

`TrainSettings` is how every sampled architecture is trained (MFAS and random search alike);
`SearchSettings` adds one SMBO level's search (seed, sampling, surrogate, extension) and
`RandomSearchSettings` the random-search baseline's protocol. Each job reads exactly its
class's fields (`level_params`, `random_params` pick them from the config), so a config edit
re-runs only the jobs that read the edited key. Defaults equal the schema's
(tests/test_settings.py); `from_params` requires every field (mfas_core.settings.build).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mfas_core.config import ConfigError
from mfas_core.search.space import check_fusion_ops
from mfas_core.settings import build, field_names, pick
from mfas_core.unimodal.backbones import effective_spec

EXTENDS = ("sampled", "topk")
RANDOM_PROTOCOLS = ("paper", "depth_matched")


@dataclass(frozen=True)
class TrainSettings:
    """How one step's candidates are trained (paper §3.2: E_train epochs, frozen backbones)."""

    epochs: int = 3
    width: int = 16
    dropout: float = 0.5
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 32
    nonlinearities: tuple[str, ...] = ("relu", "sigmoid")
    weight_sharing: bool = True
    # Processes that train a step's candidates on CPU. It decides how the K candidates are
    # split, which changes float rounding, so it is a config value (never the rule's threads).
    workers: int = 2
    device: str = "auto"
    # The operators a fusion layer may use (mfas_core.search.ops); [concat] = the paper.
    fusion_ops: tuple[str, ...] = ("concat",)
    lowrank_rank: int = 4

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"search.workers: {self.workers} must be >= 1")
        if self.lowrank_rank < 1:
            raise ConfigError(f"search.lowrank_rank: {self.lowrank_rank} must be >= 1")
        try:
            check_fusion_ops(list(self.fusion_ops))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def kwargs(self) -> dict:
        """Keyword arguments of trainer.train_candidates (besides archs, data, seed, bank)."""
        return dict(
            epochs=self.epochs, width=self.width, dropout=self.dropout, lr=self.lr,
            weight_decay=self.weight_decay, batch_size=self.batch_size,
            nonlinearities=list(self.nonlinearities), fusion_ops=list(self.fusion_ops),
            lowrank_rank=self.lowrank_rank,
        )  # fmt: skip


def _from_flat(cls, params: dict):
    """`cls` from a rule's flat `settings` (TrainSettings' keys beside the class's own):
    every field required, an unknown key is a ConfigError naming it."""
    train_keys = set(field_names(TrainSettings))
    own = {k: v for k, v in params.items() if k not in train_keys}
    own["train"] = build(TrainSettings, {k: v for k, v in params.items() if k in train_keys},
                         "search")  # fmt: skip
    return build(cls, own, "search")


@dataclass(frozen=True)
class SearchSettings:
    """One SMBO level of one seed's MFAS search (paper Algorithm 1); defaults = the schema."""

    seed: int = 0
    iterations: int = 3
    k: int = 15
    t_max: float = 10.0
    t_min: float = 0.2
    sigma: float = 4.0
    surrogate_epochs: int = 50
    surrogate_lr: float = 1e-3
    surrogate_hidden: int = 100
    surrogate_encoding: str = "reference"
    surrogate_memory: str = "all"
    extend: str = "sampled"
    train: TrainSettings = field(default_factory=TrainSettings)

    def __post_init__(self) -> None:
        if self.extend not in EXTENDS:
            raise ConfigError(f"search.extend: {self.extend!r} is not one of {EXTENDS}")

    @classmethod
    def from_params(cls, **params) -> SearchSettings:
        """From rule search_level's flat `settings` (see `_from_flat`)."""
        return _from_flat(cls, params)


@dataclass(frozen=True)
class RandomSearchSettings:
    """The random-search baseline of one seed (`random_protocol`); defaults = the schema."""

    seed: int = 0
    max_layers: int = 4
    iterations: int = 3
    k: int = 15
    random_protocol: str = "paper"
    train: TrainSettings = field(default_factory=TrainSettings)

    def __post_init__(self) -> None:
        if self.random_protocol not in RANDOM_PROTOCOLS:
            raise ConfigError(
                f"search.random_protocol: {self.random_protocol!r} is not one of {RANDOM_PROTOCOLS}"
            )

    @classmethod
    def from_params(cls, **params) -> RandomSearchSettings:
        """From rule search_random's flat `settings` (see `_from_flat`)."""
        return _from_flat(cls, params)


def _own_keys(cls) -> list[str]:
    return [n for n in field_names(cls) if n not in ("train", "seed")]


def train_params(search: dict, device: str) -> dict:
    """What every search job reads of `search:` to train candidates (plain builtins)."""
    keys = [n for n in field_names(TrainSettings) if n != "device"]
    return {**pick(search, keys, "search"), "device": device}


def level_params(search: dict, device: str, seed: int) -> dict:
    """The `settings` param of rule search_level: SearchSettings' fields, flat."""
    own = pick(search, _own_keys(SearchSettings), "search")
    return {**train_params(search, device), **own, "seed": int(seed)}


def random_params(search: dict, device: str, seed: int) -> dict:
    """The `settings` param of rule search_random: RandomSearchSettings' fields, flat."""
    own = pick(search, _own_keys(RandomSearchSettings), "search")
    return {**train_params(search, device), **own, "seed": int(seed)}


# What the search table's header states of the setup (rule tabulate_search).
TABLE_SETUP_KEYS = (
    "max_layers", "iterations", "k", "epochs", "width", "nonlinearities", "weight_sharing",
    "surrogate_encoding", "surrogate_memory", "random_protocol", "workers",
)  # fmt: skip


def table_setup(search: dict) -> dict:
    """The setup the search table states (`unfold` = search.extend, as the table reads it)."""
    return {**pick(search, TABLE_SETUP_KEYS, "search"), "unfold": search["extend"]}


def space_pairs(datasets: dict[str, dict], names: list[str], fusion_ops: list[str]) -> list:
    """[paper, extended] pairs among the searched dataset instances `names`: two entries
    alike in everything but `search_fusion_ops`, the first searching the paper's space
    (concat only) and the second more operators (config/search_ops.yaml); fusion_ops is
    search.fusion_ops, which an entry without its own uses. Plain lists, for params:."""

    def ops(name: str) -> list[str]:
        return list(datasets[name].get("search_fusion_ops", fusion_ops))

    def rest(name: str) -> dict:
        entry = {k: v for k, v in datasets[name].items()
                 if k not in ("name", "group", "search_fusion_ops")}  # fmt: skip
        if "backbones" in entry:  # a size left out and the same size written out build one net
            entry["backbones"] = {m: effective_spec(s) for m, s in entry["backbones"].items()}
        return entry

    paper = [n for n in names if ops(n) == ["concat"]]
    return [[p, x] for x in names if len(ops(x)) > 1 for p in paper if rest(p) == rest(x)]
