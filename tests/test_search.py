"""MFAS search levels, random search and bad input, on small real feature files.

The feature files come from scikit-learn's digits (real data): modality 1 ("left") is the
left half of each 8x8 digit, modality 2 ("right") the right half; each "tap" is a fixed random
projection + ReLU of its view (widths 4, 8, 16 and 4, 8), written in the exact layout of
mfas_core.unimodal.features (what extract_features writes). test_fusion.py imports the writer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits

from mfas_core.atomic import sha256_file
from mfas_core.config import ConfigError
from mfas_core.errors import InputError
from mfas_core.report.tables import paired_comparison, search_table
from mfas_core.search.batched import WeightBank
from mfas_core.search.random import paper_draw, run_random_search
from mfas_core.search.sampling import sample_without_replacement, sampling_probs, temperature
from mfas_core.search.settings import RandomSearchSettings, SearchSettings, TrainSettings
from mfas_core.search.smbo import level_pool, run_search_level
from mfas_core.search.space import SearchSpace, arch_to_text
from mfas_core.search.state import LevelState
from mfas_core.search.steps import COLUMNS, step_seed
from mfas_core.search.summary import summarize_search
from mfas_core.search.surrogate import Surrogate
from mfas_core.settings import field_names
from mfas_core.unimodal.features import FeatureStore

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
import h5py  # noqa: E402

WIDTHS = {"left": [4, 8, 16], "right": [4, 8]}


def write_digit_features(
    folder: Path,
    dataset: str = "digits",
    n: int | None = None,
    widths: dict | None = None,
    multi: bool = False,
) -> list[str]:
    """Write folder/left.h5 and folder/right.h5; return their paths (modality 1 first).

    multi=True gives a multi-label task: [even, > 4, has a closed loop (0, 6, 8, 9)]."""
    widths = widths or WIDTHS
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).reshape(-1, 8, 8)
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    if n:
        x, y = x[:n], y[:n]
    if multi:
        y = np.stack([y % 2 == 0, y > 4, np.isin(y, (0, 6, 8, 9))], 1).astype(np.uint8)
    cut = [int(len(y) * 0.6), int(len(y) * 0.8)]
    splits = dict(zip(("train", "val", "test"), np.split(np.arange(len(y)), cut), strict=True))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for mi, (modality, view) in enumerate((("left", x[:, :, :4]), ("right", x[:, :, 4:]))):
        flat = view.reshape(len(y), -1)
        rng = np.random.default_rng(10 + mi)
        projs = [
            rng.normal(size=(flat.shape[1], w)) / np.sqrt(flat.shape[1]) for w in widths[modality]
        ]
        path = folder / f"{modality}.h5"
        with h5py.File(path, "w") as f:
            f.attrs.update(
                dataset=dataset, modality=modality, task="multi" if multi else "single",
                n_classes=y.shape[1] if multi else 10,
                layer_names=json.dumps([f"proj{w}" for w in widths[modality]]),
                layer_sizes=json.dumps(widths[modality]), backbone_sha256="0", data_sha256="0",
            )  # fmt: skip
            for split, idx in splits.items():
                g = f.create_group(split)
                for k, p in enumerate(projs, 1):
                    g.create_dataset(
                        f"layer_{k}", data=np.maximum(flat[idx] @ p, 0).astype(np.float32)
                    )
                g.create_dataset("logits", data=np.zeros((len(idx), 10), np.float32))
                g.create_dataset("labels", data=y[idx] if multi else y[idx].astype(np.int64))
        paths.append(str(path))
    return paths


torch.set_num_threads(1)  # 2 shared cores: oversubscribed OpenMP threads only spin

PARAMS = dict(
    seed=0, iterations=2, k=3, epochs=2, width=8, dropout=0.5, lr=1e-2, weight_decay=1e-4,
    batch_size=64, nonlinearities=["relu", "sigmoid"], weight_sharing=True, t_max=10.0,
    t_min=0.2, sigma=4.0, surrogate_epochs=10, surrogate_lr=1e-3, surrogate_hidden=16,
    surrogate_encoding="reference", device="cpu", workers=1, extend="sampled",
    surrogate_memory="all", fusion_ops=["concat"], lowrank_rank=4,
)  # fmt: skip


def settings(**over) -> SearchSettings:
    """The tests' search settings, as a rule's params would give them, with overrides."""
    return SearchSettings.from_params(**{**PARAMS, **over})


S = settings()
RANDOM = {k: v for k, v in PARAMS.items() if k in field_names(TrainSettings)} | dict(
    seed=0, iterations=2, k=3, max_layers=2, random_protocol="paper"
)


def random_settings(**over) -> RandomSearchSettings:
    """The tests' random-search settings, as rule search_random's params would give them."""
    return RandomSearchSettings.from_params(**{**RANDOM, **over})


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    return write_digit_features(tmp_path_factory.mktemp("digits"), n=600)


@pytest.fixture
def levels(features, tmp_path_factory):
    """A 3-level search, each level a separate call reading the previous level's directory.

    Function-scoped (about 1 s): mutmut maps a function only to the tests that ran it, and a
    module-scoped fixture runs the search inside the first test alone."""
    root = tmp_path_factory.mktemp("search")
    frames = [run_search_level(features, str(root / "level1"), 1, settings=S)]
    digests = {p.name: sha256_file(p) for p in (root / "level1").iterdir()}
    level1_files = [str(root / "level1" / name) for name in ("candidates.tsv", "state.json")]
    frames.append(run_search_level(features, str(root / "level2"), 2, level1_files, settings=S))
    frames.append(
        run_search_level(features, str(root / "level3"), 3, str(root / "level2"), settings=S)
    )
    return root, frames, digests


def test_level_one_trains_every_one_layer_architecture(levels):
    _, frames, _ = levels
    assert sorted(frames[0]["architecture"]) == sorted(
        arch_to_text(a) for a in SearchSpace((3, 2), 2, 1).level_one()
    )
    assert list(frames[0].columns) == COLUMNS


def test_each_later_level_samples_k_per_iteration_extending_what_the_previous_level_sampled(
    levels,
):
    root, frames, _ = levels
    for level, frame in ((2, frames[1]), (3, frames[2])):
        assert len(frame) == S.iterations * S.k
        assert frame["architecture"].is_unique
        assert (frame["architecture"].str.count("_") == level - 1).all()
        parents = set(frames[level - 2]["architecture"])  # S_(l-1): all the previous level sampled
        assert all(a.rsplit("_", 1)[0] in parents for a in frame["architecture"])
    assert frames[1]["predicted_score"].notna().all()


def test_level_two_pool_extends_all_of_gamma_one_by_every_triple(levels):
    root, _, _ = levels
    state = LevelState.load(root / "level1" / "state.json")
    space = SearchSpace((3, 2), 2, 2)
    pool = level_pool(space, state.parents("sampled"), 2)
    assert len(pool) == len(set(pool)) == space.n_triples * space.n_triples
    assert len(level_pool(space, state.parents("topk"), 2)) == S.k * space.n_triples


def test_extend_topk_unfolds_only_the_previous_levels_k_best(features, levels, tmp_path):
    root, _, _ = levels
    frame = run_search_level(
        features, str(tmp_path / "level2"), 2, str(root / "level1"), settings(extend="topk")
    )
    top = set(LevelState.load(root / "level1" / "state.json").topk)
    assert len(top) == S.k
    assert all(a.rsplit("_", 1)[0] in top for a in frame["architecture"])


def test_temperature_follows_the_global_step_index(levels):
    _, frames, _ = levels
    later = pd.concat(frames[1:])
    steps = sorted(set(later["step"]))
    assert steps == [1, 2, 3, 4]
    for s in steps:
        t = later.loc[later["step"] == s, "temperature"].iloc[0]
        assert t == pytest.approx(temperature(s - 1, 10.0, 0.2, 4.0))


def test_level_saves_everything_the_next_level_needs(levels):
    root, frames, _ = levels
    state = LevelState.load(root / "level2" / "state.json", level=2, seed=0)
    assert state.next_step == 3 and len(state.topk) == S.k
    assert state.sampled == frames[1]["architecture"].tolist()
    assert len(state.history) == len(frames[0]) + len(frames[1])
    assert state.bank_entries == len(WeightBank.load(root / "level2" / "bank.pt")) > 0
    assert "optimizer" in torch.load(root / "level2" / "surrogate.pt", weights_only=True)


def test_surrogate_memory_all_carries_every_level_across_level_jobs(levels):
    root, frames, _ = levels
    sur = Surrogate.load(root / "level3" / "surrogate.pt")
    everything = set(pd.concat(frames)["architecture"])
    assert {arch_to_text(a) for a in sur.training_set} == everything
    assert LevelState.load(root / "level3" / "state.json").surrogate_set == len(everything)


def test_surrogate_memory_step_keeps_only_the_last_step(features, levels, tmp_path):
    root, _, _ = levels
    step = settings(surrogate_memory="step")
    run_search_level(features, str(tmp_path / "level1"), 1, settings=step)
    frame = run_search_level(features, str(tmp_path / "level2"), 2, str(tmp_path / "level1"), step)
    sur = Surrogate.load(tmp_path / "level2" / "surrogate.pt")
    last = frame[frame["iteration"] == S.iterations]["architecture"]
    assert {arch_to_text(a) for a in sur.training_set} == set(last)


def test_level_state_of_another_seed_is_rejected_naming_the_field(levels):
    root, _, _ = levels
    with pytest.raises(InputError, match="state.json: seed: is seed 0, expected 1"):
        LevelState.load(root / "level1" / "state.json", level=1, seed=1)


def test_later_levels_never_touch_earlier_level_outputs(levels):
    root, _, digests = levels
    assert digests == {p.name: sha256_file(p) for p in (root / "level1").iterdir()}


def test_candidates_tsv_on_disk_is_the_returned_table(levels):
    root, frames, _ = levels
    for i, frame in enumerate(frames, 1):
        on_disk = pd.read_csv(root / f"level{i}" / "candidates.tsv", sep="\t")
        pd.testing.assert_frame_equal(on_disk, frame, check_dtype=False)


def test_rows_record_level_iteration_and_global_step(levels):
    _, frames, _ = levels
    first = frames[0]
    assert (first["level"] == 1).all() and (first["iteration"] == 1).all()
    assert (first["step"] == 0).all()
    assert first["temperature"].isna().all() and first["predicted_score"].isna().all()
    for level, frame, steps in ((2, frames[1], [1, 2]), (3, frames[2], [3, 4])):
        assert (frame["level"] == level).all()
        assert frame["iteration"].tolist() == [it for it in (1, 2) for _ in range(S.k)]
        assert frame["step"].tolist() == [st for st in steps for _ in range(S.k)]


def test_first_sampling_step_draws_from_the_level_one_surrogate_with_its_own_seed(levels):
    """Algorithm 1 at level 2, iteration 1, recomputed from level 1's saved outputs."""
    root, frames, _ = levels
    state = LevelState.load(root / "level1" / "state.json")
    pool = level_pool(SearchSpace((3, 2), 2, 2), state.parents("sampled"), 2)
    pred = Surrogate.load(root / "level1" / "surrogate.pt").predict(pool)
    probs = sampling_probs(pred, temperature(0, S.t_max, S.t_min, S.sigma))
    rng = np.random.default_rng(step_seed(S.seed, 1, 2))
    chosen = sample_without_replacement(probs, S.k, rng)
    first = frames[1][frames[1]["iteration"] == 1]
    assert first["architecture"].tolist() == [arch_to_text(pool[i]) for i in chosen]
    assert first["predicted_score"].tolist() == pytest.approx(pred[chosen].tolist())


