"""The recurrent surrogate π that predicts an architecture's validation score (paper §3.2).

Reference model (authors' code): each triple -> Linear(in, H) + sigmoid -> LSTM(H, H) -> last
output -> Linear(H, 1) + sigmoid; Linear weights U(-0.1, 0.1), biases 1.8; MSE loss, one Adam
(lr 1e-3) for the whole search, `epochs` passes per update, one batch per sequence length.

Memory (`search.surrogate_memory`): `all` (authors' code) keeps one growing training set of
(architecture, best score) for the whole search and fits on all of it at every update;
`step` fits only on the architectures of the current step. The set is saved with the model,
so it carries across level jobs.

Encodings of a triple (m, n, p):
  reference - the 3 raw 1-based numbers (authors' code);
  onehot    - one-hot(m) ⊕ one-hot(n) ⊕ one-hot(p), M+N+P inputs (no false order between taps
              or nonlinearities).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mfas_core.atomic import save_torch
from mfas_core.search.space import Arch, arch_to_text, text_to_arch

ENCODINGS = ("reference", "onehot")
MEMORIES = ("all", "step")


def encode(archs: list[Arch], encoding: str, sizes: tuple[int, ...]) -> torch.Tensor:
    """Architectures of one length -> [B, L, features] float tensor.

    sizes = (M_1, …, M_N, P). reference: a layer's raw fields (N + 1 features); onehot: one
    one-hot block per field (M_1 + … + M_N + P features).
    """
    if encoding == "reference":
        return torch.tensor([[list(t) for t in a] for a in archs], dtype=torch.float32)
    if encoding == "onehot":
        starts = [0, *itertools.accumulate(sizes)][:-1]
        out = torch.zeros(len(archs), len(archs[0]), sum(sizes))
        for i, a in enumerate(archs):
            for li, layer in enumerate(a):
                for start, v in zip(starts, layer, strict=True):
                    out[i, li, start + v - 1] = 1
        return out
    raise ValueError(f"search.surrogate_encoding: {encoding!r} is not one of {ENCODINGS}")


class SurrogateNet(nn.Module):
    """Linear+sigmoid embedding, LSTM, Linear+sigmoid head on the last output."""

    def __init__(self, in_features: int, hidden: int):
        super().__init__()
        self.embed = nn.Linear(in_features, hidden)
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)
        for lin in (self.embed, self.head):
            nn.init.uniform_(lin.weight, -0.1, 0.1)
            nn.init.constant_(lin.bias, 1.8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(torch.sigmoid(self.embed(x)))
        return torch.sigmoid(self.head(out[:, -1])).squeeze(-1)


class Surrogate:
    """The surrogate model with its optimizer (kept for the whole search) and update/predict."""

    def __init__(
        self,
        sizes: tuple[int, ...],
        encoding: str = "reference",
        hidden: int = 100,
        lr: float = 1e-3,
        seed: int = 0,
        memory: str = "all",
    ):
        if encoding not in ENCODINGS:
            raise ValueError(f"search.surrogate_encoding: {encoding!r} is not one of {ENCODINGS}")
        if memory not in MEMORIES:
            raise ValueError(f"search.surrogate_memory: {memory!r} is not one of {MEMORIES}")
        self.sizes, self.encoding, self.hidden, self.lr = tuple(sizes), encoding, hidden, lr
        self.memory = memory
        # The training set of the last update: every architecture seen so far with its best
        # score (memory "all"), or only the last step's (memory "step").
        self.training_set: dict[Arch, float] = {}
        in_features = len(sizes) if encoding == "reference" else sum(sizes)
        gen_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        self.net = SurrogateNet(in_features, hidden)
        torch.random.set_rng_state(gen_state)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=lr)

    def _groups(self, archs: list[Arch]) -> dict[int, list[int]]:
        groups: dict[int, list[int]] = defaultdict(list)
        for i, a in enumerate(archs):
            groups[len(a)].append(i)
        return dict(sorted(groups.items()))

    def update(self, archs: list[Arch], scores: list[float], epochs: int) -> float:
        """Add (archs, scores) to the training set (memory "all") or make them the training set
        (memory "step"), then fit on it for `epochs` passes, one batch per length; duplicates
        keep their best score. Returns the last epoch's mean loss."""
        best: dict[Arch, float] = dict(self.training_set) if self.memory == "all" else {}
        for a, s in zip(archs, scores, strict=True):
            a = tuple(tuple(int(v) for v in t) for t in a)
            best[a] = max(float(s), best.get(a, -np.inf))
        self.training_set = best
        archs, scores = list(best), list(best.values())
        batches = [
            (
                encode([archs[i] for i in idx], self.encoding, self.sizes),
                torch.tensor([scores[i] for i in idx]),
            )
            for idx in self._groups(archs).values()
        ]
        self.net.train()
        loss_sum = 0.0
        for _ in range(epochs):
            loss_sum = 0.0
            for x, y in batches:
                loss = nn.functional.mse_loss(self.net(x), y)
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
                loss_sum += float(loss.detach())
        return loss_sum / max(len(batches), 1)

    @torch.no_grad()
    def predict(self, archs: list[Arch]) -> np.ndarray:
        """Predicted scores, in the order of `archs`."""
        self.net.eval()
        out = np.zeros(len(archs))
        for idx in self._groups(archs).values():
            out[idx] = self.net(encode([archs[i] for i in idx], self.encoding, self.sizes)).numpy()
        return out

    def state(self) -> dict:
        """Everything needed to continue the search in another job."""
        return {
            "sizes": list(self.sizes),
            "encoding": self.encoding,
            "hidden": self.hidden,
            "lr": self.lr,
            "memory": self.memory,
            "training_set": [[arch_to_text(a), s] for a, s in self.training_set.items()],
            "model": self.net.state_dict(),
            "optimizer": self.opt.state_dict(),
        }

    def save(self, path: str | Path) -> None:
        save_torch(self.state(), path)

    @classmethod
    def load(cls, path: str | Path) -> Surrogate:
        st = torch.load(path, map_location="cpu", weights_only=True)
        sur = cls(tuple(st["sizes"]), st["encoding"], st["hidden"], st["lr"], memory=st["memory"])
        sur.training_set = {text_to_arch(a): float(s) for a, s in st["training_set"]}
        sur.net.load_state_dict(st["model"])
        sur.opt.load_state_dict(st["optimizer"])
        return sur
