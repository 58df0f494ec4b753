"""Which found architecture is "MFAS top 1": chosen on validation scores only."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np


def read_metrics(paths: list[str]) -> list[dict]:
    """metrics.json files, each with its path under "path"."""
    return [{**json.loads(Path(p).read_text()), "path": str(p)} for p in paths]


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
