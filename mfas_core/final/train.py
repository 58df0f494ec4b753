"""Final training of one found architecture (phase 1 on cached taps, optional phase 2
fine-tuning of the backbones with the multitask loss) and of one fusion baseline.

Both write one metrics.json: val and test scores (accuracy, or weighted and macro F1 for
multi-label data), trainable parameters, seconds, and each phase's fit history. The test
split is scored once, after the best-validation checkpoint has been picked.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from mfas_core.atomic import atomic_path, save_torch, write_json
from mfas_core.config import ConfigError
from mfas_core.errors import InputError
from mfas_core.final.data import TapData, load_taps
from mfas_core.final.settings import BaselineSettings, FinalSettings
from mfas_core.models.finetune import FinetuneNet
from mfas_core.models.mfas_net import MFASNet
from mfas_core.models.registry import build_baseline
from mfas_core.runtime import pick_device, set_seed, set_threads
from mfas_core.search.space import text_to_arch
from mfas_core.training import FitResult, FitSettings, fit, n_parameters, predict, score
from mfas_core.unimodal.features import FeatureStore


def run_seed(*parts: int) -> int:
    """One 32-bit training seed from (seed, search seed, rank, ...)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def read_topk_row(path: str, rank: int) -> dict:
    """Row `rank` (1-based) of a search's topk.tsv: architecture text and search val score."""
    import pandas as pd  # only here: job start-up is most of a baseline job's time

    frame = pd.read_csv(path, sep="\t")
    for col in ("rank", "architecture", "val_score"):
        if col not in frame.columns:
            raise InputError(path, col, "missing column")
    row = frame[frame["rank"] == rank]
    if row.empty:
        raise InputError(path, "rank", f"no rank {rank} (has {len(frame)}); lower final.top")
    row = row.iloc[0]
    try:
        text_to_arch(row["architecture"])
    except ValueError as exc:
        raise InputError(path, "architecture", str(exc)) from None
    return {"architecture": str(row["architecture"]), "search_val": float(row["val_score"])}


def _none_if_nan(x: float) -> float | None:
    """Macro F1 of single-label data is undefined: null in JSON (NaN is not JSON)."""
    return None if np.isnan(x) else float(x)


def _fit_dict(res: FitResult) -> dict:
    return {
        "val": res.val_score, "val_macro_f1": _none_if_nan(res.val_macro_f1), "best_epoch": res.best_epoch,
        "epochs": res.epochs, "seconds": round(res.seconds, 2), "history": res.history,
    }  # fmt: skip


def _test_scores(task: str, y: np.ndarray, logits: np.ndarray) -> dict:
    s = score(task, y, logits)
    return {"test": s["score"], "test_macro_f1": _none_if_nan(s["macro_f1"])}


def build_final_model(build: dict) -> torch.nn.Module:
    """A final model from the description save_final_model stores beside its weights:
    {"kind": "mfas", "architecture", "sizes", "width", "n_classes", "nonlinearities",
    "dropout"[, "fusion_ops", "lowrank_rank"]} or {"kind": "baseline", "name", "sizes", "n_classes", "width", "dropout",
    "rank"}; `sizes` lists each modality's tap widths."""
    if build["kind"] == "mfas":
        ops = build.get("fusion_ops", ["concat"])
        return MFASNet(
            text_to_arch(build["architecture"], len(build["sizes"]), len(ops)), build["sizes"],
            build["width"], build["n_classes"], build["nonlinearities"], build["dropout"],
            ops, build.get("lowrank_rank", 4),
        )  # fmt: skip
    return build_baseline(
        build["name"], build["sizes"], build["n_classes"], width=build["width"],
        dropout=build["dropout"], rank=build["rank"],
    )  # fmt: skip


def save_final_model(path: str, model: torch.nn.Module, build: dict, state: dict | None = None):
    """The weights (`state`, default the model's own) and how to rebuild the model, in one
    file (load_final_model reads it back)."""
    state = model.state_dict() if state is None else state
    with atomic_path(path) as tmp:
        save_torch({"build": build, "state_dict": {k: v.cpu() for k, v in state.items()}}, tmp)