def test_extend_sampled_unfolds_more_than_the_previous_top_k(levels):
    root, frames, _ = levels
    top = set(LevelState.load(root / "level1" / "state.json").topk)
    assert any(a.rsplit("_", 1)[0] not in top for a in frames[1]["architecture"])


def test_state_names_the_k_best_step_seeds_bank_and_history(levels):
    root, frames, _ = levels
    state = LevelState.load(root / "level2" / "state.json")
    best = frames[1].sort_values("val_score", ascending=False, kind="stable").head(S.k)
    assert state.topk == best["architecture"].tolist()
    assert state.step_seeds == {"1": step_seed(0, 1), "2": step_seed(0, 2)}
    assert state.bank_entries == len(WeightBank.load(root / "level2" / "bank.pt"))
    assert state.surrogate_set == len(Surrogate.load(root / "level2" / "surrogate.pt").training_set)
    assert [h["architecture"] for h in state.history] == pd.concat(frames[:2])[
        "architecture"
    ].tolist()


def test_state_json_stores_missing_scores_as_null_not_nan(levels):
    root, _, _ = levels
    text = (root / "level2" / "state.json").read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"state.json holds {c}"))
    assert json.loads(text)["history"][0]["predicted_score"] is None


def test_level_one_surrogate_takes_the_search_settings(features, tmp_path):
    s = settings(surrogate_lr=3e-3, surrogate_hidden=12, surrogate_memory="step")
    run_search_level(features, str(tmp_path / "l1"), 1, prev_dir=[], settings=s)
    sur = Surrogate.load(tmp_path / "l1" / "surrogate.pt")
    assert (sur.lr, sur.hidden, sur.memory) == (3e-3, 12, "step")


