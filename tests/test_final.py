"""Final training: found architectures and baselines trained to the end, the val-only choice
of MFAS top 1, the tables and plot; on real digit features (test_search's writer) and on the
smoke workflow's outputs."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import copy_workflow, snakemake
from test_data_sources import mmimdb_file
from test_search import write_digit_features

from mfas_core.atomic import read_metrics
from mfas_core.errors import InputError
from mfas_core.final.select import choose_top1
from mfas_core.final.settings import baseline_params, train_params
from mfas_core.final.train import run_final_baseline, run_final_train
from mfas_core.report.final_tables import final_table, top_k_test_scores

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
import h5py  # noqa: E402

SETTINGS = dict(width=16, dropout=0.2, epochs=2, lr=1e-2, weight_decay=1e-4, batch_size=64,
                min_steps=100, finetune_epochs=0, finetune_lr=1e-3, lrtf_rank=2)  # fmt: skip
TRAIN = train_params(SETTINGS)  # rule train_final's `settings`


def baseline(method: str) -> dict:
    """rule train_final_baseline's `settings` for `method`."""
    return baseline_params(SETTINGS, method)


ARCHS = ["3-2-1", "1-1-2_3-2-1", "2-1-1"]


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """Feature files and a 3-row topk.tsv, as the search leaves them."""
    folder = tmp_path_factory.mktemp("final")
    paths = write_digit_features(folder / "features", n=600)
    topk = folder / "topk.tsv"
    pd.DataFrame({"rank": [1, 2, 3], "architecture": ARCHS, "val_score": [0.9, 0.8, 0.7]}).to_csv(
        topk, sep="\t", index=False
    )
    return folder, paths, str(topk)


def train_all(features, topk, out: Path) -> list[dict]:
    return [
        run_final_train(
            features,
            topk,
            str(out / f"rank{r}.json"),
            dataset="digits",
            rank=r,
            search_seed=0,
            seed=0,
            nonlinearities=["relu", "sigmoid"],
            settings=TRAIN,
        )  # fmt: skip
        for r in (1, 2, 3)
    ]


def permute_test_labels(src: list[str], folder: Path) -> list[str]:
    """Copies of the feature files whose test labels are shuffled (the same way in both)."""
    folder.mkdir()
    out = []
    for p in src:
        dst = folder / Path(p).name
        shutil.copy(p, dst)
        with h5py.File(dst, "r+") as f:
            y = f["test/labels"][()]
            f["test/labels"][...] = y[np.random.default_rng(5).permutation(len(y))]
        out.append(str(dst))
    return out


def test_metrics_hold_val_and_test_scores_params_and_seconds(digits, tmp_path):
    _, features, topk = digits
    m = run_final_train(features, topk, str(tmp_path / "m.json"), dataset="digits", rank=2,
                        search_seed=0, seed=0, nonlinearities=["relu", "sigmoid"],
                        settings=TRAIN)  # fmt: skip
    saved = json.loads((tmp_path / "m.json").read_text())
    assert saved["architecture"] == ARCHS[1] and saved["rank"] == 2
    assert 0.5 < saved["val"] <= 1 and 0.5 < saved["test"] <= 1  # digits halves fuse well
    # fusion layers (4+4)*16+16 and (16+8+16)*16+16 (taps 1,1 then 3,2), head 16*10+10
    assert saved["params"] == 144 + 656 + 170 and saved["seconds"] > 0
    assert saved == {**m, "phase2": None}


def test_a_seed_trained_after_another_in_one_process_equals_it_trained_alone(digits, tmp_path):
    # final_train / final_baseline train every training seed in one job (one start-up):
    # nothing may carry over from one seed's run to the next.
    _, features, topk = digits
    kw = dict(dataset="digits", rank=2, search_seed=0, nonlinearities=["relu", "sigmoid"],
              settings=TRAIN)  # fmt: skip
    alone = run_final_train(features, topk, str(tmp_path / "a.json"), seed=1, **kw)
    run_final_train(features, topk, str(tmp_path / "b0.json"), seed=0, **kw)
    after = run_final_train(features, topk, str(tmp_path / "b1.json"), seed=1, **kw)

    def scores(m):
        return m["val"], m["test"], m["phase1"]["history"]

    assert scores(alone) == scores(after)
    base = dict(dataset="digits", method="gmu", modalities=["left", "right"],
                settings=baseline("gmu"))  # fmt: skip
    b_alone = run_final_baseline(features, str(tmp_path / "c.json"), seed=1, **base)
    run_final_baseline(features, str(tmp_path / "d0.json"), seed=0, **base)
    b_after = run_final_baseline(features, str(tmp_path / "d1.json"), seed=1, **base)
    assert scores(b_alone) == scores(b_after)


