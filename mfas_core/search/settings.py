"""The `search:` config section as frozen dataclasses, built once from a rule's params.

`TrainSettings` is how every sampled architecture is trained (MFAS and random search alike);
`SearchSettings` adds the search itself (one seed, SMBO, surrogate, random-search protocol).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from mfas_core.config import ConfigError

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

    def kwargs(self) -> dict:
        """Keyword arguments of trainer.train_candidates (besides archs, data, seed, bank)."""
        return dict(
            epochs=self.epochs, width=self.width, dropout=self.dropout, lr=self.lr,
            weight_decay=self.weight_decay, batch_size=self.batch_size,
            nonlinearities=list(self.nonlinearities),
        )  # fmt: skip


@dataclass(frozen=True)
class SearchSettings:
    """One search (MFAS levels or random search) of one seed; defaults = config/schema.yaml."""

    seed: int = 0
    max_layers: int = 4
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
    random_protocol: str = "paper"
    train: TrainSettings = field(default_factory=TrainSettings)

    def __post_init__(self) -> None:
        if self.extend not in EXTENDS:
            raise ConfigError(f"search.extend: {self.extend!r} is not one of {EXTENDS}")
        if self.random_protocol not in RANDOM_PROTOCOLS:
            raise ConfigError(
                f"search.random_protocol: {self.random_protocol!r} is not one of {RANDOM_PROTOCOLS}"
            )
        if self.train.workers < 1:
            raise ConfigError(f"search.workers: {self.train.workers} must be >= 1")

    @classmethod
    def from_params(cls, **params) -> SearchSettings:
        """Build from a rule's params (plain builtins); an unknown key is a ConfigError.

        `unfold` is accepted for `extend` (a reserved name in Snakemake's params)."""
        params = dict(params)
        if "unfold" in params:
            params["extend"] = params.pop("unfold")
        train_keys = {f.name for f in fields(TrainSettings)}
        own_keys = {f.name for f in fields(cls)} - {"train"}
        unknown = sorted(set(params) - train_keys - own_keys)
        if unknown:
            raise ConfigError(f"search: unknown setting(s) {unknown}")
        train = {k: v for k, v in params.items() if k in train_keys}
        if "nonlinearities" in train:
            train["nonlinearities"] = tuple(train["nonlinearities"])
        own = {k: v for k, v in params.items() if k in own_keys}
        return cls(train=TrainSettings(**train), **own)
