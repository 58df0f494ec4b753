"""The one entry point of the `prepare_data` rule: spec -> results/data/<dataset>.h5."""

from __future__ import annotations

from pathlib import Path

import jsonschema

from mfas_core.config import load_schema
from mfas_core.data.registry import get_kind
from mfas_core.data.schema import write_dataset
from mfas_core.data.sources import source_hashes
from mfas_core.errors import InputError

DIGITS = [str(d) for d in range(10)]


def check_spec(spec: dict) -> None:
    """The dataset entry against the config schema (mfas_core/schema.yaml), plus the keys its kind needs."""
    name = spec.get("name", "?")
    entry = load_schema()["properties"]["datasets"]["additionalProperties"]
    for err in jsonschema.Draft202012Validator(entry).iter_errors(spec):
        field = ".".join(str(p) for p in err.absolute_path) or "kind"
        raise InputError("config", f"datasets.{name}.{field}", err.message)
    for key in get_kind(spec["kind"]).required:
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
    mfas_core.data.instances.dataset_instances) and write it atomically to `out_path`.

    Bad config or sources raise InputError naming the file (or `config`) and the field;
    nothing is written then.
    """
    check_spec(spec)
    kind = get_kind(spec["kind"])
    built = kind.build(spec, seed)
    splits = rename_modalities(built["splits"], spec.get("modalities"))
    write_dataset(
        out_path,
        splits,
        built["labels"],
        name=spec.get("name", kind.name),
        kind=kind.name,
        classes=built.get("classes", DIGITS),
        sources=source_hashes([Path(p) for p in built["sources"]]),
        params=built["params"],
        storage_dtype={m: "float16" for m in splits["train"] if m in kind.half_precision},
    )
