"""Fusion operators beyond the paper's concatenation (`search.fusion_ops`), K candidates at once.

Fusion layer l of an architecture has inputs u_1 … u_J: the chosen tap of every modality, and
h_(l-1) after the first layer (J = N or N + 1). With width W, nonlinearity σ_p and operator o:
    concat   h_l = σ_p(Σ_j A_j u_j + c)                      = σ_p(W [u_1 ; … ; u_J] + b), the paper
    product  h_l = σ_p(⊙_j (A_j u_j + a_j))                  Hadamard product of per-input projections
    gated    e_j = A_j u_j + a_j,  g = Σ_j G_j u_j + g_j (J·W gate logits),
             α = softmax over j of g viewed [J, W],  h_l = σ_p(Σ_j α_j ⊙ e_j)   (GMU-style gate)
    lowrank  h_l = σ_p(Σ_(r=1..R) ⊙_j (A_j^(r) u_j + a_j^(r)) + c)
             = σ_p(rank-R factorised tensor product of the [u_j ; 1] terms + c)  (LMF-style)
Every operator is one projection per input with F output columns (W; W; W + J·W; R·W), an
optional per-input bias (the weight on the "1" of [u_j ; 1]) and an optional output bias c.

A layer's weights in one canonical form (the weight bank, MFASNet.load_candidate): concat
(W [Σd_j, W], b [W]), as the hand-written BatchedFusion; the others (A [Σd_j, F] with one
row block per input in order, a [J, F], c [E]) with E = W for lowrank, 0 otherwise.

`OpsFusion` holds K candidates of one depth, any operators, as stacked tensors (zero-padded
taps, torch.bmm; per layer one stack per operator used there, holding only the candidates
that use it), trained with autograd; candidates whose layers are all concat train on the
hand-written BatchedFusion/FastStep path instead (the trainer groups them). Padded rows see
zero gradient, so each candidate computes what it computes alone.
"""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.search.batched import _ACT, WeightBank, layer_in_size
from mfas_core.search.space import Arch, check_fusion_ops, check_nonlinearities, layer_op


def op_columns(op: str, width: int, n_inputs: int, rank: int) -> int:
    """F: output columns of each input's projection."""
    return {"concat": width, "product": width, "gated": width * (1 + n_inputs),
            "lowrank": rank * width}[op]  # fmt: skip


def op_extra(op: str, width: int) -> int:
    """E: size of the output bias c (concat's b, lowrank's c)."""
    return width if op in ("concat", "lowrank") else 0


def input_dims(arch: Arch, layer: int, sizes: list[list[int]], width: int) -> list[int]:
    """Widths of a layer's inputs: the chosen taps, modality 1 first, then h (after layer 1)."""
    taps = arch[layer][: len(sizes)]
    return [s[t - 1] for s, t in zip(sizes, taps, strict=True)] + ([width] if layer > 0 else [])


def op_bank_key(layer: int, dims: list[int], width: int, nonlinearity: str, op: str,
                rank: int) -> str:  # fmt: skip
    """Weight-bank key of a fusion layer. concat keeps the paper's key (the same function in
    every space); the others name the operator and every input's width (their weights are
    per input), lowrank also its rank."""
    if op == "concat":
        return WeightBank.key(layer, sum(dims), width, nonlinearity)
    ins = "+".join(str(d) for d in dims)
    return f"layer{layer + 1}_in{ins}_out{width}_{nonlinearity}_{op}" + (
        f"{rank}" if op == "lowrank" else ""
    )


