"""A folder of images plus a CSV -> a dataset file in the workflow's layout (`kind: hdf5`).

    python tools/images_to_hdf5.py images/ labels.csv out.h5 [--size 28 28] [--grey]

labels.csv has a header with `file` (relative to the folder), `label` (class name), `split`
(train, val or test) and any further numeric columns, which become a second modality
`table` [K]. Images become `image` [C, H, W] float32 in [0, 1] (resized to --size). Classes are
the sorted label names. The file is checked (mfas_core.data.schema.validate_dataset) and
written atomically; a bad row stops with one line naming the CSV row and column.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from mfas_core.data.schema import SPLITS, write_dataset
from mfas_core.errors import InputError


def images_to_hdf5(
    folder: str | Path, table: str | Path, out: str | Path, *, size=(28, 28), grey=True
) -> dict:
    from PIL import Image

    folder, table = Path(folder), Path(table)
    with open(table, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise InputError(table, "rows", "no rows")
    for col in ("file", "label", "split"):
        if col not in rows[0]:
            raise InputError(table, col, "missing column")
    extra = [c for c in rows[0] if c not in ("file", "label", "split")]
    classes = sorted({r["label"] for r in rows})
    splits = {s: {"image": [], "table": []} for s in SPLITS}
    labels = {s: [] for s in SPLITS}
    for i, r in enumerate(rows, 2):  # line 1 is the header
        if r["split"] not in SPLITS:
            raise InputError(table, f"line {i}: split", f"{r['split']!r} is not train/val/test")
        path = folder / r["file"]
        try:
            img = Image.open(path).convert("L" if grey else "RGB").resize(tuple(size)[::-1])
        except OSError as exc:
            raise InputError(
                table, f"line {i}: file", f"{path}: {exc.__class__.__name__}"
            ) from None
        a = np.asarray(img, np.float32) / 255.0
        splits[r["split"]]["image"].append(a[None] if a.ndim == 2 else a.transpose(2, 0, 1))
        try:
            splits[r["split"]]["table"].append([float(r[c]) for c in extra])
        except ValueError:
            raise InputError(table, f"line {i}: {extra}", "not numbers") from None
        labels[r["split"]].append(classes.index(r["label"]))
    arrays = {
        s: {m: np.asarray(v, np.float32) for m, v in splits[s].items() if extra or m == "image"}
        for s in SPLITS
    }
    write_dataset(
        out, arrays, {s: np.asarray(labels[s], np.int64) for s in SPLITS},
        name=Path(out).stem, kind="hdf5", classes=classes, sources={}, params={"csv": str(table)},
    )  # fmt: skip
    return {s: len(labels[s]) for s in SPLITS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("csv")
    ap.add_argument("out")
    ap.add_argument("--size", type=int, nargs=2, default=[28, 28], metavar=("H", "W"))
    ap.add_argument("--rgb", action="store_true", help="keep 3 colour channels (default grey)")
    a = ap.parse_args()
    n = images_to_hdf5(a.folder, a.csv, a.out, size=a.size, grey=not a.rgb)
    print(f"wrote {a.out}: {n}")


if __name__ == "__main__":
    main()
