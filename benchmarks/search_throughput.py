"""Architectures trained per second during the MFAS search, three ways, on one AV-MNIST run.

(a) batched:     K candidates of a step train together on cached features, in one process;
(a2) batched, split: the same, with the K candidates split over --workers processes (what the
    workflow does on CPU with the rule's threads);
(b) one by one:  the same candidates trained one after another on cached features;
(c) backbones in the loop: as the authors' code, every batch of every candidate runs both frozen
    backbones on the raw inputs, then the fusion net (a few hundred batches, extrapolated).
Rates are for one training epoch over the training split per architecture. Optionally
(--full-search) also times the whole default search (levels 1..L) on the same features, with
--workers processes as the workflow runs it.

--random-step times one step of a mixed-depth random search (K architectures, depths 1..L in
turn, one epoch) trained as one net holding every depth (what the search does) against one net
per depth, one after another (how it trained before), with the largest score difference.

--spaces adds a second table: per-architecture speed of K random two-layer candidates of the
paper space (fusion_ops [concat]) next to the extended space (concat, product, gated,
lowrank: a random mix, then K of each operator alone), for the given two modalities and for
three (the feature set with modality 2's taps again as modality 3). Without --data only that
table is printed.

Usage (real data, after the default workflow built the features):
  .venv/bin/python benchmarks/search_throughput.py \
      --features results/features/avmnist/audio.h5 results/features/avmnist/image.h5 \
      --data results/data/avmnist.h5 --backbones results/backbones/avmnist --full-search
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from mfas_core.data.registry import get_kind
from mfas_core.data.schema import read_attrs, read_split
from mfas_core.search.batched import BatchedFusion, candidate_seed
from mfas_core.search.settings import SearchSettings, level_params
from mfas_core.search.smbo import run_search_level
from mfas_core.search.space import FUSION_OPS, SearchSpace
from mfas_core.search.trainer import (
    FusionData,
    cosine_restart_lr,
    load_fusion_data,
    train_candidates,
)
from mfas_core.settings import schema_defaults
from mfas_core.unimodal.backbones import build_backbone, load_backbone


def train_kwargs(cfg: dict, epochs: int) -> dict:
    keys = ("width", "dropout", "lr", "weight_decay", "batch_size", "nonlinearities")
    return {"epochs": epochs, **{k: cfg[k] for k in keys}}


def backbones_in_loop(
    data_path: str, backbone_dir: str | None, arch, cfg: dict, n_batches: int, sizes,
    device: str = "cpu",
) -> float:  # fmt: skip
    """Seconds per training batch of one candidate when the frozen backbones run every batch."""
    attrs = read_attrs(data_path)
    mods = attrs["modalities"]
    x, y = read_split(data_path, "train")
    nets = []
    for m in mods:
        spec = get_kind("avmnist").backbones[m]
        shape = tuple(attrs["shapes"][m])
        path = Path(backbone_dir or "") / f"{m}.pt"
        net = (
            load_backbone(path, spec, shape, len(attrs["classes"]))
            if backbone_dir and path.exists()
            else build_backbone(spec, shape, len(attrs["classes"]))
        )
        nets.append(net.eval().to(device))
    fusion = BatchedFusion([arch], sizes, cfg["width"], 10, cfg["nonlinearities"])
    fusion.init_candidates([torch.Generator().manual_seed(candidate_seed(0, arch))], None)
    fusion = fusion.to(device)
    opt = torch.optim.Adam(fusion.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    lrs = cosine_restart_lr(n_batches, 1, cfg["lr"])
    rng = np.random.default_rng(0)
    bsz = cfg["batch_size"]
    labels = torch.from_numpy(y.astype(np.int64)).to(device)
    drop = torch.nn.Dropout(cfg["dropout"])
    t0 = time.perf_counter()
    for step in range(n_batches):
        idx = rng.integers(0, len(labels), bsz)
        with torch.no_grad():
            taps = [
                net.taps(torch.from_numpy(x[m][idx]).to(device))
                for net, m in zip(nets, mods, strict=True)
            ]
        pads = []
        for t in taps:
            width = max(v.shape[1] for v in t)
            pads.append(
                torch.stack([torch.nn.functional.pad(v, (0, width - v.shape[1])) for v in t])
            )
        logits = fusion(pads, None)
        loss = torch.nn.functional.cross_entropy(drop(logits[0]), labels[idx])
        for g in opt.param_groups:
            g["lr"] = float(lrs[step])
        opt.zero_grad()
        loss.backward()
        opt.step()
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / n_batches


def three_modalities(data: FusionData) -> FusionData:
    """`data` with modality 2's taps again as a third modality (same widths and samples)."""
    return FusionData(
        [*data.x, data.x[1]], data.labels, [*data.sizes, data.sizes[1]], data.task,
        data.n_classes, data.dataset, data.paths, data.pos_weight,
    )  # fmt: skip