def test_test_labels_never_choose_mfas_top1(digits, tmp_path):
    _, features, topk = digits
    original = train_all(features, topk, tmp_path / "a")
    shuffled = train_all(permute_test_labels(features, tmp_path / "p"), topk, tmp_path / "b")
    assert choose_top1(original) == choose_top1(shuffled)
    assert [m["val"] for m in original] == [m["val"] for m in shuffled]
    assert [m["test"] for m in original] != [m["test"] for m in shuffled]


def test_top1_is_the_best_mean_validation_score_over_training_seeds():
    runs = [dict(method="mfas", dataset="d", search_seed=0, rank=r, val=v, test=t)
            for r, v, t in ((1, 0.80, 0.1), (1, 0.90, 0.1), (2, 0.86, 0.9), (2, 0.86, 0.9))]  # fmt: skip
    assert choose_top1(runs) == {("d", 0): 2}
    assert choose_top1(runs[:2] + [{**runs[2], "val": 0.85}, {**runs[3], "val": 0.85}]) == {
        ("d", 0): 1  # a tie goes to the better search rank
    }


def test_rank_beyond_the_search_table_is_named(digits, tmp_path):
    _, features, topk = digits
    with pytest.raises(InputError, match="topk.tsv: rank: no rank 7"):
        run_final_train(features, topk, str(tmp_path / "m.json"), dataset="digits", rank=7,
                        search_seed=0, seed=0, nonlinearities=["relu"], settings=TRAIN)  # fmt: skip
    assert not (tmp_path / "m.json").exists()


def test_table_rows_are_the_means_of_their_metrics_files(digits, tmp_path):
    _, features, topk = digits
    paths = []
    for seed in (0, 1):
        for r in (1, 2):
            out = tmp_path / f"mfas_r{r}_s{seed}.json"
            run_final_train(features, topk, str(out), dataset="digits", rank=r, search_seed=0,
                            seed=seed, nonlinearities=["relu", "sigmoid"], settings=TRAIN)  # fmt: skip
            paths.append(str(out))
        for method in ("unimodal_left", "late_fusion"):
            out = tmp_path / f"{method}_s{seed}.json"
            run_final_baseline(features, str(out), dataset="digits", method=method,
                               modalities=["left", "right"], seed=seed, settings=baseline(method))  # fmt: skip
            paths.append(str(out))
    text = final_table(paths, [], str(tmp_path / "t.md"), str(tmp_path / "t.tsv"),
                       dataset="digits", kind="hdf5", modalities=["left", "right"],
                       setup=SETTINGS)  # fmt: skip
    frame = pd.read_csv(tmp_path / "t.tsv", sep="\t")
    assert list(frame["method"]) == ["unimodal_left", "late_fusion", "mfas_top1"]
    for row in frame.itertuples():
        runs = read_metrics(row.sources.split(","))
        assert len(runs) == row.seeds == 2
        assert row.test_mean == pytest.approx(np.mean([m["test"] for m in runs]))
        assert row.test_std == pytest.approx(np.std([m["test"] for m in runs]))
        assert f"{100 * row.test_mean:.2f} ± {100 * row.test_std:.2f}" in text
    top = top_k_test_scores([p for p in paths if "mfas" in p])
    assert list(top["rank"]) == [1, 2] and top["top1"].sum() == 1


# --------------------------------------------------------------------------- workflow level

SMOKE_DATASETS = ("avmnist", "mfeat")


@pytest.mark.slow
@pytest.mark.parametrize("dataset", SMOKE_DATASETS)
def test_every_final_table_number_comes_from_a_workflow_metrics_file(smoke_workflow, dataset):
    table = (smoke_workflow / f"results/tables/final_{dataset}.md").read_text()
    frame = pd.read_csv(smoke_workflow / f"results/tables/final_{dataset}.tsv", sep="\t")
    for row in frame.itertuples():
        runs = read_metrics([str(smoke_workflow / p) for p in row.sources.split(",")])
        assert all(Path(m["path"]).is_relative_to(smoke_workflow / "results/final") for m in runs)
        tests = [m["test"] for m in runs]
        assert row.test_mean == pytest.approx(np.mean(tests))
        assert f"| {100 * np.mean(tests):.2f} ± {100 * np.std(tests):.2f} |" in table
        assert f"| {100 * np.mean([m['val'] for m in runs]):.2f} ±" in table