def load_final_model(path: str) -> tuple[torch.nn.Module, dict]:
    """A model saved by save_final_model, in eval mode, and its description."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    try:
        model = build_final_model(blob["build"])
        model.load_state_dict(blob["state_dict"])
    except (KeyError, RuntimeError, TypeError) as exc:
        raise InputError(path, "state_dict", f"not a final model: {exc}") from None
    return model.eval(), blob["build"]


def train_on_taps(model: torch.nn.Module, data: TapData, fit_settings: FitSettings, device):
    """Phase 1 / baselines: fit on the cached taps' train split, pick on val."""
    return fit(
        model, (data.inputs("train"), data.y["train"]), (data.inputs("val"), data.y["val"]),
        task=data.task, settings=fit_settings, device=device, log=sys.stderr,
    )  # fmt: skip


def finetune(
    fusion: MFASNet,
    data_path: str,
    backbone_paths: list[str],
    *,
    modalities: list[str],
    backbone_specs: dict,
    fit_settings: FitSettings,
    device,
) -> tuple[FinetuneNet, FitResult, tuple]:
    """Phase 2: backbones loaded and unfrozen under the fusion net, multitask loss, trained
    on the raw data; starts from phase 1's weights as epoch 0 of the best-val picking.
    Returns the model, its fit and the raw test inputs and labels."""
    from mfas_core.unimodal.backbones import dataset_info, load_backbone, read_modality

    nets, raw = [], {s: [] for s in ("train", "val", "test")}
    labels = {}
    for mod, path in zip(modalities, backbone_paths, strict=True):
        shape, n_classes, _ = dataset_info(data_path, mod)
        nets.append(load_backbone(path, backbone_specs[mod], shape, n_classes))
        for split in raw:
            x, labels[split] = read_modality(data_path, split, mod)
            raw[split].append(x)
    model = FinetuneNet(nets, fusion)
    for p in model.parameters():
        p.requires_grad_(True)
    task = "multi" if labels["train"].ndim == 2 else "single"
    res = fit(
        model, (raw["train"], labels["train"]), (raw["val"], labels["val"]), task=task,
        settings=fit_settings, device=device, start_from_current=True, log=sys.stderr,
    )  # fmt: skip
    return model, res, (raw["test"], labels["test"])


def run_final_train(
    features: list[str],
    topk: str,
    metrics_out: str,
    *,
    dataset: str,
    rank: int,
    search_seed: int,
    seed: int,
    nonlinearities: list[str],
    settings: dict,
    fusion: dict | None = None,
    device: str = "cpu",
    threads: int | None = None,
    data: str | None = None,
    backbones: list[str] | None = None,
    modalities: list[str] | None = None,
    backbone_specs: dict | None = None,
    model_out: str | None = None,
) -> dict:
    """Train architecture `rank` of a search's topk.tsv to the end; write metrics.json (and
    the phase-1 fusion net's weights to `model_out`). fusion: {"fusion_ops", "lowrank_rank"}
    of the search (default the paper's concat)."""
    fusion = dict(fusion or {"fusion_ops": ["concat"], "lowrank_rank": 4})
    cfg = FinalSettings.from_params(**settings)
    set_threads(threads)
    dev = pick_device(device)
    t0 = time.perf_counter()
    row = read_topk_row(topk, rank)
    taps = load_taps(*features)
    s = run_seed(seed, search_seed, rank)
    set_seed(s)
    try:
        arch = text_to_arch(row["architecture"], len(taps.sizes), len(fusion["fusion_ops"]))
    except ValueError as exc:
        raise InputError(topk, "architecture", str(exc)) from None
    net = MFASNet(
        arch, taps.sizes, cfg.width, taps.n_classes, nonlinearities, cfg.dropout, **fusion
    )  # fmt: skip
    res1 = train_on_taps(net, taps, cfg.phase1(s), dev)
    test = _test_scores(taps.task, taps.y["test"], predict(net, taps.inputs("test"), dev))
    phase1_test = test
    # phase 2 trains `net` in place under the backbones: keep phase 1's weights (the fusion
    # net on the frozen backbones' cached taps, which the robustness rules score)
    phase1_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    out = {"val": res1.val_score, "val_macro_f1": _none_if_nan(res1.val_macro_f1), **test}
    phase2, trained = None, n_parameters(net)
    if cfg.finetune_epochs > 0:
        if not (data and backbones and modalities and backbone_specs):
            raise ConfigError("final.finetune_epochs > 0 needs the raw data and backbones")
        # Phase 1 learned on the cached taps; phase 2 stacks the fusion net on the live
        # backbones, so the cache must come from exactly these weights and this data.
        for cache, backbone in zip(features, backbones, strict=True):
            FeatureStore(cache).verify(backbone, data)
        model, res2, (x_te, y_te) = finetune(
            net, data, backbones, modalities=modalities, backbone_specs=backbone_specs,
            fit_settings=cfg.phase2(s), device=dev,
        )  # fmt: skip
        phase2 = _fit_dict(res2)
        trained = n_parameters(model)
        test = _test_scores(taps.task, y_te, predict(model, x_te, dev, batch_size=256))
        out = {"val": res2.val_score, "val_macro_f1": _none_if_nan(res2.val_macro_f1), **test}
    seconds = round(time.perf_counter() - t0, 2)
    if model_out:
        build = {"kind": "mfas", "architecture": row["architecture"],
                 "sizes": [list(v) for v in taps.sizes], "width": cfg.width,
                 "n_classes": taps.n_classes, "nonlinearities": list(nonlinearities),
                 "dropout": cfg.dropout}  # fmt: skip
        if len(fusion["fusion_ops"]) > 1:
            build.update(fusion)
        save_final_model(model_out, net, build, phase1_state)
    metrics = {
        "dataset": dataset, "method": "mfas", "rank": rank, "search_seed": search_seed,
        "seed": seed, "architecture": row["architecture"], "search_val": row["search_val"],
        "task": taps.task, "metric": "weighted_f1" if taps.task == "multi" else "accuracy",
        **out, "params": n_parameters(net), "trained_params": trained,
        "seconds": seconds, "device": str(dev),
        "phase1": {**_fit_dict(res1), **phase1_test},
        "phase2": phase2, "settings": settings,
    }  # fmt: skip
    write_json(metrics_out, metrics)
    print(f"{dataset} search seed {search_seed} rank {rank} seed {seed}: "
          f"val {out['val']:.4f} test {out['test']:.4f}", file=sys.stderr)  # fmt: skip
    return metrics


