"""Evaluation of joint representations: SVM classification and cross-modal retrieval (DMF §3.2, §4.3).

Both read an encoder-decoder checkpoint from `mfas_core.dmf.train_dmf`, encode the dataset's
pairs under the paper's input conditions (both modalities, or one with the other zeroed) and
score the top joint representation with scikit-learn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from tqdm import tqdm

from mfas_core.dmf.nets import load_net
from mfas_core.dmf.pairs import load_pairs
from mfas_core.dmf.train import encode, input_conditions
from mfas_core.io import InputError, pick_device, set_seed, set_threads, write_json


def svm_accuracy(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    *,
    c: float = 1.0,
    kernel: str = "rbf",
    max_train: int = 10000,
    seed: int = 0,
) -> float:
    """Test accuracy of an SVM (standardised features) fit on at most `max_train` seeded samples."""
    if len(train_x) > max_train:
        keep = np.random.RandomState(seed).permutation(len(train_x))[:max_train]
        train_x, train_y = train_x[keep], train_y[keep]
    if kernel == "linear":
        svm = LinearSVC(C=c, random_state=seed)
    else:
        svm = SVC(C=c, kernel=kernel, random_state=seed)
    clf = make_pipeline(StandardScaler(), svm).fit(train_x, train_y)
    return float(np.mean(clf.predict(test_x) == test_y))


def mean_average_precision(
    queries: np.ndarray, query_labels: np.ndarray, items: np.ndarray, item_labels: np.ndarray
) -> float:
    """mAP of ranking `items` by cosine similarity to each query; relevant = same label."""

    def unit(a):
        return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)

    sims = unit(queries) @ unit(items).T
    aps = []
    for q in range(len(queries)):
        relevant = item_labels == query_labels[q]
        if relevant.any():
            aps.append(average_precision_score(relevant, sims[q]))
    return float(np.mean(aps)) if aps else float("nan")


def chance_map(query_labels: np.ndarray, item_labels: np.ndarray) -> float:
    """Expected mAP of a random ranking: about the share of relevant items, per query."""
    share = {k: np.mean(item_labels == k) for k in np.unique(query_labels)}
    return float(np.mean([share[k] for k in query_labels]))


def _encoded(net, pairs, modalities, device) -> dict[str, np.ndarray]:
    x, y, _ = pairs
    return {
        cond: encode(net, a, b, device)
        for cond, (a, b) in input_conditions(x, y, modalities).items()
    }


def _load(model_path, data_path, device, threads, seed):
    set_threads(threads)
    set_seed(seed)
    net, ckpt = load_net(model_path)
    data, info = load_pairs(data_path, scaler=ckpt["scaler"])
    if info["modalities"] != ckpt["modalities"]:
        raise InputError(
            data_path,
            "attrs/modalities",
            f"{info['modalities']} differ from the checkpoint's {ckpt['modalities']}",
        )
    dev = pick_device(device)
    return net.to(dev), data, info["modalities"], dev


def evaluate_svm(
    model_path: str | Path,
    data_path: str | Path,
    out_path: str | Path,
    *,
    dataset: str,
    model: str,
    seed: int,
    svm_c: float,
    svm_kernel: str = "rbf",
    svm_max_train: int = 10000,
    device: str = "auto",
    threads: int | None = None,
) -> dict:
    """SVM test accuracy on joint representations (rule dmf_svm), one SVM per input condition.

    For each condition (both modalities, or one alone with the other zeroed) the SVM is fit on
    training-split representations encoded under that condition and tested on the test split
    under the same condition (the paper's unimodal-input protocol, §4.2).
    """
    net, data, mods, dev = _load(model_path, data_path, device, threads, seed)
    n = len(data["train"][2])
    if n > svm_max_train:  # encode only what the SVM will see
        keep = np.random.RandomState(seed).permutation(n)[:svm_max_train]
        data["train"] = tuple(a[keep] for a in data["train"])
    train, test = _encoded(net, data["train"], mods, dev), _encoded(net, data["test"], mods, dev)
    acc = {}
    for cond in tqdm(train, desc="svm"):
        acc[cond] = svm_accuracy(
            train[cond],
            data["train"][2],
            test[cond],
            data["test"][2],
            c=svm_c,
            kernel=svm_kernel,
            max_train=svm_max_train,
            seed=seed,
        )
    out = {
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "modalities": mods,
        "svm": {"c": svm_c, "kernel": svm_kernel, "n_train": int(len(data["train"][2]))},
        "accuracy": acc,
    }
    write_json(out_path, out)
    return out


def evaluate_retrieval(
    model_path: str | Path,
    data_path: str | Path,
    out_path: str | Path,
    *,
    dataset: str,
    model: str,
    seed: int,
    max_queries: int = 2000,
    query_fraction: float = 0.25,
    device: str = "auto",
    threads: int | None = None,
) -> dict:
    """Cross-modal retrieval mAP in both directions (rule dmf_retrieval; paper Table 2 protocol).

    The test split is shuffled (seeded): the first `query_fraction` (at most `max_queries`) are
    queries, the rest the retrieval set, as the paper's 25 % / 75 % split. A query is encoded from
    one modality alone (the other zeroed); the retrieval set from the other modality alone;
    items are ranked by cosine similarity and an item is relevant when its label matches.
    """
    net, data, mods, dev = _load(model_path, data_path, device, threads, seed)
    x, y, labels = data["test"]
    order = np.random.RandomState(seed).permutation(len(labels))
    n_q = min(max_queries, max(1, int(round(query_fraction * len(labels)))))
    q_idx, r_idx = order[:n_q], order[n_q:]
    if len(r_idx) == 0:
        raise InputError(data_path, "test/labels", "too few test pairs for a retrieval set")
    only = {
        mods[0]: encode(net, x, np.zeros_like(y), dev),
        mods[1]: encode(net, np.zeros_like(x), y, dev),
    }
    result = {}
    for src, dst in ((mods[0], mods[1]), (mods[1], mods[0])):
        result[f"{src}2{dst}"] = mean_average_precision(
            only[src][q_idx], labels[q_idx], only[dst][r_idx], labels[r_idx]
        )
    out = {
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "modalities": mods,
        "n_queries": int(n_q),
        "n_items": int(len(r_idx)),
        "map": result,
        "chance_map": chance_map(labels[q_idx], labels[r_idx]),
    }
    write_json(out_path, out)
    return out
