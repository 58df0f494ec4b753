"""Which found architecture is "MFAS top 1": chosen on validation scores only."""

from __future__ import annotations

from collections import defaultdict

import numpy as np


def choose_top1(metrics: list[dict]) -> dict[tuple[str, int], int]:
    """(dataset, search seed) -> the rank whose final training has the best mean validation
    score over the training seeds (ties: the better search rank). Reads no test number."""
    vals: dict[tuple[str, int], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for m in metrics:
        if m["method"] == "mfas":
            vals[(m["dataset"], int(m["search_seed"]))][int(m["rank"])].append(float(m["val"]))
    return {
        key: min(ranks, key=lambda r: (-float(np.mean(ranks[r])), r)) for key, ranks in vals.items()
    }
