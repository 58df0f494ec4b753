"""What the DMF table says, checked against the metrics it was built from (counts and values,
not just the presence of words)."""

from __future__ import annotations

import re

import pytest

from mfas_core.report.dmf_tables import mnist_table

# Test errors (%) per (model, damage): both halves, right only, left only.
ERRORS = {
    ("emf", 0.0): (3.0, 20.0, 30.0),
    ("emf", 0.5): (6.0, 40.0, 31.0),
    ("imf", 0.0): (2.5, 19.0, 29.0),
    ("imf", 0.5): (5.0, 35.0, 30.0),
    ("dmf", 0.0): (2.0, 19.0, 28.0),
    ("dmf", 0.5): (6.5, 30.0, 29.0),
}


def metrics(seed_shift: float = 0.0) -> list[dict]:
    rows = []
    for (model, damage), (both, right, left) in ERRORS.items():
        for seed in (0, 1):
            rows.append(
                {
                    "variant": "disc", "model": model, "damage": damage, "seed": seed,
                    "modalities": ["left", "right"],
                    "test_error": {
                        "both": both + seed * seed_shift,
                        "only_right": right - seed * seed_shift,
                        "only_left": left,
                    },
                    "n_params": {"emf": 100, "imf": 200, "dmf": 300}[model],
                    "n_params_all": {"emf": 110, "imf": 210, "dmf": 310}[model],
                    "n_train": 1000, "epochs": 2, "lr": 0.001, "batch_size": 64,
                    "weight_decay": 0.0, "modality_sizes": [64], "shared_sizes": [32, 16],
                    "cd_pretrain": False, "cd_k": 1, "cd_epochs": 1,
                    "max_epochs": 4, "best_epoch": 2, "patience": 1,
                }
            )  # fmt: skip
    return rows


def test_shape_summary_counts_the_damage_levels_where_dmf_is_not_worse():
    text = mnist_table(metrics())
    # both halves: DMF 2.0 <= EMF 3.0 at 0 %, 6.5 > 6.0 at 50 %; vs IMF: 2.0 <= 2.5, 6.5 > 5.0
    assert "- both halves: DMF ≤ EMF at 1 of 2 damage levels (0%)" in text
    assert "- both halves: DMF ≤ IMF at 1 of 2 damage levels (0%)" in text
    # right only: vs EMF 19 <= 20 and 30 <= 40; vs IMF a tie 19 = 19 counts, 30 <= 35
    assert "- right only: DMF ≤ EMF at 2 of 2 damage levels (0%, 50%)" in text
    assert "- right only: DMF ≤ IMF at 2 of 2 damage levels (0%, 50%)" in text


def test_shape_summary_gain_is_the_mean_imf_minus_dmf_difference():
    text = mnist_table(metrics())
    both = ((2.5 - 2.0) + (5.0 - 6.5)) / 2
    right = ((19.0 - 19.0) + (35.0 - 30.0)) / 2
    assert f"mean gain of DMF over IMF: {both:.2f} points with both halves, {right:.2f} with " in (
        text
    )


def test_table_cells_are_mean_and_std_over_seeds_of_each_condition():
    text = mnist_table(metrics(seed_shift=1.0))
    row = next(ln for ln in text.splitlines() if ln.startswith("| right only | IMF"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "200"  # the parameter count of that model
    # seeds 0 and 1 give 19 and 18 at 0 %: mean 18.5, sample std 0.71
    assert re.match(r"18\.50 ± 0\.71", cells[3]) and re.match(r"34\.50 ± 0\.71", cells[4])
    row = next(ln for ln in text.splitlines() if ln.startswith("| left+right | EMF"))
    assert re.match(r"3\.50 ± 0\.71", [c.strip() for c in row.strip("|").split("|")][3])


@pytest.mark.parametrize("model", ["emf", "imf"])
def test_shape_summary_names_every_baseline_that_was_run(model):
    rows = [r for r in metrics() if r["model"] in ("dmf", model)]
    text = mnist_table(rows)
    assert f"DMF ≤ {model.upper()}" in text
    other = ({"emf", "imf"} - {model}).pop().upper()
    assert f"DMF ≤ {other}" not in text


def test_curves_plot_draws_each_models_seed_mean_per_dataset(tmp_path, monkeypatch):
    import json

    import numpy as np

    from mfas_core.report import plots

    paths = []
    for ds in ("mnist_halves_d0", "mfeat"):
        for model in ("emf", "imf", "dmf"):
            for seed in (0, 1):
                hist = [
                    {"train_loss": 1.0 / (e + 1) + seed, "test_acc": 0.5 + 0.1 * e + 0.01 * seed}
                    for e in range(3)
                ]
                p = tmp_path / f"{ds}_{model}_{seed}.json"
                p.write_text(json.dumps(
                    {"variant": "disc", "dataset": ds, "model": model, "seed": seed, "history": hist}
                ))  # fmt: skip
                paths.append(str(p))
    figures = []
    monkeypatch.setattr(plots.plt, "close", figures.append)
    plots.plot_curves(paths, tmp_path / "curves.png")
    (fig,) = figures
    assert len(fig.axes) == 4  # loss and accuracy for each of the two datasets
    for ax in fig.axes:
        assert [ln.get_label() for ln in ax.get_lines()] == [
            "EMF (2 seeds)", "IMF (2 seeds)", "DMF (2 seeds)",
        ]  # fmt: skip
    loss_ax, acc_ax = fig.axes[0], fig.axes[2]  # first dataset column: loss on top
    np.testing.assert_allclose(loss_ax.get_lines()[0].get_ydata(), [1.5, 1.0, 1 / 3 + 0.5])
    np.testing.assert_allclose(acc_ax.get_lines()[0].get_ydata(), [50.5, 60.5, 70.5])
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_markdown_table_helper_writes_header_alignment_and_rows():
    from mfas_core.report.markdown import md_header, md_row

    assert md_header(["a", "b", "c"], "lr") == ["| a | b | c |", "|---|---:|---|"]
    assert md_row(["x", 1, 2.5]) == "| x | 1 | 2.5 |"
