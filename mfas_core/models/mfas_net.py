"""One architecture found by MFAS (Pérez-Rúa et al., CVPR 2019, Eq. 1-2) as a plain module.

Layer l is γ_l = (m, n, p): h_1 = σ_p(W_1 [x_m ; y_n] + b_1),
h_l = σ_p(W_l [x_m ; y_n ; h_(l-1)] + b_l), dropout after every fusion layer, then a linear
classifier on h_L. The same function as one candidate of the search's BatchedFusion
(`from_batched` copies a candidate's weights; a test checks the outputs agree).
"""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import tap
from mfas_core.search.batched import ACTIVATIONS

Arch = tuple[tuple[int, int, int], ...]


class MFASNet(nn.Module):
    """The fusion network of one architecture, taking padded taps x1 [B,M,D1], x2 [B,N,D2]."""

    def __init__(
        self,
        arch: Arch,
        sizes1: list[int],
        sizes2: list[int],
        width: int,
        n_out: int,
        nonlinearities: list[str],
        dropout: float = 0.0,
    ):
        super().__init__()
        self.arch = tuple(tuple(int(v) for v in t) for t in arch)
        self.sizes1, self.sizes2 = list(sizes1), list(sizes2)
        for m, n, p in self.arch:
            if not (
                1 <= m <= len(sizes1) and 1 <= n <= len(sizes2) and 1 <= p <= len(nonlinearities)
            ):
                raise ValueError(
                    f"architecture layer ({m}, {n}, {p}) is outside M={len(sizes1)}, "
                    f"N={len(sizes2)}, P={len(nonlinearities)}"
                )
        self.fusions = nn.ModuleList()
        self.acts = nn.ModuleList()
        for li, (m, n, p) in enumerate(self.arch):
            in_size = sizes1[m - 1] + sizes2[n - 1] + (width if li > 0 else 0)
            self.fusions.append(nn.Linear(in_size, width))
            self.acts.append(ACTIVATIONS[nonlinearities[p - 1]]())
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_out)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        h = None
        for (m, n, _), fuse, act in zip(self.arch, self.fusions, self.acts, strict=True):
            parts = [tap(x1, self.sizes1, m), tap(x2, self.sizes2, n)]
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
            batched.archs[k], batched.sizes1, batched.sizes2, batched.width, batched.n_out,
            batched.nonlinearities, dropout,
        )  # fmt: skip
        layers = [batched.get_layer(k, li) for li in range(batched.n_layers)]
        return net.load_candidate(
            layers, batched.wo[k].detach().cpu(), batched.bo[k].detach().cpu()
        )