def test_levels_two_and_three_repeat_exactly(features, levels, tmp_path):
    root, frames, _ = levels
    run_search_level(features, str(tmp_path / "level2"), 2, str(root / "level1"), settings=S)
    run_search_level(features, str(tmp_path / "level3"), 3, str(tmp_path / "level2"), settings=S)
    for level in (2, 3):  # everything but the wall-clock column
        again, first = (
            pd.read_csv(d / f"level{level}" / "candidates.tsv", sep="\t") for d in (tmp_path, root)
        )
        pd.testing.assert_frame_equal(
            again.drop(columns="train_seconds"), first.drop(columns="train_seconds")
        )


def test_a_level_whose_pool_runs_out_stops_and_still_writes_its_outputs(features, levels, tmp_path):
    root, _, _ = levels
    s = settings(extend="topk", iterations=13, epochs=1)  # pool: 3 parents x 12 triples = 36
    frame = run_search_level(features, str(tmp_path / "level2"), 2, str(root / "level1"), s)
    assert len(frame) == 36 and frame["architecture"].is_unique
    assert LevelState.load(tmp_path / "level2" / "state.json").next_step == 13


def test_level_one_with_a_previous_level_is_rejected(features, levels, tmp_path):
    root, _, _ = levels
    with pytest.raises(ValueError, match="^level 1 takes no previous level$"):
        run_search_level(features, str(tmp_path / "x"), 1, str(root / "level1"), settings=S)


