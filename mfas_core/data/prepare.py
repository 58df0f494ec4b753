"""The one entry point of the `prepare_data` rule: spec -> results/data/<dataset>.h5."""

from __future__ import annotations

from pathlib import Path

import jsonschema

from mfas_core.config import load_schema
from mfas_core.data import avmnist, byo, halves, mfeat
from mfas_core.data.schema import write_dataset
from mfas_core.data.sources import source_hashes
from mfas_core.io import InputError

BUILDERS = {
    "avmnist": avmnist.build_avmnist,
    "mnist_halves": halves.build_mnist_halves,
    "mfeat": mfeat.build_mfeat,
    "hdf5": byo.load_hdf5,
    "avmnist_npy": byo.load_avmnist_npy,
    "mmimdb": byo.load_mmimdb,
}
DIGITS = [str(d) for d in range(10)]
# Large modalities stored as float16 (halves the file; spectrograms are standardized).
HALF = {"avmnist": {"audio"}, "avmnist_npy": {"audio"}}
REQUIRED = {
    "avmnist": ("n_train", "n_val", "n_test"),
    "mnist_halves": ("n_train", "n_val", "n_test", "damage"),
    "hdf5": ("path",),
    "avmnist_npy": ("path",),
    "mmimdb": ("path",),
}


def check_spec(spec: dict) -> None:
    """The dataset entry against config/schema.yaml, plus the keys its kind needs."""
    name = spec.get("name", "?")
    entry = load_schema()["properties"]["datasets"]["additionalProperties"]
    for err in jsonschema.Draft202012Validator(entry).iter_errors(spec):
        field = ".".join(str(p) for p in err.absolute_path) or "kind"
        raise InputError("config", f"datasets.{name}.{field}", err.message)
    for key in REQUIRED.get(spec["kind"], ()):
        if key not in spec:
            raise InputError(
                "config", f"datasets.{name}.{key}", f"required for kind {spec['kind']}"
            )


def rename_modalities(splits: dict, wanted: list[str] | None) -> dict:
    """Use the spec's modality names: a permutation of the built names reorders them,
    other names replace the built ones by position (modality 1 first)."""
    built = list(splits["train"].keys())
    if not wanted or list(wanted) == built:
        return splits
    if len(wanted) != len(built):
        raise InputError("config", "modalities", f"{wanted} but the data has {built}")
    mapping = (
        {m: m for m in wanted}
        if sorted(wanted) == sorted(built)
        else dict(zip(wanted, built, strict=True))
    )
    return {s: {m: arrs[mapping[m]] for m in wanted} for s, arrs in splits.items()}


def prepare_dataset(out_path: str | Path, spec: dict, seed: int) -> None:
    """Build the dataset described by `spec` (a complete instance from
    mfas_core.config.dataset_instances) and write it atomically to `out_path`.

    Bad config or sources raise InputError naming the file (or `config`) and the field;
    nothing is written then.
    """
    check_spec(spec)
    kind = spec["kind"]
    built = BUILDERS[kind](spec, seed)
    splits = rename_modalities(built["splits"], spec.get("modalities"))
    half = HALF.get(kind, set())
    write_dataset(
        out_path,
        splits,
        built["labels"],
        name=spec.get("name", kind),
        kind=kind,
        classes=built.get("classes", DIGITS),
        sources=source_hashes([Path(p) for p in built["sources"]]),
        params=built["params"],
        storage_dtype={m: "float16" for m in splits["train"] if m in half},
    )
