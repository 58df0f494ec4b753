"""Which MFAS variant finds better architectures? Per-seed top-5 of several search variants
and of random search, on one dataset's cached features, with paired comparisons over seeds.

Runs whole searches in this process (levels 1..L as the workflow's level jobs would) with the
default `search:` settings plus each variant's overrides, and the random search of
`search.random_protocol`; writes every candidates.tsv under --out (<variant>/seed<s>/...) so
that benchmarks/surrogate_rank.py can replay them. Prints a markdown table.

Usage:
  .venv/bin/python benchmarks/search_variants.py --features results/features/mfeat/pix.h5 \
      results/features/mfeat/fou.h5 --seeds 0 1 2 --out /tmp/variants \
      --variant default --variant extend=topk --variant surrogate_memory=step
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from mfas_core.report.tables import paired_comparison, top_stats, verdict
from mfas_core.search.random import run_random_search
from mfas_core.search.settings import (
    RandomSearchSettings,
    SearchSettings,
    level_params,
    random_params,
)
from mfas_core.search.smbo import run_search_level
from mfas_core.settings import schema_defaults


def parse_variant(text: str) -> dict:
    """'extend=topk,surrogate_memory=step' -> overrides ('default' -> none)."""
    if text == "default":
        return {}
    return dict(part.split("=", 1) for part in text.split(","))


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--features", nargs=2, required=True)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--variant", action="append", default=[], help="key=value[,key=value]")
    ap.add_argument("--out", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--top-k", type=int, default=5)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    variants = args.variant or ["default"]
    tops: dict[str, dict[int, float]] = {}
    seconds: dict[str, list[float]] = {}
    base = schema_defaults("search") | {"workers": args.workers}
    for seed in args.seeds:
        for name in [*variants, "random"]:
            folder = Path(args.out) / name / f"seed{seed}"
            t0 = time.perf_counter()
            if name == "random":
                frame = run_random_search(
                    list(args.features), str(folder / "random/candidates.tsv"),
                    RandomSearchSettings.from_params(**random_params(base, "cpu", seed)),
                )  # fmt: skip
            else:
                cfg = base | parse_variant(name)
                s = SearchSettings.from_params(**level_params(cfg, "cpu", seed))
                frames, prev = [], None
                for level in range(1, int(cfg["max_layers"]) + 1):
                    out = str(folder / f"level{level}")
                    frames.append(run_search_level(list(args.features), out, level, prev, s))
                    prev = out
                frame = pd.concat(frames)
            seconds.setdefault(name, []).append(time.perf_counter() - t0)
            tops.setdefault(name, {})[seed] = top_stats(frame, args.top_k)[0]
            print(f"{name} seed {seed}: top-{args.top_k} {tops[name][seed]:.4f}", flush=True)
    seeds = args.seeds
    lines = [
        f"Top-{args.top_k} mean validation score per seed ({args.features[0]}); "
        "last columns: minus the first variant, paired over seeds.",
        "",
        "| variant | " + " | ".join(f"seed {s}" for s in seeds)
        + " | mean ± std | s per search | − first: mean [bootstrap 95%], t-test p |",
        "|---|" + "---|" * (len(seeds) + 3),
    ]  # fmt: skip
    first = variants[0]
    for name in [*variants, "random"]:
        vals = np.array([tops[name][s] for s in seeds])
        cmp_txt = "—"
        if name != first:
            c = paired_comparison(vals - np.array([tops[first][s] for s in seeds]))
            cmp_txt = f"{c['mean']:+.4f} [{c['lo']:+.4f}, {c['hi']:+.4f}], p = {c['p_t']:.3f}"
        lines.append(
            f"| {name} | " + " | ".join(f"{v:.4f}" for v in vals)
            + f" | {vals.mean():.4f} ± {vals.std(ddof=1) if len(vals) > 1 else 0:.4f} | "
            f"{np.mean(seconds[name]):.0f} | {cmp_txt} |"
        )  # fmt: skip
    rand = np.array([tops["random"][s] for s in seeds])
    for name in variants:
        c = paired_comparison(np.array([tops[name][s] for s in seeds]) - rand)
        lines.append(f"\n{name} vs random: {verdict(c)}")
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
