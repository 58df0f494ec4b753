"""Layer-wise contrastive-divergence (CD-k) initialisation of a DMF graph (DMF paper §3.2).

The paper initialises every unit of the graph layer-wise as a restricted Boltzmann machine
trained with contrastive divergence, then fine-tunes the whole network. Here a unit is one
encoder node: its RBM's visible layer is the concatenation of the node's sources (a modality
layer sees the layer below it; a shared unit sees the modality layers and shared layer below,
already initialised), its hidden layer is the node. CD-k (Hinton 2002) with k Gibbs steps;
scikit-learn's BernoulliRBM trains with *persistent* CD instead, which is not the paper's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from mfas_core.dmf.nets import FusionNet


class BernoulliRBM(nn.Module):
    """Bernoulli-Bernoulli RBM trained with CD-k: weights [hidden, visible], both biases."""

    def __init__(self, n_visible: int, n_hidden: int, gen: torch.Generator):
        super().__init__()
        self.weight = nn.Parameter(0.01 * torch.randn(n_hidden, n_visible, generator=gen))
        self.h_bias = nn.Parameter(torch.zeros(n_hidden))
        self.v_bias = nn.Parameter(torch.zeros(n_visible))
        self.gen = gen
        self.gibbs_steps = 0  # counted, so that a test can check CD-k takes k steps

    def hidden(self, v: torch.Tensor) -> torch.Tensor:
        """p(h = 1 | v)."""
        return torch.sigmoid(v @ self.weight.T + self.h_bias)

    def visible(self, h: torch.Tensor) -> torch.Tensor:
        """p(v = 1 | h)."""
        return torch.sigmoid(h @ self.weight + self.v_bias)

    def _sample(self, p: torch.Tensor) -> torch.Tensor:
        return (torch.rand(p.shape, generator=self.gen) < p).to(p.dtype)

    @torch.no_grad()
    def cd_step(self, v0: torch.Tensor, k: int, lr: float) -> float:
        """One CD-k update on a batch; returns its mean squared reconstruction error.

        Positive phase on the data, negative phase after k alternating Gibbs steps from it
        (hidden states sampled, visible units as probabilities, the usual practice).
        """
        ph0 = self.hidden(v0)
        h = self._sample(ph0)
        for step in range(k):
            vk = self.visible(h)
            phk = self.hidden(vk)
            self.gibbs_steps += 1
            if step < k - 1:
                h = self._sample(phk)
        n = v0.shape[0]
        self.weight += lr * (ph0.T @ v0 - phk.T @ vk) / n
        self.h_bias += lr * (ph0 - phk).mean(0)
        self.v_bias += lr * (v0 - vk).mean(0)
        return float(((v0 - self.visible(ph0)) ** 2).mean())

    @torch.no_grad()
    def reconstruction_error(self, v: torch.Tensor) -> float:
        """Mean squared error of the mean-field reconstruction v -> p(h) -> p(v)."""
        return float(((v - self.visible(self.hidden(v))) ** 2).mean())


@dataclass(frozen=True)
class CDSettings:
    """Layer-wise pretraining: CD-k steps, epochs per unit (raised to give at least `min_steps`
    updates: a few updates from the small initial weights leave a net worse than no
    pretraining), learning rate, batch size."""

    k: int = 1
    epochs: int = 5
    lr: float = 0.05
    batch_size: int = 128
    min_steps: int = 0

    def epochs_for(self, n: int) -> int:
        """Epochs per unit for n training pairs."""
        steps = -(-n // self.batch_size)
        return max(self.epochs, -(-self.min_steps // max(steps, 1)))


def train_rbm(
    v: torch.Tensor, n_hidden: int, settings: CDSettings, gen: torch.Generator
) -> BernoulliRBM:
    """Fit one RBM on visible data v in [0, 1] with CD-k minibatches (shuffled each epoch)."""
    rbm = BernoulliRBM(v.shape[1], n_hidden, gen)
    for _ in range(settings.epochs_for(len(v))):
        for idx in torch.randperm(len(v), generator=gen).split(settings.batch_size):
            rbm.cd_step(v[idx], settings.k, settings.lr)
    return rbm


@torch.no_grad()
def pretrain_cd(
    net: FusionNet, inputs: Sequence[np.ndarray], settings: CDSettings, seed: int
) -> dict[str, float]:
    """Initialise every encoder unit of `net` layer-wise with CD-k (paper §3.2), in place.

    In topological order each node's RBM is trained on the concatenated activations of its
    sources (`inputs`: one array per pathway, in [0, 1]); its weights and hidden bias become the node's layer.
    The mirrored decoder, if any, starts from the transposed weights (and the visible bias).
    Returns each node's reconstruction error after training (for the log).
    """
    gen = torch.Generator().manual_seed(int(seed))
    if len(inputs) != len(net.inputs):
        raise ValueError(f"inputs: this net takes {len(net.inputs)}, got {len(inputs)}")
    act = {n: torch.from_numpy(a).float() for n, a in zip(net.inputs, inputs, strict=True)}
    errors = {}
    for n, layer in tqdm(net.enc.items(), desc=f"cd-{settings.k}", leave=False):
        src = torch.cat([act[s] for s in net.sources[n]], dim=1)
        rbm = train_rbm(src, net.nodes[n], settings, gen)
        errors[n] = rbm.reconstruction_error(src)
        layer.weight.copy_(rbm.weight.to(layer.weight.device))
        layer.bias.copy_(rbm.h_bias.to(layer.bias.device))
        act[n] = rbm.hidden(src)
        if net.dec is None:
            continue
        offset = 0  # decoder pieces that read node n reconstruct n's sources
        for s in net.sources[n]:
            width = net.nodes[s]
            pos = 0
            for t in net.targets[s]:
                if t == n:
                    w = rbm.weight[:, offset : offset + width].T
                    net.dec[s].weight[:, pos : pos + net.nodes[n]].copy_(w)
                    net.dec[s].bias.copy_(rbm.v_bias[offset : offset + width])
                pos += net.nodes[t]
            offset += width
    return errors
