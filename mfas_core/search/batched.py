"""Fusion networks of MFAS (paper Eq. 1-2), K of them at once, and the shared weight bank.

One sampled architecture with layers γ_l = (t_1, …, t_N, p) over N modalities computes
    h_1 = σ_p1(W_1 [x¹_t1 ; … ; xᴺ_tN] + b_1),  h_l = σ_pl(W_l [x¹_t1 ; … ; xᴺ_tN ; h_(l-1)] + b_l),
then a linear head on h_L (dropout after every fusion layer during training); for two
modalities this is the paper's W_l [x_m ; y_n ; h_(l-1)].

`BatchedFusion` holds K such networks as stacked tensors so one optimizer step trains all K:
each W_l is stored as N + 1 row blocks (one per modality, each zero-padded to that modality's
widest tap, then the h_(l-1) rows), applied with torch.bmm. Padded rows see only zero inputs,
so they get zero gradient and stay zero: each candidate computes exactly what it would
compute alone. Per-candidate nonlinearities are applied by mask. Candidates of different
depths train together in a net as deep as the deepest (the random search draws every depth
in one step): a shallower candidate's head reads its own last layer (a 0/1 exit mask), and
the layers above it stay zero, are never read and get zero gradient.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch import nn

from mfas_core.atomic import save_torch
from mfas_core.search.space import Arch, arch_to_text, check_nonlinearities

# The fusion layers' nonlinearities by config name (search.space.NONLINEARITIES), as torch
# modules: the one definition, also for the stand-alone MFASNet of mfas_core.models.
ACTIVATIONS = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "leakyrelu": lambda: nn.LeakyReLU(0.01),
}
_ACT = {name: make() for name, make in ACTIVATIONS.items()}  # stateless: one instance each


def candidate_seed(seed: int, arch: Arch) -> int:
    """A stable 63-bit seed for one candidate: same (seed, architecture) -> same init and dropout."""
    digest = hashlib.blake2b(f"{seed}:{arch_to_text(arch)}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


def layer_in_size(arch: Arch, layer: int, sizes: list[list[int]], width: int) -> int:
    """Input width of fusion layer `layer` (0-based): the chosen taps' widths, one per modality
    (`sizes[i]` = tap widths of modality i), plus `width` after the first layer."""
    taps = arch[layer][: len(sizes)]
    return sum(s[t - 1] for s, t in zip(sizes, taps, strict=True)) + (width if layer > 0 else 0)


class WeightBank:
    """Fusion-layer weights shared across sampled architectures (paper §3.2, authors' code).

    Keyed by (layer index, input size, output size, nonlinearity); a value is (W [in, out], b).
    The input size is the sum of the chosen taps' widths (one per modality, in order), so with
    N modalities the key stands for the widths of the modality tuple. Only fusion layers are
    shared, never the classifier.
    """

    def __init__(self, entries: dict[str, tuple[torch.Tensor, ...]] | None = None):
        # concat layers: (W, b); the other fusion operators: their canonical tensors
        # (mfas_core.search.ops), under keys that name the operator
        self.entries: dict[str, tuple[torch.Tensor, ...]] = dict(entries or {})

    @staticmethod
    def key(layer: int, in_size: int, out_size: int, nonlinearity: str) -> str:
        return f"layer{layer + 1}_in{in_size}_out{out_size}_{nonlinearity}"

    def get(self, key: str) -> tuple[torch.Tensor, ...] | None:
        return self.entries.get(key)

    def put(self, key: str, *tensors: torch.Tensor) -> None:
        self.entries[key] = tuple(t.detach().cpu().clone() for t in tensors)

    def __len__(self) -> int:
        return len(self.entries)

    def save(self, path: str | Path) -> None:
        """Save a plain dict {key: {"weight", "bias"}} ({key: {"tensors": [...]}} for an entry
        of another length; callers write via atomic_path)."""
        save_torch({k: {"weight": t[0], "bias": t[1]} if len(t) == 2 else {"tensors": list(t)}
                    for k, t in self.entries.items()}, path)  # fmt: skip

    @classmethod
    def load(cls, path: str | Path) -> WeightBank:
        raw = torch.load(path, map_location="cpu", weights_only=True)
        return cls({k: tuple(v["tensors"]) if "tensors" in v else (v["weight"], v["bias"])
                    for k, v in raw.items()})  # fmt: skip


class BatchedFusion(nn.Module):
    """K fusion networks of up to L layers each (L = the deepest), trained as one model.

    Inputs to forward: one tensor per modality, x_i [M_i, B, D_i], every tap of a modality
    zero-padded to its widest one. Output: logits [K, B, C]. `sizes[i]` lists the tap widths of
    modality i.
    """

    def __init__(
        self,
        archs: list[Arch],
        sizes: list[list[int]],
        width: int,
        n_out: int,
        nonlinearities: list[str],
        dropout: float = 0.0,
    ):
        super().__init__()
        if not archs:
            raise ValueError("BatchedFusion: no candidates")
        self.archs = [tuple(a) for a in archs]
        self.sizes = [list(s) for s in sizes]
        n_mod = len(self.sizes)
        # a layer's fields: N taps, p, and (when several fusion operators are configured) o,
        # which must be concat here (the other operators train on ops.OpsFusion)
        if any(len(t) not in (n_mod + 1, n_mod + 2) for a in self.archs for t in a):
            raise ValueError(
                f"BatchedFusion: every layer needs {n_mod + 1} fields for {n_mod} modalities"
            )
        self.width, self.n_out, self.dropout = width, n_out, float(dropout)
        self.nonlinearities = check_nonlinearities(list(nonlinearities))
        k, n_layers = len(archs), max(len(a) for a in archs)
        self.k, self.n_layers = k, n_layers
        self.depths = [len(a) for a in archs]
        self.mixed = len(set(self.depths)) > 1
        # exit[l, k] = 1 where layer l is candidate k's last (its head reads it): mixed depths
        exit_ = torch.zeros(n_layers, k, 1, 1)
        exit_[torch.tensor(self.depths) - 1, torch.arange(k)] = 1.0
        self.register_buffer("exit", exit_, persistent=False)
        # per modality, its rows of every W_l: [L, K, D_i, W]
        self.wt = nn.ParameterList(
            nn.Parameter(torch.zeros(n_layers, k, max(s), width)) for s in self.sizes
        )
        self.b = nn.Parameter(torch.zeros(n_layers, k, 1, width))
        self.wh = nn.Parameter(torch.zeros(max(n_layers - 1, 0), k, width, width))
        self.wo = nn.Parameter(torch.zeros(k, width, n_out))
        self.bo = nn.Parameter(torch.zeros(k, 1, n_out))
        # taps[i]: 0-based tap of modality i per (layer, candidate), layer major: [L*K]
        # (tap 1 above a shallower candidate's last layer: that layer is never read)
        taps = torch.tensor([[[a[li][i] - 1 if li < len(a) else 0 for a in archs]
                              for li in range(n_layers)] for i in range(n_mod)])  # fmt: skip
        self.register_buffer("taps", taps.reshape(n_mod, -1), persistent=False)
        self._mix_cache = None  # (device, per-layer float weights) for the fast path
        # Per layer: [(activation name, bool mask [K,1,1] or None if every candidate uses it)].
        self._acts: list[list[tuple[str, torch.Tensor | None]]] = []
        for li in range(n_layers):
            used = [a[li][n_mod] - 1 if li < len(a) else None for a in archs]
            names = sorted({u for u in used if u is not None})
            if len(names) == 1:
                self._acts.append([(self.nonlinearities[names[0]], None)])
            else:
                self._acts.append(
                    [
                        (self.nonlinearities[p], torch.tensor([u == p for u in used]).view(k, 1, 1))
                        for p in names
                    ]
                )

    # --- initialisation and weight exchange -------------------------------------------------

    def bank_key(self, k: int, layer: int) -> str:
        a = self.archs[k]
        in_size = layer_in_size(a, layer, self.sizes, self.width)
        p = a[layer][len(self.sizes)]
        return WeightBank.key(layer, in_size, self.width, self.nonlinearities[p - 1])

    def init_candidates(self, generators: list[torch.Generator], bank: WeightBank | None) -> None:
        """Per-candidate init from its own generator (PyTorch Linear's U(±1/sqrt(fan_in)));
        a fusion layer whose bank key exists starts from the bank instead."""
        with torch.no_grad():
            for k, gen in enumerate(generators):
                for layer in range(len(self.archs[k])):
                    fan_in = layer_in_size(self.archs[k], layer, self.sizes, self.width)
                    bound = fan_in**-0.5
                    w = (torch.rand(fan_in, self.width, generator=gen) * 2 - 1) * bound
                    bias = (torch.rand(self.width, generator=gen) * 2 - 1) * bound
                    stored = bank.get(self.bank_key(k, layer)) if bank is not None else None
                    if stored is not None:
                        w, bias = stored
                    self.set_layer(k, layer, w, bias)
                bound = self.width**-0.5
                self.wo[k] = (torch.rand(self.width, self.n_out, generator=gen) * 2 - 1) * bound
                self.bo[k, 0] = (torch.rand(self.n_out, generator=gen) * 2 - 1) * bound

    def set_layer(self, k: int, layer: int, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """Write fusion layer `layer` of candidate k from a full [in, width] matrix."""
        weight = weight.to(self.b.device, self.b.dtype)
        start = 0
        with torch.no_grad():
            taps = self.archs[k][layer][: len(self.sizes)]
            for w, s, t in zip(self.wt, self.sizes, taps, strict=True):
                d = s[t - 1]
                w[layer, k].zero_()
                w[layer, k, :d] = weight[start : start + d]
                start += d
            if layer > 0:
                self.wh[layer - 1, k] = weight[start:]
            self.b[layer, k, 0] = bias.to(self.b.device, self.b.dtype)

    def get_layer(self, k: int, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Fusion layer `layer` of candidate k as a full [in, width] matrix and bias."""
        taps = self.archs[k][layer][: len(self.sizes)]
        parts = [w[layer, k, : s[t - 1]] for w, s, t in zip(self.wt, self.sizes, taps, strict=True)]
        if layer > 0:
            parts.append(self.wh[layer - 1, k])
        return torch.cat(parts).detach().cpu(), self.b[layer, k, 0].detach().cpu()

    # --- computation ----------------------------------------------------------------------

    def _activate(self, layer: int, z: torch.Tensor) -> torch.Tensor:
        acts = self._acts[layer]
        name, mask = acts[0]
        h = _ACT[name](z)
        for name, mask in acts[1:]:
            h = torch.where(mask.to(z.device), _ACT[name](z), h)
        return h

    def forward(self, xs: list[torch.Tensor], drop: torch.Tensor | None = None) -> torch.Tensor:
        """xs: per modality [M_i, B, D_i] -> logits [K,B,C]. drop: optional [L,K,B,W]
        multipliers (dropout masks already scaled by 1/(1-p))."""
        n_layers, k, bsz = self.n_layers, self.k, xs[0].shape[1]
        a = self.b.reshape(n_layers * k, 1, self.width)
        for x, w, taps in zip(xs, self.wt, self.taps, strict=True):
            picked = x.index_select(0, taps)  # [L*K, B, D_i]
            a = torch.baddbmm(a, picked, w.reshape(n_layers * k, -1, self.width))
        a = a.view(n_layers, k, bsz, self.width)
        h = out = None
        for layer in range(n_layers):
            z = a[layer] if h is None else torch.baddbmm(a[layer], h, self.wh[layer - 1])
            h = self._activate(layer, z)
            if drop is not None:
                h = h * drop[layer]
            if self.mixed:  # each candidate's head reads its own last layer
                part = h * self.exit[layer]
                out = part if out is None else out + part
        return torch.baddbmm(self.bo, out if self.mixed else h, self.wo)

    # --- fast training path: hand-written backward into one flat gradient buffer -------------

    def flatten_parameters(self) -> nn.Parameter:
        """Put every parameter into one flat tensor (the parameters become views of it) and
        return it as a single Parameter with a matching flat .grad, for one fused Adam call."""
        params = [
            *self.wt,
            self.b,
            self.wh,
            self.wo,
            self.bo,
        ]  # modality 1 first, as FastStep reads
        flat = torch.cat([p.detach().reshape(-1) for p in params])
        grad = torch.zeros_like(flat)
        self._grads = []
        offset = 0
        for p in params:
            n = p.numel()
            p.data = flat[offset : offset + n].view_as(p)
            self._grads.append(grad[offset : offset + n].view_as(p))
            offset += n
        flat_param = nn.Parameter(flat)
        flat_param.grad = grad
        return flat_param

    def _mix_weights(self) -> list[list[tuple[str, torch.Tensor | None]]]:
        """Per layer: [(activation, float 0/1 weight [K,1,1] on the device or None)] for the
        fast path, which mixes per-candidate activations with lerp (exact for 0/1 weights and
        finite values, and cheaper than torch.where with a broadcast mask)."""
        device = self.b.device
        if self._mix_cache is None or self._mix_cache[0] != device:
            mixes = [
                [(name, None if mask is None else mask.to(device, self.b.dtype))
                 for name, mask in acts]
                for acts in self._acts
            ]  # fmt: skip
            self._mix_cache = (device, mixes)
        return self._mix_cache[1]

    def train_step_grads(
        self, xs: list[torch.Tensor], drop: torch.Tensor | None, dlogits_fn
    ) -> None:
        """One forward and hand-written backward (see FastStep), for callers with one batch."""
        FastStep(self, xs[0].shape[1])(xs, drop, dlogits_fn)


class FastStep:
    """Forward and hand-written backward of the training loss of a flattened BatchedFusion.

    Same maths as autograd through BatchedFusion.forward() (a test checks it), in about a
    third of the operations: at these sizes ([K, 32, <=48]) a step's time is per-op overhead,
    so every view of the parameters, gradients and work buffers is made once here, and a step
    only runs the arithmetic ops, each writing into a persistent buffer where torch allows.
    Gradients land in the flat buffer from flatten_parameters().
    """

    def __init__(self, model: BatchedFusion, batch: int):
        if not hasattr(model, "_grads"):
            raise ValueError("FastStep needs model.flatten_parameters() first")
        m, (n_layers, k, w, c) = model, (model.n_layers, model.k, model.width, model.n_out)
        self.model, self.batch, self.n_layers = model, batch, n_layers
        opts = dict(dtype=m.b.dtype, device=m.b.device)
        n_mod = len(m.wt)
        g_wt, (g_b, g_wh, g_wo, g_bo) = m._grads[:n_mod], m._grads[n_mod:]
        pairs = n_layers * k
        # detached views share the parameters' storage but skip autograd dispatch
        b, wh, wo, bo = (p.detach() for p in (m.b, m.wh, m.wo, m.bo))
        self.b = b.view(pairs, 1, w)
        self.wt = [p.detach().view(pairs, -1, w) for p in m.wt]
        self.wh, self.wh_t = wh.unbind(0), wh.transpose(2, 3).unbind(0)
        self.wo_t, self.bo_t = wo.transpose(1, 2), bo.view(k, c, 1)
        self.g_wt = [g.view(pairs, -1, w) for g in g_wt]
        self.g_b, self.g_wh, self.g_wo = g_b, g_wh.unbind(0), g_wo
        self.g_bo_t = g_bo.view(k, c, 1)
        self.a = torch.empty(pairs, batch, w, **opts)
        self.a_layers = self.a.view(n_layers, k, batch, w).unbind(0)
        # buf[layer] = (h, dσ/dz) of that layer, multiplied by its dropout mask in one op
        self.buf = torch.empty(n_layers, 2, k, batch, w, **opts)
        self.pair = self.buf.unbind(0)
        self.h = [p[0] for p in self.pair]
        self.d = [p[1] for p in self.pair]
        self.h_t = [h.transpose(1, 2) for h in self.h]
        self.logits_t = torch.empty(k, c, batch, **opts)
        self.dh = torch.empty(k, batch, w, **opts)
        self.da = torch.empty(n_layers, k, batch, w, **opts)
        self.da_layers = self.da.unbind(0)
        self.da_pairs = self.da.view(pairs, batch, w)
        self.mixes = model._mix_weights()
        # mixed depths: the heads read h_out = Σ_l exit_l · h_l; dh_out flows back into each
        # candidate's own last layer
        self.exit = model.exit.to(**opts).unbind(0) if model.mixed else None
        self.h_out = torch.empty(k, batch, w, **opts) if model.mixed else None
        self.dh_out = torch.empty(k, batch, w, **opts) if model.mixed else None

    def _activate(self, layer: int, z: torch.Tensor) -> None:
        h, d = self.h[layer], self.d[layer]
        mixes = self.mixes[layer]
        if len(mixes) == 1:
            name = mixes[0][0]
            if name == "relu":
                torch.clamp_min(z, 0.0, out=h)
                torch.sign(h, out=d)
            elif name == "sigmoid":
                torch.sigmoid(z, out=h)
                torch.addcmul(h, h, h, value=-1.0, out=d)
            else:
                base_h, base_d = _act_and_derivative(name, z)
                h.copy_(base_h)
                d.copy_(base_d)
            return
        base_h, base_d = _act_and_derivative(mixes[0][0], z)
        for i, (other, weight) in enumerate(mixes[1:]):
            other_h, other_d = _act_and_derivative(other, z)
            torch.lerp(base_h if i == 0 else h, other_h, weight, out=h)
            torch.lerp(base_d if i == 0 else d, other_d, weight, out=d)

    @torch.no_grad()
    def __call__(self, xs, drop, dlogits_fn) -> None:
        """xs: per modality [L*K, B, D_i], each fusion layer's tap input per candidate (layer
        major), already gathered. drop: None or [L, K, B, W] dropout multipliers (a
        sequence of L [K, B, W] tensors works too). dlogits_fn(logits_t) -> dLoss/dlogits, both
        in the transposed layout [K, C, B] (softmax over dim 1 of that layout is several
        times cheaper than over a last dim of size C)."""
        n_layers = self.n_layers
        torch.baddbmm(self.b, xs[0], self.wt[0], out=self.a)
        for x, w in zip(xs[1:], self.wt[1:], strict=True):
            self.a.baddbmm_(x, w)
        for layer in range(n_layers):
            z = self.a_layers[layer]
            if layer > 0:
                z.baddbmm_(self.h[layer - 1], self.wh[layer - 1])
            self._activate(layer, z)
            if drop is not None:
                self.pair[layer].mul_(drop[layer])
        ex = self.exit
        if ex is None:
            h_t = self.h_t[n_layers - 1]
        else:
            torch.mul(self.h[0], ex[0], out=self.h_out)
            for layer in range(1, n_layers):
                self.h_out.addcmul_(self.h[layer], ex[layer])
            h_t = self.h_out.transpose(1, 2)
        torch.baddbmm(self.bo_t, self.wo_t, h_t, out=self.logits_t)
        dlog_t = dlogits_fn(self.logits_t)  # [K, C, B]
        dlog = dlog_t.transpose(1, 2)
        torch.bmm(h_t, dlog, out=self.g_wo)
        torch.sum(dlog_t, 2, keepdim=True, out=self.g_bo_t)
        if ex is None:
            dh = torch.bmm(dlog, self.wo_t, out=self.dh)
        else:
            dh_out = torch.bmm(dlog, self.wo_t, out=self.dh_out)
            dh = torch.mul(dh_out, ex[n_layers - 1], out=self.dh)
        for layer in range(n_layers - 1, -1, -1):
            dz = torch.mul(dh, self.d[layer], out=self.da_layers[layer])
            if layer > 0:
                torch.bmm(self.h_t[layer - 1], dz, out=self.g_wh[layer - 1])
                dh = torch.bmm(dz, self.wh_t[layer - 1], out=self.dh)
                if ex is not None:
                    dh.addcmul_(dh_out, ex[layer - 1])
        torch.sum(self.da, 2, keepdim=True, out=self.g_b)
        for x, g in zip(xs, self.g_wt, strict=True):
            torch.bmm(x.transpose(1, 2), self.da_pairs, out=g)


def _act_and_derivative(name: str, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """σ(z) and dσ/dz, both bounded where z is finite (so mixing them with 0/1 lerp weights
    is exact)."""
    if name == "relu":
        h = torch.relu(z)
        return h, torch.sign(h)
    if name == "sigmoid":
        h = torch.sigmoid(z)
        return h, torch.addcmul(h, h, h, value=-1.0)
    h = torch.nn.functional.leaky_relu(z, 0.01)
    return h, torch.where(z > 0, 1.0, 0.01)
