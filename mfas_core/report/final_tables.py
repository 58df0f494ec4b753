"""Final-training tables (MFAS paper Tables 2 and 3): every method's test score over seeds,
the paper's number beside ours; and the top-k test scores the search table can show."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mfas_core.atomic import read_metrics, write_text, write_tsv
from mfas_core.errors import InputError
from mfas_core.final.select import choose_top1
from mfas_core.report.markdown import md_header, md_row
from mfas_core.report.paper import PAPER_FINAL_AVMNIST, PAPER_FINAL_MMIMDB

# Display order and names of paper Table 2's rows (unimodal rows come first, per modality).
METHOD_LABELS = {
    "late_fusion": "Two-stream / late fusion",
    "early_fusion": "Early fusion (all taps)",
    "centralnet": "CentralNet",
    "gmu": "GMU",
    "lrtf": "Low-rank tensor fusion",
    "mfas_top1": "MFAS top 1 (chosen on val)",
}
# Cost columns, after the score columns: FLOPs per sample is deterministic, the timings (wall
# clock: latency per sample at batch 1 and 512, training seconds) are not, so they come last.
COST_COLUMNS = ["flops", "latency_ms_b1", "latency_ms_b512", "train_seconds", "latency_device"]
TIMING_COLUMNS = ["latency_ms_b1", "latency_ms_b512", "train_seconds", "latency_device"]
PAPER_BY_KIND = {"avmnist": PAPER_FINAL_AVMNIST, "avmnist_npy": PAPER_FINAL_AVMNIST,
                 "mmimdb": PAPER_FINAL_MMIMDB}  # fmt: skip


def _stats(values: list[float]) -> tuple[float, float]:
    a = np.asarray([np.nan if v is None else v for v in values], dtype=float)
    return float(a.mean()), float(a.std(ddof=0))


def method_rows(metrics: list[dict], modalities: list[str]) -> list[dict]:
    """One row per method: the runs it averages (MFAS top 1: the val-chosen rank of every
    search seed, all its training seeds)."""
    chosen = choose_top1(metrics)
    groups: dict[str, list[dict]] = {}
    for m in metrics:
        if m["method"] == "mfas":
            if chosen.get((m["dataset"], int(m["search_seed"]))) == int(m["rank"]):
                groups.setdefault("mfas_top1", []).append(m)
        else:
            groups.setdefault(m["method"], []).append(m)
    order = [f"unimodal_{mod}" for mod in modalities] + list(METHOD_LABELS)
    rows = []
    for method in order + sorted(set(groups) - set(order)):
        runs = groups.get(method)
        if not runs:
            continue
        label = METHOD_LABELS.get(method, f"Unimodal: {method.removeprefix('unimodal_')}")
        params = sorted({int(r["params"]) for r in runs})
        val, val_sd = _stats([r["val"] for r in runs])
        test, test_sd = _stats([r["test"] for r in runs])
        macro, macro_sd = _stats([r["test_macro_f1"] for r in runs])
        has_cost = all("flops" in r for r in runs)
        flops = sorted({int(r["flops"]) for r in runs}) if has_cost else [None]
        rows.append(dict(
            method=method, label=label, params=params[0] if len(params) == 1 else
            f"{params[0]}-{params[-1]}", seeds=len(runs), val_mean=val, val_std=val_sd,
            test_mean=test, test_std=test_sd, test_macro_f1_mean=macro,
            test_macro_f1_std=macro_sd,
            sources=",".join(sorted(r["path"] for r in runs)),
            flops=flops[0] if len(flops) == 1 else f"{flops[0]}-{flops[-1]}",
            latency_ms_b1=_stats([r.get("latency_ms_b1") for r in runs])[0],
            latency_ms_b512=_stats([r.get("latency_ms_b512") for r in runs])[0],
            train_seconds=_stats([r["seconds"] for r in runs])[0],
            latency_device=" | ".join(sorted({r.get("latency_device", "") for r in runs})),
        ))  # fmt: skip
    return rows


def top_k_test_scores(metrics_paths: list[str]) -> pd.DataFrame:
    """Per (dataset, search seed, rank): architecture, final val and test score (means over
    training seeds) and whether it is MFAS top 1 - for the search table's top-k rows."""
    metrics = [m for m in read_metrics(metrics_paths) if m["method"] == "mfas"]
    chosen = choose_top1(metrics)
    frame = pd.DataFrame(
        [{k: m[k] for k in ("dataset", "search_seed", "rank", "architecture", "search_val",
                            "val", "test", "test_macro_f1", "params")} for m in metrics]
    )  # fmt: skip
    frame["test_macro_f1"] = pd.to_numeric(frame["test_macro_f1"]).astype(float)
    out = (
        frame.groupby(["dataset", "search_seed", "rank", "architecture"], as_index=False)
        .agg(search_val=("search_val", "first"), val=("val", "mean"), test=("test", "mean"),
             test_macro_f1=("test_macro_f1", "mean"), params=("params", "first"),
             seeds=("val", "size"))
    )  # fmt: skip
    out["top1"] = [chosen.get((d, s)) == r for d, s, r in zip(out["dataset"], out["search_seed"],
                                                               out["rank"], strict=True)]  # fmt: skip
    return out.sort_values(["dataset", "search_seed", "rank"]).reset_index(drop=True)


