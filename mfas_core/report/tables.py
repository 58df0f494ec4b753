"""Markdown tables of the MFAS half: unimodal backbones, and MFAS vs random search (paper Table 1)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from mfas_core.atomic import read_metrics, write_text
from mfas_core.report.arch_plot import ARCH_SVG
from mfas_core.report.final_tables import top_k_test_scores
from mfas_core.report.markdown import md_header, md_row
from mfas_core.report.paper import PAPER_SEARCH_TABLE1, PAPER_UNIMODAL
from mfas_core.report.spaces import spaces_section

_PATH = re.compile(r"search/(?P<dataset>[^/]+)/seed(?P<seed>\d+)/")


def dataset_seed(path: str) -> tuple[str, int]:
    """('avmnist', 0) from results/search/avmnist/seed0/..."""
    m = _PATH.search(str(path).replace("\\", "/"))
    if not m:
        raise ValueError(f"{path}: not under results/search/<dataset>/seed<seed>/")
    return m["dataset"], int(m["seed"])


def arch_cell(architecture: str, dataset: str, seed: int, rank: int, drawn: int) -> str:
    """An architecture cell: a link to its picture (rule plot_architectures draws ranks
    1..drawn of each search), relative from results/tables/; plain code text beyond that."""
    if 1 <= int(rank) <= drawn:
        target = ARCH_SVG.format(dataset=dataset, seed=int(seed), rank=int(rank))
        return f"[{architecture}](../{target.removeprefix('results/')})"
    return f"`{architecture}`"


def top_stats(frame: pd.DataFrame, top_k: int) -> tuple[float, float, float, int]:
    """Mean, std (population, as over the 5 best in the paper), best of the top_k scores; count."""
    best = np.sort(frame["val_score"].to_numpy())[::-1][:top_k]
    return float(best.mean()), float(best.std()), float(best[0]), len(frame)


def _fmt(mean: float, std: float) -> str:
    return f"{mean:.4f} ({std:.4f})"


def paired_comparison(diffs: np.ndarray, n_boot: int = 10_000, seed: int = 0) -> dict:
    """Paired comparison over seeds of d_s = MFAS top-k mean - random top-k mean.

    Returns the mean difference, a percentile bootstrap 95% interval (seeds resampled with
    replacement), the two-sided paired t-test p-value and the two-sided sign-test p-value,
    and how many seeds MFAS won. Fewer than two seeds: interval and p-values are NaN.
    """
    from scipy import stats

    d = np.asarray(diffs, dtype=float)
    out = dict(n=len(d), mean=float(d.mean()), wins=int((d > 0).sum()))
    if len(d) < 2:
        return out | dict(lo=np.nan, hi=np.nan, p_t=np.nan, p_sign=np.nan)
    rng = np.random.default_rng(seed)
    boot = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    p_t = float(stats.ttest_1samp(d, 0.0).pvalue) if d.std() > 0 else float(d.mean() == 0)
    nonzero = d[d != 0]
    p_sign = (
        float(stats.binomtest(int((nonzero > 0).sum()), len(nonzero)).pvalue)
        if len(nonzero)
        else 1.0
    )
    return out | dict(lo=float(lo), hi=float(hi), p_t=p_t, p_sign=p_sign)


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def verdict(cmp: dict, alpha: float = 0.05) -> str:
    """One plain sentence: does MFAS beat random search over these seeds?"""
    n = cmp["n"]
    if n < 2:
        return "one seed only: no comparison over seeds is possible."
    lead = "ahead of" if cmp["mean"] > 0 else "behind"
    if cmp["p_t"] < alpha and cmp["lo"] > 0:
        return f"**yes**: MFAS beats random search (paired t-test p {_p(cmp['p_t'])} < {alpha})."
    if cmp["p_t"] < alpha and cmp["hi"] < 0:
        return f"**no**: random search beats MFAS (paired t-test p {_p(cmp['p_t'])} < {alpha})."
    return (
        f"**not shown**: MFAS is {lead} random search by {abs(cmp['mean']):.4f} on average "
        f"(won {cmp['wins']} of {n} seeds), but the difference is not significant "
        f"(paired t-test p {_p(cmp['p_t'])})."
    )


def _power_note(n: int) -> str:
    """How little n paired seeds can show (bootstrap resamples, smallest sign-test p)."""
    from math import comb

    if n < 2:
        return "With one seed there is no comparison over seeds."
    return (
        f"With {n} seeds the comparison has little power: the bootstrap resamples {n} values "
        f"({comb(2 * n - 1, n)} distinct resamples) and the two-sided sign test cannot go below "
        f"p = {2 * 0.5**n:.3g}, so a wide interval and a non-significant result are expected "
        "unless the gap is large and steady across seeds."
    )


def search_table(
    topk_tsvs: list[str],
    level_tsvs: list[str],
    random_tsvs: list[str],
    out_md: str,
    *,
    top_k: int,
    setup: dict,
    final_metrics: list[str] | None = None,
    space_pairs: list[list[str]] | None = None,
    baseline_metrics: list[str] | None = None,
) -> str:
    """Write results/tables/search.md: per dataset, MFAS vs random search over seeds.

    Per seed: architectures trained and the top-k validation scores of each method; per
    dataset: mean ± std over seeds of the top-k mean, and a paired comparison over seeds
    (bootstrap interval of the difference, paired t-test, sign test) with a plain verdict.
    level_tsvs: every level's candidates.tsv (counts the architectures MFAS trained).
    random_tsvs may be empty (random_search: false) - then only MFAS is shown.
    final_metrics: the final-training metrics.json files of the top architectures (rule
    final_train); when given, a last section shows their scores after final training.
    space_pairs: [paper dataset, extended dataset] pairs (search.settings.space_pairs); each
    gets the comparisons of mfas_core.report.spaces, with baseline_metrics (the extended
    datasets' final baseline metrics.json files) for the rows against the baselines.
    """
    trained: dict[tuple[str, int], int] = {}
    level_one: dict[str, int] = {}
    sampled: dict[tuple[str, int], list[pd.DataFrame]] = {}
    for p in level_tsvs:
        key = dataset_seed(p)
        level = pd.read_csv(p, sep="\t")
        sampled.setdefault(key, []).append(level)
        n = len(level)
        trained[key] = trained.get(key, 0) + n
        if re.search(r"/level1/", str(p).replace("\\", "/")):
            level_one[key[0]] = n
    s = setup
    protocol = s.get("random_protocol", "paper")
    rand_label = f"random ({protocol})"
    rows = []
    found: dict[tuple[str, int], pd.DataFrame] = {}
    for method, paths in (("MFAS", topk_tsvs), (rand_label, random_tsvs)):
        for p in paths:
            ds, seed = dataset_seed(p)
            frame = pd.read_csv(p, sep="\t")
            if method == "MFAS":
                found[ds, seed] = (
                    frame if "rank" in frame else frame.assign(rank=range(1, len(frame) + 1))
                )
            if method == "MFAS" and (ds, seed) in sampled:
                # every architecture the levels trained: topk.tsv holds only search.k rows,
                # fewer than top_k when k < top_k
                frame = pd.concat(sampled[ds, seed], ignore_index=True)
            mean, std, best, n = top_stats(frame, top_k)
            n_trained = trained.get((ds, seed), 0) if method == "MFAS" else n
            rows.append(dict(dataset=ds, method=method, seed=seed, mean=mean, std=std, best=best,
                             n=n_trained))  # fmt: skip
    frame = pd.DataFrame(rows)
    lines = [
        "# MFAS search vs random search (validation scores, paper Table 1)",
        "",
        f"Top-{top_k}: mean (std) of the validation scores of the {top_k} best architectures of "
        "one search (accuracy for single-label data, weighted F1 for multi-label), as in paper "
        "Table 1 (AV-MNIST only; 180 architectures per method there).",
        "",
        *md_header(
            [
                "dataset",
                "method",
                "seed",
                "archs trained",
                f"top-{top_k} mean (std)",
                "best",
                "paper top-5 mean (std)",
            ]
        ),  # fmt: skip
    ]
    summary = [
        "",
        f"## Over seeds: top-{top_k} mean, and MFAS minus random search (paired by seed)",
        "",
        *md_header(
            [
                "dataset",
                "seeds",
                "MFAS mean ± std",
                f"{rand_label} mean ± std",
                "MFAS − random (mean)",
                "bootstrap 95% interval",
                "paired t-test p",
                "sign test p (MFAS wins)",
                "does MFAS beat random search?",
            ]
        ),  # fmt: skip
    ]
    for ds in dict.fromkeys(frame["dataset"]):
        per = {}
        for method in ("MFAS", rand_label):
            sub = frame[(frame["dataset"] == ds) & (frame["method"] == method)].sort_values("seed")
            if sub.empty:
                continue
            per[method] = sub
            paper = PAPER_SEARCH_TABLE1.get(ds, {}).get("mfas" if method == "MFAS" else "random")
            ptxt = _fmt(*paper) if paper else "—"
            for r in sub.itertuples():
                lines.append(md_row([ds, method, r.seed, r.n, _fmt(r.mean, r.std),
                                     f"{r.best:.4f}", ptxt]))  # fmt: skip
        if len(per) < 2:
            continue
        both = per["MFAS"].merge(per[rand_label], on="seed", suffixes=("_m", "_r"))
        cmp = paired_comparison((both["mean_m"] - both["mean_r"]).to_numpy())

        def ms(col: str, both: pd.DataFrame = both) -> str:
            sd = both[col].std(ddof=1) if len(both) > 1 else 0.0
            return f"{both[col].mean():.4f} ± {sd:.4f}"

        interval = "—" if np.isnan(cmp["lo"]) else f"[{cmp['lo']:+.4f}, {cmp['hi']:+.4f}]"
        p_t = "—" if np.isnan(cmp["p_t"]) else f"{cmp['p_t']:.3f}"
        p_sign = "—" if np.isnan(cmp["p_sign"]) else f"{cmp['p_sign']:.3f}"
        summary.append(md_row([ds, cmp["n"], ms("mean_m"), ms("mean_r"), f"{cmp['mean']:+.4f}",
                               interval, p_t, f"{p_sign} ({cmp['wins']}/{cmp['n']})",
                               verdict(cmp)]))  # fmt: skip
    L, E, K = s.get("max_layers"), s.get("iterations"), s.get("k")
    counts = ", ".join(f"{ds}: |Γ1| = {n}" for ds, n in level_one.items())
    lines += summary + [
        "",
        "Std over seeds is the sample std (ddof 1). "
        + _power_note(len(set(frame["seed"])))
        + " The paired t-test assumes roughly normal per-seed differences.",
        "",
        f"Architectures trained: MFAS trains all of Γ1 at level 1 ({counts}), then "
        f"E_search·K = {E}·{K} per level for levels 2..{L}: |Γ1| + {(L or 1) - 1}·{E}·{K}. "
        "The paper's 180 per method is L·E_search·K = 4·3·15, the count of the authors' code, "
        "which samples K one-layer architectures per pass instead of training Γ1 once (here "
        f"L·E_search·K = {L}·{E}·{K} = {(L or 0) * (E or 0) * (K or 0)}). Random search ("
        + (
            f"paper protocol: E_search·L = {(E or 0) * (L or 0)} steps of K, each architecture's "
            "depth uniform over 1..L, layers uniform, no repeats) trains "
            f"{(L or 0) * (E or 0) * (K or 0)}"
            if protocol == "paper"
            else "depth-matched: as many of each depth as MFAS) trains the same count as MFAS"
        )
        + ".",
        "",
        "Setup and differences from the paper: fusion nets learn from cached, frozen backbone "
        "features (our own small backbones, not the paper's LeNets; AV-MNIST speech is "
        f"synthesized, not TIDIGITS). L={L}, E_search={E}, K={K}, E_train={s.get('epochs')} "
        f"(paper: 2), width {s.get('width')}, nonlinearities {s.get('nonlinearities')}, weight "
        f"sharing {'on' if s.get('weight_sharing') else 'off'}, surrogate encoding "
        f"{s.get('surrogate_encoding')}, surrogate memory {s.get('surrogate_memory', 'all')}, "
        f"levels extend {s.get('unfold', 'sampled')}, {s.get('workers', 1)} training "
        "processes. Both methods train with the same epochs and settings.",
        "",
    ]
    if space_pairs:
        top1 = None
        if final_metrics:
            scores = top_k_test_scores(final_metrics)
            top1 = scores[scores["top1"]]
        lines += spaces_section(
            [list(p) for p in space_pairs], frame, rand_label, top1,
            read_metrics(baseline_metrics or []),
        )  # fmt: skip
    lines += found_section(found, top_k)
    if final_metrics:
        lines += final_section(final_metrics, top_k, found)
    text = "\n".join(lines)
    Path(out_md).parent.mkdir(parents=True, exist_ok=True)
    write_text(out_md, text)
    return text


def _drawn(found: dict[tuple[str, int], pd.DataFrame], key: tuple[str, int], top_k: int) -> int:
    """How many ranks of a search have a picture: top_k, or fewer when topk.tsv is shorter."""
    return min(top_k, len(found[key])) if key in found else 0


def found_section(found: dict[tuple[str, int], pd.DataFrame], top_k: int) -> list[str]:
    """Lines of search.md's section on each search's top architectures (topk.tsv), each
    architecture linked to its diagram (results/plots/arch/<dataset>/seed<seed>/rank<r>.svg)."""
    fields = {
        len(str(a).split("_")[0].split("-")) for f in found.values() for a in f["architecture"]
    }
    more = (
        " With N modalities a layer has N + 1 fields `t_1-…-t_N-p`, one tap per modality."
        if any(n > 3 for n in fields)
        else ""
    )
    lines = [
        f"## The top-{top_k} architectures of each search",
        "",
        "Each search's best architectures by search validation score (`topk.tsv`); the "
        "architecture (layers `m-n-p`: tap m of modality 1, tap n of modality 2, nonlinearity "
        f"p, joined by `_`) links to its diagram.{more}",
        "",
        *md_header(["dataset", "search seed", "rank", "architecture", "search val"]),
    ]
    for (ds, seed), frame in sorted(found.items()):
        drawn = _drawn(found, (ds, seed), top_k)
        for r in frame.sort_values("rank").head(top_k).itertuples():
            lines.append(md_row([ds, seed, r.rank, arch_cell(r.architecture, ds, seed, r.rank,
                                                             drawn), f"{r.val_score:.4f}"]))  # fmt: skip
    return lines + [""]


def final_section(
    metrics_paths: list[str],
    top_k: int = 0,
    found: dict[tuple[str, int], pd.DataFrame] | None = None,
) -> list[str]:
    """Lines of search.md's last section: each top-k architecture after final training, its
    search, final validation and test scores (means over training seeds), MFAS top 1 marked.
    Top 1 is chosen on validation alone (mfas_core.final.select). An architecture links to
    its diagram when the search's top_k ranks (found: its topk.tsv) include it."""
    scores = top_k_test_scores(metrics_paths)
    found = found or {}
    lines = [
        "## The top architectures after final training",
        "",
        "Each search's top architectures trained to the end (rules final_train; "
        "`results/tables/final_<dataset>.md` compares them with the baselines). Scores are "
        "means over the training seeds; ★ marks MFAS top 1, the best by final *validation* "
        "score (the test split chooses nothing).",
        "",
        *md_header(
            [
                "dataset",
                "search seed",
                "rank",
                "architecture",
                "search val",
                "final val",
                "final test",
                "seeds",
            ]
        ),  # fmt: skip
    ]
    for r in scores.itertuples():
        star = " ★" if r.top1 else ""
        drawn = _drawn(found, (r.dataset, int(r.search_seed)), top_k)
        cell = arch_cell(r.architecture, r.dataset, r.search_seed, r.rank, drawn)
        lines.append(md_row([r.dataset, r.search_seed, f"{r.rank}{star}", cell,
                             f"{r.search_val:.4f}", f"{r.val:.4f}", f"{r.test:.4f}", r.seeds]))  # fmt: skip
    return lines + [""]


def unimodal_table(metrics_paths: list[str], out: str) -> str:
    """Markdown table of every backbone's val/test score, the paper's number beside ours."""
    import json

    rows = [
        *md_header(
            [
                "dataset",
                "modality",
                "backbone",
                "params",
                "metric",
                "val",
                "test",
                "paper (test)",
                "epochs (best)",
                "seconds",
            ]
        ),  # fmt: skip
    ]
    for p in metrics_paths:
        m = json.loads(Path(p).read_text())
        paper = PAPER_UNIMODAL.get((m["dataset"].split("_")[0], m["modality"]))
        spec = m["spec"]
        arch = (
            f"conv {spec.get('blocks')}×{spec.get('channels')}"
            + (
                f", input pooled {spec['input_pool']}×{spec['input_pool']}"
                if spec.get("input_pool", 1) > 1
                else ""
            )
            if spec["type"] == "conv"
            else f"mlp {spec.get('hidden')}"
            if spec["type"] == "mlp"
            else f"{spec['type']} {spec.get('factory') or spec.get('arch')} taps {spec['taps']}"
        )
        if m.get("trained") == "head":
            arch += " (pretrained, frozen; linear head fitted on the last tap)"
        rows.append(md_row([
            m["dataset"], m["modality"], arch, f"{m['n_parameters']:,}", m["metric"],
            f"{100 * m['val']:.2f}", f"{100 * m['test']:.2f}",
            f"{paper[1]:.2f} ({paper[0]})" if paper else "—",
            f"{m['epochs']} ({m['best_epoch']})", f"{m['seconds']:.0f}",
        ]))  # fmt: skip
    text = (
        "# Unimodal backbones\n\nScores in %, one seed. Our AV-MNIST audio is synthesized speech "
        "(eSpeak NG) with synthetic noise, not TIDIGITS + ESC-50, and the backbones are trained "
        "for the configured epochs on CPU, so the paper's numbers are a target, not a replication.\n\n"
        + "\n".join(rows)
        + "\n"
    )
    write_text(out, text)
    return text
