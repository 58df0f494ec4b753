"""The one training core: the epoch loop, `predict` in batches and `score`, shared by the
backbones (mfas_core.unimodal), final training and the fusion baselines (mfas_core.final)
and the EMF/IMF/DMF nets (mfas_core.dmf). The search trains K candidates at once on its own
batched fast path (mfas_core.search.trainer).

`train_epochs` is the skeleton: per epoch, one optimiser step per batch, a validation score,
the weights of the best validation epoch kept (a strictly higher score replaces them), an
optional patience stop, one history row, progress through tqdm to the rule's log. What
differs between the users is passed in: the batch order (`shuffled_batches`, or DMF's own
torch generator), the loss of a batch, the validation, and the optimiser (`adam`: plain, or
fused with the per-batch cosine schedule of final training).

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TextIO

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
    model: nn.Module,
    inputs: Sequence,
    device: torch.device | str = "cpu",
    batch_size: int = 1024,
    *,
    fn: Callable | None = None,
    empty: np.ndarray | None = None,
) -> np.ndarray:
    """Outputs for every row (eval mode, in batches of rows in order), as float32 NumPy.

    Default: the logits of the prediction head (the first output of a multitask model);
    `fn(model, *batch)` computes something else (DMF's joint representation). `empty` is
    returned when there are no rows (without it, no rows is an error).
    """
    device = torch.device(device)
    was_training = model.training
    model.eval()
    n = len(inputs[0])
    outs = []
    for s in range(0, n, batch_size):
        idx = np.arange(s, min(n, s + batch_size))
        batch = _batch(inputs, idx, device)
        out = fn(model, *batch) if fn is not None else _first(model(*batch))
        outs.append(out.float().cpu().numpy())
    model.train(was_training)
    if not outs and empty is not None:
        return empty
    return np.concatenate(outs)


def pos_weight_of(y: np.ndarray) -> torch.Tensor:
    """Weight of each positive class in BCE: negatives / positives in the training labels."""
    y = torch.as_tensor(np.asarray(y), dtype=torch.float32)
    pos = y.sum(0)
    return (len(y) - pos) / pos.clamp(min=1.0)


class Validation(NamedTuple):
    """One validation: the score to maximise, the fields of the history row, and whatever
    the caller wants back for the best epoch."""

    score: float
    row: dict
    detail: object = None


@dataclass
class LoopResult:
    """History rows, the epoch whose weights were kept (0: the weights as given), its
    Validation (None if no epoch beat `best_score`), the epochs run."""

    history: list[dict]
    best_epoch: int
    best: Validation | None
    epochs: int


def shuffled_batches(
    n: int, batch_size: int, rng: np.random.Generator, *, drop_last: bool = False
) -> list[np.ndarray]:
    """One epoch's batches: a permutation of range(n) drawn from `rng`, cut into batches
    (the last partial batch dropped if `drop_last`)."""
    order = rng.permutation(n)
    end = n - n % batch_size if drop_last else n
    return [order[i : i + batch_size] for i in range(0, end, batch_size)]


def adam(
    model: nn.Module,
    lr: float,
    weight_decay: float,
    *,
    fused: bool | None = None,
    cosine_steps: int | None = None,
    eta_min: float = 0.0,
):
    """Adam with L2 weight decay; with `cosine_steps`, also a LambdaLR that anneals the
    learning rate from lr to eta_min over that many batches (cosine, stepped per batch).
    Returns (optimiser, scheduler or None). `fused`: torch's one-kernel Adam step (None:
    torch's default implementation)."""
    kw = {} if fused is None else {"fused": fused}
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay, **kw)
    if cosine_steps is None:
        return opt, None
    total = max(1, cosine_steps)
    eta = eta_min / lr
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: eta + (1 - eta) * (1 + math.cos(math.pi * min(s, total) / total)) / 2
    )
    return opt, sched


def label_loss(task: str, y: np.ndarray, device, *, pos_weight: bool = True):
    """(loss function, all labels as a tensor) of a split: BCE for multi-label data (each
    positive class weighted by its rarity in `y` if `pos_weight`), else cross-entropy."""
    if task == "multi":
        weight = pos_weight_of(y).to(device) if pos_weight else None
        return nn.BCEWithLogitsLoss(pos_weight=weight), torch.as_tensor(
            np.asarray(y), dtype=torch.float32
        )
    return nn.CrossEntropyLoss(), torch.as_tensor(np.asarray(y), dtype=torch.int64)


