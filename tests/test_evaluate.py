"""SVM and cross-modal retrieval on joint representations (mfas_core.dmf.evaluate)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import load_digits
from test_dmf import SMALL, write_digit_halves

from mfas_core.dmf.evaluate import (
    chance_map,
    evaluate_retrieval,
    evaluate_svm,
    mean_average_precision,
    svm_accuracy,
)
from mfas_core.dmf.train import train_dmf
from mfas_core.io import InputError


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
        epochs=30,
        batch_size=64,
        lr=1e-2,
        modality_dropout=0.5,
        device="cpu",
        threads=1,
        **SMALL,
    )
    return out


def test_svm_on_unsupervised_joint_representation_recognises_digits(encdec):
    res = evaluate_svm(
        encdec / "model.pt",
        encdec / "digits.h5",
        encdec / "svm.json",
        dataset="digits",
        model="dmf",
        seed=0,
        svm_c=1.0,
        svm_max_train=1000,
        device="cpu",
    )
    acc = res["accuracy"]
    assert set(acc) == {"both", "only_left", "only_right"}
    assert acc["both"] > 0.6  # chance is 0.1; labels were never seen by the network
    assert min(acc["only_left"], acc["only_right"]) > 0.3  # one half alone, chance is 0.1
    assert res["svm"]["n_train"] == 1000
    assert json.loads((encdec / "svm.json").read_text()) == res


def test_cross_modal_retrieval_beats_chance_in_both_directions(encdec):
    res = evaluate_retrieval(
        encdec / "model.pt",
        encdec / "digits.h5",
        encdec / "retrieval.json",
        dataset="digits",
        model="dmf",
        seed=0,
        max_queries=50,
        device="cpu",
    )
    assert res["n_queries"] == 50 and res["n_items"] == 397 - 50
    for direction in ("left2right", "right2left"):
        assert res["map"][direction] > res["chance_map"] + 0.1, res


def test_retrieval_query_share_follows_the_papers_quarter(encdec):
    res = evaluate_retrieval(
        encdec / "model.pt",
        encdec / "digits.h5",
        encdec / "r.json",
        dataset="digits",
        model="dmf",
        seed=0,
        max_queries=10000,
        device="cpu",
    )
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
        evaluate_svm(
            encdec / "model.pt",
            other,
            tmp_path / "s.json",
            dataset="o",
            model="dmf",
            seed=0,
            svm_c=1.0,
        )
    assert not (tmp_path / "s.json").exists()
