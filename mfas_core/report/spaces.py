"""search.md's comparison of two search spaces on one dataset (`config/search_ops.yaml`).

A pair is two dataset entries alike in everything but their fusion operators
(mfas_core.search.settings.space_pairs): the paper space (concat) and an extended one. Each
pair gets four comparisons, each with its test and a plain verdict:

* search validation, extended MFAS against paper MFAS: per search seed the top-k mean of
  validation scores, paired by search seed (paired t-test);
* search validation, extended MFAS against random search in the extended space, paired by
  search seed (the same numbers as the extended dataset's row of the summary above);
* final test, extended MFAS top 1 against paper MFAS top 1: per search seed the top 1's test
  score (chosen on validation, mean over training seeds), paired by search seed;
* final test, extended MFAS top 1 against the best baseline (the hand-designed fusion or
  unimodal net with the best mean *validation* score) and against low-rank tensor fusion:
  per search seed the top 1's test score against the baseline's test score per training
  seed. These are not paired (different units of replication), so the test is Welch's
  two-sample t-test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mfas_core.report.markdown import md_header, md_row

ALPHA = 0.05


def welch(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Welch t-test p-value; NaN when a side has fewer than two values."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    if a.std() == 0 and b.std() == 0:
        return float(a.mean() == b.mean())
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def paired_p(d: np.ndarray) -> float:
    """Two-sided paired t-test p-value of the differences d; NaN below two pairs."""
    from scipy import stats

    d = np.asarray(d, float)
    if len(d) < 2:
        return float("nan")
    return float(stats.ttest_1samp(d, 0.0).pvalue) if d.std() > 0 else float(d.mean() == 0)


def says(a: str, b: str, diff: float, p: float, test: str) -> str:
    """One plain sentence: does a beat b?"""
    if np.isnan(p):
        return "too few values for a test."
    ptxt = "< 0.001" if p < 0.001 else f"= {p:.3f}"
    if p < ALPHA:
        win, lose = (a, b) if diff > 0 else (b, a)
        return f"**{'yes' if diff > 0 else 'no'}**: {win} beats {lose} ({test} p {ptxt})."
    lead = "ahead of" if diff > 0 else "behind"
    return (
        f"**not shown**: {a} is {lead} {b} by {abs(diff):.4f}, not significant ({test} p {ptxt})."
    )


def _ms(values: np.ndarray) -> str:
    sd = values.std(ddof=1) if len(values) > 1 else 0.0
    return f"{values.mean():.4f} ± {sd:.4f}"


def _row(what: str, score: str, a: str, b: str, va, vb, paired: bool) -> list:
    va, vb = np.asarray(va, float), np.asarray(vb, float)
    if paired:
        diff, p, test = float((va - vb).mean()), paired_p(va - vb), "paired t-test"
        n = f"{len(va)} pairs"
    else:
        diff, p, test = float(va.mean() - vb.mean()), welch(va, vb), "Welch t-test"
        n = f"{len(va)} vs {len(vb)}"
    return [what, score, n, _ms(va), _ms(vb), f"{diff:+.4f}", test,
            "—" if np.isnan(p) else f"{p:.3f}", says(a, b, diff, p, test)]  # fmt: skip


def spaces_section(
    pairs: list[list[str]],
    search: pd.DataFrame,
    rand_label: str,
    top1: pd.DataFrame | None,
    baselines: list[dict],
) -> list[str]:
    """Lines of search.md's section comparing each pair [paper dataset, extended dataset].

    search: one row per (dataset, method, seed) with the top-k mean `mean` (MFAS and
    random search); top1: per (dataset, search_seed) the MFAS top 1's final `test`
    (top_k_test_scores rows with top1 true), or None without final training; baselines:
    the extended dataset's final baseline metrics (method, seed, val, test)."""
    if not pairs:
        return []
    lines = [
        "## The paper space against the extended space",
        "",
        "Each pair is one dataset searched twice, in the paper's space (concat) and in the "
        "extended one (more fusion operators), with the same data, backbones and seeds. "
        "Search rows compare per-seed top-k means of validation scores, paired by search seed; "
        "final rows compare the test score of each search's MFAS top 1 (chosen on validation, "
        "mean over training seeds), paired by search seed against the paper space's top 1, and "
        "against a baseline's test score per training seed with Welch's two-sample t-test (not "
        "paired: different units). The best baseline is the one with the best mean validation "
        f"score; the test split chooses nothing. Verdicts at α = {ALPHA}; std is the sample "
        "std.",
        "",
        *md_header(
            [
                "comparison (A vs B)",
                "score",
                "n",
                "A mean ± std",
                "B mean ± std",
                "A − B",
                "test",
                "p",
                "does A beat B?",
            ]
        ),  # fmt: skip
    ]
    for paper, ext in pairs:

        def per_seed(ds: str, method: str) -> pd.Series:
            sub = search[(search["dataset"] == ds) & (search["method"] == method)]
            return sub.set_index("seed")["mean"].sort_index()

        a_m, p_m, a_r = per_seed(ext, "MFAS"), per_seed(paper, "MFAS"), per_seed(ext, rand_label)
        both = a_m.index.intersection(p_m.index)
        lines.append(md_row(_row(f"{ext} MFAS vs {paper} MFAS", "search val (top-k mean)",
                                 f"MFAS in {ext}'s space", f"MFAS in {paper}'s",
                                 a_m[both], p_m[both], True)))  # fmt: skip
        if not a_r.empty:
            both_r = a_m.index.intersection(a_r.index)
            lines.append(md_row(_row(f"{ext} MFAS vs {ext} {rand_label}",
                                     "search val (top-k mean)", "MFAS", "random search",
                                     a_m[both_r], a_r[both_r], True)))  # fmt: skip
        if top1 is None:
            continue

        def tops(ds: str) -> pd.Series:
            sub = top1[top1["dataset"] == ds]
            return sub.set_index("search_seed")["test"].sort_index()

        t_ext, t_paper = tops(ext), tops(paper)
        if t_ext.empty:
            continue
        common = t_ext.index.intersection(t_paper.index)
        if len(common):
            lines.append(md_row(_row(f"{ext} MFAS top 1 vs {paper} MFAS top 1", "final test",
                                     f"MFAS top 1 of {ext}'s space", f"that of {paper}'s",
                                     t_ext[common], t_paper[common], True)))  # fmt: skip
        frame = pd.DataFrame([b for b in baselines if b["dataset"] == ext])
        if frame.empty:
            continue
        means = frame.groupby("method")["val"].mean()
        best = str(means.idxmax())
        chosen = [best] + (["lrtf"] if best != "lrtf" and "lrtf" in means.index else [])
        for method in chosen:
            tests = frame[frame["method"] == method].sort_values("seed")["test"].to_numpy()
            tag = "best baseline on val: " if method == best else ""
            lines.append(md_row(_row(f"{ext} MFAS top 1 vs {tag}{method}", "final test",
                                     "extended MFAS top 1", method, t_ext.to_numpy(), tests,
                                     False)))  # fmt: skip
    return lines + [""]
