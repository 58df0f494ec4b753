"""DMF's MNIST toy: left and right 14-column halves, the right half damaged (Hu et al. §4.1).

Splits as in DMF: MNIST train[:50000] / train[50000:] / test (seeded subsets when fewer are
asked); pixels scaled to [0, 1]; `damage` of each right half's 392 pixels set to zero at
random (seeded), in every split.
"""

from __future__ import annotations

import numpy as np

from mfas_core.data.kinds import DatasetKind
from mfas_core.data.mnist import damage, load_mnist, split_halves, subset

N_DMF_TRAIN = 50000


def build_mnist_halves(spec: dict, seed: int) -> dict:
    """Arrays and metadata of one damage level (see module docstring)."""
    rng = np.random.default_rng([seed, 3])
    train_img, train_lab, files = load_mnist("train")
    test_img, test_lab, test_files = load_mnist("test")
    name = spec.get("name", "mnist_halves")
    pick = {
        "train": subset(N_DMF_TRAIN, spec["n_train"], rng, f"datasets.{name}.n_train"),
        "val": N_DMF_TRAIN
        + subset(len(train_img) - N_DMF_TRAIN, spec["n_val"], rng, f"datasets.{name}.n_val"),
        "test": subset(len(test_img), spec["n_test"], rng, f"datasets.{name}.n_test"),
    }
    splits, labels = {}, {}
    for s, idx in pick.items():
        imgs = (test_img if s == "test" else train_img)[idx].astype(np.float32) / 255.0
        left, right = split_halves(imgs)
        splits[s] = {"left": left, "right": damage(right, float(spec["damage"]), rng)}
        labels[s] = (test_lab if s == "test" else train_lab)[idx]
    return {
        "splits": splits,
        "labels": labels,
        "sources": files + test_files,
        "params": {**spec, "seed": seed},
    }


# DMF paper §4.1: MNIST's 50,000 / 10,000 / 10,000, one dataset instance per damage level.
KIND = DatasetKind(
    name="mnist_halves",
    build=build_mnist_halves,
    modalities=("left", "right"),
    sizes={"n_train": 50000, "n_val": 10000, "n_test": 10000},
    required=("n_train", "n_val", "n_test", "damage"),
    damage_levels=True,
)
