"""Plot of final training: test score against trainable parameters, one dot per run."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mfas_core.atomic import atomic_path, read_metrics  # noqa: E402
from mfas_core.final.select import choose_top1  # noqa: E402
from mfas_core.report.final_tables import METHOD_LABELS  # noqa: E402


def plot_final(metrics_paths: list[str], out_png: str, title: str = "") -> dict[str, int]:
    """Every method's runs as dots (x = parameters, log scale; y = test score); MFAS top 1
    filled, the other final-trained MFAS ranks faint. Returns the dots drawn per method."""
    metrics = read_metrics(metrics_paths)
    chosen = choose_top1(metrics)
    groups: dict[str, list[dict]] = {}
    for m in metrics:
        key = m["method"]
        if key == "mfas":
            top = chosen.get((m["dataset"], int(m["search_seed"]))) == int(m["rank"])
            key = "mfas_top1" if top else "mfas_other"
        groups.setdefault(key, []).append(m)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    markers = "osD^v<>ph*"
    for i, (key, runs) in enumerate(sorted(groups.items())):
        label = METHOD_LABELS.get(key, f"Unimodal: {key.removeprefix('unimodal_')}")
        if key == "mfas_other":
            label = "MFAS other top-k ranks"
        style = dict(s=60, marker="*", color="tab:red", zorder=3) if key == "mfas_top1" else (
            dict(s=18, marker="*", color="tab:red", alpha=0.3) if key == "mfas_other"
            else dict(s=28, marker=markers[i % len(markers)], alpha=0.8)
        )  # fmt: skip
        ax.scatter([r["params"] for r in runs], [r["test"] for r in runs], label=label, **style)
    multi = metrics[0]["task"] == "multi"
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # no crowded minor labels
    ax.set_xlabel("trainable parameters")
    ax.set_ylabel("test weighted F1" if multi else "test accuracy")
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return {k: len(v) for k, v in groups.items()}
