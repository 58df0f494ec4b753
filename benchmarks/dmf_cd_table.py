"""CD pretraining on/off, both DMF variants, 3 seeds, on small real digits (scikit-learn's 8x8
digits as left/right halves, the tests' dataset). Prints a markdown table. Run from the repo
root (about a minute or two on one core; the measured table is in docs/dmf.md):
    PYTHONPATH=$PWD .venv/bin/python benchmarks/dmf_cd_table.py
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

SIZES = {"modality_sizes": [32, 16], "shared_sizes": [48, 32, 16]}
COMMON = {"batch_size": 64, "patience": 3, "max_epochs": 40, "encdec_max_epochs": 40,
          "lr": 3e-3, "encdec_lr": 3e-3, "modality_dropout": 0.5, "val_max": 200,
          "cd_epochs": 2, "cd_min_steps": 150}  # fmt: skip
EVAL = {"svm_max_train": 1000, "retrieval_max_queries": 100}


def main(seeds: list[int]) -> None:
    from test_dmf import write_digit_halves

    from mfas_core.dmf.evaluate import evaluate_encdec
    from mfas_core.dmf.settings import eval_params, train_params
    from mfas_core.dmf.train import train_dmf
    from mfas_core.settings import schema_defaults

    defaults = schema_defaults("dmf")

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        data = write_digit_halves(out / "digits.h5")
        rows = {}
        for cd in (False, True):
            for seed in seeds:
                for variant in ("disc", "encdec"):
                    stem = out / f"{cd}_{seed}_{variant}"
                    dmf = defaults | SIZES | COMMON | {"cd_pretrain": [variant] if cd else []}
                    m = train_dmf(data, f"{stem}.pt", f"{stem}.json", dataset="digits",
                                  variant=variant, model="dmf", seed=seed, threads=1,
                                  **train_params(dmf, variant, "cpu"))  # fmt: skip
                    if variant == "disc":
                        rows.setdefault((cd, "disc error % (both)"), []).append(
                            m["test_error"]["both"]
                        )
                        rows.setdefault((cd, "disc error % (right only)"), []).append(
                            m["test_error"]["only_right"]
                        )
                    else:
                        e = evaluate_encdec(f"{stem}.pt", data, f"{stem}_e.json", dataset="digits",
                                            model="dmf", seed=seed, threads=1,
                                            **eval_params(defaults | EVAL, "cpu"))  # fmt: skip
                        rows.setdefault((cd, "encdec SVM acc % (both)"), []).append(
                            100 * e["accuracy"]["both"]
                        )
                        rows.setdefault((cd, "encdec mAP left→right"), []).append(
                            e["map"]["left2right"]
                        )
                        rows.setdefault((cd, "encdec mAP right→left"), []).append(
                            e["map"]["right2left"]
                        )
                    rows.setdefault((cd, f"{variant} epochs to best val"), []).append(
                        m["best_epoch"]
                    )
        print("| measure | CD off | CD-1 on |\n|---|---:|---:|")
        for name in dict.fromkeys(k for _, k in rows):
            cells = [f"{np.mean(rows[(cd, name)]):.3f} ± {np.std(rows[(cd, name)], ddof=1):.3f}"
                     for cd in (False, True)]  # fmt: skip
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    main(ap.parse_args().seeds)
