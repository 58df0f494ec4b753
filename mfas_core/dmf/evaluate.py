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
from sklearn.multiclass import OneVsRestClassifier
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
    if kernel == "rbf":
        pred = rbf_svc_predict(svm, clf[0].transform(test_x))
    else:
        pred = clf.predict(test_x)
    return float(np.mean(pred == test_y))


def rbf_svc_predict(svm: SVC, x: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """`svm.predict(x)` of a fitted RBF SVC, with the kernel as matrix products.

    libsvm's one-vs-one vote (pair (i, j) votes i where its decision value is > 0, else j; the
    first class with the most votes wins) on the same float64 kernel values, computed by BLAS
    instead of libsvm's loop over support vectors: for 10,000 test pairs and 2,000 training
    pairs of MNIST halves this took most of a DMF evaluation job (tests compare the two).
    """
    sv = svm.support_vectors_.astype(np.float64)
    coef, rho = svm._dual_coef_, svm._intercept_  # libsvm's own signs (sklearn flips binary)
    bounds = np.concatenate([[0], np.cumsum(svm.n_support_)])
    n_cls = len(svm.classes_)
    sv_sq = (sv**2).sum(1)
    out = np.empty(len(x), dtype=svm.classes_.dtype)
    for start in range(0, len(x), chunk):
        xb = np.asarray(x[start : start + chunk], dtype=np.float64)
        dist = (xb**2).sum(1)[:, None] - 2.0 * xb @ sv.T + sv_sq[None, :]
        k = np.exp(-svm._gamma * dist)
        votes = np.zeros((len(xb), n_cls), dtype=np.int64)
        p = 0
        for i in range(n_cls):
            for j in range(i + 1, n_cls):
                si, sj = slice(bounds[i], bounds[i + 1]), slice(bounds[j], bounds[j + 1])
                dec = k[:, si] @ coef[j - 1, si] + k[:, sj] @ coef[i, sj] + rho[p]
                votes[:, i] += dec > 0
                votes[:, j] += dec <= 0
                p += 1
        out[start : start + len(xb)] = svm.classes_[votes.argmax(1)]
    return out


def svm_label_map(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    *,
    c: float = 1.0,
    seed: int = 0,
) -> float:
    """Multi-label score (paper Table 3, MIR-Flickr): one linear SVM per label (one-vs-rest
    LinearSVC on standardised features), mean over labels of the average precision of its
    decision values on the test set; labels without a positive test sample are left out."""
    clf = make_pipeline(StandardScaler(), OneVsRestClassifier(LinearSVC(C=c, random_state=seed)))
    scores = clf.fit(train_x, train_y).decision_function(test_x)
    aps = [
        average_precision_score(test_y[:, k], scores[:, k])
        for k in range(test_y.shape[1])
        if test_y[:, k].any()
    ]
    return float(np.mean(aps)) if aps else float("nan")


def _relevant(query_labels: np.ndarray, item_labels: np.ndarray) -> np.ndarray:
    """[queries, items] bool: an item is relevant to a query when it has the same class, or
    (multi-hot labels) at least one label in common."""
    if item_labels.ndim == 2:
        return (query_labels @ item_labels.T) > 0
    return query_labels[:, None] == item_labels[None, :]


def mean_average_precision(
    queries: np.ndarray, query_labels: np.ndarray, items: np.ndarray, item_labels: np.ndarray
) -> float:
    """mAP of ranking `items` by cosine similarity to each query; relevant = same label (or,
    for multi-hot labels, at least one label in common)."""

    def unit(a):
        return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)

    sims = unit(queries) @ unit(items).T
    relevant = _relevant(query_labels, item_labels)
    aps = average_precisions(relevant, sims)
    aps = aps[relevant.any(1)]
    return float(np.mean(aps)) if len(aps) else float("nan")


