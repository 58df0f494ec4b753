"""One GPU per job: a slot allocator for local runs under `--resources gpu=N`.

Snakemake's `gpu` resource is only a counter (docs/SOURCES.md, Snakemake): with `--resources gpu=4` four
training jobs run at once, but nothing tells them which device to use. Each job therefore
claims a slot itself: one lock file per GPU (`<lock_dir>/gpu<i>.lock`), taken with a
non-blocking `fcntl.flock`. The kernel drops the lock when the holder exits, also when it is
killed with SIGKILL, so a dead job never keeps a GPU. The claim sets `CUDA_VISIBLE_DEVICES` to
the slot before torch initialises CUDA (CUDA reads the variable on first use, not on import).

Rules (in this order):
- `CUDA_VISIBLE_DEVICES` already set, or running inside a SLURM job: the scheduler chose the
  device; no lock is taken.
- No GPU on the machine: nothing to claim; the job runs on the CPU.
- Otherwise wait for a free slot, polling, and give up after a timeout with an error naming
  the lock directory.

Environment knobs (machine settings, not results-affecting config): `MFAS_GPU_COUNT` (number
of GPUs; default: lines of `nvidia-smi -L`), `MFAS_GPU_LOCK_DIR` (default
`.snakemake/gpu_slots` in the working directory), `MFAS_GPU_WAIT` (seconds, default 600).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LOCK_DIR = ".snakemake/gpu_slots"
DEFAULT_WAIT_S = 600.0


class GpuSlotTimeout(RuntimeError):
    """No GPU slot became free within the timeout."""


@dataclass
class GpuClaim:
    """What a job got: a slot (with its open, locked file), or the reason it took none."""

    slot: int | None
    reason: str
    lock_path: Path | None = None
    _fh: object = None

    def release(self) -> None:
        """Unlock and close the slot's lock file (also done by the kernel at exit)."""
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


def gpu_count() -> int:
    """Number of GPUs on this machine: MFAS_GPU_COUNT, else the lines of `nvidia-smi -L`."""
    override = os.environ.get("MFAS_GPU_COUNT")
    if override is not None:
        try:
            return max(0, int(override))
        except ValueError:
            raise ValueError(f"environment: MFAS_GPU_COUNT: not an integer: {override!r}") from None
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return 0
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))


def scheduler_devices() -> str | None:
    """Why the scheduler's choice stands (None when no scheduler chose the device)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return f"CUDA_VISIBLE_DEVICES={visible!r} was set before the job started"
    if os.environ.get("SLURM_JOB_ID"):
        return f"SLURM job {os.environ['SLURM_JOB_ID']} (SLURM assigns GPUs)"
    return None


def _try_lock(path: Path):
    """Open and lock `path` without blocking; the open file, or None when it is held."""
    fh = open(path, "a+")  # noqa: SIM115 - kept open for the job's lifetime
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    fh.seek(0)
    fh.truncate()
    fh.write(f"{os.getpid()}\n")
    fh.flush()
    return fh


def _cuda_already_initialised() -> bool:
    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_initialized())


def claim_gpu(
    lock_dir: str | os.PathLike | None = None,
    wait_s: float | None = None,
    poll_s: float = 0.5,
) -> GpuClaim:
    """Claim one GPU for this process and point CUDA_VISIBLE_DEVICES at it.

    Returns a GpuClaim with `slot=None` (and the reason) when the scheduler already chose the
    device or the machine has no GPU. Raises GpuSlotTimeout naming the lock directory when no
    slot frees up within `wait_s` seconds.
    """
    reason = scheduler_devices()
    if reason is not None:
        return GpuClaim(None, f"no GPU slot taken: {reason}")
    n = gpu_count()
    if n == 0:
        return GpuClaim(None, "no GPU on this machine (nvidia-smi -L lists none): using the CPU")
    if _cuda_already_initialised():
        raise RuntimeError("claim_gpu: torch initialised CUDA before a GPU slot was claimed")
    lock_dir = Path(lock_dir or os.environ.get("MFAS_GPU_LOCK_DIR", DEFAULT_LOCK_DIR))
    if wait_s is None:
        wait_s = float(os.environ.get("MFAS_GPU_WAIT", DEFAULT_WAIT_S))
    lock_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    while True:
        for i in range(n):
            path = lock_dir / f"gpu{i}.lock"
            fh = _try_lock(path)
            if fh is not None:
                os.environ["CUDA_VISIBLE_DEVICES"] = str(i)
                return GpuClaim(i, f"GPU slot {i} of {n} ({path})", path, fh)
        waited = time.monotonic() - start
        if waited >= wait_s:
            raise GpuSlotTimeout(
                f"{lock_dir}: no free GPU slot among {n} after {waited:.0f} s "
                f"(each gpu<i>.lock holds the pid of its job; lower --resources gpu= "
                f"or set MFAS_GPU_WAIT)"
            )
        time.sleep(poll_s)
