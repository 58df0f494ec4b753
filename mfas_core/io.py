"""Small shared helpers: atomic writes, seeding, device choice, hashing, logging to a rule log."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Readers and writers of the HDF5 cache must never collide on file locks (docs/SOURCES.md).
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")


class InputError(ValueError):
    """Bad input: the message is one line naming the file and the field."""

    def __init__(self, path: str | os.PathLike, field: str, problem: str):
        self.path, self.field, self.problem = str(path), field, problem
        super().__init__(f"{path}: {field}: {problem}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` only if the block succeeds.

    Nothing half-written is ever left at `path`: on error the temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_files(paths: list[str | os.PathLike]) -> Iterator[list[Path]]:
    """Several outputs written as one: yield a temporary path per output, and move them all
    onto their outputs only if the block succeeds.

    A step that writes several files one after another (a search level's candidates,
    surrogate, bank and state) must never leave a set that looks complete but is not: if the
    block raises, every temporary file is removed and no output is touched; if moving one
    file into place fails, the outputs already moved are removed again, so either all
    outputs are new or none exists.
    """
    paths = [Path(p) for p in paths]
    if len(set(paths)) != len(paths):
        raise ValueError(f"atomic_files: the same output is named twice in {paths}")
    tmps: list[Path] = []
    placed: list[Path] = []
    try:
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            tmps.append(Path(tmp))
        yield list(tmps)
        umask = os.umask(0)
        os.umask(umask)
        for tmp in tmps:
            os.chmod(tmp, 0o666 & ~umask)
        try:
            for tmp, path in zip(tmps, paths, strict=True):
                os.replace(tmp, path)
                placed.append(path)
        except BaseException:
            for path in placed:
                path.unlink(missing_ok=True)
            raise
    finally:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)


def write_json(path: str | os.PathLike, obj) -> None:
    """Write `obj` as pretty JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_tsv(path: str | os.PathLike, frame) -> None:
    """Write a pandas DataFrame as TSV, atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=False)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


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
    CPU; `cuda` without a visible device is an error.
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
    print(f"device: {dev} (CUDA_VISIBLE_DEVICES={visible})", file=sys.stderr)
    return dev


def set_threads(n: int | None) -> None:
    """Limit torch's intra-op threads to what the rule declared."""
    import torch

    if n:
        torch.set_num_threads(int(n))


def _job_header(snakemake) -> tuple[list[str], object]:
    """Lines that open a rule's log (SLURM job id, device choice) and the GPU claim, if any.

    A job with `resources: gpu>0` (and not `device: cpu`) claims one GPU slot here, before
    the library touches CUDA (mfas_core.gpu); the claim lasts as long as the rule_log block.
    """
    from mfas_core.gpu import claim_gpu

    lines = []
    if os.environ.get("SLURM_JOB_ID"):
        lines.append(f"SLURM_JOB_ID={os.environ['SLURM_JOB_ID']}")
    resources = getattr(snakemake, "resources", None)
    gpus = int(resources.get("gpu", 0) or 0) if resources is not None else 0
    params = getattr(snakemake, "params", None)
    device = params.get("device", "auto") if params is not None else "auto"
    claim = None
    if gpus > 0 and device != "cpu":
        claim = claim_gpu()
        lines.append(f"device: {claim.reason}")
    elif device == "cpu":
        lines.append("device: cpu (config); no GPU slot taken")
    return lines, claim


@contextlib.contextmanager
def rule_log(snakemake) -> Iterator[None]:
    """Run a rule's body: claim its GPU slot, send stderr (warnings, tqdm progress,
    tracebacks) to the rule's log file, turn an exception into one line for the user."""
    log = snakemake.log[0] if len(snakemake.log) else None
    claim = None
    fh = old = None
    if log is not None:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        fh = open(log, "w")  # noqa: SIM115 - closed in finally
        old, sys.stderr = sys.stderr, fh
    try:
        lines, claim = _job_header(snakemake)
        for line in lines:
            print(line, file=sys.stderr, flush=True)
        yield
    except Exception as exc:  # one line for the user, the traceback for the log
        import traceback

        traceback.print_exc(file=sys.stderr)
        if old is not None:
            sys.stderr = old
        print(f"Error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        if claim is not None:
            claim.release()
        if old is not None:
            sys.stderr = old
            fh.close()
