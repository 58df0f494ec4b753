"""Robustness tables and plots: every final method's test score with one modality missing
or noisy, from the robustness metrics file of a dataset (rule evaluate_final_robustness).

Summaries per method and modality, computed per run and then averaged over the runs:
- AUC: area under the score-against-strength curve of the noise levels, the clean score at
  strength 0 and the levels equally spaced on [0, 1] (trapezoids); it equals the clean score
  when noise changes nothing and is lower the faster the score falls;
- drop: how much of the clean score is lost when the modality is missing (zeroed),
  100 * (clean - missing) / clean.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from mfas_core.atomic import atomic_path, write_text, write_tsv
from mfas_core.errors import InputError
from mfas_core.final.select import choose_top1
from mfas_core.report.final_tables import METHOD_LABELS
from mfas_core.report.markdown import md_header, md_row


def read_robustness(path: str | Path) -> dict:
    """A robustness metrics file; InputError names it when it is not one."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(path, "file", f"not readable JSON ({exc.__class__.__name__})") from None
    for key in ("dataset", "task", "modalities", "perturbations", "runs"):
        if key not in data:
            raise InputError(path, key, "missing")
    return data


def auc(clean: float, noisy: list[float]) -> float:
    """Area under score against strength: clean at 0, the noise levels equally spaced up to
    1 (trapezoids)."""
    y = np.asarray([clean, *noisy], dtype=float)
    return float(np.sum((y[1:] + y[:-1]) / 2) / (len(y) - 1))


def relative_drop(clean: float, perturbed: float) -> float:
    """Per cent of the clean score lost."""
    return float(100 * (clean - perturbed) / clean) if clean else float("nan")


def method_groups(runs: list[dict]) -> dict[str, list[dict]]:
    """Runs per final-table method, in the final table's order: the MFAS runs of each search
    seed's top 1 (chosen on validation, as in the final table) form `mfas_top1`."""
    chosen = choose_top1(runs)
    groups: dict[str, list[dict]] = {}
    for r in runs:
        if r["method"] == "mfas":
            if chosen.get((r["dataset"], int(r["search_seed"]))) == int(r["rank"]):
                groups.setdefault("mfas_top1", []).append(r)
        else:
            groups.setdefault(r["method"], []).append(r)
    unimodal = sorted(k for k in groups if k.startswith("unimodal_"))
    order = [*unimodal, *[k for k in METHOD_LABELS if k in groups]]
    return {k: groups[k] for k in order + sorted(set(groups) - set(order))}


def label(method: str) -> str:
    return METHOD_LABELS.get(method, f"Unimodal: {method.removeprefix('unimodal_')}")


def strength_label(p: dict) -> str:
    if p["kind"] == "zero":
        return "missing"
    if p["kind"] == "snr":
        return f"SNR {p['level']:g} dB"
    return f"σ×{p['level']:g}"


def summary_rows(data: dict) -> pd.DataFrame:
    """Long table: one row per (method, modality, quantity) with mean, std and run count;
    quantities: clean, each perturbation's name, auc, drop_missing."""
    rows = []
    for method, runs in method_groups(data["runs"]).items():
        for mod in data["modalities"]:
            perts = data["perturbations"][mod]
            noisy = [p["name"] for p in perts if p["kind"] != "zero"]
            values: dict[str, list[float]] = {"clean": [r["clean"] for r in runs]}
            for p in perts:
                values[p["name"]] = [r["scores"][mod][p["name"]] for r in runs]
            values["auc"] = [auc(r["clean"], [r["scores"][mod][n] for n in noisy]) for r in runs]
            if any(p["kind"] == "zero" for p in perts):
                values["drop_missing"] = [
                    relative_drop(r["clean"], r["scores"][mod]["zero"]) for r in runs
                ]
            for quantity, v in values.items():
                p = next((p for p in perts if p["name"] == quantity), None)
                rows.append(dict(
                    dataset=data["dataset"], method=method, modality=mod, quantity=quantity,
                    kind=p["kind"] if p else "", level=p["level"] if p else None,
                    mean=float(np.mean(v)), std=float(np.std(v, ddof=0)), runs=len(v),
                ))  # fmt: skip
    return pd.DataFrame(rows)


