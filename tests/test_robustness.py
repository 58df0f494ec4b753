"""Robustness to a missing or noisy modality, and what a final model costs: the perturbed
feature caches, the scoring of saved final models, the tables and plots built from them, and
FLOPs counting."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from test_backbones import CONV, MLP, digits_file, train  # noqa: F401  (fixture)
from test_final import ARCHS, TRAIN, baseline, digits  # noqa: F401  (fixture)

from mfas_core.final.cost import flops_per_sample, latency_per_sample
from mfas_core.final.data import load_taps
from mfas_core.final.robustness import (
    evaluate_robustness,
    extract_perturbed_features,
    noise_rng,
    perturb,
)
from mfas_core.final.settings import RobustnessSettings, robustness_params
from mfas_core.final.train import load_final_model, run_final_baseline, run_final_train
from mfas_core.report.final_plots import pareto_front
from mfas_core.report.robustness import auc, read_robustness, robustness_table
from mfas_core.settings import schema_defaults
from mfas_core.training import predict, score
from mfas_core.unimodal.features import FeatureStore, extract_features

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
import h5py  # noqa: E402

ROBUST = robustness_params(schema_defaults("robustness"))


def perturbed_paths(folder: Path, modality: str) -> list[str]:
    names = RobustnessSettings.from_params(**ROBUST).names
    return [str(folder / modality / f"{n}.h5") for n in names]


# --------------------------------------------------------------------------- cost


def test_flops_of_a_linear_layer_equal_the_hand_count():
    layer = torch.nn.Linear(12, 5)
    x = torch.randn(7, 12)
    assert flops_per_sample(layer, [x]) == 2 * 12 * 5  # one multiply-add per weight


def test_flops_of_two_stacked_linear_layers_add_up():
    net = torch.nn.Sequential(torch.nn.Linear(12, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    assert flops_per_sample(net, [torch.randn(4, 12)]) == 2 * (12 * 8 + 8 * 3)


def test_latency_is_a_positive_time_per_sample():
    layer = torch.nn.Linear(12, 5)
    per_sample = latency_per_sample(layer, [torch.randn(3, 12)], 64, "cpu", repeats=3)
    assert 0 < per_sample < 1


def test_pareto_front_keeps_the_points_no_cheaper_point_beats():
    points = [(10, 0.5), (20, 0.7), (15, 0.4), (40, 0.7), (50, 0.9)]
    assert pareto_front(points) == [0, 1, 4]


# --------------------------------------------------------------------------- perturbations


def test_zeroing_a_modality_gives_the_taps_of_features_extracted_from_a_zeroed_input(
    digits_file,  # noqa: F811
    tmp_path,
):
    for modality, spec in (("image", CONV), ("profile", MLP)):
        train(digits_file, tmp_path, modality, spec)
        outs = perturbed_paths(tmp_path / "perturbed", modality)
        extract_perturbed_features(
            digits_file, tmp_path / f"{modality}.pt", outs, dataset="digits", modality=modality,
            spec=spec, settings=ROBUST, seed=0, batch_size=97,
        )  # fmt: skip
        zeroed = tmp_path / f"zeroed_{modality}.h5"
        shutil.copy(digits_file, zeroed)
        with h5py.File(zeroed, "r+") as f:
            f["test"][modality][...] = 0
        ref = tmp_path / f"ref_{modality}.h5"
        extract_features(zeroed, tmp_path / f"{modality}.pt", ref, dataset="digits",
                         modality=modality, spec=spec, batch_size=97)  # fmt: skip
        got, want = FeatureStore(outs[0]), FeatureStore(ref)
        assert got.n_layers == want.n_layers
        for k in range(1, want.n_layers + 1):
            np.testing.assert_array_equal(got.layer("test", k), want.layer("test", k))
        np.testing.assert_array_equal(got.labels("test"), want.labels("test"))
        clean = tmp_path / f"clean_{modality}.h5"
        extract_features(digits_file, tmp_path / f"{modality}.pt", clean, dataset="digits",
                         modality=modality, spec=spec, batch_size=97)  # fmt: skip
        noisy = FeatureStore(outs[-1]).layer("test", 1)
        assert not np.allclose(noisy, FeatureStore(clean).layer("test", 1))


def test_noise_strength_is_its_multiple_of_the_test_split_std():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(4000, 8)).astype(np.float32)
    p = {"name": "noise1", "kind": "noise", "level": 0.5}
    noise = perturb(x, p, noise_rng(0, "m", 1)) - x
    assert noise.std() == pytest.approx(0.5 * x.std(), rel=0.02)


def test_snr_noise_has_the_given_signal_to_noise_ratio_per_sample():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(20, 20000)) * rng.uniform(0.5, 4, size=(20, 1))).astype(np.float32)
    p = {"name": "noise1", "kind": "snr", "level": 10.0}
    noise = perturb(x, p, noise_rng(0, "audio", 1)) - x
    snr = 10 * np.log10(x.var(axis=1) / noise.var(axis=1))
    np.testing.assert_allclose(snr, 10.0, atol=0.15)


def test_unequal_numbers_of_noise_and_snr_levels_are_an_error_naming_both():
    from mfas_core.config import ConfigError

    with pytest.raises(ConfigError, match="noise_levels has 4 levels, snr_db 2"):
        RobustnessSettings.from_params(**{**ROBUST, "snr_db": [10.0, 0.0]})


# --------------------------------------------------------------------------- scoring


def test_a_saved_final_model_scores_the_test_score_of_its_metrics(digits, tmp_path):  # noqa: F811
    _, features, topk = digits
    taps = load_taps(*features)
    m1 = run_final_train(features, topk, str(tmp_path / "m.json"), dataset="digits", rank=2,
                         search_seed=0, seed=0, nonlinearities=["relu", "sigmoid"],
                         settings=TRAIN, model_out=str(tmp_path / "m.pt"))  # fmt: skip
    m2 = run_final_baseline(features, str(tmp_path / "b.json"), dataset="digits", method="gmu",
                            modalities=["left", "right"], seed=0, settings=baseline("gmu"),
                            model_out=str(tmp_path / "b.pt"))  # fmt: skip
    for metrics, path in ((m1, "m.pt"), (m2, "b.pt")):
        model, _ = load_final_model(str(tmp_path / path))
        s = score(taps.task, taps.y["test"], predict(model, taps.inputs("test")))["score"]
        assert s == metrics["test"]


def write_robustness_run(digits, tmp_path) -> str:  # noqa: F811
    """Two seeds of a baseline and of two MFAS ranks scored on perturbed copies of the
    digits taps (the right half's taps zeroed or noisy, written as a perturbed cache)."""
    _, features, topk = digits
    models, metrics = [], []
    for seed in (0, 1):
        for rank in (1, 2):
            out = tmp_path / f"mfas{rank}_s{seed}"
            run_final_train(features, topk, f"{out}.json", dataset="digits", rank=rank,
                            search_seed=0, seed=seed, nonlinearities=["relu", "sigmoid"],
                            settings=TRAIN, model_out=f"{out}.pt")  # fmt: skip
            models.append(f"{out}.pt")
            metrics.append(f"{out}.json")
        out = tmp_path / f"late_s{seed}"
        run_final_baseline(features, f"{out}.json", dataset="digits", method="late_fusion",
                           modalities=["left", "right"], seed=seed,
                           settings=baseline("late_fusion"), model_out=f"{out}.pt")  # fmt: skip
        models.append(f"{out}.pt")
        metrics.append(f"{out}.json")
    perturbed = []
    rng = np.random.default_rng(3)
    for j, path in enumerate(features):
        mod = ["left", "right"][j]
        for i, name in enumerate(("zero", "noise1", "noise2")):
            dst = tmp_path / "perturbed" / mod / f"{name}.h5"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dst)
            with h5py.File(dst, "r+") as f:
                for key in [k for k in f["test"] if k.startswith("layer_")]:
                    a = f["test"][key][()]
                    f["test"][key][...] = 0 * a if i == 0 else a + rng.normal(size=a.shape) * i
                level = None if i == 0 else float(i)
                f.attrs["perturbation"] = json.dumps(
                    {"name": name, "kind": "zero" if i == 0 else "noise", "level": level}
                )
            perturbed.append(str(dst))
    out = str(tmp_path / "robustness.json")
    evaluate_robustness(models, metrics, features, perturbed, out, dataset="digits",
                        modalities=["left", "right"])  # fmt: skip
    return out