def _pct(mean: float, std: float, multi: bool) -> str:
    return f"{mean:.4f} ± {std:.4f}" if multi else f"{100 * mean:.2f} ± {100 * std:.2f}"


def with_costs(metrics: list[dict], cost_path: str | None) -> list[dict]:
    """Metrics with each run's cost (rule measure_final_cost's file) merged in by path."""
    if cost_path is None:
        return metrics
    cost = read_metrics([cost_path])[0]
    by_path = {r["metrics"]: r for r in cost["runs"]}
    missing = [m["path"] for m in metrics if m["path"] not in by_path]
    if missing:
        raise InputError(cost_path, "runs", f"no cost of {missing[0]}")
    keep = ("flops", "latency_ms_b1", "latency_ms_b512")
    return [{**m, **{k: by_path[m["path"]][k] for k in keep},
             "latency_device": cost["device"]} for m in metrics]  # fmt: skip


def final_table(
    metrics_paths: list[str],
    backbone_metrics: list[str],
    out_md: str,
    out_tsv: str,
    *,
    dataset: str,
    kind: str,
    modalities: list[str],
    setup: dict,
    cost: str | None = None,
) -> str:
    """Write results/tables/final_<dataset>.md and .tsv (paper Table 2, or Table 3 layout
    for multi-label data) from the workflow's metrics.json files; with `cost` (rule
    measure_final_cost's file) the cost columns after the score columns."""
    metrics = with_costs(read_metrics(metrics_paths), cost)
    if not metrics:
        raise ValueError(f"final table of {dataset}: no metrics files")
    multi = metrics[0]["task"] == "multi"
    paper = PAPER_BY_KIND.get(kind, {})
    rows = method_rows(metrics, modalities)
    for r in rows:
        p = paper.get(r["method"])
        # the paper gives accuracy in %, F1 as a fraction; the TSV holds fractions
        r["paper_test"] = (p[0] if multi else p[0] / 100) if p else float("nan")
        r["paper_macro_f1"] = p[1] if p and len(p) > 1 else float("nan")
    frame = pd.DataFrame(rows)
    frame.insert(0, "dataset", dataset)
    frame = frame[[c for c in frame.columns if c not in COST_COLUMNS] + COST_COLUMNS]
    if cost is None:
        frame = frame.drop(columns=COST_COLUMNS)
    write_tsv(out_tsv, frame)
    if multi:
        columns = ["method", "params", "val F1-W", "test F1-W", "test F1-M", "paper F1-W",
                   "paper F1-M", "seeds"]  # fmt: skip
    else:
        columns = ["method", "params", "val acc (%)", "test acc (%)", "paper test (%)", "seeds"]
    if cost is not None:
        columns += ["FLOPs", "latency b1 (ms)", "latency b512 (µs)", "train (s)"]
    head = "\n".join(md_header(columns))
    lines = [
        f"# Final training on {dataset} (MFAS paper {'Table 3' if multi else 'Table 2'})",
        "",
        ("Weighted (F1-W) and macro (F1-M) F1" if multi else "Accuracy") + ", mean ± std "
        "(population) over the runs of each method on the test split; every method learns "
        "from the same cached, frozen backbone taps with the same budget. Params: what each "
        "method adds on top of the backbones.",
        "",
        head,
    ]
    for r in rows:
        params = f"{r['params']:,}" if isinstance(r["params"], int) else r["params"]
        has_paper = not np.isnan(r["paper_test"])
        cells = [r["label"], params, _pct(r["val_mean"], r["val_std"], multi),
                 _pct(r["test_mean"], r["test_std"], multi)]  # fmt: skip
        if multi:
            cells.append(_pct(r["test_macro_f1_mean"], r["test_macro_f1_std"], True))
            cells += (
                [f"{r['paper_test']:.4f}", f"{r['paper_macro_f1']:.4f}"]
                if has_paper
                else ["—", "—"]
            )
        else:
            cells.append(f"{100 * r['paper_test']:.2f}" if has_paper else "—")
        flops = f"{r['flops']:,}" if isinstance(r["flops"], int) else r["flops"]
        timing = [f"{r['latency_ms_b1']:.3f}", f"{1000 * r['latency_ms_b512']:.2f}",
                  f"{r['train_seconds']:.1f}"]  # fmt: skip
        lines.append(md_row([*cells, r["seeds"], *([flops, *timing] if cost else [])]))
    devices = sorted({d for r in rows for d in r["latency_device"].split(" | ")})
    lines += (
        []
        if cost is None
        else [
            "",
            "Cost: FLOPs of one sample through the fusion net (torch.utils.flop_counter, a "
            "multiply-add = 2; the shared frozen backbones not counted, as in params); latency: "
            "time per sample, median of 7 timed forward passes at batch 1 and at batch 512 on "
            f"{' and '.join(devices)}; train: wall seconds of a run's training (mean over runs). The "
            "three timing columns are measurements and change from run to run.",
        ]
    )
    top = top_k_test_scores([m["path"] for m in metrics if m["method"] == "mfas"])
    lines += [
        "",
        "## Every final-trained MFAS architecture",
        "",
        *md_header(
            [
                "search seed",
                "rank",
                "architecture",
                "search val",
                "final val",
                "final test",
                "params",
                "top 1",
            ]
        ),  # fmt: skip
    ]
    for t in top.itertuples():
        lines.append(md_row([t.search_seed, t.rank, f"`{t.architecture}`", f"{t.search_val:.4f}",
                             f"{t.val:.4f}", f"{t.test:.4f}", f"{t.params:,}",
                             "yes" if t.top1 else ""]))  # fmt: skip
    checks = []
    for p in backbone_metrics:
        b = read_metrics([p])[0]
        checks.append(
            f"{b['modality']} " + (f"{b['test']:.4f}" if multi else f"{100 * b['test']:.2f} %")
        )
    s = setup
    lines += [
        "",
        "Setup and differences from the paper: our own small backbones (not the paper's LeNets"
        "; AV-MNIST speech is synthesized, not TIDIGITS); the baselines and MFAS phase 1 learn "
        "from their cached global-average-pooled taps with the backbones frozen: Adam lr "
        f"{s.get('lr')}, weight decay {s.get('weight_decay')}, cosine schedule, dropout "
        f"{s.get('dropout')}, width {s.get('width')}, {s.get('epochs')} epochs (at least "
        f"{s.get('min_steps')} steps), batch {s.get('batch_size')}, best-validation checkpoint. "
        f"MFAS: ranks 1..{s.get('top')} of each search's topk.tsv are trained; top 1 is the one "
        "with the best mean validation score (the test split never chooses). Phase 2 (backbones "
        f"unfrozen on the raw data, multitask loss): {s.get('finetune_epochs')} epoch(s)"
        f"{' - off here, the paper fine-tunes' if not s.get('finetune_epochs') else ''}. Paper "
        "numbers come from its own re-implementations on its backbones. Training seeds "
        f"{s.get('seeds')} for every method; the MFAS top 1 row pools them over search seeds "
        f"{s.get('search_seeds')}.",
        "",
        "Cross-check of the unimodal rows: the backbones' own linear heads score (test) "
        + (", ".join(checks) if checks else "—")
        + ".",
        "",
    ]
    text = "\n".join(lines)
    write_text(out_md, text)
    return text