def combine(op: str, ys: list[torch.Tensor], extra: torch.Tensor | None, width: int,
            rank: int) -> torch.Tensor:  # fmt: skip
    """The operator on the per-input projections ys (each [..., F]) -> pre-activation [..., W]."""
    if op == "concat":
        z = ys[0]
        for y in ys[1:]:
            z = z + y
        return z + extra
    if op == "product":
        z = ys[0]
        for y in ys[1:]:
            z = z * y
        return z
    if op == "gated":
        n = len(ys)
        logits = ys[0][..., width:]
        for y in ys[1:]:
            logits = logits + y[..., width:]
        alpha = torch.softmax(logits.unflatten(-1, (n, width)), -2)
        z = alpha[..., 0, :] * ys[0][..., :width]
        for j in range(1, n):
            z = z + alpha[..., j, :] * ys[j][..., :width]
        return z
    if op == "lowrank":
        z = ys[0].unflatten(-1, (rank, width))
        for y in ys[1:]:
            z = z * y.unflatten(-1, (rank, width))
        return z.sum(-2) + extra
    raise ValueError(f"search.fusion_ops: unknown operator {op!r}")


class OpsFusion(nn.Module):
    """K fusion networks of L layers with any operators, trained as one model.

    forward: one tensor per modality, x_i [M_i, B, D_i] (taps zero-padded to the widest) ->
    logits [K, B, C], as BatchedFusion. Layer l holds, for every operator some candidate uses
    there, that operator's parameters for the K_o candidates using it, in candidate order
    (input j: A [K_o, D_j, F] and, not concat, a [K_o, 1, F]; c [K_o, 1, E]); each operator
    computes only its own candidates, and the layer's outputs are put back in candidate order.
    `row(k, l)` is candidate k's index in its operator's stack. Head wo [K, W, C], bo [K, 1, C].
    """

    def __init__(
        self,
        archs: list[Arch],
        sizes: list[list[int]],
        width: int,
        n_out: int,
        nonlinearities: list[str],
        fusion_ops: list[str],
        rank: int = 4,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.archs = [tuple(a) for a in archs]
        self.sizes = [list(s) for s in sizes]
        n_mod = len(self.sizes)
        lengths = {len(a) for a in self.archs}
        if len(lengths) != 1:
            raise ValueError(f"OpsFusion: candidates must have one depth, got {sorted(lengths)}")
        self.n_layers = lengths.pop()
        self.k, self.width, self.n_out, self.rank = len(archs), width, n_out, int(rank)
        self.dropout = float(dropout)
        self.nonlinearities = check_nonlinearities(list(nonlinearities))
        self.fusion_ops = check_fusion_ops(list(fusion_ops))
        k = self.k
        # cand_ops[l][k]: operator of candidate k at layer l; ops[l]: the operators used there
        self.cand_ops = [[self.fusion_ops[layer_op(a[li], n_mod) - 1] for a in self.archs]
                         for li in range(self.n_layers)]  # fmt: skip
        self.ops = [sorted(set(c), key=self.fusion_ops.index) for c in self.cand_ops]
        self.weights, self.in_bias = nn.ParameterList(), nn.ParameterList()
        # _slots[l][op]: per input (weight index, input-bias index or None), extra index
        self._slots: list[dict[str, tuple[list[tuple[int, int | None]], int]]] = []
        # _members[l][op]: the candidates using op at layer l, in order; _rows[l][k]: k's row
        self._members: list[dict[str, list[int]]] = []
        self._rows: list[list[int]] = []
        extras = []
        for li, used in enumerate(self.ops):
            n_in = n_mod + (li > 0)
            per_op, members = {}, {}
            rows = [0] * k
            for op in used:
                members[op] = [c for c in range(k) if self.cand_ops[li][c] == op]
                for r, c in enumerate(members[op]):
                    rows[c] = r
                k_op = len(members[op])
                f = op_columns(op, width, n_in, self.rank)
                slots = []
                for j in range(n_in):
                    d = max(self.sizes[j]) if j < n_mod else width
                    self.weights.append(nn.Parameter(torch.zeros(k_op, d, f)))
                    bias_slot = None
                    if op != "concat":
                        self.in_bias.append(nn.Parameter(torch.zeros(k_op, 1, f)))
                        bias_slot = len(self.in_bias) - 1
                    slots.append((len(self.weights) - 1, bias_slot))
                extras.append(nn.Parameter(torch.zeros(k_op, 1, op_extra(op, width))))
                per_op[op] = (slots, len(extras) - 1)
            self._slots.append(per_op)
            self._members.append(members)
            self._rows.append(rows)
        self.extra = nn.ParameterList(extras)
        self.wo = nn.Parameter(torch.zeros(k, width, n_out))
        self.bo = nn.Parameter(torch.zeros(k, 1, n_out))
        # buffers (they follow .to(device)): per layer and operator, each modality's tap of
        # each member candidate [N, K_o], the members [K_o] (None when all K use the operator),
        # and per layer with several operators the order that puts their outputs back [K]
        self._index_names: list[dict[str, tuple[str, str | None]]] = []
        self._order_names: list[str | None] = []
        for li, used in enumerate(self.ops):
            names = {}
            for op in used:
                mem = self._members[li][op]
                taps = torch.tensor([[self.archs[c][li][i] - 1 for c in mem]
                                     for i in range(n_mod)])  # fmt: skip
                self.register_buffer(f"_taps{li}_{op}", taps, persistent=False)
                sub = None
                if len(mem) < k:
                    sub = f"_members{li}_{op}"
                    self.register_buffer(sub, torch.tensor(mem), persistent=False)
                names[op] = (f"_taps{li}_{op}", sub)
            self._index_names.append(names)
            order = None
            if len(used) > 1:
                stacked = torch.tensor([c for op in used for c in self._members[li][op]])
                order = f"_order{li}"
                self.register_buffer(order, torch.argsort(stacked), persistent=False)
            self._order_names.append(order)
        self._acts: list[list[tuple[str, torch.Tensor | None]]] = []
        for li in range(self.n_layers):
            used = [a[li][n_mod] - 1 for a in self.archs]
            names = sorted(set(used))
            self._acts.append(
                [(self.nonlinearities[names[0]], None)]
                if len(names) == 1
                else [(self.nonlinearities[p], torch.tensor([u == p for u in used]).view(k, 1, 1))
                      for p in names]
            )  # fmt: skip

    # --- weights in the canonical per-layer form -----------------------------------------

    def dims(self, k: int, layer: int) -> list[int]:
        return input_dims(self.archs[k], layer, self.sizes, self.width)

    def bank_key(self, k: int, layer: int) -> str:
        p = self.nonlinearities[self.archs[k][layer][len(self.sizes)] - 1]
        op = self.cand_ops[layer][k]
        return op_bank_key(layer, self.dims(k, layer), self.width, p, op, self.rank)

    def slots(self, k: int, layer: int) -> tuple[list[tuple[int, int | None]], int]:
        """(per input (weight, input-bias) parameter indices, extra index) of candidate k's
        operator at `layer`."""
        return self._slots[layer][self.cand_ops[layer][k]]

    def row(self, k: int, layer: int) -> int:
        """Candidate k's index in the parameter stacks of its operator at `layer`."""
        return self._rows[layer][k]

    def get_layer(self, k: int, layer: int) -> tuple[torch.Tensor, ...]:
        """Layer `layer` of candidate k in the canonical form (module docstring)."""
        dims = self.dims(k, layer)
        slots, e = self.slots(k, layer)
        r = self.row(k, layer)
        a = torch.cat([self.weights[w][r, :d] for (w, _), d in
                       zip(slots, dims, strict=True)]).detach().cpu()  # fmt: skip
        c = self.extra[e][r, 0].detach().cpu()
        if self.cand_ops[layer][k] == "concat":
            return a, c
        bias = torch.stack([self.in_bias[b][r, 0] for _, b in slots])
        return a, bias.detach().cpu(), c

    @torch.no_grad()
    def set_layer(self, k: int, layer: int, *tensors: torch.Tensor) -> None:
        dims = self.dims(k, layer)
        slots, e = self.slots(k, layer)
        r = self.row(k, layer)
        a, c = tensors[0], tensors[-1]
        start = 0
        for j, ((w, b), d) in enumerate(zip(slots, dims, strict=True)):
            self.weights[w][r].zero_()
            self.weights[w][r, :d] = a[start : start + d].to(self.wo)
            start += d
            if b is not None:
                self.in_bias[b][r, 0] = tensors[1][j].to(self.wo)
        self.extra[e][r, 0] = c.to(self.wo)

    def init_candidates(self, generators: list[torch.Generator], bank: WeightBank | None) -> None:
        """Per-candidate init from its own generator: concat as BatchedFusion (U(±1/sqrt(fan_in))
        over the whole input), the others U(±1/sqrt(d_j)) per input projection and bias, c = 0;
        a layer whose bank key exists starts from the bank instead."""
        with torch.no_grad():
            for k, gen in enumerate(generators):
                for layer in range(self.n_layers):
                    op = self.cand_ops[layer][k]
                    dims = self.dims(k, layer)
                    f = op_columns(op, self.width, len(dims), self.rank)
                    if op == "concat":
                        fan_in = layer_in_size(self.archs[k], layer, self.sizes, self.width)
                        bound = fan_in**-0.5
                        w = (torch.rand(fan_in, self.width, generator=gen) * 2 - 1) * bound
                        c = (torch.rand(self.width, generator=gen) * 2 - 1) * bound
                        tensors: tuple[torch.Tensor, ...] = (w, c)
                    else:
                        ws, bs = [], []
                        for d in dims:
                            ws.append((torch.rand(d, f, generator=gen) * 2 - 1) * d**-0.5)
                            bs.append((torch.rand(f, generator=gen) * 2 - 1) * d**-0.5)
                        tensors = (torch.cat(ws), torch.stack(bs),
                                   torch.zeros(op_extra(op, self.width)))  # fmt: skip
                    stored = bank.get(self.bank_key(k, layer)) if bank is not None else None
                    if stored is not None:
                        tensors = stored
                    self.set_layer(k, layer, *tensors)
                bound = self.width**-0.5
                self.wo[k] = (torch.rand(self.width, self.n_out, generator=gen) * 2 - 1) * bound
                self.bo[k, 0] = (torch.rand(self.n_out, generator=gen) * 2 - 1) * bound

    # --- computation ----------------------------------------------------------------------

    def _activate(self, layer: int, z: torch.Tensor) -> torch.Tensor:
        acts = self._acts[layer]
        h = _ACT[acts[0][0]](z)
        for name, mask in acts[1:]:
            h = torch.where(mask.to(z.device), _ACT[name](z), h)
        return h

    def forward(self, xs: list[torch.Tensor], drop=None) -> torch.Tensor:
        """xs: per modality [M_i, B, D_i] -> logits [K, B, C]; drop: optional [L, K, B, W]
        multipliers (dropout masks already scaled)."""
        h = None
        for layer, used in enumerate(self.ops):
            zs = []
            for op in used:
                taps_name, members_name = self._index_names[layer][op]
                taps = getattr(self, taps_name)
                inputs = [x.index_select(0, taps[i]) for i, x in enumerate(xs)]
                if h is not None:
                    inputs.append(
                        h
                        if members_name is None
                        else h.index_select(0, getattr(self, members_name))
                    )
                slots, e = self._slots[layer][op]
                ys = []
                for u, (w, b) in zip(inputs, slots, strict=True):
                    ys.append(torch.bmm(u, self.weights[w]) if b is None
                              else torch.baddbmm(self.in_bias[b], u, self.weights[w]))  # fmt: skip
                zs.append(combine(op, ys, self.extra[e], self.width, self.rank))
            order = self._order_names[layer]
            z = zs[0] if order is None else torch.cat(zs).index_select(0, getattr(self, order))
            h = self._activate(layer, z)
            if drop is not None:
                h = h * drop[layer]
        return torch.baddbmm(self.bo, h, self.wo)


def all_concat(arch: Arch, n_modalities: int, fusion_ops: list[str]) -> bool:
    """True when every layer of `arch` fuses by concatenation (the hand-written path)."""
    return all(fusion_ops[layer_op(t, n_modalities) - 1] == "concat" for t in arch)