def spaces_rows(data: FusionData, cfg: dict, k: int, device) -> list[tuple[str, int, float]]:
    """(space, candidates, seconds) of one training epoch of K random two-layer candidates:
    the paper space, the extended space (random operators), and each new operator alone;
    each timed after one untimed warm-up run of the same candidates."""
    kw = {**train_kwargs(cfg, epochs=1), "device": device, "lowrank_rank": cfg["lowrank_rank"]}
    taps = tuple(len(s) for s in data.sizes)
    n_mod = len(taps)
    out = []
    paper = SearchSpace(taps, len(cfg["nonlinearities"]), 2)
    ext = SearchSpace(taps, len(cfg["nonlinearities"]), 2, ops=len(FUSION_OPS))
    runs = [("paper (concat)", paper, None), ("extended (random operators)", ext, None)]
    runs += [(f"extended, {op} only", ext, o) for o, op in enumerate(FUSION_OPS[1:], 2)]
    for name, space, only in runs:
        rng = np.random.default_rng(0)
        archs: dict = {}
        while len(archs) < k:
            a = space.random_arch(rng, 2)
            if only is not None:
                a = tuple((*t[: n_mod + 1], only) for t in a)
            archs.setdefault(a, None)
        ops = ["concat"] if space.ops == 1 else list(FUSION_OPS)
        train_candidates(list(archs), data, seed=0, fusion_ops=ops, **kw)  # warm-up, untimed
        res = train_candidates(list(archs), data, seed=0, fusion_ops=ops, **kw)
        out.append((name, k, res.seconds))
    return out


def spaces_table(data: FusionData, cfg: dict, k: int, device) -> list[str]:
    lines = [
        f"Paper space and extended space (fusion_ops {list(FUSION_OPS)}, lowrank rank "
        f"{cfg['lowrank_rank']}): K={k} random two-layer candidates each, one epoch of "
        f"{data.n_train} samples, batch {cfg['batch_size']}, one process; N=3 repeats "
        "modality 2's taps as modality 3.",
        "",
        "| modalities | space | architectures / s | s per architecture-epoch | vs paper space |",
        "|---|---|---|---|---|",
    ]
    for n_mod, d in ((2, data), (3, three_modalities(data))):
        rows = spaces_rows(d, cfg, k, device)
        base = rows[0][2]
        for name, n, sec in rows:
            lines.append(
                f"| {n_mod} | {name} | {n / sec:.3f} | {sec / n:.3f} | {sec / base:.2f}× time |"
            )
    return lines


