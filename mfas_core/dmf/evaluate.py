"""Evaluation of joint representations: SVM classification and cross-modal retrieval (DMF §3.2,
§4.2-4.4), and the baselines beside them.

`evaluate_encdec` (rule evaluate_dmf) reads an encoder-decoder checkpoint, encodes the
dataset's pairs under the paper's input conditions (both modalities, or one with the other
zeroed) and scores the joint code with an SVM and by cross-modal retrieval. `evaluate_baselines`
(rule evaluate_dmf_baselines) scores the raw inputs the same way: SVM on the raw concatenation and on
its PCA with the code's dimension; retrieval by CCA between the modalities and by raw cosine
(only where both modalities have the same width). Both draw the same samples
(`evaluation_samples`) from the seed, so every number of a table row sees the same pairs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.cross_decomposition import CCA
from sklearn.decomposition import PCA
from sklearn.metrics import average_precision_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from mfas_core.atomic import write_json
from mfas_core.dmf.nets import load_net
from mfas_core.dmf.pairs import load_pairs
from mfas_core.dmf.settings import EvalSettings
from mfas_core.dmf.train import encode, input_conditions
from mfas_core.errors import InputError
from mfas_core.runtime import pick_device, set_seed, set_threads


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


def evaluation_samples(n_train: int, n_test: int, seed: int, settings: EvalSettings) -> dict:
    """Indices every evaluation of a (dataset, seed) shares.

    svm: the SVM's training pairs (a seeded subset of at most `svm_max_train`); queries /
    items: the test split shuffled, the first `query_fraction` (at most
    `retrieval_max_queries`) are queries, the rest the retrieval set (the paper's 25 % / 75 %).
    """
    rng = np.random.RandomState(seed)
    svm = np.sort(rng.permutation(n_train)[: settings.svm_max_train])
    order = np.random.RandomState(seed + 1).permutation(n_test)
    n_q = min(settings.retrieval_max_queries, max(1, int(round(settings.query_fraction * n_test))))
    return {"svm": svm, "queries": order[:n_q], "items": order[n_q:]}


def _svm(settings: EvalSettings, seed: int, train_x, train_y, test_x, test_y) -> float:
    return svm_accuracy(
        train_x, train_y, test_x, test_y, c=settings.svm_c, kernel=settings.svm_kernel,
        max_train=len(train_x), seed=seed,
    )  # fmt: skip


def _retrieval(a: np.ndarray, b: np.ndarray, labels, idx, mods, centres=None) -> dict:
    """mAP both ways: queries from modality a's codes against items from b's, and back.

    `centres` (one mean vector per side, from training pairs) are subtracted first: sigmoid
    codes all lie in (0, 1)^d, where the cosine is dominated by their common mean direction.
    """
    if centres is not None:
        a, b = a - centres[0], b - centres[1]
    q, r = idx["queries"], idx["items"]
    return {
        f"{mods[0]}2{mods[1]}": mean_average_precision(a[q], labels[q], b[r], labels[r]),
        f"{mods[1]}2{mods[0]}": mean_average_precision(b[q], labels[q], a[r], labels[r]),
    }


def _load_data(data_path, seed, settings, scaler=None):
    set_threads(settings.threads)
    set_seed(seed)
    data, info = load_pairs(data_path, scaler=scaler)
    x, y, labels = data["test"]
    if len(labels) < 2:
        raise InputError(data_path, "test/labels", "too few test pairs for a retrieval set")
    idx = evaluation_samples(len(data["train"][2]), len(labels), seed, settings)
    return data, info, idx


def _header(dataset, seed, mods, idx, settings, data) -> dict:
    return {
        "dataset": dataset,
        "seed": seed,
        "modalities": mods,
        "svm": {"c": settings.svm_c, "kernel": settings.svm_kernel, "n_train": len(idx["svm"])},
        "n_test": int(len(data["test"][2])),
        "n_queries": int(len(idx["queries"])),
        "n_items": int(len(idx["items"])),
        "chance_map": chance_map(data["test"][2][idx["queries"]], data["test"][2][idx["items"]]),
    }


def evaluate_encdec(
    model_path: str | Path,
    data_path: str | Path,
    out_path: str | Path,
    *,
    dataset: str,
    model: str,
    seed: int,
    threads: int | None = None,
    **params,
) -> dict:
    """SVM accuracy and retrieval mAP of one encoder-decoder's joint code (rule evaluate_dmf).

    SVM: one per input condition (both modalities, or one alone with the other zeroed), fit on
    training pairs encoded under that condition and tested on the test split under the same
    condition (the paper's unimodal-input protocol, §4.2). Retrieval: a query is encoded from
    one modality alone, the retrieval set from the other alone, ranked by cosine similarity of
    the codes centred by their training mean (per condition); an item is relevant when its
    label matches (paper Table 2 protocol).
    """
    settings = EvalSettings.from_params(**params, threads=threads)
    net, ckpt = load_net(model_path)
    data, info, idx = _load_data(data_path, seed, settings, scaler=ckpt["scaler"])
    mods = info["modalities"]
    if mods != ckpt["modalities"]:
        raise InputError(
            data_path,
            "attrs/modalities",
            f"{mods} differ from the checkpoint's {ckpt['modalities']}",
        )
    dev = pick_device(settings.device)
    net = net.to(dev)
    tx, ty, tlab = data["test"]
    trx, try_, trlab = (a[idx["svm"]] for a in data["train"])
    test = {c: encode(net, a, b, dev) for c, (a, b) in input_conditions(tx, ty, mods).items()}
    acc, train = {}, {}
    for cond, (a, b) in input_conditions(trx, try_, mods).items():
        train[cond] = encode(net, a, b, dev)
        acc[cond] = _svm(settings, seed, train[cond], trlab, test[cond], tlab)
    only = [f"only_{m}" for m in mods]
    centres = [train[c].mean(0) for c in only]
    out = {
        **_header(dataset, seed, mods, idx, settings, data),
        "model": model,
        "code_dim": int(net.nodes[net.top]),
        "accuracy": acc,
        "map": _retrieval(test[only[0]], test[only[1]], tlab, idx, mods, centres),
    }
    write_json(out_path, out)
    return out


def evaluate_baselines(
    data_path: str | Path,
    out_path: str | Path,
    *,
    dataset: str,
    seed: int,
    code_dim: int,
    cca_components: int,
    threads: int | None = None,
    **params,
) -> dict:
    """The raw-input baselines of a (dataset, seed), on the samples `evaluate_encdec` uses.

    SVM per input condition on the raw concatenation (the absent modality zeroed) and on its
    PCA with `code_dim` components (fit on the SVM's training pairs). Retrieval: CCA between
    the two modalities (`cca_components`, fit on the same training pairs; queries and items
    projected into the shared space, cosine ranking), and cosine between the raw modalities
    (each centred by its training mean, as the codes are) where both have the same width (None otherwise: cosine across different spaces means
    nothing).
    """
    settings = EvalSettings.from_params(**params, threads=threads)
    data, info, idx = _load_data(data_path, seed, settings)
    mods = info["modalities"]
    tx, ty, tlab = data["test"]
    trx, try_, trlab = (a[idx["svm"]] for a in data["train"])
    raw, pca_acc = {}, {}
    n_pca = int(min(code_dim, trx.shape[1] + try_.shape[1], len(trlab)))
    for cond, (a, b) in input_conditions(trx, try_, mods).items():
        train_in = np.hstack([a, b])
        test_in = np.hstack(input_conditions(tx, ty, mods)[cond])
        raw[cond] = _svm(settings, seed, train_in, trlab, test_in, tlab)
        pca = PCA(n_components=n_pca, random_state=seed).fit(train_in)
        pca_acc[cond] = _svm(
            settings, seed, pca.transform(train_in), trlab, pca.transform(test_in), tlab
        )
    n_cca = int(min(cca_components, trx.shape[1], try_.shape[1], len(trlab) - 1))
    cca = CCA(n_components=n_cca, max_iter=1000).fit(trx, try_)
    ca, cb = cca.transform(tx, ty)
    cosine = None
    if tx.shape[1] == ty.shape[1]:
        cosine = _retrieval(tx, ty, tlab, idx, mods, (trx.mean(0), try_.mean(0)))
    out = {
        **_header(dataset, seed, mods, idx, settings, data),
        "code_dim": int(code_dim),
        "pca_components": n_pca,
        "cca_components": n_cca,
        "accuracy": {"raw": raw, "pca": pca_acc},
        "map": {"cca": _retrieval(ca, cb, tlab, idx, mods), "raw_cosine": cosine},
    }
    write_json(out_path, out)
    return out
