"""Markdown tables of the MFAS half: unimodal backbones, and MFAS vs random search (paper Table 1)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from mfas_core.io import write_text
from mfas_core.report.paper import PAPER_SEARCH_TABLE1, PAPER_UNIMODAL

_PATH = re.compile(r"search/(?P<dataset>[^/]+)/seed(?P<seed>\d+)/")


def dataset_seed(path: str) -> tuple[str, int]:
    """('avmnist', 0) from results/search/avmnist/seed0/..."""
    m = _PATH.search(str(path).replace("\\", "/"))
    if not m:
        raise ValueError(f"{path}: not under results/search/<dataset>/seed<seed>/")
    return m["dataset"], int(m["seed"])


def top_stats(frame: pd.DataFrame, top_k: int) -> tuple[float, float, float, int]:
    """Mean, std (population, as over the 5 best in the paper), best of the top_k scores; count."""
    best = np.sort(frame["val_score"].to_numpy())[::-1][:top_k]
    return float(best.mean()), float(best.std()), float(best[0]), len(frame)


def _fmt(mean: float, std: float) -> str:
    return f"{mean:.4f} ({std:.4f})"


def search_table(
    topk_tsvs: list[str],
    level_tsvs: list[str],
    random_tsvs: list[str],
    out_md: str,
    *,
    top_k: int,
    setup: dict,
) -> str:
    """Write results/tables/search.md: per dataset and seed, MFAS and random top-k val scores.

    level_tsvs: every level's candidates.tsv (counts the architectures MFAS trained).
    random_tsvs may be empty (random_search: false) - then only MFAS is shown.
    """
    trained: dict[tuple[str, int], int] = {}
    for p in level_tsvs:
        key = dataset_seed(p)
        trained[key] = trained.get(key, 0) + len(pd.read_csv(p, sep="\t"))
    rows = []
    for method, paths in (("MFAS", topk_tsvs), ("random search", random_tsvs)):
        for p in paths:
            ds, seed = dataset_seed(p)
            frame = pd.read_csv(p, sep="\t")
            mean, std, best, n = top_stats(frame, top_k)
            n_trained = trained.get((ds, seed), 0) if method == "MFAS" else n
            rows.append(
                dict(
                    dataset=ds, method=method, seed=seed, mean=mean, std=std, best=best, n=n_trained
                )
            )
    frame = pd.DataFrame(rows)
    lines = [
        "# MFAS search vs random search (validation scores)",
        "",
        f"Top-{top_k} validation score, mean (std) over the {top_k} best architectures of one "
        "search (accuracy for single-label data, weighted F1 for multi-label), as in paper "
        "Table 1. Paper: AV-MNIST, 180 architectures each.",
        "",
        f"| dataset | method | seed | archs trained | top-{top_k} mean (std) | best | paper top-5 mean (std) |",
        "|---|---|---|---|---|---|---|",
    ]
    for ds in dict.fromkeys(frame["dataset"]):
        for method in ("MFAS", "random search"):
            sub = frame[(frame["dataset"] == ds) & (frame["method"] == method)].sort_values("seed")
            if sub.empty:
                continue
            paper = PAPER_SEARCH_TABLE1.get(ds, {}).get("mfas" if method == "MFAS" else "random")
            ptxt = _fmt(*paper) if paper else "—"
            for r in sub.itertuples():
                lines.append(
                    f"| {ds} | {method} | {r.seed} | {r.n} | {_fmt(r.mean, r.std)} | {r.best:.4f} | {ptxt} |"
                )
            if len(sub) > 1:
                lines.append(
                    f"| {ds} | {method} | mean of {len(sub)} seeds | {int(sub['n'].mean())} | "
                    f"{_fmt(sub['mean'].mean(), sub['mean'].std(ddof=0))} (std over seeds) | "
                    f"{sub['best'].mean():.4f} | {ptxt} |"
                )
    s = setup
    lines += [
        "",
        "Setup and differences from the paper: fusion nets learn from cached, frozen backbone "
        f"features (our own small backbones, not the paper's LeNets; AV-MNIST speech is "
        f"synthesized, not TIDIGITS). L={s.get('max_layers')}, E_search={s.get('iterations')}, "
        f"K={s.get('k')}, E_train={s.get('epochs')} (paper: 2), width {s.get('width')}, "
        f"nonlinearities {s.get('nonlinearities')}, weight sharing "
        f"{'on' if s.get('weight_sharing') else 'off'}, surrogate encoding "
        f"{s.get('surrogate_encoding')}. Random search trains the same number of architectures "
        "of each depth with the same epochs.",
        "",
    ]
    text = "\n".join(lines)
    Path(out_md).parent.mkdir(parents=True, exist_ok=True)
    write_text(out_md, text)
    return text


def unimodal_table(metrics_paths: list[str], out: str) -> str:
    """Markdown table of every backbone's val/test score, the paper's number beside ours."""
    import json

    rows = [
        "| dataset | modality | backbone | params | metric | val | test | paper (test) | epochs (best) | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in metrics_paths:
        m = json.loads(Path(p).read_text())
        paper = PAPER_UNIMODAL.get((m["dataset"].split("_")[0], m["modality"]))
        spec = m["spec"]
        arch = (
            f"conv {spec.get('blocks')}×{spec.get('channels')}"
            if spec["type"] == "conv"
            else f"mlp {spec.get('hidden')}"
        )
        rows.append(
            f"| {m['dataset']} | {m['modality']} | {arch} | {m['n_parameters']:,} | {m['metric']} "
            f"| {100 * m['val']:.2f} | {100 * m['test']:.2f} "
            f"| {f'{paper[1]:.2f} ({paper[0]})' if paper else '—'} | {m['epochs']} ({m['best_epoch']}) | {m['seconds']:.0f} |"
        )
    text = (
        "# Unimodal backbones\n\nScores in %, one seed. Our AV-MNIST audio is synthesized speech "
        "(eSpeak NG) with synthetic noise, not TIDIGITS + ESC-50, and the backbones are trained "
        "for the configured epochs on CPU, so the paper's numbers are a target, not a replication.\n\n"
        + "\n".join(rows)
        + "\n"
    )
    write_text(out, text)
    return text