@pytest.mark.slow
@pytest.mark.parametrize("dataset", SMOKE_DATASETS)
def test_smoke_final_stage_has_every_baseline_and_the_val_chosen_top1(smoke_workflow, dataset):
    frame = pd.read_csv(smoke_workflow / f"results/tables/final_{dataset}.tsv", sep="\t")
    mods = {"avmnist": ["audio", "image"], "mfeat": ["pix", "fou"]}[dataset]
    assert list(frame["method"]) == [f"unimodal_{m}" for m in mods] + [
        "late_fusion", "early_fusion", "centralnet", "gmu", "lrtf", "mfas_top1",
    ]  # fmt: skip
    mfas = read_metrics(
        [str(p) for p in (smoke_workflow / f"results/final/{dataset}/mfas").rglob("*.json")]
    )
    assert len(mfas) == 2  # smoke: final.top 2, one search seed, one training seed
    top1 = frame.set_index("method").loc["mfas_top1"]
    best = max(mfas, key=lambda m: (m["val"], -m["rank"]))
    assert top1["val_mean"] == pytest.approx(best["val"])
    assert (smoke_workflow / f"results/plots/final_{dataset}.png").stat().st_size > 10_000


@pytest.mark.slow
def test_smoke_phase2_fine_tunes_the_backbones_with_the_multitask_loss(smoke_workflow):
    for path in (smoke_workflow / "results/final").rglob("mfas/**/metrics.json"):
        m = json.loads(path.read_text())
        assert m["phase2"]["epochs"] == 1 and len(m["phase2"]["history"]) == 1
        assert m["trained_params"] > m["params"]  # the backbones' weights were trained too
        assert m["val"] >= m["phase1"]["val"]  # phase 1's weights are phase 2's epoch 0


@pytest.mark.slow
def test_whole_final_stage_runs_on_multi_label_mmimdb_data(tmp_path):
    """The MM-IMDB-format file the loaders are tested with, through search and final
    training, ends in a Table 3 layout (weighted and macro F1)."""
    (tmp_path / "wf").mkdir()
    work = copy_workflow(tmp_path / "wf")
    src = mmimdb_file(tmp_path / "mmimdb.hdf5")
    overlay = {
        "datasets": {"mm": {"kind": "mmimdb", "path": str(src)}},
        "search": {"datasets": ["mm"]},
        "final": {"datasets": ["mm"]},
    }
    (work / "config/mm.yaml").write_text(yaml.safe_dump(overlay))
    snakemake(work, "--cores", "2", "--configfile", "config/smoke.yaml", "config/mm.yaml",
              "--resources", "gpu=1", "--", "results/tables/final_mm.md",
              "results/plots/final_mm.png")  # fmt: skip
    table = (work / "results/tables/final_mm.md").read_text()
    assert "Table 3" in table and "test F1-W | test F1-M | paper F1-W | paper F1-M" in table
    assert "| 0.6250 | 0.5568 |" in table  # MFAS top 1 beside the paper's numbers
    frame = pd.read_csv(work / "results/tables/final_mm.tsv", sep="\t")
    assert frame["test_macro_f1_mean"].notna().all()
    assert list(frame["method"][:2]) == ["unimodal_image", "unimodal_text"]


@pytest.mark.slow
def test_search_table_shows_each_top_architecture_after_final_training(smoke_workflow):
    text = (smoke_workflow / "results/tables/search.md").read_text()
    section = text.split("## The top architectures after final training", 1)[1]
    for path in (smoke_workflow / "results/final").rglob("mfas/**/metrics.json"):
        m = json.loads(path.read_text())
        row = next(
            ln
            for ln in section.splitlines()
            if ln.startswith(f"| {m['dataset']} | {m['search_seed']} | {m['rank']}")
        )
        # ranks 1..min(search.top_k, search.k) link to their picture (smoke: final.top 2 <= 4)
        picture = f"../plots/arch/{m['dataset']}/seed{m['search_seed']}/rank{m['rank']}.svg"
        assert f"[{m['architecture']}]({picture})" in row
        assert (smoke_workflow / "results" / picture.removeprefix("../")).is_file()
        assert f"| {m['val']:.4f} | {m['test']:.4f} | 1 |" in row  # smoke: one training seed
    starred = [ln for ln in section.splitlines() if ln.startswith("| ") and "★" in ln]
    assert len(starred) == len(SMOKE_DATASETS)  # one MFAS top 1 per search
