"""CD pretraining on/off on real data, both variants, from two workflow result folders.

Run the default workflow (CD for the encoder-decoder only, `dmf.cd_pretrain: [encdec]`) and a
copy of it with the variants swapped (`dmf: {cd_pretrain: [disc]}`), then:
    .venv/bin/python benchmarks/dmf_cd_compare.py RESULTS_DEFAULT RESULTS_SWAPPED \
        --dataset mnist_halves_d0 --model dmf --seeds 0 1
Prints a markdown table: per measure, mean ± std over seeds without CD and with CD-1 (each
cell is read from whichever run had CD on or off for that variant), and the paired t-test p.
The commands and the measured table are in docs/dmf.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy import stats


def read(results: Path, dataset: str, variant: str, model: str, seed: int) -> dict:
    base = results / "dmf" / dataset / variant / model / f"seed{seed}"
    out = {}
    metrics = json.loads((base / "metrics.json").read_text())
    out["epochs to best validation"] = metrics["best_epoch"]
    if variant == "disc":
        for cond, err in metrics["test_error"].items():
            out[f"disc test error % ({cond})"] = err
    else:
        ev = json.loads((base / "evaluation.json").read_text())
        for cond, acc in ev["accuracy"].items():
            out[f"encdec SVM accuracy % ({cond})"] = 100 * acc
        for direction, m in ev["map"].items():
            out[f"encdec retrieval mAP ({direction})"] = m
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("default", type=Path, help="results/ of the run with cd_pretrain: [encdec]")
    ap.add_argument("swapped", type=Path, help="results/ of the run with cd_pretrain: [disc]")
    ap.add_argument("--dataset", default="mnist_halves_d0")
    ap.add_argument("--model", default="dmf")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = ap.parse_args()
    # (variant, CD on?) -> the run that has it
    runs = {
        ("disc", False): args.default,
        ("disc", True): args.swapped,
        ("encdec", False): args.swapped,
        ("encdec", True): args.default,
    }
    print(f"{args.dataset}, {args.model}, seeds {args.seeds}\n")
    print("| variant | measure | no CD | CD-1 | paired t-test p |\n|---|---|---:|---:|---:|")
    for variant in ("disc", "encdec"):
        first = args.seeds[0]
        if not all(
            (
                runs[(variant, cd)] / "dmf" / args.dataset / variant / args.model / f"seed{first}"
            ).is_dir()
            for cd in (False, True)
        ):
            print(f"| {variant} | not run in both folders | | | |")
            continue
        values: dict[tuple[str, bool], list[float]] = {}
        for cd in (False, True):
            for seed in args.seeds:
                row = read(runs[(variant, cd)], args.dataset, variant, args.model, seed)
                for name, v in row.items():
                    values.setdefault((name, cd), []).append(float(v))
        for name in dict.fromkeys(n for n, _ in values):
            cells = []
            for cd in (False, True):
                v = np.array(values[(name, cd)])
                sd = v.std(ddof=1) if len(v) > 1 else 0.0
                cells.append(
                    f"{v.mean():.3f} ± {sd:.3f}" if v.mean() < 1 else f"{v.mean():.2f} ± {sd:.2f}"
                )
            off, on = (np.array(values[(name, cd)]) for cd in (False, True))
            same = len(off) < 2 or np.allclose(off - on, (off - on)[0])
            p = "—" if same else f"{stats.ttest_rel(off, on).pvalue:.3f}"
            print(f"| {variant} | {name} | " + " | ".join(cells) + f" | {p} |")


if __name__ == "__main__":
    main()
