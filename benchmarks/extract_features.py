"""Benchmark: feature extraction throughput and peak memory on a real dataset file.

Usage (after `make run` has built the avmnist data and backbones):
    .venv/bin/python benchmarks/extract_features.py results/data/avmnist.h5 \
        results/backbones/avmnist/audio.pt audio --batch-size 512 --threads 2
Prints a markdown table: samples/s and peak RSS (target: under 2 GB on the full avmnist).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import yaml

from mfas_core.data.instances import dataset_instances
from mfas_core.data.schema import SPLITS, read_attrs
from mfas_core.unimodal.features import extract_features


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("backbone")
    ap.add_argument("modality")
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    attrs = read_attrs(args.data)
    cfg = yaml.safe_load(Path(args.config).read_text())
    spec = dataset_instances(cfg)[attrs["name"]]["backbones"][args.modality]
    import h5py

    with h5py.File(args.data, "r") as f:
        n = sum(f[s]["labels"].shape[0] for s in SPLITS)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        extract_features(
            args.data,
            args.backbone,
            Path(tmp) / "f.h5",
            dataset=attrs["name"],
            modality=args.modality,
            spec=spec,
            batch_size=args.batch_size,
            device="cpu",
            threads=args.threads,
        )
        secs = time.perf_counter() - t0
        size = (Path(tmp) / "f.h5").stat().st_size / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        "| dataset | modality | samples | seconds | samples/s | peak RSS (MB) | RSS before (MB) | cache (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {attrs['name']} | {args.modality} | {n} | {secs:.1f} | {n / secs:,.0f} | {peak:.0f} | {rss_before:.0f} | {size:.1f} |"
    )


if __name__ == "__main__":
    main()
