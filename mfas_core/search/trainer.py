"""Training and scoring sampled fusion architectures on cached features.

All features of every tap live in memory as one zero-padded tensor per modality
([M_i, n, D_i] for modality i); batches are gathered by index and all K candidates of a step
train together as one `BatchedFusion`. Per step: one gather per modality, a handful of
batched matrix products, one fused Adam step. The learning rate follows cosine annealing with
warm restarts per batch (the authors' schedule), computed in closed form.

A candidate's initial weights and dropout masks come from its own generator
(`candidate_seed(seed, arch)`); the batch order comes from `seed` alone. So a candidate
trained inside a batch of K gets the same numbers as when trained alone with the same seed
(to float rounding), and the K can be split over processes (`workers`).
"""

from __future__ import annotations

import math
import multiprocessing
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch

from mfas_core.search.batched import BatchedFusion, FastStep, WeightBank, candidate_seed
from mfas_core.search.ops import OpsFusion, all_concat
from mfas_core.search.space import Arch
from mfas_core.unimodal.features import read_feature_set

SPLITS = ("train", "val")


@dataclass
class FusionData:
    """Every modality's taps of the train and val splits, padded and stacked, plus labels.

    x and sizes hold one entry per modality, modality 1 first."""

    x: list[dict[str, torch.Tensor]]  # per modality: split -> [M_i, n, D_i]
    labels: dict[str, torch.Tensor]  # split -> [n] int64 or [n, C] float
    sizes: list[list[int]]  # per modality: its tap widths
    task: str
    n_classes: int
    dataset: str
    paths: tuple[str, ...] = ()
    pos_weight: torch.Tensor | None = field(default=None)

    @property
    def n_train(self) -> int:
        return int(self.labels["train"].shape[0])

    def to(self, device: torch.device | str) -> FusionData:
        mv = lambda d: {k: v.to(device) for k, v in d.items()}  # noqa: E731
        pw = None if self.pos_weight is None else self.pos_weight.to(device)
        return FusionData(
            [mv(x) for x in self.x], mv(self.labels), self.sizes, self.task, self.n_classes,
            self.dataset, self.paths, pw,
        )  # fmt: skip


def _stack_padded(layers: list[np.ndarray]) -> torch.Tensor:
    width = max(a.shape[1] for a in layers)
    out = torch.zeros(len(layers), layers[0].shape[0], width)
    for i, a in enumerate(layers):
        out[i, :, : a.shape[1]] = torch.from_numpy(a)
    return out


def load_fusion_data(*paths: str | Path) -> FusionData:
    """Read the feature files of 2 or more modalities (modality 1 first), checked to describe
    the same samples."""
    stores, splits = read_feature_set(list(paths), SPLITS)
    s1 = stores[0]
    x: list[dict[str, torch.Tensor]] = [{} for _ in stores]
    labels = {}
    for split, (taps, y1) in splits.items():
        for i, layers in enumerate(taps):
            x[i][split] = _stack_padded(layers)
        labels[split] = torch.from_numpy(
            y1.astype(np.float32) if s1.task == "multi" else y1.astype(np.int64)
        )
    pos_weight = None
    if s1.task == "multi":
        pos = labels["train"].sum(0)
        pos_weight = (len(labels["train"]) - pos) / pos.clamp(min=1.0)
    return FusionData(
        x, labels, [list(s.layer_sizes) for s in stores], s1.task, s1.n_classes, s1.dataset,
        tuple(str(p) for p in paths), pos_weight,
    )  # fmt: skip


def cosine_restart_lr(
    steps_per_epoch: int,
    epochs: int,
    lr: float,
    eta_min: float = 1e-6,
    t0: float = 1.0,
    t_mult: float = 2.0,
) -> np.ndarray:
    """Learning rate for every batch: cosine annealing with warm restarts, stepped per batch.

    The first cycle lasts t0 epochs, each next one t_mult times longer (the authors' search
    scheduler restarts after 1 epoch with multiplier 2).
    """
    t = np.arange(steps_per_epoch * epochs) / steps_per_epoch
    start, length = np.zeros_like(t), np.full_like(t, t0)
    for _ in range(64):  # advance each t to its cycle
        over = t >= start + length
        if not over.any():
            break
        start = np.where(over, start + length, start)
        length = np.where(over, length * t_mult, length)
    return eta_min + (lr - eta_min) * (1 + np.cos(math.pi * (t - start) / length)) / 2