def robustness_table(metrics_path: str, out_md: str, out_tsv: str, *, dataset: str) -> str:
    """Write results/tables/robustness_<dataset>.md and .tsv from the robustness file."""
    data = read_robustness(metrics_path)
    if not data["runs"]:
        raise InputError(metrics_path, "runs", "no final model was scored")
    multi = data["task"] == "multi"
    frame = summary_rows(data)
    write_tsv(out_tsv, frame)

    def cell(mean: float, std: float, pct: bool = not multi) -> str:
        return f"{100 * mean:.2f} ± {100 * std:.2f}" if pct else f"{mean:.4f} ± {std:.4f}"

    metric = "weighted F1" if multi else "accuracy (%)"
    phase2 = any(r.get("finetuned") for r in data["runs"])
    lines = [
        f"# Robustness on {dataset}: one modality missing or noisy",
        "",
        f"Test {metric}, mean ± std (population) over the runs of each method (seeds as in "
        "the final table; MFAS top 1 as chosen there, on validation). Missing: the modality's "
        "input zeroed and passed through its frozen backbone (the DMF paper's protocol); "
        "noise: Gaussian noise added to the input at increasing strength (σ×s: standard "
        "deviation s times the modality's test-split standard deviation; SNR: per-sample "
        "signal-to-noise ratio of the stored input, the log spectrogram for audio). The "
        "perturbed test inputs go through the same backbones to the same taps, cached once. "
        "AUC: area under score against strength (clean at 0, levels equally spaced to 1); "
        "drop: per cent of the clean score lost with the modality missing.",
        "",
    ]
    if phase2:
        lines += [
            "Phase 2 is on: MFAS models are scored with their phase-1 weights (the fusion "
            "net on the frozen backbones' cached taps), so their clean score here is phase "
            "1's test score, not the final table's fine-tuned one.",
            "",
        ]
    for mod in data["modalities"]:
        perts = data["perturbations"][mod]
        noisy = [p for p in perts if p["kind"] != "zero"]
        zero = [p for p in perts if p["kind"] == "zero"]
        cols = ["method", "clean", *[f"{strength_label(p)}" for p in zero + noisy], "AUC"]
        cols += ["drop missing (%)"] if zero else []
        lines += [f"## {mod} perturbed", "", *md_header(cols)]
        sub = frame[frame["modality"] == mod]
        for method in dict.fromkeys(sub["method"]):
            q = sub[sub["method"] == method].set_index("quantity")
            cells = [label(method), cell(q.at["clean", "mean"], q.at["clean", "std"])]
            cells += [cell(q.at[p["name"], "mean"], q.at[p["name"], "std"]) for p in zero + noisy]
            cells.append(cell(q.at["auc", "mean"], q.at["auc", "std"]))
            if zero:
                cells.append(
                    f"{q.at['drop_missing', 'mean']:.1f} ± {q.at['drop_missing', 'std']:.1f}"
                )
            lines.append(md_row([*cells]))
        lines.append("")
    least = least_degraded(frame, data["modalities"])
    if least:
        lines += ["Least drop when a modality is missing: " + "; ".join(
            f"{mod}: {label(m)} ({d:.1f} %)" for mod, (m, d) in least.items()) + ".", ""]  # fmt: skip
    text = "\n".join(lines)
    write_text(out_md, text)
    return text


def least_degraded(frame: pd.DataFrame, modalities: list[str]) -> dict[str, tuple[str, float]]:
    """Per modality, the fusion method (not unimodal) whose score drops least when it is
    missing, and that drop."""
    out = {}
    for mod in modalities:
        sub = frame[(frame["modality"] == mod) & (frame["quantity"] == "drop_missing")
                    & ~frame["method"].str.startswith("unimodal_")]  # fmt: skip
        if len(sub):
            best = sub.loc[sub["mean"].idxmin()]
            out[mod] = (str(best["method"]), float(best["mean"]))
    return out


def plot_robustness(metrics_path: str, out_png: str, *, title: str = "") -> dict[str, int]:
    """One panel per modality: score against strength (clean, then the noise levels), a line
    per method with the spread over runs as error bars, the missing-modality score as the
    last point (dotted). Returns the lines drawn per panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = read_robustness(metrics_path)
    frame = summary_rows(data)
    mods = data["modalities"]
    fig, axes = plt.subplots(1, len(mods), figsize=(4.6 * len(mods), 3.8), squeeze=False)
    drawn = {}
    for ax, mod in zip(axes[0], mods, strict=True):
        perts = data["perturbations"][mod]
        noisy = [p for p in perts if p["kind"] != "zero"]
        has_zero = any(p["kind"] == "zero" for p in perts)
        sub = frame[frame["modality"] == mod]
        methods = list(dict.fromkeys(sub["method"]))
        for method in methods:
            q = sub[sub["method"] == method].set_index("quantity")
            names = ["clean", *[p["name"] for p in noisy]]
            x = np.arange(len(names))
            line = ax.errorbar(x, q.loc[names, "mean"], yerr=q.loc[names, "std"], capsize=2,
                               marker="*" if method == "mfas_top1" else "o", markersize=4,
                               lw=2 if method == "mfas_top1" else 1, label=label(method))  # fmt: skip
            if has_zero:
                color = line[0].get_color()
                ax.plot([x[-1], len(names)], [q.at[names[-1], "mean"], q.at["zero", "mean"]],
                        ls=":", color=color, lw=1)  # fmt: skip
                ax.errorbar([len(names)], [q.at["zero", "mean"]], yerr=[q.at["zero", "std"]],
                            marker="x", color=color, capsize=2)  # fmt: skip
        ticks = ["clean", *[strength_label(p) for p in noisy]] + (["missing"] if has_zero else [])
        ax.set_xticks(range(len(ticks)), ticks, rotation=30, fontsize=7)
        ax.set_title(f"{mod} perturbed", fontsize=9)
        ax.set_ylabel("test weighted F1" if data["task"] == "multi" else "test accuracy")
        ax.grid(alpha=0.3)
        drawn[mod] = len(methods)
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return drawn
