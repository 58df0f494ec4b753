"""Unimodal backbones whose per-block outputs (taps) are MFAS's searchable features.

Conv backbone (images, spectrograms; docs/SOURCES.md, backbones): blocks of bias-free conv + BatchNorm + ReLU
+ 2x2 max-pool, channels C, 2C, 4C, ...; the first conv is 5x5, the rest 3x3. Each block's
output, global-average-pooled over space, is one tap. `input_pool` p > 1 average-pools the
standardised input p×p first (a cheaper net on a coarser input: a 112×112 spectrogram becomes
56×56 and every block costs about 1/p² of the FLOPs). MLP backbone (vectors): Linear + ReLU
layers, each layer's output is a tap. A linear head on the last tap gives the logits.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mfas_core import training as core  # `core`: run_train_backbone has a `training` param
from mfas_core.atomic import atomic_path, save_torch
from mfas_core.errors import InputError
from mfas_core.settings import build, field_names, pick
from mfas_core.unimodal.pretrained import PRETRAINED_TYPES, TappedNet, build_pretrained


class ConvBackbone(nn.Module):
    """LeNet-style conv net with one global-average-pooled tap per block."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        n_classes: int,
        blocks: int = 3,
        channels: int = 3,
        channels_last: bool = True,
        input_pool: int = 1,
    ):
        super().__init__()
        self.input_pool = int(input_pool)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.input_shape = tuple(input_shape)
        in_ch = 1 if len(self.input_shape) == 2 else self.input_shape[0]
        layers = []
        for b in range(blocks):
            out_ch = channels * 2**b
            k = 5 if b == 0 else 3
            layers.append(
                nn.Sequential(
                    nn.Conv2d(in_ch, out_ch, k, padding=k // 2, bias=False),
                    nn.BatchNorm2d(out_ch),
                    nn.ReLU(inplace=True),
                    nn.MaxPool2d(2, ceil_mode=True),
                )
            )
            in_ch = out_ch
        self.blocks = nn.ModuleList(layers)
        self.tap_sizes = [channels * 2**b for b in range(blocks)]
        self.head = nn.Linear(self.tap_sizes[-1], n_classes)
        # Input standardisation fitted on the training split (saved with the weights).
        self.register_buffer("input_mean", torch.zeros(()))
        self.register_buffer("input_std", torch.ones(()))
        # channels-last convolutions: on one CPU thread they train as fast as the default layout
        # on two (measured in benchmarks/conv_layout.py), which halves the backbones' core-seconds
        self.to(memory_format=self.memory_format)

    def taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Pooled output of every block, shallow to deep: list of [B, C_k]."""
        x = (x.float() - self.input_mean) / self.input_std
        if x.dim() == len(self.input_shape) + 1 and len(self.input_shape) == 2:
            x = x.unsqueeze(1)
        if self.input_pool > 1:
            x = nn.functional.avg_pool2d(x, self.input_pool, ceil_mode=True)
        x = x.contiguous(memory_format=self.memory_format)
        out = []
        for block in self.blocks:
            x = block(x)
            out.append(x.mean(dim=(2, 3)))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.taps(x)[-1])


class MLPBackbone(nn.Module):
    """Fully connected net for vector modalities; each hidden layer's output is a tap."""

    def __init__(
        self, input_shape: tuple[int, ...], n_classes: int, hidden: list[int] | None = None
    ):
        super().__init__()
        self.input_shape = tuple(input_shape)
        hidden = list(hidden or [256, 128, 64])
        d = int(np.prod(self.input_shape))
        self.blocks = nn.ModuleList()
        for h in hidden:
            self.blocks.append(nn.Sequential(nn.Linear(d, h), nn.ReLU(inplace=True)))
            d = h
        self.tap_sizes = hidden
        self.head = nn.Linear(hidden[-1], n_classes)
        self.register_buffer("input_mean", torch.zeros(int(np.prod(self.input_shape))))
        self.register_buffer("input_std", torch.ones(int(np.prod(self.input_shape))))

    def taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x.float().flatten(1) - self.input_mean) / self.input_std
        out = []
        for block in self.blocks:
            x = block(x)
            out.append(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.taps(x)[-1])


CONV_DEFAULTS = {"blocks": 3, "channels": 3, "input_pool": 1}


def effective_spec(spec: dict) -> dict:
    """The backbone spec as build_backbone reads it: a conv spec with the sizes it leaves out
    filled in, so two specs that build the same net compare equal."""
    return {**CONV_DEFAULTS, **spec} if spec["type"] == "conv" else dict(spec)


