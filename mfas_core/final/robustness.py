"""Robustness of the final models to a missing or noisy modality.

A modality is perturbed at the input of its frozen backbone and the perturbed test split goes
through the same backbone to the same cached taps (`extract_perturbed_features`, once per
dataset, modality and perturbation, with the feature cache's own `extract_features`); every
final model is then scored on the test taps with one modality's taps swapped for a perturbed
copy (`evaluate_robustness`, one job per dataset). Perturbations:

- `zero`: the modality is missing: its input is all zeros (the DMF paper's protocol, which
  scores its models with one modality set to zero), passed through its backbone;
- `noise<i>`: additive Gaussian noise, standard deviation `noise_levels[i-1]` times the
  modality's test-split standard deviation; for the modalities in `snr_modalities` (audio)
  at a signal-to-noise ratio of `snr_db[i-1]` dB per sample instead, the signal power being
  the sample's variance (the stored input is the log spectrogram the backbone reads).

MFAS models are scored with their phase-1 weights (fusion net on the frozen backbones' taps):
with phase 2 on, their fine-tuned backbones are not the ones that made the cached taps.
"""

from __future__ import annotations

import json
import sys
import tempfile
import zlib
from pathlib import Path

import h5py
import numpy as np
import torch

from mfas_core.atomic import atomic_path, read_metrics, sha256_file, write_json
from mfas_core.errors import InputError
from mfas_core.final.data import stack_taps
from mfas_core.final.settings import RobustnessSettings
from mfas_core.final.train import load_final_model
from mfas_core.runtime import pick_device, set_threads
from mfas_core.training import predict, score
from mfas_core.unimodal.features import FeatureStore, extract_features


def noise_rng(seed: int, modality: str, index: int) -> np.random.Generator:
    """One generator per (seed, modality, perturbation): the noise does not depend on which
    other modalities or levels are configured."""
    return np.random.default_rng([int(seed), zlib.crc32(modality.encode()), int(index)])


def perturb(x: np.ndarray, perturbation: dict, rng: np.random.Generator) -> np.ndarray:
    """A perturbed copy of one split's input [N, ...] in its stored dtype."""
    kind, level = perturbation["kind"], perturbation["level"]
    if kind == "zero":
        return np.zeros_like(x)
    x32 = x.astype(np.float32)
    if kind == "noise":
        sigma = np.float32(level * x32.std())
    elif kind == "snr":
        per_sample = x32.reshape(len(x32), -1).std(axis=1)
        sigma = (per_sample / np.float32(10 ** (level / 20))).reshape((-1,) + (1,) * (x.ndim - 1))
    else:
        raise ValueError(f"unknown perturbation kind {kind!r}")
    noise = rng.standard_normal(x32.shape, dtype=np.float32)
    return (x32 + noise * sigma).astype(x.dtype)


def write_perturbed_split(data: str | Path, out: str | Path, modality: str, x: np.ndarray):
    """A dataset file holding only the test split of one modality (perturbed) and its labels,
    with the source file's attributes: what extract_features reads."""
    with h5py.File(data, "r") as src, h5py.File(out, "w") as dst:
        dst.attrs.update(dict(src.attrs))
        g = dst.create_group("test")
        g.create_dataset(modality, data=x)
        g.create_dataset("labels", data=src["test"]["labels"][()])


def extract_perturbed_features(
    data: str | Path,
    backbone: str | Path,
    outs: list[str],
    *,
    dataset: str,
    modality: str,
    spec: dict,
    settings: dict,
    seed: int,
    batch_size: int = 512,
    device: str = "cpu",
    threads: int | None = None,
) -> None:
    """Cache the test-split taps of every perturbation of one modality (one file each, in
    RobustnessSettings.perturbations order); attrs add `perturbation` (JSON) and
    `data_sha256` names the unperturbed dataset file."""
    from mfas_core.unimodal.backbones import read_modality

    cfg = RobustnessSettings.from_params(**settings)
    perturbations = cfg.perturbations(modality)
    if len(outs) != len(perturbations):
        raise ValueError(f"{len(outs)} outputs for {len(perturbations)} perturbations")
    x, _ = read_modality(data, "test", modality)
    data_sha = sha256_file(data)
    with tempfile.TemporaryDirectory() as tmpdir:
        for i, (p, out) in enumerate(zip(perturbations, outs, strict=True)):
            if Path(out).stem != p["name"]:
                raise ValueError(f"{out}: expected the file of perturbation {p['name']}")
            src = Path(tmpdir) / f"{p['name']}.h5"
            write_perturbed_split(data, src, modality, perturb(x, p, noise_rng(seed, modality, i)))
            with atomic_path(out) as tmp:
                extract_features(
                    src, backbone, tmp, dataset=dataset, modality=modality, spec=spec,
                    batch_size=batch_size, device=device, threads=threads, splits=("test",),
                )  # fmt: skip
                with h5py.File(tmp, "a") as f:
                    f.attrs["perturbation"] = json.dumps(p)
                    f.attrs["data_sha256"] = data_sha
            src.unlink()
            print(f"{dataset} {modality} {p['name']}: cached", file=sys.stderr)