def test_every_robustness_table_number_comes_from_the_metrics_file(digits, tmp_path):  # noqa: F811
    path = write_robustness_run(digits, tmp_path)
    data = read_robustness(path)
    text = robustness_table(path, str(tmp_path / "r.md"), str(tmp_path / "r.tsv"),
                            dataset="digits")  # fmt: skip
    frame = pd.read_csv(tmp_path / "r.tsv", sep="\t")
    assert set(frame["method"]) == {"late_fusion", "mfas_top1"}
    for row in frame.itertuples():
        runs = [
            r
            for r in data["runs"]
            if (r["method"] == "late_fusion") == (row.method == "late_fusion")
        ]
        if row.method == "mfas_top1":
            ranks = {int(r["rank"]) for r in data["runs"] if r["method"] == "mfas"}
            vals = {k: np.mean([r["val"] for r in runs if r["rank"] == k]) for k in ranks}
            runs = [r for r in runs if r["rank"] == max(vals, key=vals.get)]
        assert row.runs == len(runs) == 2
        if row.quantity == "clean":
            v = [r["clean"] for r in runs]
        elif row.quantity == "auc":
            v = [auc(r["clean"], [r["scores"][row.modality][n] for n in ("noise1", "noise2")])
                 for r in runs]  # fmt: skip
        elif row.quantity == "drop_missing":
            v = [100 * (r["clean"] - r["scores"][row.modality]["zero"]) / r["clean"] for r in runs]
        else:
            v = [r["scores"][row.modality][row.quantity] for r in runs]
        assert row.mean == pytest.approx(np.mean(v)) and row.std == pytest.approx(np.std(v))
        if row.quantity != "drop_missing":
            assert f"| {100 * np.mean(v):.2f} ± {100 * np.std(v):.2f} |" in text


