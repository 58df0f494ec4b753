"""One architecture found by MFAS (Pérez-Rúa et al., CVPR 2019, Eq. 1-2) as a plain module.

Layer l is γ_l = (t_1, …, t_N, p) over N modalities: h_1 = σ_p(W_1 [x¹_t1 ; … ; xᴺ_tN] + b_1),
h_l = σ_p(W_l [x¹_t1 ; … ; xᴺ_tN ; h_(l-1)] + b_l), dropout after every fusion layer, then a
linear classifier on h_L; for two modalities (m, n, p) as in the paper. The same function as
one candidate of the search's BatchedFusion (`from_batched` copies a candidate's weights; a
test checks the outputs agree). With `fusion_ops` other than the paper's concat, a layer
(t_1, …, t_N, p, o) uses operator o (mfas_core.search.ops has the formulas); such a layer is
an `OpLayer` here, written plainly per input, against which the batched OpsFusion is tested.
"""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import tap
from mfas_core.search.batched import ACTIVATIONS
from mfas_core.search.ops import op_columns, op_extra
from mfas_core.search.space import check_fusion_ops, layer_op

Arch = tuple[tuple[int, ...], ...]


class OpLayer(nn.Module):
    """One fusion layer with operator product, gated or lowrank (before its nonlinearity): one
    nn.Linear (with bias) per input, and the output bias c of lowrank."""

    def __init__(self, op: str, dims: list[int], width: int, rank: int):
        super().__init__()
        self.op, self.width, self.rank = op, width, rank
        f = op_columns(op, width, len(dims), rank)
        self.proj = nn.ModuleList(nn.Linear(d, f) for d in dims)
        self.c = nn.Parameter(torch.zeros(op_extra(op, width)))

    def forward(self, parts: list[torch.Tensor]) -> torch.Tensor:
        ys = [lin(u) for lin, u in zip(self.proj, parts, strict=True)]
        w, n = self.width, len(ys)
        if self.op == "product":
            out = torch.ones_like(ys[0])
            for y in ys:
                out = out * y
            return out
        if self.op == "gated":
            gate = sum(y[:, w:] for y in ys).reshape(-1, n, w)
            alpha = torch.softmax(gate, dim=1)
            return sum(alpha[:, j] * ys[j][:, :w] for j in range(n))
        terms = []
        for r in range(self.rank):
            t = ys[0][:, r * w : (r + 1) * w]
            for y in ys[1:]:
                t = t * y[:, r * w : (r + 1) * w]
            terms.append(t)
        return torch.stack(terms).sum(0) + self.c

    @torch.no_grad()
    def load(self, a: torch.Tensor, bias: torch.Tensor, c: torch.Tensor) -> None:
        start = 0
        for j, lin in enumerate(self.proj):
            d = lin.in_features
            lin.weight.copy_(a[start : start + d].T)
            lin.bias.copy_(bias[j])
            start += d
        self.c.copy_(c)


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
        fusion_ops: list[str] | tuple[str, ...] = ("concat",),
        lowrank_rank: int = 4,
    ):
        super().__init__()
        self.arch = tuple(tuple(int(v) for v in t) for t in arch)
        self.sizes = [list(s) for s in sizes]
        self.fusion_ops = check_fusion_ops(list(fusion_ops))
        bounds = [len(s) for s in self.sizes] + [len(nonlinearities)]
        if len(self.fusion_ops) > 1:
            bounds.append(len(self.fusion_ops))
        for layer in self.arch:
            if len(layer) != len(bounds) or not all(
                1 <= v <= b for v, b in zip(layer, bounds, strict=True)
            ):
                names = ["M", "N"] if len(self.sizes) == 2 else [f"M{i}" for i in range(1, 9)]
                limits = ", ".join(f"{m}={b}" for m, b in zip(names, bounds[:-1], strict=False))
                raise ValueError(
                    f"architecture layer {layer} is outside {limits}, P={len(nonlinearities)}"
                    + (f", O={len(self.fusion_ops)}" if len(self.fusion_ops) > 1 else "")
                )
        self.fusions = nn.ModuleList()
        self.acts = nn.ModuleList()
        n_mod = len(self.sizes)
        for li, layer in enumerate(self.arch):
            dims = [s[t - 1] for s, t in zip(self.sizes, layer[:n_mod], strict=True)]
            dims += [width] if li > 0 else []
            op = self.fusion_ops[layer_op(layer, n_mod) - 1]
            self.fusions.append(
                nn.Linear(sum(dims), width) if op == "concat" else OpLayer(op, dims, width,
                                                                           lowrank_rank)
            )  # fmt: skip
            self.acts.append(ACTIVATIONS[nonlinearities[layer[n_mod] - 1]]())
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_out)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        h = None
        for layer, fuse, act in zip(self.arch, self.fusions, self.acts, strict=True):
            taps = layer[: len(self.sizes)]
            parts = [tap(x, s, t) for x, s, t in zip(xs, self.sizes, taps, strict=True)]
            if h is not None:
                parts.append(h)
            z = fuse(parts) if isinstance(fuse, OpLayer) else fuse(torch.cat(parts, 1))
            h = self.drop(act(z))
        return self.head(h)

    @torch.no_grad()
    def load_candidate(self, layers: list[tuple[torch.Tensor, ...]],
                       head_weight: torch.Tensor, head_bias: torch.Tensor) -> MFASNet:  # fmt: skip
        """Set the weights from the search's layout: per layer W [in, width] and b [width]
        (BatchedFusion.get_layer; the other operators' canonical tensors, OpsFusion.get_layer),
        head W [width, C] and b [C]."""
        for fuse, tensors in zip(self.fusions, layers, strict=True):
            if isinstance(fuse, OpLayer):
                fuse.load(*tensors)
                continue
            w, b = tensors
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
            batched.nonlinearities, dropout, getattr(batched, "fusion_ops", ("concat",)),
            getattr(batched, "rank", 4),
        )  # fmt: skip
        layers = [batched.get_layer(k, li) for li in range(len(batched.archs[k]))]
        return net.load_candidate(
            layers, batched.wo[k].detach().cpu(), batched.bo[k].detach().cpu()
        )
