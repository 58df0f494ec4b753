"""Layer-wise initialisation of a DMF graph with restricted Boltzmann machines (paper §3.2)."""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from mfas_core.dmf.nets import FusionNet


@torch.no_grad()
def pretrain_rbm(
    net: FusionNet,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    seed: int,
    batch_size: int = 128,
    lr: float = 0.05,
) -> None:
    """Initialise every encoder layer layer-wise with contrastive divergence (paper §3.2).

    In topological order, each node's layer is the hidden part of a scikit-learn BernoulliRBM
    trained on the (already initialised) activations of its sources; the decoder, if any, starts
    from the transposed weights. Inputs must be in [0, 1].
    """
    from sklearn.neural_network import BernoulliRBM

    act = {"x1": torch.from_numpy(x), "y1": torch.from_numpy(y)}
    for i, (n, layer) in enumerate(tqdm(net.enc.items(), desc="rbm", leave=False)):
        src = torch.cat([act[s] for s in net.sources[n]], dim=1)
        rbm = BernoulliRBM(
            n_components=net.nodes[n],
            learning_rate=lr,
            batch_size=batch_size,
            n_iter=epochs,
            random_state=seed + i,
        )
        rbm.fit(src.numpy())
        w = torch.as_tensor(rbm.components_, dtype=torch.float32)
        layer.weight.copy_(w.to(layer.weight.device))
        layer.bias.copy_(torch.as_tensor(rbm.intercept_hidden_, dtype=torch.float32))
        act[n] = torch.sigmoid(src @ w.T + layer.bias.cpu())
        if net.dec is not None:  # decoder pieces that read this node reconstruct its sources
            offset = 0
            for s in net.sources[n]:
                width = net.nodes[s]
                part = w[:, offset : offset + width].T  # [width_s, width_n]
                pos = 0
                for t in net.targets[s]:
                    if t == n:
                        net.dec[s].weight[:, pos : pos + net.nodes[n]].copy_(part)
                    pos += net.nodes[t]
                offset += width