def test_level_two_without_a_previous_level_is_rejected_naming_it(features, tmp_path):
    with pytest.raises(ValueError, match="^level 2 needs the directory of level 1$"):
        run_search_level(features, str(tmp_path / "x"), 2, settings=S)


def test_a_previous_level_of_the_wrong_depth_or_seed_is_rejected(features, levels, tmp_path):
    root, _, _ = levels
    with pytest.raises(InputError, match="state.json: level: is level 1, expected 2"):
        run_search_level(features, str(tmp_path / "x"), 3, str(root / "level1"), settings=S)
    with pytest.raises(InputError, match="state.json: seed: is seed 0, expected 1"):
        run_search_level(
            features, str(tmp_path / "y"), 2, str(root / "level1"), settings=settings(seed=1)
        )
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_progress_bars_name_the_level_and_count_its_minibatches(features, tmp_path, capsys):
    per_step = S.train.epochs * (
        len(FeatureStore(features[0]).labels("train")) // S.train.batch_size
    )
    run_search_level(features, str(tmp_path / "l1"), 1, settings=S)
    assert f"level 1: 100%|██████████| {per_step}/{per_step}" in capsys.readouterr().err
    run_search_level(features, str(tmp_path / "l2"), 2, str(tmp_path / "l1"), settings=S)
    n = S.iterations * per_step
    assert f"level 2: 100%|██████████| {n}/{n}" in capsys.readouterr().err


def test_same_seed_gives_the_same_level_scores(features, levels, tmp_path):
    _, frames, _ = levels
    again = run_search_level(features, str(tmp_path / "level1"), 1, settings=S)
    assert again["val_score"].tolist() == frames[0]["val_score"].tolist()


def test_level_split_over_two_workers_scores_as_one_process(features, levels, tmp_path):
    _, frames, _ = levels
    split = run_search_level(features, str(tmp_path / "level1"), 1, settings=settings(workers=2))
    n_val = len(FeatureStore(features[0]).labels("val"))
    assert split["architecture"].tolist() == frames[0]["architecture"].tolist()
    assert split["val_score"].tolist() == pytest.approx(
        frames[0]["val_score"].tolist(), abs=1.5 / n_val
    )


def test_same_workers_give_identical_scores_whatever_the_rules_threads(features, tmp_path):
    two = settings(workers=2)
    runs = [
        run_search_level(features, str(tmp_path / f"run{t}"), 1, settings=two, threads=t)
        for t in (1, 2)
    ]
    assert runs[0]["val_score"].tolist() == runs[1]["val_score"].tolist()


