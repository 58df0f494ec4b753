"""A picture of one found architecture: which tap of each modality enters which fusion layer.

The diagram is Graphviz DOT text written here (`architecture_dot`, a pure function) and
rendered by the `dot` binary (`make system-tools` installs Debian's graphviz). Read top to
bottom: each modality's backbone taps, shallow to deep, with their widths; fusion layer l
takes one tap of every modality (t_1 of modality 1, …, t_N of modality N) and fusion layer
l-1's output, maps them
linearly to `width` units and applies its nonlinearity (MFAS Eq. 1-2,
`mfas_core.models.mfas_net.MFASNet`); a linear classifier follows the last fusion layer.
Taps the architecture does not use are drawn grey and dashed.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mfas_core.atomic import atomic_files, read_metrics
from mfas_core.errors import InputError
from mfas_core.final.select import choose_top1
from mfas_core.search.space import Arch, arch_to_text, layer_op, text_to_arch
from mfas_core.unimodal.features import FeatureStore

# One picture per top-k architecture of a search; the search table links to these paths.
ARCH_SVG = "results/plots/arch/{dataset}/seed{seed}/rank{rank}.svg"
TOP1_SVG = "results/plots/arch/{dataset}/top1.svg"
NO_DOT = (
    "graphviz 'dot' not found on PATH: `make system-tools` installs it "
    "(Debian/Ubuntu: apt-get install graphviz)"
)


def _q(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def tap_node(modality: int, k: int) -> str:
    return f"m{modality}_t{k}"


def architecture_dot(
    arch: Arch | str,
    modalities: Sequence[str],
    tap_sizes: Sequence[Sequence[int]],
    width: int,
    n_classes: int,
    nonlinearities: Sequence[str],
    title: str = "",
    fusion_ops: Sequence[str] = ("concat",),
    lowrank_rank: int = 4,
) -> str:
    """DOT text of one architecture.

    fusion_ops: the search's operators; with more than one, a layer is (t_1, …, t_N, p, o)
    and its node names operator o.

    arch: layers (t_1, …, t_N, p), 1-based, or their text form '5-3-1_4-1-2'; modalities:
    the N names, modality 1 first; tap_sizes: the N lists of tap widths (feature files'
    layer_sizes); width: units of every fusion layer; nonlinearities: index p-1 is p.
    Nodes: m<i>_t<k> (tap k of modality i), fusion<l>, classifier. Edges: each backbone's
    taps in order, the N taps of layer l -> fusion<l>, fusion<l> -> fusion<l+1>, the last
    fusion layer -> classifier.
    """
    n_mod = len(modalities)
    if n_mod < 2 or len(tap_sizes) != n_mod:
        raise ValueError("architecture_dot: needs 2 or more modalities and one tap-size list each")
    ops = list(fusion_ops)
    n_fields = n_mod + 1 + (len(ops) > 1)
    if isinstance(arch, str):
        arch = text_to_arch(arch, n_mod, len(ops))
    else:
        arch = tuple(tuple(t) for t in arch)
    bounds = (
        [len(s) for s in tap_sizes] + [len(nonlinearities)] + ([len(ops)] if len(ops) > 1 else [])
    )
    names = ["M", "N"] if n_mod == 2 else [f"M{i}" for i in range(1, n_mod + 1)]
    for li, layer in enumerate(arch, 1):
        if len(layer) != n_fields or not all(
            1 <= v <= b for v, b in zip(layer, bounds, strict=True)
        ):
            limits = ", ".join(f"{m}={b}" for m, b in zip(names, bounds, strict=False))
            raise ValueError(
                f"{arch_to_text(arch)}: layer {li} ({', '.join(map(str, layer))}) is outside "
                f"{limits}, P={len(nonlinearities)}" + (f", O={len(ops)}" if len(ops) > 1 else "")
            )
    used = [{t[i] for t in arch} for i in range(n_mod)]
    lines = [
        "digraph architecture {",
        "  graph [rankdir=TB, fontname=Helvetica, labelloc=t, nodesep=0.3, ranksep=0.45"
        + (f", label={_q(title)}" if title else "")
        + "];",
        '  node [fontname=Helvetica, fontsize=11, shape=box, style="rounded,filled"];',
        "  edge [fontname=Helvetica, fontsize=9];",
    ]
    for i, (name, sizes) in enumerate(zip(modalities, tap_sizes, strict=True), 1):
        lines.append(f"  subgraph cluster_m{i} {{")
        lines.append(f"    label={_q(f'modality {i}: {name}')}; style=dashed; color=grey50;")
        for k, d in enumerate(sizes, 1):
            style = (
                "fillcolor=lightblue"
                if k in used[i - 1]
                else 'fillcolor=white, color=grey60, fontcolor=grey50, style="rounded,dashed"'
            )
            lines.append(f"    {tap_node(i, k)} [label={_q(f'tap {k}: {d}')}, {style}];")
        for k in range(1, len(sizes)):
            lines.append(
                f"    {tap_node(i, k)} -> {tap_node(i, k + 1)} [color=grey60, arrowsize=0.6];"
            )
        lines.append("  }")
    for li, layer in enumerate(arch, 1):
        taps, p = layer[:n_mod], layer[n_mod]
        op = ops[layer_op(layer, n_mod) - 1]
        dims = [sizes[t - 1] for sizes, t in zip(tap_sizes, taps, strict=True)]
        parts = [str(d) for d in dims] + ([str(width)] if li > 1 else [])
        if op == "concat":
            label = (
                f"fusion layer {li}\n[{' ; '.join(parts)}] = {sum(dims) + (width if li > 1 else 0)}"
                f" → linear {width}\n{nonlinearities[p - 1]}"
            )
        else:
            what = {"product": "⊙ of projections", "gated": "gated sum of projections",
                    "lowrank": f"low-rank (r={lowrank_rank}) tensor product"}[op]  # fmt: skip
            label = (
                f"fusion layer {li}: {op}\n{' , '.join(parts)} → {what} {width}"
                f"\n{nonlinearities[p - 1]}"
            )
        lines.append(f"  fusion{li} [label={_q(label)}, fillcolor=lightyellow];")
        for i, (t, d) in enumerate(zip(taps, dims, strict=True), 1):
            lines.append(f"  {tap_node(i, t)} -> fusion{li} [label={_q(f'tap {t} ({d})')}];")
        if li > 1:
            lines.append(f"  fusion{li - 1} -> fusion{li} [label={_q(str(width))}];")
    head = f"classifier\nlinear {width} → {n_classes} classes"
    lines.append(f"  classifier [label={_q(head)}, fillcolor=palegreen];")
    lines.append(f"  fusion{len(arch)} -> classifier [label={_q(str(width))}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(dot_text: str) -> str:
    """SVG text of a DOT graph, rendered by Graphviz's `dot` (one clear line if it is missing)."""
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(NO_DOT)
    proc = subprocess.run([exe, "-Tsvg"], input=dot_text, capture_output=True, text=True)
    if proc.returncode != 0 or "<svg" not in proc.stdout:
        first = (proc.stderr.strip().splitlines() or ["no output"])[0]
        raise RuntimeError(f"dot -Tsvg failed (exit {proc.returncode}): {first}")
    return proc.stdout