def build_backbone(
    spec: dict,
    input_shape: tuple[int, ...],
    n_classes: int,
    *,
    where: str = "backbone",
    weights: bool = True,
) -> nn.Module:
    """Backbone from a config spec: {type: conv, blocks, channels}, {type: mlp, hidden}, or a
    pretrained one (mfas_core.unimodal.pretrained; `weights`: load its weights file)."""
    if spec["type"] in PRETRAINED_TYPES:
        return build_pretrained(spec, input_shape, n_classes, where=where, weights=weights)
    if spec["type"] == "conv":
        if len(input_shape) not in (2, 3):
            raise ValueError(f"conv backbone needs a 2-D (or C×H×W) input, got shape {input_shape}")
        conv = effective_spec(spec)
        return ConvBackbone(
            input_shape,
            n_classes,
            conv["blocks"],
            conv["channels"],
            input_pool=conv["input_pool"],
        )
    if spec["type"] == "mlp":
        return MLPBackbone(input_shape, n_classes, spec.get("hidden"))
    raise ValueError(f"unknown backbone type {spec['type']!r}")


def load_backbone(
    path: str | Path, spec: dict, input_shape: tuple[int, ...], n_classes: int
) -> nn.Module:
    """Load saved weights into the architecture the config describes (eval mode).

    A file saved for another architecture is an InputError naming it, never a silent reuse.
    """
    model = build_backbone(spec, input_shape, n_classes, weights=False)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as exc:
        raise InputError(
            path, "state_dict", f"unreadable ({exc.__class__.__name__}); rebuild it"
        ) from None
    try:
        model.load_state_dict(state)
    except RuntimeError:
        raise InputError(
            path,
            "state_dict",
            f"does not match the configured backbone {spec}; delete it and re-run to rebuild",
        ) from None
    return model.eval()


# --------------------------------------------------------------------------- training


def fit_standardisation(model: nn.Module, x: np.ndarray) -> None:
    """Set the model's input mean/std from (a sample of) the training inputs (a net without
    such buffers, e.g. a pretrained one or a bare head, keeps its own preprocessing)."""
    if not hasattr(model, "input_mean"):
        return
    sample = x[: min(len(x), 5000)].astype(np.float32).reshape(min(len(x), 5000), -1)
    if isinstance(model, ConvBackbone):
        mean, std = sample.mean(), sample.std()
    else:
        mean, std = sample.mean(0), sample.std(0)
    model.input_mean.copy_(torch.as_tensor(mean))
    model.input_std.copy_(torch.as_tensor(np.maximum(std, 1e-6)))


def predict(
    model: nn.Module, x: np.ndarray, device: torch.device, batch_size: int = 512
) -> np.ndarray:
    """Logits for every row of x (streamed in batches)."""
    empty = np.zeros((0, getattr(model, "head", model).out_features), np.float32)
    return core.predict(model, [x], device, batch_size, empty=empty)


def train_backbone(
    model: nn.Module,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    *,
    task: str,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    seed: int,
    device: torch.device,
    progress=None,
) -> dict:
    """Train with plain Adam (no schedule) on shuffled batches (the last partial batch kept),
    keep the weights of the best validation epoch (mfas_core.core.train_epochs); returns
    a history dict. Multi-label data trains with unweighted BCE."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x_tr, y_tr = train
    x_va, y_va = val
    fit_standardisation(model, x_tr)
    model.to(device)
    opt, _ = core.adam(model, lr, weight_decay)
    loss_fn, y_all = core.label_loss(task, y_tr, device, pos_weight=False)

    def validate(_epoch: int) -> core.Validation:
        s = core.score(task, y_va, predict(model, x_va, device))["score"]
        return core.Validation(s, {"val_score": s})

    start = time.perf_counter()
    res = core.train_epochs(
        model, epochs=epochs,
        batches=lambda _: core.shuffled_batches(len(x_tr), batch_size, rng),
        batch_loss=core.supervised_loss(model, [x_tr], y_all, loss_fn, device),
        validate=validate, optimizer=opt, best_score=-1.0, log=progress, desc="backbone",
    )  # fmt: skip
    model.to(device).eval()
    return {
        "best_epoch": res.best_epoch,
        "val_score": res.best.score,
        "history": res.history,
        "seconds": time.perf_counter() - start,
    }


def last_tap(model: nn.Module, x: np.ndarray, device: torch.device, batch_size: int) -> np.ndarray:
    """The last tap of every row of x, [N, C] float32 (streamed in batches, no grad)."""
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = torch.from_numpy(np.asarray(x[i : i + batch_size])).to(device)
            out.append(model.taps(xb)[-1].float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.tap_sizes[-1]), np.float32)


def save_backbone(model: nn.Module, path: str | Path) -> None:
    """Save the state_dict atomically (load it back with load_backbone)."""
    with atomic_path(path) as tmp:
        save_torch({k: v.cpu() for k, v in model.state_dict().items()}, tmp)


# --------------------------------------------------------------------------- rule entry point


def read_modality(path: str | Path, split: str, modality: str) -> tuple[np.ndarray, np.ndarray]:
    """One modality of one split in its stored dtype (float16 stays float16), and the labels."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return f[split][modality][()], f[split]["labels"][()]
    except KeyError:
        raise InputError(path, f"/{split}/{modality}", "missing in the dataset file") from None


