"""search.md's comparison of the paper space with the extended one (config/search_ops.yaml):
which entries pair up, and what each comparison row tests and says."""

import numpy as np
import pandas as pd
from scipy import stats

from mfas_core.report.spaces import spaces_section
from mfas_core.search.settings import space_pairs

EXT = ["concat", "product", "gated", "lowrank"]


def entries(**extra):
    base = {"kind": "avmnist", "snr_db": 0.0, "modalities": ["image", "audio"]}
    out = {"av": {"name": "av", **base}, "av_ops": {"name": "av_ops", **base,
                                                     "search_fusion_ops": EXT}}  # fmt: skip
    for name, fields in extra.items():
        out[name] = {"name": name, **base, **fields}
    return out


def test_entries_alike_but_for_their_operators_pair_paper_space_first():
    ds = entries()
    assert space_pairs(ds, ["av_ops", "av"], ["concat"]) == [["av", "av_ops"]]


def test_entries_that_differ_in_another_field_do_not_pair():
    ds = entries(noisy={"snr_db": 6.0, "search_fusion_ops": EXT})
    assert space_pairs(ds, ["av", "noisy"], ["concat"]) == []


def test_an_entry_without_operators_uses_search_fusion_ops():
    ds = entries()
    assert space_pairs(ds, ["av", "av_ops"], EXT) == []  # both search the extended space


def search_rows(ext_mfas, paper_mfas, ext_random):
    rows = []
    for ds, method, values in (("av_ops", "MFAS", ext_mfas), ("av", "MFAS", paper_mfas),
                               ("av_ops", "random (paper)", ext_random)):  # fmt: skip
        rows += [dict(dataset=ds, method=method, seed=s, mean=v) for s, v in enumerate(values)]
    return pd.DataFrame(rows)


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip("|").split("|")]


def row_of(lines: list[str], start: str) -> list[str]:
    (line,) = [x for x in lines if x.startswith(f"| {start}")]
    return cells(line)


def test_search_rows_are_paired_t_tests_by_seed():
    ext, paper = [0.90, 0.92, 0.91, 0.95], [0.89, 0.90, 0.90, 0.91]
    lines = spaces_section([["av", "av_ops"]], search_rows(ext, paper, paper), "random (paper)",
                           None, [])  # fmt: skip
    row = row_of(lines, "av_ops MFAS vs av MFAS")
    assert row[6] == "paired t-test"
    assert row[7] == f"{stats.ttest_rel(ext, paper).pvalue:.3f}"
    assert row[5] == f"{np.mean(np.subtract(ext, paper)):+.4f}"


def test_a_clear_gain_is_a_yes_and_a_loss_a_no():
    ext, paper = [0.95, 0.96, 0.955, 0.962], [0.90, 0.905, 0.901, 0.899]
    lines = spaces_section([["av", "av_ops"]], search_rows(ext, paper, [0.99, 0.995, 0.991, 1.0]),
                           "random (paper)", None, [])  # fmt: skip
    assert row_of(lines, "av_ops MFAS vs av MFAS")[8].startswith("**yes**")
    assert row_of(lines, "av_ops MFAS vs av_ops random")[8].startswith("**no**")


def final_inputs():
    top1 = pd.DataFrame(
        [dict(dataset="av_ops", search_seed=s, test=t) for s, t in enumerate([0.93, 0.94, 0.935])]
        + [dict(dataset="av", search_seed=s, test=t) for s, t in enumerate([0.92, 0.925, 0.93])]
    )
    base = []
    # gmu has the best validation score, lrtf the best test score
    for method, val, tests in (("gmu", 0.97, [0.90, 0.91]), ("lrtf", 0.95, [0.95, 0.96])):
        base += [dict(dataset="av_ops", method=method, seed=s, val=val, test=t)
                 for s, t in enumerate(tests)]  # fmt: skip
    return top1, base


def test_the_best_baseline_is_chosen_on_validation_and_lrtf_is_shown_too():
    top1, base = final_inputs()
    lines = spaces_section([["av", "av_ops"]], search_rows([0.9] * 3, [0.9] * 3, [0.9] * 3),
                           "random (paper)", top1, base)  # fmt: skip
    best = row_of(lines, "av_ops MFAS top 1 vs best baseline on val: gmu")
    lrtf = row_of(lines, "av_ops MFAS top 1 vs lrtf")
    assert best[2] == "3 vs 2" and lrtf[2] == "3 vs 2"


def test_rows_against_a_baseline_are_welch_t_tests():
    top1, base = final_inputs()
    lines = spaces_section([["av", "av_ops"]], search_rows([0.9] * 3, [0.9] * 3, [0.9] * 3),
                           "random (paper)", top1, base)  # fmt: skip
    row = row_of(lines, "av_ops MFAS top 1 vs lrtf")
    want = stats.ttest_ind([0.93, 0.94, 0.935], [0.95, 0.96], equal_var=False).pvalue
    assert row[6] == "Welch t-test" and row[7] == f"{want:.3f}"


def test_final_top1_rows_pair_the_two_spaces_by_search_seed():
    top1, base = final_inputs()
    lines = spaces_section([["av", "av_ops"]], search_rows([0.9] * 3, [0.9] * 3, [0.9] * 3),
                           "random (paper)", top1, base)  # fmt: skip
    row = row_of(lines, "av_ops MFAS top 1 vs av MFAS top 1")
    want = stats.ttest_rel([0.93, 0.94, 0.935], [0.92, 0.925, 0.93]).pvalue
    assert row[2] == "3 pairs" and row[7] == f"{want:.3f}"


def test_no_pairs_write_no_section():
    assert spaces_section([], search_rows([0.9], [0.9], [0.9]), "random (paper)", None, []) == []
