"""Surrogate rank correlation on held-out sampled architectures: reference vs one-hot encoding.

Reads the candidates.tsv files of finished searches (MFAS levels and/or random search: real
validation scores of really trained architectures), holds out a random fraction, fits a fresh
surrogate per encoding on the rest (same model, optimizer and epochs) and reports Spearman's
rho between predicted and true scores on the held-out set, over several splits.

Usage:
  .venv/bin/python benchmarks/surrogate_rank.py results/search/avmnist/seed0/level*/candidates.tsv \
      results/search/avmnist/seed0/random/candidates.tsv --space 5 3 2
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from mfas_core.search.space import text_to_arch
from mfas_core.search.surrogate import ENCODINGS, Surrogate


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


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("tsvs", nargs="+", help="candidates.tsv files")
    ap.add_argument("--space", nargs=3, type=int, required=True, metavar=("M", "N", "P"))
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=500)
    ap.add_argument("--holdout", type=float, default=0.3)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
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
