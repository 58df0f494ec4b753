"""The GPU path in one command (`make gpu-check`), for the few minutes a GPU machine is lent.

On a machine whose torch sees a CUDA device it
1. runs the smoke workflow (config/smoke.yaml) with `device: cuda` and `--resources gpu=1` in a
   fresh copy of the workflow (a temporary directory), timed;
2. checks that the log of every job of every training rule (a rule that declares
   `resources: gpu=`) names the CUDA device it ran on (`device: cuda:<i> <model> (...)`, written
   by mfas_core.runtime.pick_device);
3. runs benchmarks/search_throughput.py on the GPU at the paper's sizes (AV-MNIST: 55,000
   training, 5,000 validation and 10,000 test samples; the tap widths of the default conv
   backbones; the schema's default search: K=15, batch 32, levels 1..4), on synthetic features;
4. writes every figure to one report file (default results/gpu_check.md) and exits 0 only when
   all of it passed.
Budget: under 8 minutes on one GPU. Without a CUDA device it says so in one line on stderr and
exits 2 without running anything.

Usage:  .venv/bin/python benchmarks/gpu_check.py [--out results/gpu_check.md] [--cores N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKFLOW_FILES = ("Snakefile", "rules", "workflow_scripts", "config", "profiles", "report")
# The paper's AV-MNIST sizes (Perez-Rua et al. 2019, sec. 4.1) and the default conv backbones'
# tap widths (channels 3, doubling per block; audio 5 blocks, image 3).
PAPER_SPLITS = {"train": 55_000, "val": 5_000, "test": 10_000}
TAP_WIDTHS = {"audio": [3, 6, 12, 24, 48], "image": [3, 6, 12]}
RAW_SHAPES = {"audio": (112, 112), "image": (28, 28)}
RAW_PER_SPLIT = 2_000  # raw inputs for mode (c), which samples batches: per-batch time only
DEVICE_LINE = re.compile(r"^device: cuda:\d+ \S.*\(CUDA_VISIBLE_DEVICES=", re.M)


def no_gpu_reason() -> str | None:
    """Why this machine cannot run the check (None when torch sees a CUDA device)."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - the venv always has torch
        return f"torch is not importable ({exc})"
    if not torch.cuda.is_available():
        return "torch sees no CUDA device (torch.cuda.is_available() is False)"
    return None


def training_rules(rules_dir: Path = REPO / "rules") -> list[str]:
    """Rules that declare a `gpu` resource: the jobs that must name their CUDA device."""
    names = []
    for smk in sorted(rules_dir.glob("*.smk")):
        for block in re.split(r"^rule ", smk.read_text(), flags=re.M)[1:]:
            name = block.split(":", 1)[0].strip()
            if re.search(r"^\s+gpu=", block, flags=re.M):
                names.append(name)
    return names


def check_device_logs(logs: Path, rules: list[str]) -> tuple[int, list[str]]:
    """(jobs checked, problems): every log of every training rule names a CUDA device."""
    problems, n = [], 0
    for rule in rules:
        files = sorted((logs / rule).rglob("*.log"))
        if not files:
            problems.append(f"{logs / rule}: no job logs (the rule did not run)")
        for f in files:
            n += 1
            if not DEVICE_LINE.search(f.read_text(errors="replace")):
                problems.append(f"{f}: no 'device: cuda:<i> <model>' line")
    return n, problems


