"""Shared ground: how a job runs. Seeding, the torch device, and torch's thread count."""

from __future__ import annotations

import os
import random
import sys


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch, and ask torch for deterministic kernels."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def pick_device(preference: str = "auto"):
    """The torch device a training job should use, also named in the rule's log (stderr).

    Snakemake's `gpu` resource is only a counter (docs/SOURCES.md): the job picks the device.
    rule_log has already narrowed CUDA_VISIBLE_DEVICES to the job's GPU slot (mfas_core.gpu),
    or SLURM has. With `auto`, use the visible CUDA device with the most free memory, else the
    CPU; `cuda` without a visible device is an error. The log line names the device and its
    model (`device: cuda:0 NVIDIA H200 (CUDA_VISIBLE_DEVICES=3)`; benchmarks/gpu_check.py
    checks every training job's log for it).
    """
    import torch

    if preference == "cpu" or not torch.cuda.is_available():
        if preference == "cuda":
            raise RuntimeError("device: cuda was asked for but torch sees no CUDA device")
        dev = torch.device("cpu")
        why = "config says cpu" if preference == "cpu" else "torch sees no CUDA device"
        print(f"device: running on the CPU ({why})", file=sys.stderr)
        return dev
    free = [torch.cuda.mem_get_info(i)[0] for i in range(torch.cuda.device_count())]
    dev = torch.device(f"cuda:{max(range(len(free)), key=free.__getitem__)}")
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "all")
    name = torch.cuda.get_device_name(dev)
    print(f"device: {dev} {name} (CUDA_VISIBLE_DEVICES={visible})", file=sys.stderr)
    return dev


def set_threads(n: int | None) -> None:
    """Limit torch's intra-op threads to what the rule declared."""
    import torch

    if n:
        torch.set_num_threads(int(n))
