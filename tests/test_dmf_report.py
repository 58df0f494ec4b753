"""DMF tables and the Fig. 4 plot (mfas_core.report.dmf_tables), from metrics files of real runs."""

from __future__ import annotations

import json

import pytest
from helpers import dmf_settings
from test_dmf import SMALL, write_digit_halves

from mfas_core.dmf.train import train_dmf
from mfas_core.errors import InputError
from mfas_core.report.dmf_tables import (
    dataset_table,
    mean_std,
    write_mnist_table,
    write_retrieval_table,
    write_svm_table,
)
from mfas_core.report.paper import PAPER_DMF_TABLE1 as PAPER_TABLE1


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
                    threads=1,
                    **dmf_settings(
                        "disc", max_epochs=3, batch_size=64, lr=3e-3, min_steps=0, **SMALL
                    ),
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
    assert "2 seed(s) [0, 1]" in text and "layer-wise pretraining: no" in text
    assert "| 0% | 50% |" in text


def test_mnist_table_lists_parameter_counts(runs, tmp_path):
    text = write_mnist_table(runs, tmp_path / "t.md")
    n = json.loads(open(runs[-1]).read())["n_params"]
    assert f"{n:,}" in text


def test_dataset_table_names_the_best_model_per_input_condition(runs):
    rows = [json.loads(open(p).read()) for p in runs if "_0_" in p]  # damage 0 only
    text = dataset_table(rows)
    means = {
        m: sum(r["test_error"]["only_right"] for r in rows if r["model"] == m) / 2
        for m in ("emf", "imf", "dmf")
    }
    best = " = ".join(m.upper() for m, v in means.items() if abs(v - min(means.values())) < 1e-9)
    line = next(ln for ln in text.splitlines() if ln.startswith("| right only |"))
    assert line.rstrip(" |").endswith(best)
    assert "| input | EMF (" in text and "best-validation epoch" in text


def _write(tmp_path, objs):
    paths = []
    for i, obj in enumerate(objs):
        p = tmp_path / f"{i}_{obj.get('model', 'base')}.json"
        p.write_text(json.dumps(obj))
        paths.append(p)
    return paths


SAMPLES = {"svm": {"c": 1.0, "kernel": "rbf", "n_train": 100}, "n_test": 40, "n_queries": 10,
           "n_items": 30, "chance_map": 0.1, "modalities": ["pix", "fou"], "dataset": "mfeat"}  # fmt: skip


def _evals_and_baselines(tmp_path, n_test=40):
    evals, base = [], []
    for seed in (0, 1):
        for model, acc in (("emf", 0.8), ("dmf", 0.9)):
            evals.append({
                **SAMPLES, "model": model, "seed": seed, "code_dim": 8,
                "accuracy": {"both": acc + seed / 100, "only_pix": 0.8, "only_fou": 0.7},
                "map": {"pix2fou": 0.5 if model == "emf" else 0.4, "fou2pix": 0.25 + seed / 10},
            })  # fmt: skip
        base.append({
            **SAMPLES, "n_test": n_test, "seed": seed, "code_dim": 8, "pca_components": 8,
            "cca_components": 4,
            "accuracy": {k: {"both": 0.85, "only_pix": 0.75, "only_fou": 0.6} for k in ("raw", "pca")},
            "map": {"cca": {"pix2fou": 0.3, "fou2pix": 0.35}, "raw_cosine": None},
        })  # fmt: skip
    return _write(tmp_path, evals), _write(tmp_path, base)


def test_svm_table_puts_baselines_and_the_best_code_in_each_row(tmp_path):
    evals, base = _evals_and_baselines(tmp_path)
    text = write_svm_table(evals, base, [], tmp_path / "svm.md")
    assert "| input | EMF | DMF | raw inputs | PCA | best code | disc. |" in text
    assert (
        "| pix+fou | 80.50 ± 0.71 | 90.50 ± 0.71 | 85.00 ± 0.00 | 85.00 ± 0.00 | DMF | — |" in text
    )
    assert (
        "| pix only | 80.00 ± 0.00 | 80.00 ± 0.00 | 75.00 ± 0.00 | 75.00 ± 0.00 | EMF = DMF | — |"
        in text
    )


def test_retrieval_table_shows_cca_and_raw_cosine_not_applicable(tmp_path):
    evals, base = _evals_and_baselines(tmp_path)
    text = write_retrieval_table(evals, base, tmp_path / "ret.md")
    assert (
        "| pix→fou | 0.5000 ± 0.0000 | 0.4000 ± 0.0000 | 0.3000 ± 0.0000 | n/a | 0.1000 | EMF |"
        in text
    )
    assert "0.2921" in text  # the paper's Wiki number, labelled as another data set


def test_tables_refuse_baselines_computed_on_other_samples(tmp_path):
    evals, base = _evals_and_baselines(tmp_path, n_test=39)
    with pytest.raises(ValueError, match="other samples"):
        write_retrieval_table(evals, base, tmp_path / "ret.md")


def test_unreadable_metrics_raise_input_error_naming_the_file(tmp_path):
    bad = tmp_path / "metrics.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="metrics.json: file"):
        write_mnist_table([bad], tmp_path / "t.md")
    assert not (tmp_path / "t.md").exists()