def write_svgs(pictures: list[tuple[str, str]]) -> None:
    """Render every (DOT text, output path) first, then move all SVGs into place together:
    a failed rendering leaves no picture behind."""
    svgs = [render_svg(dot) for dot, _ in pictures]
    with atomic_files([out for _, out in pictures]) as tmps:
        for tmp, svg in zip(tmps, svgs, strict=True):
            Path(tmp).write_text(svg)


def feature_shapes(features: Sequence[str]) -> tuple[list[str], list[list[int]], int]:
    """Modality names, tap widths and class count from the feature files' attributes (one file
    per modality, modality 1 first)."""
    if len(features) < 2:
        raise ValueError(f"feature_shapes: needs 2 or more feature files, got {list(features)}")
    stores = [FeatureStore(f) for f in features]
    s1 = stores[0]
    for store, path in zip(stores[1:], features[1:], strict=True):
        for attr in ("dataset", "n_classes"):
            if getattr(s1, attr) != getattr(store, attr):
                raise InputError(
                    path,
                    f"attrs/{attr}",
                    f"{getattr(store, attr)!r} differs from {getattr(s1, attr)!r} in {features[0]}",
                )
    return [s.modality for s in stores], [s.layer_sizes for s in stores], s1.n_classes


def plot_architectures(
    topk_tsv: str,
    features: Sequence[str],
    out_svgs: Sequence[str],
    *,
    dataset: str,
    seed: int,
    width: int,
    nonlinearities: Sequence[str],
    fusion: dict | None = None,
) -> list[str]:
    """One picture per rank 1..len(out_svgs) of a search's topk.tsv (out_svgs in rank order);
    returns the architectures drawn."""
    frame = pd.read_csv(topk_tsv, sep="\t")
    for col in ("rank", "architecture", "val_score"):
        if col not in frame.columns:
            raise InputError(topk_tsv, col, "column missing")
    modalities, sizes, n_classes = feature_shapes(features)
    pictures, drawn = [], []
    for rank, out in enumerate(out_svgs, 1):
        row = frame[frame["rank"] == rank]
        if row.empty:
            raise InputError(topk_tsv, "rank", f"no rank {rank} (has {len(frame)} rows)")
        arch, val = str(row["architecture"].iloc[0]), float(row["val_score"].iloc[0])
        title = f"{dataset}, search seed {seed}, rank {rank}: {arch} (search val {val:.4f})"
        try:
            dot = architecture_dot(
                arch, modalities, sizes, width, n_classes, nonlinearities, title, **(fusion or {})
            )
        except ValueError as exc:
            raise InputError(topk_tsv, f"rank {rank}/architecture", str(exc)) from None
        pictures.append((dot, str(out)))
        drawn.append(arch)
    write_svgs(pictures)
    return drawn


