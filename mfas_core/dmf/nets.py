"""Dense Multimodal Fusion (Hu et al.): EMF, IMF and DMF networks, their training and encoding.

Every model is a small directed graph of sigmoid layers (paper Fig. 1, Eq. 1-4), for N >= 2
modality pathways (prefixes `PATHWAYS`: x, y, z, ...):
- x1, y1, (z1, ...) are the inputs; x2.., y2.. the modality layers; s1.. the shared layers.
- EMF: [x1; y1; ...] -> s1 -> s2 -> ... (early fusion).
- IMF: x1 -> x2 -> .. -> xL, same for every pathway, then one shared layer sL on [xL; yL; ...].
- DMF: s_l = f(W h^x_l + W h^y_l + ... + W s_(l-1)) for every level l (Eq. 3): one term per
  pathway plus the shared layer below.
A node's pre-activation is one Linear over the concatenation of its sources, which equals the
paper's sum of per-source weight matrices. The encoder-decoder variant adds the reversed graph
(every edge flipped) that reconstructs every input from the top shared layer.
"""

from __future__ import annotations

from pathlib import Path
from pickle import UnpicklingError

import torch
from torch import nn

from mfas_core.errors import InputError

MODELS = ("emf", "imf", "dmf")
VARIANTS = ("disc", "encdec")
# Node-name prefixes of the modality pathways, in the dataset's modality order (8 at most, as
# the data schema allows); "s" is the shared pathway.
PATHWAYS = ("x", "y", "z", "u", "v", "w", "p", "q")


def pathways(n: int) -> tuple[str, ...]:
    """The node prefixes of n modality pathways."""
    if not 2 <= n <= len(PATHWAYS):
        raise ValueError(f"in_sizes: DMF takes 2 to {len(PATHWAYS)} modalities, got {n}")
    return PATHWAYS[:n]