def dataset_info(path: str | Path, modality: str) -> tuple[tuple[int, ...], int, str]:
    """(input shape, number of classes, task) of a modality in a dataset file."""
    from mfas_core.data.schema import read_attrs

    attrs = read_attrs(path)
    if modality not in attrs["shapes"]:
        raise InputError(
            path, "attrs/modalities", f"no modality {modality!r} (has {attrs['modalities']})"
        )
    return tuple(attrs["shapes"][modality]), len(attrs["classes"]), str(attrs["task"])


@dataclass(frozen=True)
class BackboneTraining:
    """What train_backbone reads of `backbone_training`; defaults = the schema's."""

    epochs: int = 5
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    max_train: int = 0
    min_steps: int = 500

    @classmethod
    def from_params(cls, **params) -> BackboneTraining:
        """From a rule's `training` param; every field required."""
        return build(cls, params, "backbone_training")


def training_params(backbone_training: dict) -> dict:
    """The `training` param of rule train_backbone (extraction's batch size is not in it:
    editing it re-runs the extraction only)."""
    return pick(backbone_training, field_names(BackboneTraining), "backbone_training")


def run_train_backbone(
    data: str,
    model_out: str,
    metrics_out: str,
    *,
    dataset: str,
    modality: str,
    spec: dict,
    training: dict,
    seed: int,
    device: str,
    threads: int,
) -> dict:
    """Train one modality's backbone, keep the best-val epoch, save weights and metrics.

    `training` is the config's `backbone_training` section. Small training sets (mfeat: 1,200
    samples) get more epochs, so that every backbone takes at least `min_steps` optimizer steps.
    """
    cfg = BackboneTraining.from_params(**training)
    epochs, batch_size, max_train = cfg.epochs, cfg.batch_size, cfg.max_train
    import sys

    from mfas_core.atomic import write_json
    from mfas_core.runtime import pick_device, set_seed, set_threads

    set_threads(threads)
    set_seed(seed)
    dev = pick_device(device)
    shape, n_classes, task = dataset_info(data, modality)
    x_tr, y_tr = read_modality(data, "train", modality)
    if max_train and len(x_tr) > max_train:
        keep = np.sort(np.random.default_rng(seed).choice(len(x_tr), max_train, replace=False))
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    x_va, y_va = read_modality(data, "val", modality)
    epochs = max(epochs, math.ceil(cfg.min_steps / math.ceil(len(x_tr) / batch_size)))
    where = f"datasets.{dataset}.backbones.{modality}"
    model = build_backbone(spec, shape, n_classes, where=where)
    trained = "backbone"
    if isinstance(model, TappedNet):
        # A pretrained net has no head for this task: fit a linear one on its last tap with
        # the backbone frozen (the frozen taps are computed once; the head trains on them).
        model.freeze()
        model.to(dev).eval()
        x_tr = last_tap(model, x_tr, dev, batch_size)
        x_va = last_tap(model, x_va, dev, batch_size)
        trained = "head"
    fit = train_backbone(
        model.head if trained == "head" else model,
        (x_tr, y_tr),
        (x_va, y_va),
        task=task,
        epochs=epochs,
        batch_size=batch_size,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        seed=seed,
        device=dev,
        progress=sys.stderr,
    )
    x_te, y_te = read_modality(data, "test", modality)
    test_score = core.score(task, y_te, predict(model, x_te, dev))["score"]
    metrics = {
        "dataset": dataset,
        "modality": modality,
        "task": task,
        "metric": "weighted_f1" if task == "multi" else "accuracy",
        "val": fit["val_score"],
        "test": test_score,
        "best_epoch": fit["best_epoch"],
        "epochs": epochs,
        "seconds": round(fit["seconds"], 2),
        "n_train": int(len(x_tr)),
        "device": str(dev),
        "spec": spec,
        **({"trained": "head"} if trained == "head" else {}),
        "tap_sizes": list(model.tap_sizes),
        "n_parameters": int(sum(p.numel() for p in model.parameters())),
        "history": fit["history"],
    }
    model.cpu()
    save_backbone(model, model_out)
    write_json(metrics_out, metrics)
    print(
        f"{dataset}/{modality}: val {fit['val_score']:.4f} test {test_score:.4f}", file=sys.stderr
    )
    return metrics
