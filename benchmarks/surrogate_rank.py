"""Surrogate rank correlation on held-out sampled architectures.

Two measurements on the candidates.tsv files of finished searches (real validation scores of
really trained architectures):

Default (memories): replays each MFAS search step by step with a fresh surrogate per
  `search.surrogate_memory` (all, step): before step s updates the surrogate, it predicts step
  s's architectures (not yet seen: held out) and Spearman's rho between prediction and true
  score is reported per level (levels 2..L, pooled over the level's steps), mean over searches.
  With the search's own seed and settings this reproduces the predictions the search sampled by.
--encodings: holds out a random fraction of all architectures, fits a fresh surrogate per
  encoding (reference, onehot) on the rest and reports rho on the held-out set, over splits.

Usage:
  .venv/bin/python benchmarks/surrogate_rank.py --space 5 3 2 \
      results/search/avmnist/seed*/level*/candidates.tsv
"""

from __future__ import annotations

import argparse
import re

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from mfas_core.search.space import text_to_arch
from mfas_core.search.surrogate import ENCODINGS, MEMORIES, Surrogate


def replay_levels(
    frame: pd.DataFrame,
    sizes: tuple[int, int, int],
    memory: str,
    seed: int,
    epochs: int = 50,
    hidden: int = 100,
    lr: float = 1e-3,
    encoding: str = "reference",
) -> dict[int, float]:
    """Spearman rho per level of the surrogate's predictions for each step's architectures,
    made before that step's scores were added (the search's own order of updates)."""
    sur = Surrogate(sizes, encoding, hidden, lr, seed=seed, memory=memory)
    preds: dict[int, list[tuple[float, float]]] = {}
    for step, rows in frame.groupby("step", sort=True):
        archs = [text_to_arch(a) for a in rows["architecture"]]
        scores = rows["val_score"].tolist()
        if step > 0:
            level = int(rows["level"].iloc[0])
            preds.setdefault(level, []).extend(zip(sur.predict(archs), scores, strict=True))
        sur.update(archs, scores, epochs)
    return {
        lv: float(spearmanr([p for p, _ in v], [t for _, t in v]).statistic)
        for lv, v in sorted(preds.items())
    }


def rank_correlation(
    frame: pd.DataFrame,
    sizes: tuple[int, int, int],
    encoding: str,
    seed: int,
    holdout: float = 0.3,
    epochs: int = 500,
    hidden: int = 100,
    lr: float = 1e-3,
) -> float:
    """Spearman rho of one surrogate fit on a random (1 - holdout) split, tested on the rest."""
    best = frame.groupby("architecture")["val_score"].max()
    archs = [text_to_arch(a) for a in best.index]
    scores = best.to_numpy()
    order = np.random.default_rng(seed).permutation(len(archs))
    n_test = max(2, int(len(archs) * holdout))
    test, train = order[:n_test], order[n_test:]
    sur = Surrogate(sizes, encoding, hidden, lr, seed=seed)
    sur.update([archs[i] for i in train], scores[train].tolist(), epochs)
    return float(spearmanr(sur.predict([archs[i] for i in test]), scores[test]).statistic)


def memory_table(tsvs: list[str], sizes: tuple[int, int, int], epochs: int) -> list[str]:
    """Markdown rows: rho per level and memory, mean (std) over the searches in `tsvs`."""
    searches: dict[tuple[str, int], list[str]] = {}
    for p in tsvs:  # one search = the level folders under one .../seed<s>/ folder
        m = re.search(r"^(?P<root>.*)/seed(?P<seed>\d+)/level\d+/", str(p).replace("\\", "/"))
        if not m:
            raise ValueError(f"{p}: not a .../seed<s>/level<l>/candidates.tsv of an MFAS search")
        searches.setdefault((m["root"], int(m["seed"])), []).append(p)
    rhos: dict[str, dict[int, list[float]]] = {m: {} for m in MEMORIES}
    for (_, seed), paths in sorted(searches.items()):
        frame = pd.concat([pd.read_csv(p, sep="\t") for p in paths], ignore_index=True)
        for memory in MEMORIES:
            for lv, rho in replay_levels(frame, sizes, memory, seed, epochs).items():
                rhos[memory].setdefault(lv, []).append(rho)
    levels = sorted({lv for m in rhos.values() for lv in m})
    lines = [
        f"{len(searches)} searches; Spearman rho of the surrogate's predictions for each "
        "level's sampled architectures, made before it saw them; mean (std) over searches.",
        "",
        "| memory | " + " | ".join(f"level {lv}" for lv in levels) + " |",
        "|---|" + "---|" * len(levels),
    ]
    for memory in MEMORIES:
        cells = [
            f"{np.mean(rhos[memory][lv]):.3f} ({np.std(rhos[memory][lv]):.3f})" for lv in levels
        ]
        lines.append(f"| {memory} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("tsvs", nargs="+", help="candidates.tsv files")
    ap.add_argument("--space", nargs=3, type=int, required=True, metavar=("M", "N", "P"))
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=500)
    ap.add_argument("--holdout", type=float, default=0.3)
    ap.add_argument("--encodings", action="store_true", help="compare encodings (random splits)")
    ap.add_argument("--surrogate-epochs", type=int, default=50, help="per update (--memory)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if not args.encodings:
        text = "\n".join(memory_table(args.tsvs, tuple(args.space), args.surrogate_epochs))
        print(text)
        return text
    frame = pd.concat([pd.read_csv(p, sep="\t") for p in args.tsvs], ignore_index=True)
    n = frame["architecture"].nunique()
    lines = [
        f"{n} distinct sampled architectures, {args.splits} random splits, "
        f"{args.holdout:.0%} held out, {args.epochs} epochs.",
        "",
        "| encoding | Spearman rho mean | std |",
        "|---|---|---|",
    ]
    for enc in ENCODINGS:
        rhos = [
            rank_correlation(frame, tuple(args.space), enc, s, args.holdout, args.epochs)
            for s in range(args.splits)
        ]
        lines.append(f"| {enc} | {np.mean(rhos):.3f} | {np.std(rhos):.3f} |")
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
