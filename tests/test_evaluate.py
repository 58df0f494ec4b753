"""SVM and cross-modal retrieval on joint representations (mfas_core.dmf.evaluate)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import dmf_settings, eval_settings
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from test_dmf import SMALL, write_digit_halves

from mfas_core.dmf.evaluate import (
    _retrieval,
    average_precisions,
    chance_map,
    evaluate_baselines,
    evaluate_encdec,
    evaluation_samples,
    mean_average_precision,
    rbf_svc_predict,
    svm_accuracy,
)
from mfas_core.dmf.settings import EvalSettings
from mfas_core.dmf.train import train_dmf
from mfas_core.errors import InputError


def test_average_precision_of_a_hand_ranked_query():
    # items ranked by similarity: relevant, irrelevant, relevant -> AP = (1/1 + 2/3) / 2
    q = np.array([[1.0, 0.0]])
    items = np.array([[1.0, 0.0], [0.8, 0.6], [0.6, 0.8]])
    assert mean_average_precision(q, np.array([0]), items, np.array([0, 1, 0])) == pytest.approx(
        (1 + 2 / 3) / 2
    )


def test_map_is_one_when_items_cluster_by_label_and_near_chance_when_random():
    rng = np.random.RandomState(0)
    labels = np.tile(np.arange(5), 40)
    centers = np.eye(5) * 10
    clustered = centers[labels] + rng.randn(200, 5) * 0.1
    assert mean_average_precision(clustered, labels, clustered, labels) == pytest.approx(1.0)
    noise = rng.randn(200, 16)
    random_map = mean_average_precision(noise[:100], labels[:100], noise[100:], labels[100:])
    assert abs(random_map - chance_map(labels[:100], labels[100:])) < 0.08


def test_average_precisions_of_every_row_equal_scikit_learns_with_tied_scores():
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(0)
    relevant = rng.random((40, 200)) < 0.2
    scores = np.round(rng.random((40, 200)), 2)  # about two items per distinct score
    want = [average_precision_score(r, s) for r, s in zip(relevant, scores, strict=True)]
    np.testing.assert_allclose(average_precisions(relevant, scores), want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 10])
def test_rbf_svc_predict_equals_scikit_learns_predict_on_digits(n_classes):
    x, y = load_digits(return_X_y=True)
    y = y % n_classes
    svm = SVC(C=1.0, kernel="rbf").fit(x[:800], y[:800])
    assert np.array_equal(rbf_svc_predict(svm, x[800:], chunk=300), svm.predict(x[800:]))


def test_chance_map_of_balanced_labels_is_one_over_the_classes():
    labels = np.repeat(np.arange(10), 7)
    assert chance_map(labels, labels) == pytest.approx(0.1)


@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_svm_separates_digits(kernel):
    x, y = load_digits(return_X_y=True)
    acc = svm_accuracy(x[:1200], y[:1200], x[1200:], y[1200:], kernel=kernel, max_train=800)
    assert acc > 0.85


def test_svm_sample_cap_is_seeded_and_changes_the_fit():
    x, y = load_digits(return_X_y=True)
    a = svm_accuracy(x[:1200], y[:1200], x[1200:], y[1200:], max_train=60, seed=0)
    b = svm_accuracy(x[:1200], y[:1200], x[1200:], y[1200:], max_train=60, seed=0)
    full = svm_accuracy(x[:1200], y[:1200], x[1200:], y[1200:], max_train=1200)
    assert a == b and a < full


def test_map_ranks_by_cosine_not_by_dot_product():
    # the relevant item points the query's way but is short; the irrelevant one is long
    q = np.array([[1.0, 0.0]])
    items = np.array([[0.01, 0.001], [0.5, 0.5]])
    assert mean_average_precision(q, np.array([1]), items, np.array([1, 0])) == 1.0
    assert mean_average_precision(q * 1e-3, np.array([1]), items, np.array([1, 0])) == 1.0


def test_map_without_any_relevant_item_is_nan():
    q, items = np.eye(2), np.eye(2)
    assert np.isnan(mean_average_precision(q, np.array([0, 0]), items, np.array([1, 1])))


def test_retrieval_scores_every_ordered_pair_from_its_views():
    rng = np.random.RandomState(0)
    a, b, labels = rng.rand(20, 3), rng.rand(20, 3), np.arange(20) % 4
    idx = {"queries": np.arange(5), "items": np.arange(5, 20)}
    got = _retrieval({(0, 1): (a, b)}, labels, idx, ("l", "r"))
    assert got == {
        "l2r": mean_average_precision(a[:5], labels[:5], b[5:], labels[5:]),
        "r2l": mean_average_precision(b[:5], labels[:5], a[5:], labels[5:]),
    }


def badly_scaled_digits():
    """Digits with one pixel column blown up 1000x: standardising the features matters."""
    x, y = load_digits(return_X_y=True)
    x = x.copy()
    x[:, 20] *= 1000
    return x[:1200], y[:1200], x[1200:], y[1200:]


@pytest.mark.parametrize(
    ("kw", "svm"),
    [
        ({}, SVC(C=1.0, kernel="rbf")),
        ({"c": 0.05}, SVC(C=0.05, kernel="rbf")),
        ({"c": 0.05, "kernel": "poly"}, SVC(C=0.05, kernel="poly")),
        ({"c": 0.01, "kernel": "linear"}, LinearSVC(C=0.01, random_state=0)),
    ],
)
def test_svm_accuracy_is_scikit_learns_standardised_svm(kw, svm):
    x, y, tx, ty = badly_scaled_digits()
    want = make_pipeline(StandardScaler(), svm).fit(x, y).score(tx, ty)
    assert svm_accuracy(x, y, tx, ty, **kw) == pytest.approx(want)


def test_svm_sample_cap_keeps_the_seeded_permutations_first_samples():
    x, y, tx, ty = badly_scaled_digits()
    keep = np.random.RandomState(3).permutation(len(x))[:100]
    want = make_pipeline(StandardScaler(), SVC()).fit(x[keep], y[keep]).score(tx, ty)
    assert svm_accuracy(x, y, tx, ty, max_train=100, seed=3) == pytest.approx(want)


def test_evaluation_samples_repeat_for_a_seed():
    settings = EvalSettings(svm_max_train=100, retrieval_max_queries=50)
    a, b = (evaluation_samples(1200, 397, 4, settings) for _ in range(2))
    for key in ("svm", "queries", "items"):
        assert np.array_equal(a[key], b[key]), key


def test_a_tiny_test_split_still_gets_one_query():
    got = evaluation_samples(10, 2, 0, EvalSettings(query_fraction=0.1))
    assert len(got["queries"]) == 1 and len(got["items"]) == 1


@pytest.fixture(scope="module")
def encdec(tmp_path_factory):
    """An encoder-decoder DMF trained without labels on the digit halves."""
    out = tmp_path_factory.mktemp("encdec")
    data = write_digit_halves(out / "digits.h5")
    train_dmf(
        data,
        out / "model.pt",
        out / "metrics.json",
        dataset="digits",
        variant="encdec",
        model="dmf",
        seed=0,
        threads=1,
        **dmf_settings(
            "encdec", encdec_max_epochs=30, patience=30, batch_size=64, encdec_lr=1e-2, min_steps=0,
            modality_dropout=0.5,
            cd_pretrain=[],  # evaluation is under test here, not the initialisation
            **SMALL,
        ),
    )  # fmt: skip
    return out


EVAL = eval_settings(svm_c=1.0, svm_max_train=1000, retrieval_max_queries=50)


# function-scoped on purpose: mutation testing maps a function only to the tests that call it,
# and a module-scoped fixture calls it from the first test alone
@pytest.fixture
def evaluation(encdec):
    return evaluate_encdec(
        encdec / "model.pt", encdec / "digits.h5", encdec / "evaluation.json",
        dataset="digits", model="dmf", seed=0, **EVAL,
    )  # fmt: skip


@pytest.fixture
def baselines(encdec):
    return evaluate_baselines(
        encdec / "digits.h5", encdec / "baselines.json", dataset="digits", seed=0,
        code_dim=16, cca_components=4, **EVAL,
    )  # fmt: skip


def test_svm_on_unsupervised_joint_representation_recognises_digits(encdec, evaluation):
    acc = evaluation["accuracy"]
    assert set(acc) == {"both", "only_left", "only_right"}
    assert acc["both"] > 0.6  # chance is 0.1; labels were never seen by the network
    assert min(acc["only_left"], acc["only_right"]) > 0.3  # one half alone, chance is 0.1
    assert evaluation["svm"]["n_train"] == 1000
    assert evaluation["model"] == "dmf" and evaluation["code_dim"] == 16
    assert json.loads((encdec / "evaluation.json").read_text()) == evaluation


def test_cross_modal_retrieval_beats_chance_in_both_directions(evaluation):
    assert evaluation["n_queries"] == 50 and evaluation["n_items"] == 397 - 50
    assert set(evaluation["map"]) == {"left2right", "right2left"}
    for direction in ("left2right", "right2left"):
        assert evaluation["map"][direction] > evaluation["chance_map"] + 0.1, evaluation


def test_baselines_see_the_same_samples_as_the_joint_code(evaluation, baselines):
    for key in ("svm", "n_test", "n_queries", "n_items", "chance_map"):
        assert baselines[key] == evaluation[key], key
    a = evaluation_samples(1200, 397, 0, EvalSettings(svm_max_train=1000, retrieval_max_queries=50))
    b = evaluation_samples(1200, 397, 1, EvalSettings(svm_max_train=1000, retrieval_max_queries=50))
    assert len(a["svm"]) == 1000 and not np.array_equal(a["queries"], b["queries"])
    assert not set(a["queries"]) & set(a["items"])


def test_pca_baseline_has_the_joint_codes_dimension(baselines):
    assert baselines["pca_components"] == baselines["code_dim"] == 16
    assert set(baselines["accuracy"]["pca"]) == {"both", "only_left", "only_right"}


def test_raw_svm_and_cca_retrieval_baselines_recognise_digits(baselines):
    assert set(baselines["accuracy"]["raw"]) == {"both", "only_left", "only_right"}
    assert baselines["accuracy"]["raw"]["both"] > 0.85
    assert min(baselines["accuracy"]["raw"].values()) > 0.3  # one half alone, chance 0.1
    for direction in ("left2right", "right2left"):
        assert baselines["map"]["cca"][direction] > 2 * baselines["chance_map"]
        assert baselines["map"]["raw_cosine"][direction] > baselines["chance_map"]


def test_raw_cosine_is_not_applicable_when_modalities_differ_in_width(tmp_path):
    from mfas_core.data.schema import write_dataset

    digits = load_digits()
    img, y = digits.images.astype(np.float32), digits.target
    cuts = {"train": slice(0, 1000), "val": slice(1000, 1200), "test": slice(1200, None)}
    write_dataset(
        tmp_path / "uneven.h5",
        {s: {"left": img[c, :, :3].reshape(-1, 24), "right": img[c, :, 3:].reshape(-1, 40)}
         for s, c in cuts.items()},
        {s: y[c] for s, c in cuts.items()},
        name="uneven", kind="hdf5", classes=[str(i) for i in range(10)], sources={}, params={},
    )  # fmt: skip
    res = evaluate_baselines(
        tmp_path / "uneven.h5", tmp_path / "b.json", dataset="uneven", seed=0, code_dim=8,
        cca_components=4, **EVAL,
    )  # fmt: skip
    assert res["map"]["raw_cosine"] is None and res["cca_components"] == 4


def test_retrieval_query_share_follows_the_papers_quarter(encdec):
    res = evaluate_encdec(
        encdec / "model.pt", encdec / "digits.h5", encdec / "r.json", dataset="digits",
        model="dmf", seed=0, **{**EVAL, "retrieval_max_queries": 10000},
    )  # fmt: skip
    assert res["n_queries"] == round(0.25 * 397)


def test_dataset_with_other_modalities_than_the_checkpoint_is_rejected(encdec, tmp_path):
    from mfas_core.data.schema import read_split, write_dataset

    splits, labels = {}, {}
    for s in ("train", "val", "test"):
        d, labels[s] = read_split(encdec / "digits.h5", s)
        splits[s] = {"top": d["left"], "bottom": d["right"]}
    other = tmp_path / "other.h5"
    write_dataset(
        other,
        splits,
        labels,
        name="o",
        kind="hdf5",
        classes=list("0123456789"),
        sources={},
        params={},
    )
    with pytest.raises(InputError, match="other.h5: attrs/modalities"):
        evaluate_encdec(
            encdec / "model.pt", other, tmp_path / "s.json", dataset="o", model="dmf", seed=0,
            **EVAL,
        )  # fmt: skip
    assert not (tmp_path / "s.json").exists()


def test_multi_hot_items_are_relevant_when_they_share_a_label_with_the_query():
    items = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    queries = np.array([[1, 0]], dtype=np.float32)
    assert chance_map(queries, items) == pytest.approx(2 / 3)
    # cosine ranks item 1 (no shared label) first, then 2 and 0: AP = (1/2 + 2/3) / 2
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.2, 0.9]], dtype=np.float32)
    got = mean_average_precision(np.array([[0.0, 1.0]]), queries, vectors, items)
    assert got == pytest.approx((1 / 2 + 2 / 3) / 2)