def random_step_table(data: FusionData, space: SearchSpace, cfg: dict, kw: dict) -> list[str]:
    """One paper random-search step: one mixed-depth net against one net per depth."""
    rng = np.random.default_rng(1)
    # every depth 1..L in turn, so the step is mixed however small the space
    draws = (space.random_arch(rng, 1 + i % space.max_layers) for i in range(cfg["k"] * 4))
    archs = list(dict.fromkeys(draws))[: cfg["k"]]
    one = train_candidates(archs, data, seed=1, **kw)
    t0 = time.perf_counter()
    scores = {}
    for depth in sorted({len(a) for a in archs}, reverse=True):
        idx = [i for i, a in enumerate(archs) if len(a) == depth]
        res = train_candidates([archs[i] for i in idx], data, seed=1, **kw)
        scores |= {i: s for i, s in zip(idx, res.scores, strict=True)}
    per_depth = time.perf_counter() - t0
    diff = max(abs(one.scores[i] - scores[i]) for i in range(len(archs)))
    depths = ", ".join(str(sum(len(a) == d for a in archs)) for d in range(1, space.max_layers + 1))
    return [
        f"One random-search step: K={len(archs)} architectures of depths 1..{space.max_layers} "
        f"({depths} of each), 1 epoch; largest validation-score difference {diff:.4f}.",
        "",
        "| random-search step | s | ratio |",
        "|---|---|---|",
        f"| one net, every depth | {one.seconds:.3g} | {per_depth / one.seconds:.2f}× |",
        f"| one net per depth | {per_depth:.3g} | 1 |",
    ]


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--features", nargs=2, required=True, help="modality-1 and modality-2 feature files"
    )
    ap.add_argument(
        "--data", default=None, help="dataset HDF5 with the raw inputs (for c; without it only "
        "the --spaces table)",
    )  # fmt: skip
    ap.add_argument(
        "--backbones", default=None, help="folder with <modality>.pt (else untrained nets)"
    )
    ap.add_argument("--one-by-one", type=int, default=3, help="candidates timed alone in (b)")
    ap.add_argument("--loop-batches", type=int, default=200, help="batches timed in (c)")
    ap.add_argument(
        "--threads", type=int, default=1, help="torch threads (the search uses 1 on CPU)"
    )
    ap.add_argument("--workers", type=int, default=2, help="processes for (a2) and the full search")
    ap.add_argument("--full-search", action="store_true", help="also time levels 1..L")
    ap.add_argument(
        "--random-step", action="store_true", help="also: a mixed-depth step, one net vs per depth"
    )
    ap.add_argument(
        "--spaces", action="store_true", help="also: paper vs extended space, N=2 vs N=3"
    )
    ap.add_argument("--spaces-k", type=int, default=None, help="K of --spaces (default search.k)")
    ap.add_argument(
        "--device", default="cpu", help="torch device, e.g. cuda (then (a2) is skipped: CPU only)"
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = schema_defaults("search")
    dev = torch.device(args.device)
    data = load_fusion_data(*args.features).to(dev)
    sizes = data.sizes
    space = SearchSpace(tuple(len(s) for s in sizes), len(cfg["nonlinearities"]), cfg["max_layers"])
    rng = np.random.default_rng(0)
    archs = list(dict.fromkeys(space.random_arch(rng, 2) for _ in range(cfg["k"] * 2)))[: cfg["k"]]
    kw = {**train_kwargs(cfg, epochs=1), "device": dev}
    steps = data.n_train // cfg["batch_size"]
    if args.data is None:
        if not args.spaces:
            ap.error("--data is required unless --spaces")
        text = "\n".join(spaces_table(data, cfg, args.spaces_k or cfg["k"], dev))
        print(text)
        return text

    res = train_candidates(archs, data, seed=0, **kw)
    rate_a = len(archs) / res.seconds
    on_cpu = dev.type == "cpu"  # forked workers split the K candidates on the CPU only
    if on_cpu:
        res2 = train_candidates(archs, data, seed=0, workers=args.workers, **kw)
        rate_a2 = len(archs) / res2.seconds
    t0 = time.perf_counter()
    for a in archs[: args.one_by_one]:
        train_candidates([a], data, seed=0, **kw)
    rate_b = args.one_by_one / (time.perf_counter() - t0)
    per_batch = backbones_in_loop(
        args.data, args.backbones, archs[0], cfg, args.loop_batches, sizes, dev
    )
    rate_c = 1.0 / (per_batch * steps)

    lines = [
        f"AV-MNIST, {data.n_train} training samples, batch {cfg['batch_size']}, 1 epoch per "
        f"architecture, K={len(archs)} two-layer candidates, {args.threads} intra-op threads, "
        f"device {dev}.",
        "",
        "| mode | architectures / s | s per architecture-epoch | ratio |",
        "|---|---|---|---|",
        f"| (a) batched, cached features | {rate_a:.3f} | {1 / rate_a:.2f} | a/c = {rate_a / rate_c:.0f}× |",
    ]
    if on_cpu:
        lines.append(
            f"| (a2) batched, K split over {args.workers} processes | {rate_a2:.3f} | "
            f"{1 / rate_a2:.2f} | a2/c = {rate_a2 / rate_c:.0f}× |"
        )
    lines += [
        f"| (b) one by one, cached features | {rate_b:.3f} | {1 / rate_b:.2f} | a/b = {rate_a / rate_b:.1f}× |",
        f"| (c) backbones in the loop (extrapolated from {args.loop_batches} batches) | "
        f"{rate_c:.5f} | {1 / rate_c:.1f} | 1 |",
    ]
    if args.full_search:
        settings = SearchSettings.from_params(
            **level_params({**cfg, "workers": args.workers}, args.device, 0)
        )
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            prev = None
            for level in range(1, cfg["max_layers"] + 1):
                out = f"{tmp}/level{level}"
                run_search_level(list(args.features), out, level, prev, settings)
                prev = out
            total = time.perf_counter() - t0
        n = len(space.level_one()) + (cfg["max_layers"] - 1) * cfg["iterations"] * cfg["k"]
        lines += [
            "",
            f"Whole default search (L={cfg['max_layers']}, E_search={cfg['iterations']}, "
            f"K={cfg['k']}, E_train={cfg['epochs']}; {n} architectures; {args.workers} "
            f"processes): {total:.1f} s wall.",
        ]
    if args.random_step:
        lines += ["", *random_step_table(data, space, cfg, kw)]
    if args.spaces:
        lines += ["", *spaces_table(data, cfg, args.spaces_k or cfg["k"], dev)]
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
