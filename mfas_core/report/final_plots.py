"""Plots of final training: test score against trainable parameters (one dot per run) and
against FLOPs per sample (one point per method, the Pareto front marked)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

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
    _finish_score_plot(fig, ax, "trainable parameters", metrics[0]["task"], title, out_png)
    return {k: len(v) for k, v in groups.items()}


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats (x = cost, lower is better; y = score,
    higher is better), by increasing cost."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], float("-inf")
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def plot_final_flops(
    metrics_paths: list[str], cost: str, out_png: str, title: str = ""
) -> list[str]:
    """Every final-table method (MFAS: its top 1) as one point: x = FLOPs per sample (log
    scale), y = mean test score over its runs with the spread as an error bar; the Pareto
    front (no other method both cheaper and better) as a line. Returns the front's methods."""
    from mfas_core.report.final_tables import method_rows, with_costs

    metrics = with_costs(read_metrics(metrics_paths), cost)
    rows = method_rows(metrics, [])
    groups = {r["method"]: [m for m in metrics if m["path"] in r["sources"].split(",")]
              for r in rows}  # fmt: skip
    points = [(float(np.mean([m["flops"] for m in groups[r["method"]]])), r["test_mean"])
              for r in rows]  # fmt: skip
    front = pareto_front(points)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    markers = "osD^v<>ph*"
    for i, r in enumerate(rows):
        star = r["method"] == "mfas_top1"
        ax.errorbar([points[i][0]], [r["test_mean"]], yerr=[r["test_std"]], capsize=2,
                    marker="*" if star else markers[i % len(markers)],
                    markersize=10 if star else 6, color="tab:red" if star else None,
                    ls="none", label=r["label"])  # fmt: skip
    fx = [points[i][0] for i in front]
    fy = [points[i][1] for i in front]
    ax.step(fx, fy, where="post", color="black", lw=1, ls="--", label="Pareto front")
    _finish_score_plot(fig, ax, "FLOPs per sample (fusion net)", metrics[0]["task"], title, out_png)
    return [rows[i]["method"] for i in front]


def _finish_score_plot(fig, ax, xlabel: str, task: str, title: str | None, out_png: str) -> None:
    """Log x axis, labels, legend and grid of a test-score scatter; write the PNG atomically."""
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # no crowded minor labels
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test weighted F1" if task == "multi" else "test accuracy")
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
