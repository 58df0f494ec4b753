"""Search behaviour plot (paper Fig. 5): val error of sampled architectures and temperature per step."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from mfas_core.io import atomic_path  # noqa: E402


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