def supervised_loss(model: nn.Module, inputs: Sequence, y: torch.Tensor, loss_fn, device):
    """The loss of a batch of rows: `loss_fn` of each output of `model(*inputs[idx])`
    against y[idx], summed (the multitask loss; one term for a single output)."""

    def batch_loss(idx: np.ndarray) -> torch.Tensor:
        idx = np.sort(idx)  # h5py needs increasing indices; order inside a batch is moot
        out = model(*_batch(inputs, idx, device))
        yb = y[torch.from_numpy(idx)].to(device)
        outs = out if isinstance(out, tuple | list) else (out,)
        return sum(loss_fn(o, yb) for o in outs)

    return batch_loss


def _row_text(row: dict) -> str:
    return ", ".join(
        f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()
        if k != "epoch"
    )  # fmt: skip


def train_epochs(
    model: nn.Module,
    *,
    epochs: int,
    batches: Callable[[int], Iterable],
    batch_loss: Callable[[object], torch.Tensor],
    validate: Callable[[int], Validation],
    optimizer: torch.optim.Optimizer,
    scheduler=None,
    per_sample_loss: bool = True,
    patience: int | None = None,
    best_score: float = -math.inf,
    start_from_current: bool = False,
    log: TextIO | None = None,
    desc: str = "train",
) -> LoopResult:
    """The epoch loop every trainer shares; the model ends holding the best weights, in eval mode.

    batches(epoch): that epoch's batches (index arrays or tensors), drawn when the epoch
    starts. batch_loss(idx): the loss tensor of one batch. validate(epoch): after each epoch
    (in train mode; it switches modes itself). An epoch is kept if its score is strictly higher
    than the best so far (start: `best_score`, or with `start_from_current` the validation of
    the weights as given, epoch 0). `patience`: stop after that many epochs without a kept one.
    The history row's train_loss is the mean loss per sample (`per_sample_loss`) or per batch.
    """
    from tqdm import tqdm

    def snapshot() -> dict:
        return {k: v.detach().clone() for k, v in model.state_dict().items()}

    best, best_epoch, best_state = None, 0, None
    if start_from_current:
        best = validate(0)
        best_score, best_state = best.score, snapshot()
    history = []
    bar = tqdm(range(1, epochs + 1), desc=desc, file=log, mininterval=5, disable=log is None)
    for epoch in bar:
        model.train()
        total, count = 0.0, 0
        for idx in batches(epoch):
            loss = batch_loss(idx)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            weight = len(idx) if per_sample_loss else 1
            total += float(loss.detach()) * weight
            count += weight
        val = validate(epoch)
        row = {"epoch": epoch, "train_loss": total / max(count, 1), **val.row}
        history.append(row)
        if log is not None:
            tqdm.write(f"epoch {epoch}/{epochs}: {_row_text(row)}", file=log)
        if val.score > best_score:
            best, best_epoch, best_score, best_state = val, epoch, val.score, snapshot()
        elif patience is not None and epoch - best_epoch >= patience:
            break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return LoopResult(history, best_epoch, best, len(history))


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

    Batches of min(batch_size, n) rows, the last partial batch dropped; fused Adam with the
    per-batch cosine schedule. start_from_current: the model as given counts as epoch 0 (its
    val score is the one to beat), so fine-tuning never ends worse on validation than where it
    started. The model is left on `device` holding the best weights, in eval mode.
    """
    device = torch.device(device)
    t0 = time.perf_counter()
    (x_tr, y_tr), (x_va, y_va) = train, val
    n = len(y_tr)
    bsz = min(settings.batch_size, n)
    epochs = settings.epochs_for(n)
    gen = np.random.default_rng(settings.seed)
    torch.manual_seed(settings.seed)
    model.to(device)
    # fused: one kernel per step for all parameters (at these sizes a step is per-op overhead)
    opt, sched = adam(
        model, settings.lr, settings.weight_decay, fused=device.type in ("cpu", "cuda"),
        cosine_steps=(n // bsz) * epochs, eta_min=settings.eta_min,
    )  # fmt: skip
    loss_fn, y_all = label_loss(task, y_tr, device)

    def validate(_epoch: int) -> Validation:
        s = score(task, y_va, predict(model, x_va, device))
        return Validation(s["score"], {"val_score": s["score"]}, s)

    res = train_epochs(
        model, epochs=epochs,
        batches=lambda _: shuffled_batches(n, bsz, gen, drop_last=True),
        batch_loss=supervised_loss(model, x_tr, y_all, loss_fn, device),
        validate=validate, optimizer=opt, scheduler=sched, per_sample_loss=False,
        best_score=-1.0, start_from_current=start_from_current, log=log,
    )  # fmt: skip
    best = res.best.detail if res.best is not None else {"score": -1.0, "macro_f1": float("nan")}
    return FitResult(
        val_score=float(best["score"]),
        val_macro_f1=float(best["macro_f1"]),
        best_epoch=res.best_epoch,
        epochs=epochs,
        seconds=time.perf_counter() - t0,
        history=res.history,
    )


def n_parameters(model: nn.Module) -> int:
    """Trainable parameters of a model."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))
