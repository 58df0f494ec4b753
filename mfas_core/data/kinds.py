"""How a dataset kind is described: one `DatasetKind` per source module, gathered in `registry`.

A kind says how to build its file (`build(spec, seed) -> splits`), which modalities and
backbones it has when the config names none, its default sizes, and which config keys it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# Backbone of a vector modality when neither the kind nor the config names one.
DEFAULT_MLP = {"type": "mlp", "hidden": [256, 128, 64]}


@dataclass(frozen=True)
class DatasetKind:
    """One value of the config's `datasets.<name>.kind`."""

    name: str
    build: Callable[[dict, int], dict]
    modalities: tuple[str, ...] = ()  # empty: from the file (hdf5) or the config (mfeat views)
    backbones: dict = field(default_factory=dict)  # modality -> backbone spec; others get an MLP
    sizes: dict = field(default_factory=dict)  # default n_train / n_val / n_test
    required: tuple[str, ...] = ()  # config keys an entry of this kind must have
    half_precision: frozenset = frozenset()  # modalities stored as float16
    multi_label: bool = False
    damage_levels: bool = False  # one dataset instance per `damage_levels` entry