def read_test_taps(path: str | Path, labels: np.ndarray | None = None) -> torch.Tensor:
    """The stacked test taps of one feature file (clean or perturbed), checked against the
    clean labels when given."""
    store = FeatureStore(path)
    if labels is not None and not np.array_equal(store.labels("test"), labels):
        raise InputError(path, "/test/labels", "differ from the clean feature file's")
    layers = store.layers("test")
    for k, a in enumerate(layers, 1):
        if not np.isfinite(a).all():
            raise InputError(path, f"/test/layer_{k}", "contains NaN or inf")
    return stack_taps(layers)


def evaluate_robustness(
    models: list[str],
    metrics: list[str],
    features: list[str],
    perturbed: list[str],
    out: str,
    *,
    dataset: str,
    modalities: list[str],
    device: str = "cpu",
    threads: int | None = None,
) -> dict:
    """Score every final model (its model.pt beside its metrics.json) on the clean test taps
    and on each (modality, perturbation) with that modality's taps perturbed; write one JSON.
    """
    set_threads(threads)
    dev = pick_device(device)
    if len(models) != len(metrics):
        raise ValueError(f"{len(models)} model files for {len(metrics)} metrics files")
    clean_store = FeatureStore(features[0])
    labels = clean_store.labels("test")
    task = clean_store.task
    y = labels.astype(np.float32) if task == "multi" else labels.astype(np.int64)
    clean = [read_test_taps(p, labels) for p in features]
    swaps: dict[str, dict[str, tuple[dict, torch.Tensor]]] = {m: {} for m in modalities}
    for path in perturbed:
        with h5py.File(path, "r") as f:
            if "perturbation" not in f.attrs:
                raise InputError(path, "attrs/perturbation", "missing (not a perturbed cache)")
            p = json.loads(f.attrs["perturbation"])
            mod = str(f.attrs["modality"])
        if mod not in swaps:
            raise InputError(path, "attrs/modality", f"{mod!r} not in {modalities}")
        swaps[mod][p["name"]] = (p, read_test_taps(path, labels))
    runs = []
    for model_path, m in zip(models, read_metrics(metrics), strict=True):
        model, build = load_final_model(model_path)
        model.to(dev)

        def test_score(inputs, model=model) -> float:
            return float(score(task, y, predict(model, inputs, dev))["score"])

        run = {k: m[k] for k in ("dataset", "method", "seed", "rank", "search_seed", "val")
               if k in m}  # fmt: skip
        run |= {"model": model_path, "metrics": m["path"], "clean": test_score(clean),
                "weights": "phase 1" if build["kind"] == "mfas" else "trained",
                "finetuned": m.get("phase2") is not None, "scores": {}}  # fmt: skip
        for j, mod in enumerate(modalities):
            run["scores"][mod] = {
                name: test_score([t if i != j else x for i, t in enumerate(clean)])
                for name, (_, x) in swaps[mod].items()
            }
        runs.append(run)
        print(f"{dataset} {m['method']} seed {m['seed']}: clean {run['clean']:.4f}",
              file=sys.stderr)  # fmt: skip
    result = {
        "dataset": dataset, "task": task,
        "metric": "weighted_f1" if task == "multi" else "accuracy", "modalities": modalities,
        "perturbations": {mod: [p for p, _ in swaps[mod].values()] for mod in modalities},
        "runs": runs,
    }  # fmt: skip
    write_json(out, result)
    return result