def graph_spec(
    model: str, in_sizes: tuple[int, ...], modality_sizes: list[int], shared_sizes: list[int]
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Nodes (name -> width, in topological order) and edges (source, target) of a model.

    One modality pathway per entry of in_sizes (its input width); a shared node's sources are
    in pathway order, then the shared layer below (the order of the weight's column blocks).

    modality_sizes are the hidden widths after each input (paper [512, 128] for [392, 512, 128]);
    shared_sizes has one width per level (paper [512, 256, 64]), so it must be one longer.
    """
    if model not in MODELS:
        raise ValueError(f"model: {model!r} is not one of {MODELS}")
    levels = len(modality_sizes) + 1
    if len(shared_sizes) != levels:
        raise ValueError(
            f"shared_sizes: needs {levels} widths (one per level, modality_sizes + 1), "
            f"got {len(shared_sizes)}"
        )
    paths = pathways(len(in_sizes))
    nodes: dict[str, int] = {f"{m}1": int(w) for m, w in zip(paths, in_sizes, strict=True)}
    edges: list[tuple[str, str]] = []
    if model != "emf":  # modality pathways
        for m in paths:
            for level, width in enumerate(modality_sizes, start=2):
                nodes[f"{m}{level}"] = int(width)
                edges.append((f"{m}{level - 1}", f"{m}{level}"))
    if model == "emf":
        nodes["s1"] = int(shared_sizes[0])
        edges += [(f"{m}1", "s1") for m in paths]
        for level in range(2, levels + 1):
            nodes[f"s{level}"] = int(shared_sizes[level - 1])
            edges.append((f"s{level - 1}", f"s{level}"))
    elif model == "imf":
        nodes[f"s{levels}"] = int(shared_sizes[-1])
        edges += [(f"{m}{levels}", f"s{levels}") for m in paths]
    else:
        for level in range(1, levels + 1):
            nodes[f"s{level}"] = int(shared_sizes[level - 1])
            edges += [(f"{m}{level}", f"s{level}") for m in paths]
            if level > 1:
                edges.append((f"s{level - 1}", f"s{level}"))
    return nodes, edges


# Input width the paper's modality pathway [392, 512, 128] was sized for (MNIST halves, §4.1).
PAPER_INPUT = 392


def pathway_sizes(
    in_sizes: tuple[int, ...], modality_sizes, shared_sizes
) -> tuple[list[int], list[int]]:
    """Modality and shared widths for a dataset's input sizes.

    The configured modality widths are the paper's for 392-pixel halves; when the larger input
    is narrower (e.g. mfeat's 240 / 76 features), they are scaled by max(in_sizes) / 392
    (rounded, at least the joint code's width) so the pathway does not blow a small input up
    several-fold. Shared widths stay as configured (they set the joint code).
    """
    ratio = min(1.0, max(int(s) for s in in_sizes) / PAPER_INPUT)
    floor = int(shared_sizes[-1])
    mods = [max(floor, int(round(w * ratio))) if ratio < 1 else int(w) for w in modality_sizes]
    return mods, [int(w) for w in shared_sizes]


class FusionNet(nn.Module):
    """EMF / IMF / DMF encoder with an optional classifier and an optional mirrored decoder."""

    def __init__(
        self,
        model: str,
        in_sizes: tuple[int, ...],
        modality_sizes: list[int],
        shared_sizes: list[int],
        n_classes: int | None = None,
        decoder: bool = False,
    ):
        super().__init__()
        self.hparams = {
            "model": model,
            "in_sizes": [int(s) for s in in_sizes],
            "modality_sizes": [int(s) for s in modality_sizes],
            "shared_sizes": [int(s) for s in shared_sizes],
            "n_classes": n_classes,
            "decoder": decoder,
        }
        self.nodes, self.edges = graph_spec(model, in_sizes, modality_sizes, shared_sizes)
        self.inputs = [f"{m}1" for m in pathways(len(in_sizes))]
        self.top = f"s{len(shared_sizes)}"
        self.sources = {n: [s for s, t in self.edges if t == n] for n in self.nodes}
        self.enc = nn.ModuleDict(
            {
                n: nn.Linear(sum(self.nodes[s] for s in src), self.nodes[n])
                for n, src in self.sources.items()
                if src
            }
        )
        self.classifier = nn.Linear(self.nodes[self.top], n_classes) if n_classes else None
        self.dec = None
        if decoder:  # reversed graph: a node's sources are its encoder targets
            self.targets = {n: [t for s, t in self.edges if s == n] for n in self.nodes}
            self.dec = nn.ModuleDict(
                {
                    n: nn.Linear(sum(self.nodes[t] for t in tgt), self.nodes[n])
                    for n, tgt in self.targets.items()
                    if tgt
                }
            )

    def _inputs(self, inputs: tuple[torch.Tensor, ...]) -> dict[str, torch.Tensor]:
        if len(inputs) != len(self.inputs):
            raise ValueError(f"inputs: this net takes {len(self.inputs)}, got {len(inputs)}")
        return dict(zip(self.inputs, inputs, strict=True))

    def encode_all(self, *inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """Activations of every node (inputs included, one per pathway), in topological order."""
        act = self._inputs(inputs)
        for n, layer in self.enc.items():
            act[n] = torch.sigmoid(layer(torch.cat([act[s] for s in self.sources[n]], dim=1)))
        return act

    def encode(self, *inputs: torch.Tensor) -> torch.Tensor:
        """The joint representation: the top shared layer."""
        return self.encode_all(*inputs)[self.top]

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        """Class logits from the top shared layer (discriminative variant)."""
        if self.classifier is None:
            raise RuntimeError("this FusionNet has no classifier (n_classes=None)")
        return self.classifier(self.encode(*inputs))

    def decode(self, joint: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Reconstruct every input (in [0, 1], pathway order) from the joint representation via
        the reversed graph."""
        if self.dec is None:
            raise RuntimeError("this FusionNet has no decoder (decoder=False)")
        act = {self.top: joint}
        for n in reversed(list(self.nodes)):
            if n == self.top:
                continue
            act[n] = torch.sigmoid(self.dec[n](torch.cat([act[t] for t in self.targets[n]], dim=1)))
        return tuple(act[n] for n in self.inputs)


def count_parameters(module: nn.Module, part: str = "enc") -> int:
    """Trainable parameters of the encoder (`enc`, the fusion network the paper compares) or all."""
    if part == "all":
        return sum(p.numel() for p in module.parameters())
    return sum(p.numel() for p in getattr(module, part).parameters())


def build_net(
    model: str, variant: str, in_sizes, n_classes: int, modality_sizes, shared_sizes
) -> FusionNet:
    """The network of one (model, variant): a classifier for disc, a decoder for encdec."""
    if variant not in VARIANTS:
        raise ValueError(f"variant: {variant!r} is not one of {VARIANTS}")
    return FusionNet(
        model,
        in_sizes,
        modality_sizes,
        shared_sizes,
        n_classes=n_classes if variant == "disc" else None,
        decoder=variant == "encdec",
    )


def load_net(path: str | Path) -> tuple[FusionNet, dict]:
    """Rebuild a network saved by `train_dmf`; also return its scaler, modality names and
    training pairs used / available (`n_train`, `n_train_available`; absent in older files)."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        net = FusionNet(**ckpt["hparams"])
        net.load_state_dict(ckpt["state_dict"])
        scaler = [tuple(v.numpy() for v in pair) for pair in ckpt["scaler"]]
    except (
        OSError,
        RuntimeError,
        KeyError,
        TypeError,
        ValueError,
        EOFError,
        UnpicklingError,
    ) as exc:
        raise InputError(
            path, "checkpoint", f"not a DMF checkpoint ({exc.__class__.__name__})"
        ) from None
    pairs = {k: int(ckpt[k]) for k in ("n_train", "n_train_available") if k in ckpt}
    return net.eval(), {"scaler": scaler, "modalities": list(ckpt["modalities"]), **pairs}
