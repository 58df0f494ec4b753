"""DMF tables and the Fig. 4 plot (mfas_core.report.dmf_tables), from metrics files of real runs."""

from __future__ import annotations

import json

import pytest
from test_dmf import SMALL, write_digit_halves

from mfas_core.dmf.train import train_dmf
from mfas_core.io import InputError
from mfas_core.report.dmf_tables import (
    mean_std,
    write_mnist_table,
    write_retrieval_table,
    write_svm_table,
)
from mfas_core.report.paper import PAPER_DMF_TABLE1 as PAPER_TABLE1
from mfas_core.report.plots import plot_curves


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Discriminative metrics of EMF/IMF/DMF, 2 seeds, on digit halves at damage 0 and 50 %."""
    out = tmp_path_factory.mktemp("report")
    paths = []
    for damage in (0.0, 0.5):
        data = write_digit_halves(out / f"d{round(damage * 100)}.h5", damage=damage)
        for model in ("emf", "imf", "dmf"):
            for seed in (0, 1):
                stem = out / f"{model}_{round(damage * 100)}_{seed}"
                train_dmf(
                    data,
                    f"{stem}.pt",
                    f"{stem}.json",
                    dataset=f"halves_d{round(damage * 100)}",
                    variant="disc",
                    model=model,
                    seed=seed,
                    damage=damage,
                    epochs=3,
                    batch_size=64,
                    lr=3e-3,
                    device="cpu",
                    threads=1,
                    **SMALL,
                )
                paths.append(f"{stem}.json")
    return paths


def test_mnist_table_puts_the_paper_beside_our_mean_and_std(runs, tmp_path):
    text = write_mnist_table(runs, tmp_path / "t.md")
    assert (tmp_path / "t.md").read_text() == text
    rows = [json.loads(open(p).read()) for p in runs]
    dmf0 = [r["test_error"]["both"] for r in rows if r["model"] == "dmf" and r["damage"] == 0]
    m, s = mean_std(dmf0)
    line = next(ln for ln in text.splitlines() if ln.startswith("| left+right | DMF"))
    assert f"{m:.2f} ± {s:.2f} ({PAPER_TABLE1[('both', 'dmf')][0]:.2f})" in line
    assert f"({PAPER_TABLE1[('both', 'dmf')][50]:.2f})" in line
    right = next(ln for ln in text.splitlines() if ln.startswith("| right only | IMF"))
    assert "(51.30)" in right and "(63.30)" in right
    assert "2 seed(s) [0, 1]" in text and "RBM pretraining: no" in text
    assert "| 0% | 50% |" in text


def test_mnist_table_states_whether_the_papers_shape_holds(runs, tmp_path):
    text = write_mnist_table(runs, tmp_path / "t.md")
    assert "right only: DMF ≤ IMF at" in text and "both halves: DMF ≤ EMF at" in text
    assert "mean gain of DMF over IMF" in text


def test_mnist_table_lists_parameter_counts(runs, tmp_path):
    text = write_mnist_table(runs, tmp_path / "t.md")
    n = json.loads(open(runs[-1]).read())["n_params"]
    assert f"{n:,}" in text


def test_curves_plot_is_a_png(runs, tmp_path):
    plot_curves(runs, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_svm_and_retrieval_tables_show_every_model_and_condition(tmp_path):
    svm, ret = [], []
    for model in ("emf", "dmf"):
        for seed in (0, 1):
            s = {
                "dataset": "mfeat",
                "model": model,
                "seed": seed,
                "modalities": ["pix", "fou"],
                "svm": {"c": 1.0, "kernel": "rbf", "n_train": 100},
                "accuracy": {"both": 0.9 + seed / 100, "only_pix": 0.8, "only_fou": 0.7},
            }
            r = {
                "dataset": "mfeat",
                "model": model,
                "seed": seed,
                "modalities": ["pix", "fou"],
                "n_queries": 10,
                "n_items": 30,
                "map": {"pix2fou": 0.5, "fou2pix": 0.25 + seed / 10},
                "chance_map": 0.1,
            }
            for obj, lst in ((s, svm), (r, ret)):
                p = tmp_path / f"{len(lst)}_{id(lst)}.json"
                p.write_text(json.dumps(obj))
                lst.append(p)
    text = write_svm_table(svm, [], tmp_path / "svm.md")
    assert "| model | pix+fou | pix only | fou only | discriminative |" in text
    assert "| DMF | 90.50 ± 0.71 | 80.00 ± 0.00 | 70.00 ± 0.00 | — |" in text
    text = write_retrieval_table(ret, tmp_path / "ret.md")
    assert "| EMF | 0.5000 ± 0.0000 | 0.3000 ± 0.0707 | 0.1000 |" in text
    assert "0.2921" in text  # the paper's Wiki number, labelled as another data set


def test_unreadable_metrics_raise_input_error_naming_the_file(tmp_path):
    bad = tmp_path / "metrics.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="metrics.json: file"):
        write_mnist_table([bad], tmp_path / "t.md")
    assert not (tmp_path / "t.md").exists()