def dataset_top1(metrics: list[dict], dataset: str) -> dict:
    """MFAS top 1 of a dataset: `choose_top1`'s rank of each search seed (best mean final
    validation score over training seeds); with several search seeds, the one whose choice
    has the best mean validation score (ties: the lower search seed). Reads no test number."""
    runs = [m for m in metrics if m["method"] == "mfas" and m["dataset"] == dataset]
    if not runs:
        raise ValueError(f"no MFAS final-training metrics of dataset {dataset!r}")
    best = None
    for (_, search_seed), rank in sorted(choose_top1(runs).items()):
        chosen = [
            m for m in runs if int(m["search_seed"]) == search_seed and int(m["rank"]) == rank
        ]
        val = float(np.mean([float(m["val"]) for m in chosen]))
        if best is None or val > best["val"]:
            best = dict(search_seed=search_seed, rank=rank, val=val,
                        architecture=str(chosen[0]["architecture"]))  # fmt: skip
    return best


def plot_top1_architecture(
    metrics_paths: Sequence[str],
    features: Sequence[str],
    out_svg: str,
    *,
    dataset: str,
    width: int,
    nonlinearities: Sequence[str],
    fusion: dict | None = None,
) -> dict:
    """The picture of a dataset's MFAS top 1 (final-training width); returns the choice."""
    top = dataset_top1(read_metrics(metrics_paths), dataset)
    modalities, sizes, n_classes = feature_shapes(features)
    title = (
        f"{dataset}: MFAS top 1 = search seed {top['search_seed']}, rank {top['rank']}: "
        f"{top['architecture']} (final val {top['val']:.4f})"
    )
    dot = architecture_dot(
        top["architecture"],
        modalities,
        sizes,
        width,
        n_classes,
        nonlinearities,
        title,
        **(fusion or {}),
    )
    write_svgs([(dot, str(out_svg))])
    return top