def run_smoke(work: Path, cores: int) -> tuple[float, subprocess.CompletedProcess]:
    """The smoke workflow with device: cuda and one GPU slot, in a fresh copy; (wall s, proc)."""
    for name in WORKFLOW_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, work / name)
    exe = Path(sys.executable).parent / "snakemake"
    cmd = [str(exe), "--cores", str(cores), "--configfile", "config/smoke.yaml"]
    cmd += ["--config", "device=cuda", "--resources", "gpu=1"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HDF5_USE_FILE_LOCKING": "FALSE"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, env=env)
    return time.perf_counter() - t0, proc


def write_paper_size_inputs(folder: Path) -> tuple[list[str], str]:
    """Synthetic feature files at the paper's AV-MNIST sizes and a small raw dataset file."""
    import h5py
    import numpy as np

    from mfas_core.data.schema import write_dataset

    rng = np.random.default_rng(0)
    labels = {s: rng.integers(0, 10, n) for s, n in PAPER_SPLITS.items()}
    paths = []
    for modality, widths in TAP_WIDTHS.items():
        path = folder / f"{modality}.h5"
        with h5py.File(path, "w") as f:
            f.attrs.update(
                dataset="avmnist", modality=modality, task="single", n_classes=10,
                layer_names=json.dumps([f"block{i}" for i in range(1, len(widths) + 1)]),
                layer_sizes=json.dumps(widths), backbone_sha256="0", data_sha256="0",
            )  # fmt: skip
            for split, y in labels.items():
                g = f.create_group(split)
                for k, w in enumerate(widths, 1):
                    g.create_dataset(f"layer_{k}", data=rng.random((len(y), w), dtype=np.float32))
                g.create_dataset("logits", data=np.zeros((len(y), 10), np.float32))
                g.create_dataset("labels", data=y.astype(np.int64))
        paths.append(str(path))
    raw = folder / "avmnist.h5"
    n = RAW_PER_SPLIT
    write_dataset(
        raw,
        {
            s: {m: rng.random((n, *shape), dtype=np.float32) for m, shape in RAW_SHAPES.items()}
            for s in PAPER_SPLITS
        },
        {s: rng.integers(0, 10, n) for s in PAPER_SPLITS},
        name="avmnist", kind="avmnist", classes=[str(i) for i in range(10)], sources={},
        params={},
    )  # fmt: skip
    return paths, str(raw)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", default="results/gpu_check.md", help="the report file")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="snakemake --cores")
    ap.add_argument("--keep", action="store_true", help="keep the smoke run's directory")
    args = ap.parse_args(argv)
    reason = no_gpu_reason()
    if reason is not None:
        print(f"gpu-check: no GPU on this machine: {reason}; nothing checked", file=sys.stderr)
        return 2
    import torch

    sys.path.insert(0, str(REPO / "benchmarks"))
    import search_throughput

    name = torch.cuda.get_device_name(0)
    lines = [
        "# GPU check",
        "",
        f"Device: {name} (torch {torch.__version__}, CUDA {torch.version.cuda}); "
        f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}); "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
    ]
    ok = True
    t_all = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    try:
        wall, proc = run_smoke(work, args.cores)
        n_jobs, problems = check_device_logs(work / "logs", training_rules())
        smoke_ok = proc.returncode == 0 and not problems
        ok &= smoke_ok
        lines += [
            "## Smoke workflow, device: cuda, --resources gpu=1",
            "",
            f"- snakemake exit status {proc.returncode}, wall {wall:.1f} s, --cores {args.cores}",
            f"- training-job logs that name their CUDA device: {n_jobs - len(problems)} of "
            f"{n_jobs} (rules: {', '.join(training_rules())})",
        ]
        lines += [f"- problem: {p}" for p in problems[:20]]
        if proc.returncode != 0:
            lines += ["", "```", proc.stderr[-4000:], "```"]
        lines.append("")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        features, raw = write_paper_size_inputs(Path(tmp))
        t0 = time.perf_counter()
        try:
            text = search_throughput.main(
                ["--features", *features, "--data", raw, "--device", "cuda", "--full-search"]
                + ["--workers", "1"]
            )
        except Exception as exc:  # the report still gets written
            ok = False
            text = f"search_throughput failed: {type(exc).__name__}: {exc}"
        lines += [
            "## Search throughput at the paper's sizes (synthetic features)",
            "",
            f"`benchmarks/search_throughput.py --device cuda --full-search` ({time.perf_counter() - t0:.1f} s):",
            "",
            text,
            "",
        ]
    lines.append(f"Total {time.perf_counter() - t_all:.1f} s; result: {'PASS' if ok else 'FAIL'}.")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"gpu-check: {'PASS' if ok else 'FAIL'}; report in {out}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