def test_weight_sharing_off_writes_an_empty_bank(features, tmp_path):
    off = settings(weight_sharing=False, epochs=1)
    run_search_level(features, str(tmp_path / "l1"), 1, settings=off)
    assert len(WeightBank.load(tmp_path / "l1" / "bank.pt")) == 0


def test_paper_random_search_draws_k_per_step_for_e_search_times_l_steps(features, tmp_path):
    s = random_settings(max_layers=3)
    frame = run_random_search(features, str(tmp_path / "random.tsv"), s)
    assert len(frame) == s.iterations * s.max_layers * s.k
    assert frame["architecture"].is_unique
    assert (frame.groupby("step").size() == s.k).all()
    depth = frame["architecture"].str.count("_") + 1
    assert (frame["level"] == depth).all() and set(depth) == {1, 2, 3}
    assert (tmp_path / "random.tsv").exists()


def test_paper_random_depth_is_uniform_over_one_to_l():
    space = SearchSpace((5, 3), 2, 4)
    rng = np.random.default_rng(0)
    depths = np.bincount([len(paper_draw(space, rng)) for _ in range(8000)], minlength=5)[1:]
    assert depths.sum() == 8000 and np.all(np.abs(depths - 2000) < 150)  # ~4 sd of a binomial
    first = [paper_draw(space, rng)[0] for _ in range(6000)]
    taps = np.bincount([t[0] for t in first], minlength=6)[1:]
    assert np.all(np.abs(taps - 1200) < 130)  # each layer uniform over the triples


def test_depth_matched_random_search_trains_as_many_of_each_depth_as_mfas(
    features, levels, tmp_path
):
    _, frames, _ = levels
    s = random_settings(max_layers=3, random_protocol="depth_matched")
    frame = run_random_search(features, str(tmp_path / "random.tsv"), s)
    mfas = pd.concat(frames)
    depth = lambda f: f["architecture"].str.count("_").value_counts().sort_index().tolist()  # noqa: E731
    assert depth(frame) == depth(mfas)
    assert frame["architecture"].is_unique


def test_settings_from_unknown_param_is_an_error_naming_it():
    with pytest.raises(ConfigError, match="search: unknown setting.*'kk'"):
        SearchSettings.from_params(**PARAMS, kk=3)
    with pytest.raises(ConfigError, match="search.extend"):
        settings(extend="best")


def test_summary_is_the_top_k_over_all_levels(levels, tmp_path):
    root, frames, _ = levels
    tsvs = [str(root / f"level{i}" / "candidates.tsv") for i in (1, 2, 3)]
    top = summarize_search(tsvs, str(tmp_path / "topk.tsv"), k=3)
    best = pd.concat(frames)["val_score"].nlargest(3).tolist()
    assert top["val_score"].tolist() == best and top["rank"].tolist() == [1, 2, 3]


def test_feature_files_of_different_datasets_are_rejected_and_nothing_written(features, tmp_path):
    other = write_digit_features(tmp_path / "other", dataset="notdigits")
    with pytest.raises(InputError, match="attrs/dataset"):
        run_search_level([features[0], other[1]], str(tmp_path / "out"), 1, settings=S)
    assert not (tmp_path / "out").exists()


def test_feature_files_with_different_sample_counts_are_rejected(features, tmp_path):
    other = write_digit_features(tmp_path / "other", n=500)
    with pytest.raises(InputError, match=r"right.h5: /train/labels: \d+ samples"):
        run_search_level([features[0], other[1]], str(tmp_path / "out"), 1, settings=S)
    assert not (tmp_path / "out").exists()


def test_k_larger_than_the_one_layer_pool_is_rejected_naming_the_key(features, tmp_path):
    with pytest.raises(ConfigError, match="search.k"):
        run_search_level(features, str(tmp_path / "out"), 1, settings=settings(k=13))
    assert not (tmp_path / "out").exists()


def test_a_level_with_an_unknown_nonlinearity_fails_naming_the_key_and_writes_nothing(
    features, tmp_path
):
    with pytest.raises(ConfigError, match="search.nonlinearities"):
        run_search_level(
            features, str(tmp_path / "out"), 1, settings=settings(nonlinearities=["tanh"])
        )
    assert not (tmp_path / "out").exists()


def test_multilabel_search_scores_weighted_f1_and_reports_macro_f1(tmp_path):
    feats = write_digit_features(tmp_path / "multi", n=600, multi=True)
    frame = run_search_level(feats, str(tmp_path / "l1"), 1, settings=settings(epochs=3))
    assert frame["val_score"].between(0, 1).all() and frame["val_macro_f1"].notna().all()
    assert frame["val_score"].max() > 0.5