def average_precisions(relevant: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Per row, sklearn's `average_precision_score(relevant[q], scores[q])` (tied scores
    count as one threshold), for every row at once: Σ_k (R_k - R_(k-1)) P_k over the distinct
    scores, highest first. A row without a relevant item gets NaN."""
    order = np.argsort(-scores, axis=1, kind="stable")
    s = np.take_along_axis(scores, order, 1)
    rel = np.take_along_axis(relevant, order, 1)
    tp = np.cumsum(rel, 1, dtype=np.float64)
    seen = np.arange(1, s.shape[1] + 1, dtype=np.float64)[None, :]
    last = np.ones_like(rel, dtype=bool)  # last position of each group of tied scores
    last[:, :-1] = s[:, 1:] != s[:, :-1]
    precision = np.where(last, tp / seen, 0.0)
    # recall steps at the ends of tie groups only: tp there minus tp at the previous end
    ends_tp = np.where(last, tp, np.nan)
    prev = _forward_fill(np.concatenate([np.zeros((len(s), 1)), ends_tp[:, :-1]], 1))
    gain = np.where(last, tp - prev, 0.0)
    n_rel = tp[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (gain * precision).sum(1) / n_rel


def _forward_fill(a: np.ndarray) -> np.ndarray:
    """Replace every NaN by the last non-NaN value to its left in the row (column 0 is set)."""
    idx = np.where(np.isnan(a), 0, np.arange(a.shape[1])[None, :])
    np.maximum.accumulate(idx, axis=1, out=idx)
    return np.take_along_axis(a, idx, 1)


def chance_map(query_labels: np.ndarray, item_labels: np.ndarray) -> float:
    """Expected mAP of a random ranking: about the share of relevant items, per query."""
    if item_labels.ndim == 2:
        return float(np.mean(_relevant(query_labels, item_labels).mean(1)))
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
    """Accuracy (class labels) or mean AP over labels (multi-hot labels, `svm_label_map`)."""
    if train_y.ndim == 2:
        return svm_label_map(train_x, train_y, test_x, test_y, c=settings.svm_c, seed=seed)
    return svm_accuracy(
        train_x, train_y, test_x, test_y, c=settings.svm_c, kernel=settings.svm_kernel,
        max_train=len(train_x), seed=seed,
    )  # fmt: skip


def ordered_pairs(mods: list[str]) -> list[tuple[int, int]]:
    """Every ordered pair (query modality, item modality); for two: (0, 1), (1, 0)."""
    return [(i, j) for i in range(len(mods)) for j in range(len(mods)) if i != j]


def _retrieval(views: dict, labels, idx, mods) -> dict:
    """mAP of every ordered pair of modalities (keys `<query>2<item>`, `ordered_pairs` order).

    `views[(i, j)]` (i < j) holds modality i's and modality j's test representations in the
    space they are compared in (codes centred by their training mean: sigmoid codes all lie in
    (0, 1)^d, where the cosine is dominated by their common mean direction; or a pair's CCA
    projections); pairs missing from `views` are left out.
    """
    q, r = idx["queries"], idx["items"]
    out = {}
    for i, j in ordered_pairs(mods):
        pair = (min(i, j), max(i, j))
        if pair not in views:
            continue
        a, b = views[pair] if i < j else views[pair][::-1]
        out[f"{mods[i]}2{mods[j]}"] = mean_average_precision(a[q], labels[q], b[r], labels[r])
    return out


def _pairs(mods: list[str]) -> list[tuple[int, int]]:
    return [(i, j) for i, j in ordered_pairs(mods) if i < j]


def _load_data(data_path, seed, settings, scaler=None):
    set_threads(settings.threads)
    set_seed(seed)
    data, info = load_pairs(data_path, scaler=scaler)
    labels = data["test"][-1]
    if len(labels) < 2:
        raise InputError(data_path, "test/labels", "too few test pairs for a retrieval set")
    idx = evaluation_samples(len(data["train"][-1]), len(labels), seed, settings)
    return data, info, idx


def _header(dataset, seed, mods, idx, settings, data, task="single") -> dict:
    tlab = data["test"][-1]
    svm = {"c": settings.svm_c, "kernel": settings.svm_kernel, "n_train": len(idx["svm"])}
    if task == "multi":  # one linear SVM per label, whatever svm_kernel says
        svm["kernel"] = "linear, one per label"
    out = {
        "dataset": dataset,
        "seed": seed,
        "modalities": mods,
        "svm": svm,
        "n_test": int(len(tlab)),
        "n_queries": int(len(idx["queries"])),
        "n_items": int(len(idx["items"])),
        "chance_map": chance_map(tlab[idx["queries"]], tlab[idx["items"]]),
    }
    if task == "multi":
        out["task"] = "multi"
    return out


def svm_key(task: str) -> str:
    """Where an evaluation stores its SVM scores: `accuracy`, or `mean_ap` (multi-label)."""
    return "mean_ap" if task == "multi" else "accuracy"


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
    """SVM score and retrieval mAP of one encoder-decoder's joint code (rule evaluate_dmf).

    SVM: one per input condition (every modality, or one alone with the others zeroed), fit on
    training pairs encoded under that condition and tested on the test split under the same
    condition (the paper's unimodal-input protocol, §4.2); accuracy for class labels, mean AP
    over labels of one linear SVM per label for multi-hot labels (paper Table 3, MIR-Flickr).
    Retrieval, for every ordered pair of modalities: a query is encoded from one modality
    alone, the retrieval set from the other alone, ranked by cosine similarity of the codes
    centred by their training mean (per condition); an item is relevant when its label matches
    (multi-hot: shares a label) (paper Table 2 protocol).
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
    *tests, tlab = data["test"]
    *trains, trlab = (a[idx["svm"]] for a in data["train"])
    test = {c: encode(net, a, dev) for c, a in input_conditions(tests, mods).items()}
    acc, train = {}, {}
    for cond, arrays in input_conditions(trains, mods).items():
        train[cond] = encode(net, arrays, dev)
        acc[cond] = _svm(settings, seed, train[cond], trlab, test[cond], tlab)
    only = [f"only_{m}" for m in mods]
    centred = [test[c] - train[c].mean(0) for c in only]
    views = {(i, j): (centred[i], centred[j]) for i, j in _pairs(mods)}
    out = {
        **_header(dataset, seed, mods, idx, settings, data, info["task"]),
        "model": model,
        "code_dim": int(net.nodes[net.top]),
        **{f"encdec_{k}": ckpt[k] for k in ("n_train", "n_train_available") if k in ckpt},
        svm_key(info["task"]): acc,
        "map": _retrieval(views, tlab, idx, mods),
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

    SVM per input condition on the raw concatenation (the absent modalities zeroed) and on its
    PCA with `code_dim` components (fit on the SVM's training pairs); scored as the codes are
    (accuracy, or mean AP over labels for multi-hot labels). Retrieval for every ordered pair
    of modalities: CCA between the two (`cca_components`, fit on the same training pairs;
    queries and items projected into the pair's shared space, cosine ranking; CCA is a
    two-view method, so with more modalities one CCA per pair), and cosine between the raw
    modalities (each centred by its training mean, as the codes are) for pairs of the same
    width (`raw_cosine` holds those pairs only, None where there is none: cosine across
    different spaces means nothing).
    """
    settings = EvalSettings.from_params(**params, threads=threads)
    data, info, idx = _load_data(data_path, seed, settings)
    mods = info["modalities"]
    *tests, tlab = data["test"]
    *trains, trlab = (a[idx["svm"]] for a in data["train"])
    raw, pca_acc = {}, {}
    n_pca = int(min(code_dim, sum(a.shape[1] for a in trains), len(trlab)))
    test_conds = input_conditions(tests, mods)
    for cond, arrays in input_conditions(trains, mods).items():
        train_in = np.hstack(arrays)
        test_in = np.hstack(test_conds[cond])
        raw[cond] = _svm(settings, seed, train_in, trlab, test_in, tlab)
        pca = PCA(n_components=n_pca, random_state=seed).fit(train_in)
        pca_acc[cond] = _svm(
            settings, seed, pca.transform(train_in), trlab, pca.transform(test_in), tlab
        )
    n_cca = int(min(cca_components, *(a.shape[1] for a in trains), len(trlab) - 1))
    cca_views, raw_views = {}, {}
    for i, j in _pairs(mods):
        cca = CCA(n_components=n_cca, max_iter=1000).fit(trains[i], trains[j])
        cca_views[(i, j)] = cca.transform(tests[i], tests[j])
        if tests[i].shape[1] == tests[j].shape[1]:
            raw_views[(i, j)] = (tests[i] - trains[i].mean(0), tests[j] - trains[j].mean(0))
    cosine = _retrieval(raw_views, tlab, idx, mods) if raw_views else None
    out = {
        **_header(dataset, seed, mods, idx, settings, data, info["task"]),
        "code_dim": int(code_dim),
        "pca_components": n_pca,
        "cca_components": n_cca,
        svm_key(info["task"]): {"raw": raw, "pca": pca_acc},
        "map": {"cca": _retrieval(cca_views, tlab, idx, mods), "raw_cosine": cosine},
    }
    write_json(out_path, out)
    return out