def test_missing_modality_scores_what_the_model_scores_on_zeroed_taps(digits, tmp_path):  # noqa: F811
    path = write_robustness_run(digits, tmp_path)
    _, features, _ = digits
    taps = load_taps(*features)
    for run in read_robustness(path)["runs"]:
        model, _ = load_final_model(run["model"])
        x1, x2 = taps.inputs("test")
        s = score(taps.task, taps.y["test"], predict(model, (x1, torch.zeros_like(x2))))
        assert run["scores"]["right"]["zero"] == s["score"]
        assert run["clean"] == json.loads(Path(run["metrics"]).read_text())["test"]


def test_auc_of_a_flat_curve_is_the_clean_score_and_lower_when_it_falls():
    assert auc(0.8, [0.8, 0.8, 0.8]) == pytest.approx(0.8)
    assert auc(0.8, [0.6, 0.4]) == pytest.approx((0.7 + 0.5) / 2)


def test_final_table_cost_columns_come_after_the_scores_and_timings_last(digits, tmp_path):  # noqa: F811
    from mfas_core.final.cost import measure_costs
    from mfas_core.report.final_tables import COST_COLUMNS, TIMING_COLUMNS, final_table

    _, features, topk = digits
    paths, models = [], []
    for seed in (0, 1):
        out = tmp_path / f"m{seed}"
        run_final_train(features, topk, f"{out}.json", dataset="digits", rank=1, search_seed=0,
                        seed=seed, nonlinearities=["relu", "sigmoid"], settings=TRAIN,
                        model_out=f"{out}.pt")  # fmt: skip
        out_b = tmp_path / f"b{seed}"
        run_final_baseline(features, f"{out_b}.json", dataset="digits", method="late_fusion",
                           modalities=["left", "right"], seed=seed,
                           settings=baseline("late_fusion"), model_out=f"{out_b}.pt")  # fmt: skip
        paths += [f"{out}.json", f"{out_b}.json"]
        models += [f"{out}.pt", f"{out_b}.pt"]
    cost = str(tmp_path / "cost.json")
    measured = measure_costs(models, paths, features, cost, dataset="digits")
    text = final_table(paths, [], str(tmp_path / "t.md"), str(tmp_path / "t.tsv"),
                       dataset="digits", kind="hdf5", modalities=["left", "right"],
                       setup={}, cost=cost)  # fmt: skip
    frame = pd.read_csv(tmp_path / "t.tsv", sep="\t")
    assert list(frame.columns[-len(COST_COLUMNS) :]) == COST_COLUMNS
    assert list(frame.columns[-len(TIMING_COLUMNS) :]) == TIMING_COLUMNS
    header = next(line for line in text.splitlines() if line.startswith("| method"))
    assert header.endswith("| seeds | FLOPs | latency b1 (ms) | latency b512 (µs) | train (s) |")
    by_path = {r["metrics"]: r for r in measured["runs"]}
    for row in frame.itertuples():
        sources = row.sources.split(",")
        runs = [json.loads(Path(p).read_text()) for p in sources]
        assert int(row.flops) == by_path[sources[0]]["flops"] == by_path[sources[1]]["flops"] > 0
        assert row.latency_ms_b512 == pytest.approx(
            np.mean([by_path[p]["latency_ms_b512"] for p in sources])
        )
        assert row.train_seconds == pytest.approx(np.mean([m["seconds"] for m in runs]))


