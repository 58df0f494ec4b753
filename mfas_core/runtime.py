"""Shared ground: how a job runs. Seeding, the torch device, and torch's thread count."""

from __future__ import annotations

import os
import random
import re
import sys
from pathlib import Path

# What an x86 CPU's numbers depend on besides the thread count: the kernels torch (ATen) and
# MKL pick for its instruction set. An AVX-512 CPU rounds differently from an AVX2 one (the
# mfeat encoder-decoders of IMF and DMF trained to other codes on the two CPU kinds this
# project's runs used); pinned to AVX2, both compute the same (docs/architecture.md).
CPU_KERNEL_PINS = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2"}


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch, and ask torch for deterministic kernels."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    # The eager-kernel switch of torch.use_deterministic_algorithms(True, warn_only=True),
    # without the rest of that call: it also imports torch._inductor (and with it dynamo) to
    # set the compiler's flag, which this project never uses, and that import alone cost a
    # few seconds of every training job (measured in docs/performance.md).
    torch._C._set_deterministic_algorithms(True, warn_only=True)


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


def pin_cpu_kernels(environ=None, cpuinfo: str = "/proc/cpuinfo") -> dict[str, str]:
    """Pin torch's and MKL's CPU kernels to AVX2 for the jobs this process starts.

    Called by the Snakefile, so every job (local or SLURM: sbatch passes the environment on)
    inherits it before torch loads. Only on CPUs that have AVX2 (elsewhere torch would run
    instructions the CPU lacks), and never over a value the user set. Returns what it set.
    """
    environ = os.environ if environ is None else environ
    try:
        info = Path(cpuinfo).read_text()
    except OSError:
        return {}
    if not re.search(r"^flags\s*:.*\bavx2\b", info, re.M):
        return {}
    pinned = {k: v for k, v in CPU_KERNEL_PINS.items() if k not in environ}
    environ.update(pinned)
    return pinned


def set_threads(n: int | None) -> None:
    """Limit torch's intra-op threads to what the rule declared."""
    import torch

    if n:
        torch.set_num_threads(int(n))
