"""The one generic fit / predict / score loop (autograd) that final training and the
fusion baselines share.

`fit` trains any nn.Module whose forward takes the tensors of one batch (`model(*inputs)`)
and returns logits [B, C], or a tuple of logits whose losses are summed (the multitask loss
of MFAS final training and CentralNet: the first entry is the prediction, the others are
auxiliary heads). Adam with L2 weight decay, a cosine learning-rate schedule stepped per
batch, and the weights of the best validation epoch are kept (early picking on val; the test
split never reaches this module). Multi-label data trains with BCE (positive classes weighted
by their rarity in the training split) and is scored by weighted and macro F1.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class FitSettings:
    """How `fit` trains: epochs (raised to reach min_steps), optimiser, batch, seed."""

    epochs: int
    lr: float
    weight_decay: float
    batch_size: int
    seed: int
    min_steps: int = 0
    eta_min: float = 0.0

    def epochs_for(self, n_train: int) -> int:
        """Epochs so that training takes at least min_steps optimiser steps."""
        steps = max(1, n_train // min(self.batch_size, n_train))
        return max(self.epochs, math.ceil(self.min_steps / steps))


@dataclass
class FitResult:
    """Best validation score (accuracy or weighted F1), its macro F1 (multi-label), epoch."""

    val_score: float
    val_macro_f1: float
    best_epoch: int
    epochs: int
    seconds: float
    history: list[dict]


def score(task: str, y: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    """{"score": accuracy or weighted F1, "macro_f1": macro F1 or nan}.

    Multi-label predictions are sigmoid > 0.5 (logit > 0), F1 as sklearn's f1_score with
    zero_division=0 (MFAS paper Table 3 reports F1-W and F1-M)."""
    y, logits = np.asarray(y), np.asarray(logits)
    if task == "multi":
        from sklearn.metrics import f1_score

        pred = (logits > 0).astype(int)
        return {
            "score": float(f1_score(y, pred, average="weighted", zero_division=0)),
            "macro_f1": float(f1_score(y, pred, average="macro", zero_division=0)),
        }
    return {"score": float((logits.argmax(1) == y).mean()), "macro_f1": float("nan")}


def _batch(inputs: Sequence, idx: np.ndarray, device: torch.device) -> list[torch.Tensor]:
    """Rows idx of every input (numpy arrays, h5py-like or tensors) as float tensors."""
    out = []
    for x in inputs:
        if isinstance(x, torch.Tensor):
            t = x[torch.from_numpy(idx).to(x.device)]
        else:
            t = torch.from_numpy(np.ascontiguousarray(x[idx]))
        out.append(t.to(device).float())
    return out


def _first(out):
    return out[0] if isinstance(out, tuple | list) else out


@torch.no_grad()
def predict(
    model: nn.Module, inputs: Sequence, device: torch.device | str = "cpu", batch_size: int = 1024
) -> np.ndarray:
    """Logits of the prediction head for every row (eval mode, in batches)."""
    device = torch.device(device)
    was_training = model.training
    model.eval()
    n = len(inputs[0])
    outs = []
    for s in range(0, n, batch_size):
        idx = np.arange(s, min(n, s + batch_size))
        outs.append(_first(model(*_batch(inputs, idx, device))).float().cpu().numpy())
    model.train(was_training)
    return np.concatenate(outs)


def pos_weight_of(y: np.ndarray) -> torch.Tensor:
    """Weight of each positive class in BCE: negatives / positives in the training labels."""
    y = torch.as_tensor(np.asarray(y), dtype=torch.float32)
    pos = y.sum(0)
    return (len(y) - pos) / pos.clamp(min=1.0)


def fit(
    model: nn.Module,
    train: tuple[Sequence, np.ndarray],
    val: tuple[Sequence, np.ndarray],
    *,
    task: str,
    settings: FitSettings,
    device: torch.device | str = "cpu",
    start_from_current: bool = False,
    log=None,
) -> FitResult:
    """Train `model` on train = (inputs, labels); keep the weights of the best val epoch.

    start_from_current: the model as given counts as epoch 0 (its val score is the one to
    beat), so fine-tuning never ends worse on validation than where it started.
    The model is left on `device` holding the best weights, in eval mode.
    """
    device = torch.device(device)
    t0 = time.perf_counter()
    (x_tr, y_tr), (x_va, y_va) = train, val
    n = len(y_tr)
    bsz = min(settings.batch_size, n)
    steps = n // bsz
    epochs = settings.epochs_for(n)
    gen = np.random.default_rng(settings.seed)
    torch.manual_seed(settings.seed)
    model.to(device)
    # fused: one kernel per step for all parameters (at these sizes a step is per-op overhead)
    fused = device.type in ("cpu", "cuda")
    opt = torch.optim.Adam(
        model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay, fused=fused
    )
    total = max(1, steps * epochs)
    eta = settings.eta_min / settings.lr
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: eta + (1 - eta) * (1 + math.cos(math.pi * min(s, total) / total)) / 2
    )
    if task == "multi":
        loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight_of(y_tr).to(device))
        y_all = torch.as_tensor(np.asarray(y_tr), dtype=torch.float32)
    else:
        loss_fn = nn.CrossEntropyLoss()
        y_all = torch.as_tensor(np.asarray(y_tr), dtype=torch.int64)

    def evaluate() -> dict[str, float]:
        return score(task, y_va, predict(model, x_va, device))

    best_state, best_epoch, best = None, 0, {"score": -1.0, "macro_f1": float("nan")}
    if start_from_current:
        best = evaluate()
        best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        order = gen.permutation(n)[: steps * bsz].reshape(steps, bsz)
        running = 0.0
        for idx in order:
            idx = np.sort(idx)  # h5py needs increasing indices; order inside a batch is moot
            xb = _batch(x_tr, idx, device)
            yb = y_all[torch.from_numpy(idx)].to(device)
            out = model(*xb)
            outs = out if isinstance(out, tuple | list) else (out,)
            loss = sum(loss_fn(o, yb) for o in outs)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running += float(loss.detach())
        val = evaluate()
        history.append(
            {"epoch": epoch, "train_loss": running / max(steps, 1), "val_score": val["score"]}
        )
        if log is not None:
            print(f"epoch {epoch}/{epochs}: loss {running / max(steps, 1):.4f} "
                  f"val {val['score']:.4f}", file=log)  # fmt: skip
        if val["score"] > best["score"]:
            best, best_epoch = val, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return FitResult(
        val_score=float(best["score"]),
        val_macro_f1=float(best["macro_f1"]),
        best_epoch=best_epoch,
        epochs=epochs,
        seconds=time.perf_counter() - t0,
        history=history,
    )


def n_parameters(model: nn.Module) -> int:
    """Trainable parameters of a model."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))