# --------------------------------------------------------------------------- workflow level


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ("avmnist", "mfeat"))
def test_every_smoke_robustness_number_comes_from_its_metrics_file(smoke_workflow, dataset):
    data = read_robustness(smoke_workflow / f"results/robustness/{dataset}/metrics.json")
    text = (smoke_workflow / f"results/tables/robustness_{dataset}.md").read_text()
    frame = pd.read_csv(smoke_workflow / f"results/tables/robustness_{dataset}.tsv", sep="\t")
    final = pd.read_csv(smoke_workflow / f"results/tables/final_{dataset}.tsv", sep="\t")
    assert set(frame["method"]) == set(final["method"])
    assert set(frame["modality"]) == set(data["modalities"]) and len(data["modalities"]) == 2
    by_method = {r.method: r for r in final.itertuples()}
    for row in frame[frame["quantity"].str.match(r"zero|noise\d+")].itertuples():
        sources = set(by_method[row.method].sources.split(","))
        runs = [r for r in data["runs"] if r["metrics"] in sources]
        v = [r["scores"][row.modality][row.quantity] for r in runs]
        assert row.runs == len(runs) > 0
        assert row.mean == pytest.approx(np.mean(v))
        assert f"| {100 * np.mean(v):.2f} ± {100 * np.std(v):.2f} |" in text
    for r in data["runs"]:  # the saved weights are the trained ones
        m = json.loads((smoke_workflow / r["metrics"]).read_text())
        assert r["clean"] == (m["phase1"]["test"] if r["method"] == "mfas" else m["test"])


def test_robustness_plot_draws_a_line_per_method_in_a_panel_per_modality(digits, tmp_path):  # noqa: F811
    from mfas_core.report.robustness import plot_robustness

    path = write_robustness_run(digits, tmp_path)
    drawn = plot_robustness(path, str(tmp_path / "r.png"), title="digits")
    assert drawn == {"left": 2, "right": 2}  # late fusion and MFAS top 1
    assert (tmp_path / "r.png").stat().st_size > 10_000
