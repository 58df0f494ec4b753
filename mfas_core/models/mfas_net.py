"""One architecture found by MFAS (Pérez-Rúa et al., CVPR 2019, Eq. 1-2) as a plain module.

Layer l is γ_l = (t_1, …, t_N, p) over N modalities: h_1 = σ_p(W_1 [x¹_t1 ; … ; xᴺ_tN] + b_1),
h_l = σ_p(W_l [x¹_t1 ; … ; xᴺ_tN ; h_(l-1)] + b_l), dropout after every fusion layer, then a
linear classifier on h_L; for two modalities (m, n, p) as in the paper. The same function as
one candidate of the search's BatchedFusion (`from_batched` copies a candidate's weights; a
test checks the outputs agree).
"""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import tap
from mfas_core.search.batched import ACTIVATIONS

Arch = tuple[tuple[int, ...], ...]


class MFASNet(nn.Module):
    """The fusion network of one architecture; forward takes one padded tap tensor per
    modality, x_i [B, M_i, D_i] (`sizes[i]` = the tap widths of modality i)."""

    def __init__(
        self,
        arch: Arch,
        sizes: list[list[int]],
        width: int,
        n_out: int,
        nonlinearities: list[str],
        dropout: float = 0.0,
    ):
        super().__init__()
        self.arch = tuple(tuple(int(v) for v in t) for t in arch)
        self.sizes = [list(s) for s in sizes]
        bounds = [len(s) for s in self.sizes] + [len(nonlinearities)]
        for layer in self.arch:
            if len(layer) != len(bounds) or not all(
                1 <= v <= b for v, b in zip(layer, bounds, strict=True)
            ):
                names = ["M", "N"] if len(self.sizes) == 2 else [f"M{i}" for i in range(1, 9)]
                limits = ", ".join(f"{m}={b}" for m, b in zip(names, bounds[:-1], strict=False))
                raise ValueError(
                    f"architecture layer {layer} is outside {limits}, P={len(nonlinearities)}"
                )
        self.fusions = nn.ModuleList()
        self.acts = nn.ModuleList()
        for li, layer in enumerate(self.arch):
            in_size = sum(s[t - 1] for s, t in zip(self.sizes, layer[:-1], strict=True))
            self.fusions.append(nn.Linear(in_size + (width if li > 0 else 0), width))
            self.acts.append(ACTIVATIONS[nonlinearities[layer[-1] - 1]]())
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_out)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        h = None
        for layer, fuse, act in zip(self.arch, self.fusions, self.acts, strict=True):
            parts = [tap(x, s, t) for x, s, t in zip(xs, self.sizes, layer[:-1], strict=True)]
            if h is not None:
                parts.append(h)
            h = self.drop(act(fuse(torch.cat(parts, 1))))
        return self.head(h)

    @torch.no_grad()
    def load_candidate(self, layers: list[tuple[torch.Tensor, torch.Tensor]],
                       head_weight: torch.Tensor, head_bias: torch.Tensor) -> MFASNet:  # fmt: skip
        """Set the weights from the search's layout: per layer W [in, width] and b [width]
        (BatchedFusion.get_layer), head W [width, C] and b [C]."""
        for fuse, (w, b) in zip(self.fusions, layers, strict=True):
            fuse.weight.copy_(w.T)
            fuse.bias.copy_(b)
        self.head.weight.copy_(head_weight.T)
        self.head.bias.copy_(head_bias.reshape(-1))
        return self

    @classmethod
    def from_batched(cls, batched, k: int, dropout: float = 0.0) -> MFASNet:
        """Candidate k of a search BatchedFusion as a stand-alone module with its weights."""
        net = cls(
            batched.archs[k], batched.sizes, batched.width, batched.n_out,
            batched.nonlinearities, dropout,
        )  # fmt: skip
        layers = [batched.get_layer(k, li) for li in range(batched.n_layers)]
        return net.load_candidate(
            layers, batched.wo[k].detach().cpu(), batched.bo[k].detach().cpu()
        )