def score_logits(
    task: str, logits: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-candidate validation scores from logits [K, n, C].

    single: (accuracy, nan); multi: (weighted F1, macro F1) at sigmoid > 0.5, as sklearn's
    f1_score(average="weighted"/"macro") with zero_division=0.
    """
    if task == "single":
        acc = (logits.argmax(-1) == y.unsqueeze(0)).float().mean(1)
        return acc, torch.full_like(acc, float("nan"))
    pred = logits > 0
    truth = y.bool().unsqueeze(0)
    tp = (pred & truth).sum(1).float()
    fp = (pred & ~truth).sum(1).float()
    fn = (~pred & truth).sum(1).float()
    denom = 2 * tp + fp + fn
    f1 = torch.where(denom > 0, 2 * tp / denom.clamp(min=1), torch.zeros_like(tp))
    support = truth[0].sum(0).float()
    weighted = (f1 * support).sum(1) / support.sum().clamp(min=1)
    return weighted, f1.mean(1)


@dataclass
class TrainResult:
    """Outcome of training K candidates together."""

    scores: list[float]  # best validation score over epochs (accuracy or weighted F1)
    macro_f1: list[float]  # multi-label: macro F1 at the best epoch; single-label: nan
    seconds: float  # wall time of the whole batched training
    layers: list[list[tuple[torch.Tensor, torch.Tensor]]]  # trained fusion layers per candidate
    bank_keys: list[list[str]]  # the weight-bank key of each of those layers


def evaluate(model: BatchedFusion, data: FusionData, split: str = "val", chunk: int = 4096):
    """Scores of every candidate on a split (eval mode, no dropout)."""
    model.eval()
    outs = []
    with torch.no_grad():
        n = data.labels[split].shape[0]
        for s in range(0, n, chunk):
            outs.append(model([x[split][:, s : s + chunk] for x in data.x]))
    model.train()
    return score_logits(data.task, torch.cat(outs, 1), data.labels[split])


def _dlogits_single(
    hot: torch.Tensor, minus_one: torch.Tensor, bsz: int, logits_t: torch.Tensor
) -> torch.Tensor:
    """d/dlogits of the per-candidate mean cross-entropy, (softmax - onehot) / B, in the
    transposed layout [K, C, B]; `hot` holds the flat positions of the true classes."""
    p = torch.softmax(logits_t, 1)
    p.view(-1).index_add_(0, hot, minus_one)
    return p.div_(bsz)


def _dlogits_multi(y_t: torch.Tensor, coef, logits_t: torch.Tensor) -> torch.Tensor:
    """d/dlogits of the per-candidate mean weighted BCE, ((pw·y + 1 - y)·σ - pw·y) / (B·C),
    in the transposed layout [K, C, B] (y_t [C, B], pos_weight [C, 1])."""
    pos_weight, denom = coef
    py = pos_weight * y_t
    return (torch.sigmoid(logits_t) * (py + 1 - y_t) - py).div_(denom)


def _dropout_keep(
    gens: list[torch.Generator], depths: list[int], steps: int, batch: int, width: int, p: float
) -> tuple[torch.Tensor, float]:
    """Dropout keep-masks for one epoch, [steps, L, K, B, W] float 0/1 (L = max depth), and
    the scale 1/(1-p) the kept units are multiplied by.

    Each candidate's masks come from its own generator, as random bytes in [steps, depth, B, W]
    order (8 per 64-bit draw, several times cheaper than uniform floats): a unit is kept when
    its byte is below round(256·(1-p)), so p is used in steps of 1/256 (0.5 exactly). A
    candidate draws for its own depth only, so its masks do not depend on the others beside
    it; the layers above a shallower candidate's last get zeros (they are never read).
    """
    keep = round(256 * (1 - p))
    n_layers = max(depths)
    fill = torch.empty if min(depths) == n_layers else torch.zeros
    masks = fill(steps, n_layers, len(gens), batch, width)
    for k, (g, depth) in enumerate(zip(gens, depths, strict=True)):
        n = steps * depth * batch * width
        raw = torch.randint(-(2**63), 2**63 - 1, ((n + 7) // 8,), generator=g, dtype=torch.int64)
        bytes_ = raw.view(torch.uint8)[:n].view(steps, depth, batch, width)
        torch.lt(bytes_, keep, out=masks[:, :depth, k])
    return masks, 256 / keep


class FlatAdam:
    """Adam (L2 weight decay, as torch.optim.Adam) on one flat parameter, one fused kernel per
    step where torch has it: at these sizes torch.optim's per-step Python overhead costs more
    than the update itself."""

    def __init__(self, param: torch.Tensor, grad: torch.Tensor, weight_decay: float):
        self.param, self.grad, self.wd = param, grad, weight_decay
        self.m, self.v = torch.zeros_like(param), torch.zeros_like(param)
        self.step_t = torch.zeros((), dtype=torch.float32, device=param.device)
        self.fused = hasattr(torch, "_fused_adam_") and param.device.type in ("cpu", "cuda")

    @torch.no_grad()
    def step(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.step_t += 1
        if self.fused:
            torch._fused_adam_(
                [self.param], [self.grad], [self.m], [self.v], [], [self.step_t], lr=lr,
                beta1=beta1, beta2=beta2, weight_decay=self.wd, eps=eps, amsgrad=False,
                maximize=False,
            )  # fmt: skip
            return
        t = float(self.step_t)
        g = self.grad.add(self.param, alpha=self.wd) if self.wd else self.grad
        self.m.lerp_(g, 1 - beta1)
        self.v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        denom = (self.v.sqrt() / math.sqrt(1 - beta2**t)).add_(eps)
        self.param.addcdiv_(self.m, denom, value=-lr / (1 - beta1**t))


def _train_together(archs: list[Arch], data: FusionData, progress=None, **kw) -> TrainResult:
    """train_candidates in this process, all K as one BatchedFusion (OpsFusion when a layer
    uses another operator than concat); kw are its settings."""
    fusion_ops = list(kw.pop("fusion_ops", None) or ["concat"])
    rank = kw.pop("lowrank_rank", 4)
    if not all(all_concat(a, len(data.sizes), fusion_ops) for a in archs):
        return _train_ops_together(archs, data, progress, fusion_ops, rank, **kw)
    epochs, width, dropout, lr = kw["epochs"], kw["width"], kw["dropout"], kw["lr"]
    weight_decay, batch_size, seed = kw["weight_decay"], kw["batch_size"], kw["seed"]
    nonlinearities, bank, device = kw["nonlinearities"], kw["bank"], kw["device"]
    t0 = time.perf_counter()
    device = torch.device(device)
    gens = [torch.Generator().manual_seed(candidate_seed(seed, a)) for a in archs]
    model = BatchedFusion(archs, data.sizes, width, data.n_classes, nonlinearities, dropout)
    model.init_candidates(gens, bank)
    model.to(device)
    flat = model.flatten_parameters()
    opt = FlatAdam(flat.data, flat.grad, weight_decay)
    n, bsz = data.n_train, min(batch_size, data.n_train)
    steps = n // bsz
    lrs = cosine_restart_lr(steps, epochs, lr).tolist()
    data_gen = torch.Generator().manual_seed(seed)
    y = data.labels["train"]
    k = len(archs)
    best = torch.full((k,), -1.0)
    best_macro = torch.full((k,), float("nan"))
    minus_one = torch.full((k * bsz,), -1.0, device=device)
    coef = None
    if data.pos_weight is not None:
        coef = (data.pos_weight.view(-1, 1), bsz * data.n_classes)
    multi = data.task == "multi"
    # Every tap row of a batch is gathered with one index_select per modality from its
    # flattened [M_i*n, D_i] features: row tap*n + sample, for each (layer, candidate) pair.
    flats = [x["train"].reshape(-1, x["train"].shape[-1]) for x in data.x]
    tap_rows = [(taps * n).view(1, -1, 1) for taps in model.taps]
    n_pairs = model.n_layers * k
    step_fn = FastStep(model, bsz)
    gathered = [torch.empty(n_pairs * bsz, f.shape[-1], device=device) for f in flats]
    gathered_v = [g.view(n_pairs, bsz, -1) for g in gathered]
    drop = torch.empty(model.n_layers, k, bsz, width, device=device)  # this step's masks
    drop_layers = drop.unbind(0) if dropout > 0 else None
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=data_gen)[: steps * bsz].to(device)
        batches = perm.view(steps, 1, bsz)
        rows = [(t + batches).view(steps, -1).unbind(0) for t in tap_rows]
        targets = y.index_select(0, perm).view(steps, bsz, *y.shape[1:])
        if multi:  # [steps, C, B]
            targets_t = targets.transpose(1, 2).contiguous()
            grads = [partial(_dlogits_multi, t, coef) for t in targets_t.unbind(0)]
        else:  # flat positions of the true class in the transposed [K*C*B] logits
            offsets = (torch.arange(k, device=device) * (data.n_classes * bsz)).view(1, k, 1)
            hot = offsets + (targets * bsz + torch.arange(bsz, device=device)).view(steps, 1, bsz)
            grads = [partial(_dlogits_single, h, minus_one, bsz) for h in hot.view(steps, -1)]
        if dropout > 0:
            keep, scale = _dropout_keep(gens, model.depths, steps, bsz, width, dropout)
            keep = keep.to(device).unbind(0)
        for s in range(steps):
            for flat, r, g in zip(flats, rows, gathered, strict=True):
                torch.index_select(flat, 0, r[s], out=g)
            if dropout > 0:
                torch.mul(keep[s], scale, out=drop)
            step_fn(gathered_v, drop_layers, grads[s])
            opt.step(lrs[epoch * steps + s])
            if progress is not None and s % 200 == 199:
                progress.update(200)
        if progress is not None:
            progress.update(steps % 200)
        score, macro = evaluate(model, data)
        score, macro = score.cpu(), macro.cpu()
        better = score > best
        best = torch.where(better, score, best)
        best_macro = torch.where(better, macro, best_macro)
    layers = [[model.get_layer(i, li) for li in range(d)] for i, d in enumerate(model.depths)]
    keys = [[model.bank_key(i, li) for li in range(d)] for i, d in enumerate(model.depths)]
    return TrainResult(
        scores=best.tolist(),
        macro_f1=best_macro.tolist(),
        seconds=time.perf_counter() - t0,
        layers=layers,
        bank_keys=keys,
    )


def _train_ops_together(archs, data: FusionData, progress, fusion_ops, rank, **kw) -> TrainResult:
    """As _train_together for candidates with other operators than concat:
    one OpsFusion, autograd backward, torch's fused Adam; the same per-candidate init generators,
    dropout masks, batch order and learning-rate schedule."""
    epochs, width, dropout, lr = kw["epochs"], kw["width"], kw["dropout"], kw["lr"]
    weight_decay, batch_size, seed = kw["weight_decay"], kw["batch_size"], kw["seed"]
    nonlinearities, bank, device = kw["nonlinearities"], kw["bank"], torch.device(kw["device"])
    t0 = time.perf_counter()
    gens = [torch.Generator().manual_seed(candidate_seed(seed, a)) for a in archs]
    model = OpsFusion(archs, data.sizes, width, data.n_classes, nonlinearities, fusion_ops,
                      rank, dropout)  # fmt: skip
    model.init_candidates(gens, bank)
    model.to(device)
    # fused: one kernel for every parameter tensor (half of a step's time at these sizes)
    fused = device.type in ("cpu", "cuda")
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay, fused=fused)
    n, bsz = data.n_train, min(batch_size, data.n_train)
    steps = n // bsz
    lrs = cosine_restart_lr(steps, epochs, lr).tolist()
    data_gen = torch.Generator().manual_seed(seed)
    y = data.labels["train"]
    k = len(archs)
    best = torch.full((k,), -1.0)
    best_macro = torch.full((k,), float("nan"))
    multi = data.task == "multi"
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=data_gen)[: steps * bsz].to(device)
        if dropout > 0:
            keep, scale = _dropout_keep(gens, [model.n_layers] * k, steps, bsz, width, dropout)
        for s in range(steps):
            idx = perm[s * bsz : (s + 1) * bsz]
            xs = [x["train"].index_select(1, idx) for x in data.x]
            drop = keep[s].to(device) * scale if dropout > 0 else None
            logits = model(xs, drop)  # [K, B, C]
            target = y.index_select(0, idx)
            if multi:  # per-candidate mean weighted BCE, summed over candidates
                loss = torch.nn.functional.binary_cross_entropy_with_logits(
                    logits, target.expand(k, *target.shape), pos_weight=data.pos_weight,
                    reduction="sum",
                ) / (bsz * data.n_classes)  # fmt: skip
            else:  # per-candidate mean cross-entropy, summed over candidates
                loss = (
                    torch.nn.functional.cross_entropy(
                        logits.reshape(k * bsz, -1), target.repeat(k), reduction="sum"
                    )
                    / bsz
                )
            for group in opt.param_groups:
                group["lr"] = lrs[epoch * steps + s]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if progress is not None and s % 200 == 199:
                progress.update(200)
        if progress is not None:
            progress.update(steps % 200)
        score, macro = evaluate(model, data)
        score, macro = score.cpu(), macro.cpu()
        better = score > best
        best = torch.where(better, score, best)
        best_macro = torch.where(better, macro, best_macro)
    return TrainResult(
        scores=best.tolist(),
        macro_f1=best_macro.tolist(),
        seconds=time.perf_counter() - t0,
        layers=[[model.get_layer(i, li) for li in range(model.n_layers)] for i in range(k)],
        bank_keys=[[model.bank_key(i, li) for li in range(model.n_layers)] for i in range(k)],
    )


# Set just before a fork so forked workers see the features without pickling them.
_FORK_DATA: FusionData | None = None


def plan_chunks(
    archs: list[Arch],
    workers: int,
    n_modalities: int | None = None,
    fusion_ops: list[str] | None = None,
) -> list[list[list[int]]]:
    """Which process trains which candidates: per process, a list of chunks of indices.

    All-concat candidates of every depth form one group (one hand-written `BatchedFusion`
    holds mixed depths); given `n_modalities` and several `fusion_ops`, the others are grouped
    by depth (one OpsFusion each). With at least as many groups as workers, whole groups go to
    processes, deepest first, each to the process with the least work so far (cost ~ deepest
    + 1 per group). Otherwise the groups are split into contiguous chunks until there are
    `workers` of them. The plan depends only on the architectures' order and `workers`, so
    the same config always trains the same chunks and gives bit-identical numbers.
    """
    groups: dict[tuple, list[int]] = {}
    for i, a in enumerate(archs):
        concat = n_modalities is None or all_concat(a, n_modalities, fusion_ops)
        groups.setdefault((0 if concat else len(a), concat), []).append(i)
    chunks = [groups[d] for d in sorted(groups, reverse=True)]
    workers = max(1, min(workers, len(archs)))
    if len(chunks) < workers:
        split: list[list[int]] = []
        extra = workers - len(chunks)
        sizes = np.array([len(c) for c in chunks], dtype=float)
        parts = np.ones(len(chunks), dtype=int)
        for _ in range(extra):  # split the group with the most candidates per part
            j = int(np.argmax(sizes / parts))
            parts[j] += 1
        for c, n_parts in zip(chunks, parts, strict=True):
            bounds = np.linspace(0, len(c), n_parts + 1).round().astype(int)
            split += [c[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
        return [[c] for c in split]
    load = [0.0] * workers
    plan: list[list[list[int]]] = [[] for _ in range(workers)]
    for c in chunks:
        w = int(np.argmin(load))
        plan[w].append(c)
        load[w] += max(len(archs[i]) for i in c) + 1
    return [p for p in plan if p]


def _train_chunks(archs: list[Arch], chunks: list[list[int]], data, progress, kwargs) -> dict:
    """Train each chunk (all-concat candidates, or one depth of others) as one net, in turn."""
    out = {}
    for c in chunks:
        res = _train_together([archs[i] for i in c], data, progress=progress, **kwargs)
        for j, i in enumerate(c):
            out[i] = (res.scores[j], res.macro_f1[j], res.layers[j], res.bank_keys[j])
    return out


def _train_chunk_worker(archs: list[Arch], chunks: list[list[int]], kwargs: dict) -> dict:
    """Worker side of train_candidates: its chunks, results as plain arrays for the pipe."""
    torch.set_num_threads(1)
    out = _train_chunks(archs, chunks, _FORK_DATA, None, kwargs)
    return {
        i: (s, m, [tuple(t.numpy() for t in layer) for layer in layers], keys)
        for i, (s, m, layers, keys) in out.items()
    }


def train_candidates(
    archs: list[Arch],
    data: FusionData,
    *,
    epochs: int,
    width: int,
    dropout: float,
    lr: float,
    weight_decay: float,
    batch_size: int,
    nonlinearities: list[str],
    seed: int,
    bank: WeightBank | None = None,
    device: torch.device | str = "cpu",
    progress=None,
    workers: int = 1,
    fusion_ops: list[str] | tuple[str, ...] = ("concat",),
    lowrank_rank: int = 4,
) -> TrainResult:
    """Train K architectures together for `epochs` epochs; score each on val.

    The score is the best validation score over the epochs (authors' code). Fusion layers
    start from `bank` where their key is present; the bank itself is not modified here
    (the caller decides what to write back). The last incomplete batch of an epoch is dropped.
    `data` must already be on `device`. `progress`: optional tqdm-like object with .update(n).
    Candidates of different depths train as one batched net (`plan_chunks`): all-concat
    candidates on the hand-written BatchedFusion path, with several `fusion_ops` the others as
    one OpsFusion per depth (autograd).

    workers > 1 (CPU only, where fork exists): the candidates are split by `plan_chunks`,
    trained at the same time by this process and forked workers. A candidate's numbers do not
    depend on which others train beside it (its own init and dropout generator, the shared
    batch order), so the result equals workers=1 up to float rounding (bmm picks its kernel by
    batch size); the same `workers` always gives identical results, which is why the search
    takes it from the config (`search.workers`), not from the rule's threads.
    On CPU, where a step is per-op overhead, this is the way to use a second core.
    """
    kwargs = dict(
        epochs=epochs, width=width, dropout=dropout, lr=lr, weight_decay=weight_decay,
        batch_size=batch_size, nonlinearities=nonlinearities, seed=seed, bank=bank,
        device=device, fusion_ops=list(fusion_ops), lowrank_rank=lowrank_rank,
    )  # fmt: skip
    t0 = time.perf_counter()
    if torch.device(device).type != "cpu" or "fork" not in multiprocessing.get_all_start_methods():
        workers = 1
    several = len(fusion_ops) > 1
    plan = plan_chunks(archs, workers, len(data.sizes) if several else None, list(fusion_ops))
    if len(plan) == 1 and len(plan[0]) == 1:
        return _train_together(archs, data, progress=progress, **kwargs)
    if len(plan) == 1:
        got = _train_chunks(archs, plan[0], data, progress, kwargs)
    else:
        global _FORK_DATA
        _FORK_DATA = data
        try:
            with multiprocessing.get_context("fork").Pool(len(plan) - 1) as pool:
                pending = [
                    pool.apply_async(_train_chunk_worker, (archs, p, kwargs)) for p in plan[1:]
                ]
                got = _train_chunks(archs, plan[0], data, progress, kwargs)
                for job in pending:
                    for i, (s, m, layers, keys) in job.get().items():
                        layers = [tuple(torch.from_numpy(t) for t in layer) for layer in layers]
                        got[i] = (s, m, layers, keys)
        finally:
            _FORK_DATA = None
    order = range(len(archs))
    return TrainResult(
        scores=[got[i][0] for i in order],
        macro_f1=[got[i][1] for i in order],
        seconds=time.perf_counter() - t0,
        layers=[got[i][2] for i in order],
        bank_keys=[got[i][3] for i in order],
    )


def write_back(bank: WeightBank, archs_result: TrainResult) -> int:
    """Write trained fusion layers into the bank after a batched step; returns keys written.

    Candidates of one step all started from the bank as it was before the step. For every key
    that several of them used, the layer of the best-scoring candidate (first on ties) is kept,
    so the bank moves forward once per step with the best evidence of that step.
    """
    chosen: dict[str, tuple[float, int, int]] = {}
    for i, keys in enumerate(archs_result.bank_keys):
        for layer, key in enumerate(keys):
            score = archs_result.scores[i]
            if key not in chosen or score > chosen[key][0]:
                chosen[key] = (score, i, layer)
    for key, (_, i, layer) in chosen.items():
        bank.put(key, *archs_result.layers[i][layer])
    return len(chosen)
