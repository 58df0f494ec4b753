"""Shared ground: the glue between a Snakemake rule and the library. The rule's log
takes stderr, the job's GPU slot is claimed, and an exception becomes one line for the user."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path


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
