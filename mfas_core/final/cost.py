"""What a trained model costs to run: FLOPs per sample and inference latency per sample
(rule measure_final_cost: every final model of a dataset in one job).

FLOPs come from `torch.utils.flop_counter.FlopCounterMode` on one sample in eval mode (a
multiply-add counts 2; element-wise ops such as activations and bias adds are not counted, as
in that counter). Latency is the median of several timed forward passes at a given batch size
on the job's device, divided by the batch size; it is a wall-clock measurement, so it differs
from run to run (tables keep it in columns of its own).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

import torch


def _first(out):
    return out[0] if isinstance(out, tuple | list) else out


def flops_per_sample(model: torch.nn.Module, inputs: Sequence[torch.Tensor]) -> int:
    """FLOPs of one forward pass of `model(*inputs)` on the first row of each input."""
    from torch.utils.flop_counter import FlopCounterMode

    one = [x[:1].cpu() for x in inputs]
    was_training, device = model.training, next(model.parameters()).device
    model.eval().cpu()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            _first(model(*one))
    finally:
        model.to(device).train(was_training)
    return int(counter.get_total_flops())


def device_name(device: torch.device | str) -> str:
    """A readable name of the device the timings ran on (GPU model, or the CPU model)."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    return f"cpu ({name}; {torch.get_num_threads()} thread(s))"
    except OSError:
        pass
    return f"cpu ({torch.get_num_threads()} thread(s))"


def latency_per_sample(
    model: torch.nn.Module,
    inputs: Sequence[torch.Tensor],
    batch_size: int,
    device: torch.device | str = "cpu",
    *,
    repeats: int = 7,
    warmup: int = 2,
) -> float:
    """Median seconds per sample of `repeats` timed forward passes of a batch of
    `batch_size` rows (the inputs' rows repeated as needed), after `warmup` untimed ones."""
    device = torch.device(device)
    n = len(inputs[0])
    idx = torch.arange(batch_size) % n
    batch = [x[idx].to(device) for x in inputs]
    was_training = model.training
    model.eval()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    times = []
    with torch.no_grad():
        for i in range(warmup + repeats):
            sync()
            t0 = time.perf_counter()
            _first(model(*batch))
            sync()
            if i >= warmup:
                times.append(time.perf_counter() - t0)
    model.train(was_training)
    return statistics.median(times) / batch_size


def model_cost(
    model: torch.nn.Module, inputs: Sequence[torch.Tensor], device: torch.device | str
) -> dict:
    """The cost entries of a final metrics.json: FLOPs per sample (deterministic) and the
    latency per sample at batch 1 and 512 in milliseconds on `device` (named)."""
    return {
        "flops": flops_per_sample(model, inputs),
        "latency_ms_b1": 1000 * latency_per_sample(model, inputs, 1, device),
        "latency_ms_b512": 1000 * latency_per_sample(model, inputs, 512, device),
        "latency_device": device_name(device),
    }


def measure_costs(
    models: list[str],
    metrics: list[str],
    features: list[str],
    out: str,
    *,
    dataset: str,
    device: str = "cpu",
    threads: int | None = None,
) -> dict:
    """Cost of every final model of a dataset (its model.pt beside its metrics.json) on its
    test taps, in one process: the flop counter's first use costs seconds of start-up, which
    one job per dataset pays once. Writes {"dataset", "device", "runs": [{"metrics", "model",
    "flops", "latency_ms_b1", "latency_ms_b512"}]}."""
    from mfas_core.atomic import write_json
    from mfas_core.final.robustness import read_test_taps
    from mfas_core.final.train import load_final_model
    from mfas_core.runtime import pick_device, set_threads

    set_threads(threads)
    dev = pick_device(device)
    if len(models) != len(metrics):
        raise ValueError(f"{len(models)} model files for {len(metrics)} metrics files")
    taps = [read_test_taps(p) for p in features]
    runs = []
    for model_path, metrics_path in zip(models, metrics, strict=True):
        model, _ = load_final_model(model_path)
        cost = model_cost(model.to(dev), taps, dev)
        runs.append({"metrics": metrics_path, "model": model_path,
                     **{k: v for k, v in cost.items() if k != "latency_device"}})  # fmt: skip
    result = {"dataset": dataset, "device": device_name(dev), "runs": runs}
    write_json(out, result)
    return result
