"""Plots: search behaviour (MFAS paper Fig. 5) and DMF training curves (DMF paper Fig. 4)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mfas_core.atomic import atomic_path, read_metrics  # noqa: E402
from mfas_core.report.dmf_tables import models_of  # noqa: E402


def plot_search(candidate_tsvs: list[str], out_png: str, title: str = "") -> pd.DataFrame:
    """Left: every sampled architecture's val error (1 - score) per step, mean and ± std band.
    Right: the sampling temperature per step (step 0 = level 1, which samples nothing).
    Returns the per-step statistics that were plotted."""
    frame = pd.concat([pd.read_csv(p, sep="\t") for p in candidate_tsvs], ignore_index=True)
    frame["error"] = 1.0 - frame["val_score"]
    stats = frame.groupby("step").agg(
        mean=("error", "mean"), std=("error", "std"), temperature=("temperature", "first"),
        level=("level", "first"),
    ).fillna({"std": 0.0})  # fmt: skip
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.scatter(frame["step"], frame["error"], s=8, alpha=0.4, color="tab:blue", label="sampled")
    ax1.plot(stats.index, stats["mean"], "*-", color="tab:red", label="mean")
    ax1.fill_between(stats.index, stats["mean"] - stats["std"], stats["mean"] + stats["std"],
                     color="tab:red", alpha=0.2, label="± std")  # fmt: skip
    ax1.set_xlabel("step (0 = level 1)")
    ax1.set_ylabel("validation error")
    ax1.legend(fontsize=8)
    temp = stats["temperature"].dropna()
    ax2.plot(temp.index, temp.values, "o-", color="tab:green")
    ax2.set_xlabel("step")
    ax2.set_ylabel("temperature")
    for ax in (ax1, ax2):
        ax.set_xticks(list(stats.index))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return stats


def plot_curves(metrics_paths: list, out_path: str | Path) -> None:
    """Paper Fig. 4: training loss and test accuracy per epoch (mean over seeds), per dataset."""
    rows = [m for m in read_metrics(metrics_paths) if m["variant"] == "disc"]
    if not rows:
        raise ValueError("no discriminative metrics to plot")
    datasets = sorted(
        {r["dataset"] for r in rows}, key=lambda d: (d.rstrip("0123456789"), len(d), d)
    )
    fig, axes = plt.subplots(2, len(datasets), figsize=(3.2 * len(datasets), 5.6), squeeze=False)
    styles = {"emf": ":", "imf": "--", "dmf": "-"}
    for j, ds in enumerate(datasets):
        for model in models_of([r for r in rows if r["dataset"] == ds]):
            sel = [r for r in rows if r["dataset"] == ds and r["model"] == model]
            n = min(len(r["history"]) for r in sel)
            ep = np.arange(1, n + 1)
            loss = np.mean([[h["train_loss"] for h in r["history"][:n]] for r in sel], axis=0)
            acc = np.mean([[h["test_acc"] for h in r["history"][:n]] for r in sel], axis=0)
            kw = {
                "linestyle": styles.get(model, "-"),
                "label": f"{model.upper()} ({len(sel)} seeds)",
            }
            axes[0, j].plot(ep, loss, **kw)
            axes[1, j].plot(ep, 100 * acc, **kw)
        axes[0, j].set_title(ds, fontsize=9)
        axes[0, j].set_ylabel("training loss")
        axes[1, j].set_ylabel("test accuracy (%)")
        axes[1, j].set_xlabel("epoch")
        axes[0, j].set_yscale("log")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("DMF vs IMF vs EMF: training loss and test accuracy (paper Fig. 4)", fontsize=10)
    fig.tight_layout()
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