def baseline_name(method: str, modalities: list[str]) -> str:
    """Config method (unimodal_<modality> for unimodal runs) -> build_baseline's name."""
    if method.startswith("unimodal_"):
        mod = method.split("_", 1)[1]
        if mod not in modalities:
            raise ConfigError(f"final baseline {method}: no modality {mod!r} in {modalities}")
        return f"unimodal_{modalities.index(mod) + 1}"
    return method


def run_final_baseline(
    features: list[str],
    metrics_out: str,
    *,
    dataset: str,
    method: str,
    modalities: list[str],
    seed: int,
    settings: dict,
    device: str = "cpu",
    threads: int | None = None,
    model_out: str | None = None,
) -> dict:
    """Train one baseline on the cached taps with phase 1's budget; write metrics.json (and
    the trained weights to `model_out`)."""
    cfg = BaselineSettings.from_params(**settings)
    set_threads(threads)
    dev = pick_device(device)
    t0 = time.perf_counter()
    taps = load_taps(*features)
    set_seed(run_seed(seed))
    build = {"kind": "baseline", "name": baseline_name(method, modalities),
             "sizes": [list(v) for v in taps.sizes], "n_classes": taps.n_classes,
             "width": cfg.width, "dropout": cfg.dropout, "rank": cfg.lrtf_rank}  # fmt: skip
    model = build_final_model(build)
    res = train_on_taps(model, taps, cfg.phase1(run_seed(seed)), dev)
    test = _test_scores(taps.task, taps.y["test"], predict(model, taps.inputs("test"), dev))
    seconds = round(time.perf_counter() - t0, 2)
    if model_out:
        save_final_model(model_out, model, build)
    metrics = {
        "dataset": dataset, "method": method, "seed": seed, "task": taps.task,
        "metric": "weighted_f1" if taps.task == "multi" else "accuracy",
        "val": res.val_score, "val_macro_f1": _none_if_nan(res.val_macro_f1), **test,
        "params": n_parameters(model), "seconds": seconds,
        "device": str(dev), "phase1": _fit_dict(res), "settings": settings,
    }  # fmt: skip
    write_json(metrics_out, metrics)
    print(f"{dataset} {method} seed {seed}: val {res.val_score:.4f} test {test['test']:.4f}",
          file=sys.stderr)  # fmt: skip
    return metrics