def _write_search(root: Path, ds: str, seed: int, mfas: list[float], rand: list[float]) -> None:
    """Level, top-k and random tables of one finished search with the given val scores."""
    folder = root / f"results/search/{ds}/seed{seed}"
    rows = lambda scores: pd.DataFrame(  # noqa: E731
        {"architecture": [f"{i}-1-1" for i in range(len(scores))], "val_score": scores}
    )
    for sub, frame in (
        ("level1/candidates.tsv", rows(mfas)),
        ("random/candidates.tsv", rows(rand)),
    ):
        (folder / sub).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(folder / sub, sep="\t", index=False)
    rows(sorted(mfas, reverse=True)).to_csv(folder / "topk.tsv", sep="\t", index=False)


def _table(root: Path, datasets: dict) -> str:
    for ds, seeds in datasets.items():
        for seed, (m, r) in enumerate(seeds):
            _write_search(root, ds, seed, m, r)
    glob = lambda pattern: sorted(str(p) for p in root.glob(pattern))  # noqa: E731
    return search_table(
        glob("results/search/*/seed*/topk.tsv"), glob("results/search/*/seed*/level*/*.tsv"),
        glob("results/search/*/seed*/random/candidates.tsv"), str(root / "search.md"), top_k=2,
        setup=dict(max_layers=4, iterations=3, k=15, random_protocol="paper"),
    )  # fmt: skip


def test_search_table_says_mfas_wins_when_it_is_ahead_on_every_seed(tmp_path):
    gap = [([0.90 + d, 0.89 + d, 0.5], [0.85 + d, 0.84 + d, 0.5]) for d in (0.0, 0.01, 0.03)]
    text = _table(tmp_path, {"avmnist": gap})
    row = next(line for line in text.splitlines() if line.startswith("| avmnist | 3 |"))
    assert "| +0.0500 | [+0.0500, +0.0500] |" in row and "**yes**" in row
    assert "| avmnist | MFAS | 2 | 3 | 0.9250 (0.0050) | 0.9300 | 0.9264 (0.0004) |" in text
    assert "The paper's 180 per method is L·E_search·K = 4·3·15" in text and "= 180)" in text


def test_search_table_says_not_shown_when_seeds_disagree(tmp_path):
    mixed = [([0.9, 0.9], [0.8, 0.8]), ([0.8, 0.8], [0.9, 0.9]), ([0.86, 0.86], [0.85, 0.85])]
    text = _table(tmp_path, {"mfeat": mixed})
    row = next(line for line in text.splitlines() if line.startswith("| mfeat | 3 |"))
    assert "**not shown**" in row and "(2/3)" in row


def test_paired_comparison_interval_covers_the_mean_difference():
    cmp = paired_comparison(np.array([0.01, 0.02, -0.005, 0.03, 0.015]))
    assert cmp["lo"] < cmp["mean"] < cmp["hi"] and cmp["wins"] == 4
    # by hand: mean 0.014, sd 0.01294, t = 0.014 / (0.01294 / sqrt 5) = 2.419 on 4 df
    assert cmp["p_t"] == pytest.approx(0.0729, abs=5e-4)


def test_search_table_takes_the_top_k_of_all_levels_when_search_k_is_smaller(tmp_path):
    # search.k = 1 keeps one row in topk.tsv; the table's top-2 must still be over everything
    # the levels trained, as random search's is over everything it trained
    _write_search(tmp_path, "mfeat", 0, [0.7, 0.9, 0.8], [0.6, 0.5, 0.4])
    folder = tmp_path / "results/search/mfeat/seed0"
    pd.read_csv(folder / "topk.tsv", sep="\t").head(1).to_csv(
        folder / "topk.tsv", sep="\t", index=False
    )
    text = search_table(
        [str(folder / "topk.tsv")], [str(folder / "level1/candidates.tsv")],
        [str(folder / "random/candidates.tsv")], str(tmp_path / "search.md"), top_k=2,
        setup=dict(max_layers=4, iterations=3, k=1, random_protocol="paper"),
    )  # fmt: skip
    assert "| mfeat | MFAS | 0 | 3 | 0.8500 (0.0500) | 0.9000 |" in text
    assert "| mfeat | random (paper) | 0 | 3 | 0.5500 (0.0500) | 0.6000 |" in text
